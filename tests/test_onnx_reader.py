"""The ONNX reader: file errors, static shapes, folding of shape chains, unsupported reports."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from helpers.onnx_checks import check_against_ort, conv, make_model, rand

from edgelite.converter import onnx_reader
from edgelite.converter.onnx_reader import read_onnx
from edgelite.converter.ops import REGISTRY, Lowering, LoweringContext
from edgelite.errors import Code, EdgeliteError


def _save(model: onnx.ModelProto, tmp_path: Path, name: str = "m.onnx") -> Path:
    path = tmp_path / name
    onnx.save(model, path)
    return path


def _small_model() -> onnx.ModelProto:
    return make_model([helper.make_node("Relu", ["x"], ["y"])], {"x": (1, 4)}, ["y"])


def _assert_one_line_error(exc: EdgeliteError, path: Path, *words: str) -> None:
    text = exc.render()
    assert "\n" not in text
    assert str(path) in text
    for w in words:
        assert w in text, (w, text)


# ---- loading --------------------------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.onnx"
    with pytest.raises(EdgeliteError) as e:
        read_onnx(path)
    _assert_one_line_error(e.value, path, "no such file")
    assert e.value.exit_code == 2


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(EdgeliteError) as e:
        read_onnx(tmp_path)
    _assert_one_line_error(e.value, tmp_path, "directory")


def test_truncated_file(tmp_path: Path) -> None:
    data = _save(_plain_conv_model(), tmp_path).read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(EdgeliteError) as e:
        read_onnx(path)
    _assert_one_line_error(e.value, path)


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage\xff" * 10, b"hello world"])
def test_not_an_onnx_file(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(EdgeliteError) as e:
        read_onnx(path)
    _assert_one_line_error(e.value, path)


def test_checker_failure(tmp_path: Path) -> None:
    model = _small_model()
    model.graph.node[0].input[0] = "undefined_value"
    path = _save(model, tmp_path)
    with pytest.raises(EdgeliteError) as e:
        read_onnx(path)
    _assert_one_line_error(e.value, path, "onnx.checker")
    assert e.value.code == Code.INVALID_MODEL


@pytest.mark.parametrize("opset", [6, 22])
def test_opset_outside_supported_range(opset: int, tmp_path: Path) -> None:
    model = make_model([helper.make_node("Relu", ["x"], ["y"])], {"x": (1, 4)}, ["y"],
                       opset=opset)
    with pytest.raises(EdgeliteError) as e:
        read_onnx(_save(model, tmp_path))
    assert f"opset {opset}" in str(e.value) and e.value.code == Code.UNSUPPORTED


# ---- static shapes --------------------------------------------------------------------------

def _plain_conv_model(batch: int | str = 1) -> onnx.ModelProto:
    w = rand(4, 3, 3, 3)
    graph = helper.make_graph(
        [conv("c", "x", "w", "y")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4, 8, 8])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def test_dynamic_input_needs_input_shape(tmp_path: Path) -> None:
    path = _save(_plain_conv_model("batch"), tmp_path)
    notes: list[str] = []
    assert read_onnx(path, notes=notes).inputs[0].shape == (1, 3, 8, 8)  # batch alone: 1
    assert len(notes) == 1 and "'x'" in notes[0] and "batch" in notes[0]
    graph = onnx.load(str(path))
    graph.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "h"
    path = _save(graph, tmp_path)
    with pytest.raises(EdgeliteError) as e:
        read_onnx(path)
    _assert_one_line_error(e.value, path, "'x'", "--input-shape x:1,3,1,8")
    graph = read_onnx(path, {"x": (2, 3, 8, 8)})
    assert graph.inputs[0].shape == (2, 3, 8, 8)
    assert graph.outputs[0].shape == (2, 4, 8, 8)


def test_input_shape_errors(tmp_path: Path) -> None:
    path = _save(_plain_conv_model("batch"), tmp_path)
    with pytest.raises(EdgeliteError, match="unknown input.*'nope'"):
        read_onnx(path, {"nope": (1, 3, 8, 8)})
    with pytest.raises(EdgeliteError, match="does not match"):
        read_onnx(path, {"x": (1, 3, 9, 8)})
    with pytest.raises(EdgeliteError, match="does not match"):
        read_onnx(path, {"x": (1, 3, 8)})
    with pytest.raises(EdgeliteError, match="negative dimensions"):
        read_onnx(path, {"x": (-1, 3, 8, 8)})


def test_dynamic_model_converts_with_input_shape(tmp_path: Path) -> None:
    check_against_ort(_plain_conv_model("N"), tmp_path, {"x": rand(2, 3, 8, 8)},
                      input_shapes={"x": (2, 3, 8, 8)})


def test_float64_input_is_unsupported(tmp_path: Path) -> None:
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(EdgeliteError, match="'x' has element type DOUBLE"):
        read_onnx(_save(model, tmp_path))


# ---- folding --------------------------------------------------------------------------------

def _torch_flatten_chain(x: str, out: str) -> list[onnx.NodeProto]:
    """x.reshape(x.size(0), -1) as PyTorch exports it."""
    return [
        helper.make_node("Shape", [x], ["shp"]),
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(
            np.array(0, np.int64))),
        helper.make_node("Gather", ["shp", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Constant", [], ["minus1"], value=numpy_helper.from_array(
            np.array([-1], np.int64))),
        helper.make_node("Concat", ["n1", "minus1"], ["newshape"], axis=0),
        helper.make_node("Reshape", [x, "newshape"], [out]),
    ]


def test_pytorch_shape_chain_folds_away(tmp_path: Path) -> None:
    nodes = [conv("c", "x", "w", "a"), *_torch_flatten_chain("a", "f"),
             helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1)]
    model = make_model(nodes, {"x": (1, 3, 4, 4)}, ["y"],
                       {"w": rand(2, 3, 3, 3), "axes0": np.array([0], np.int64),
                        "fc": rand(5, 32)})
    ir_graph = read_onnx(_save(model, tmp_path))
    types = Counter(op.type for op in ir_graph.ops)
    assert set(types) <= {"TRANSPOSE", "CONV_2D", "RESHAPE", "FULLY_CONNECTED"}, types
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 4, 4)}, tflm=True)
    assert "TRANSPOSE" not in {op.type for op in g.ops}


def test_constant_of_shape_range_expand_fold(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("ConstantOfShape", ["s"], ["twos"],
                         value=numpy_helper.from_array(np.array([2.0], np.float32))),
        helper.make_node("Mul", ["x", "twos"], ["a"]),
        helper.make_node("Range", ["r0", "r1", "r2"], ["r"]),
        helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
        helper.make_node("Expand", ["rf", "eshape"], ["e"]),
        helper.make_node("Add", ["a", "e"], ["y"]),
    ]
    model = make_model(nodes, {"x": (3, 4)}, ["y"],
                       {"r0": np.array(0, np.int64), "r1": np.array(4, np.int64),
                        "r2": np.array(1, np.int64), "eshape": np.array([3, 4], np.int64)})
    g = read_onnx(_save(model, tmp_path))
    assert [op.type for op in g.ops] == ["MUL", "ADD"]
    assert all(op.inputs[1].is_const for op in g.ops)
    check_against_ort(model, tmp_path, {"x": rand(3, 4)})


def test_identity_and_dropout_removed_output_name_kept(tmp_path: Path) -> None:
    nodes = [helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Dropout", ["b"], ["y"])]
    model = make_model(nodes, {"x": (2, 3)}, ["y"])
    g = read_onnx(_save(model, tmp_path))
    assert [op.type for op in g.ops] == ["RELU"]
    assert g.outputs[0].name == "y" and g.ops[0].outputs[0] is g.outputs[0]
    check_against_ort(model, tmp_path, {"x": rand(2, 3)})


def test_output_identity_of_input_converts(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Identity", ["x"], ["z"])]
    model = make_model(nodes, {"x": (2, 3)}, ["y", "z"])
    calls = []
    real_infer = onnx_reader._infer
    monkeypatch.setattr(onnx_reader, "_infer", lambda work: calls.append(1) or real_infer(work))
    check_against_ort(model, tmp_path, {"x": rand(2, 3)})
    assert len(calls) <= 2  # the kept copy op must not count as a change every folding round


def test_same_file_reads_the_same(tmp_path: Path) -> None:
    path = _save(_plain_conv_model(), tmp_path)
    a, b = read_onnx(path), read_onnx(path)
    assert [repr(op) for op in a.ops] == [repr(op) for op in b.ops]


# ---- unsupported ops ------------------------------------------------------------------------

def test_every_unsupported_op_is_reported_once(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for op_type in ("Hardmax", "Det"):  # whatever the ops part covers, these have no lowering
        monkeypatch.delitem(REGISTRY, op_type, raising=False)
    nodes = [
        helper.make_node("Hardmax", ["x"], ["h1"], name="hm1"),
        helper.make_node("Relu", ["h1"], ["r"], name="relu_after"),  # downstream: not reported
        helper.make_node("Hardmax", ["r"], ["h2"], name="hm2"),
        helper.make_node("Det", ["sq"], ["d"], name="det"),
        helper.make_node("Foo", ["x"], ["f"], name="custom", domain="com.example"),
        helper.make_node("Add", ["h2", "f"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2]),
         helper.make_tensor_value_info("sq", TensorProto.FLOAT, [2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2]),
         helper.make_tensor_value_info("d", TensorProto.FLOAT, [])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid("com.example", 1)])
    model.ir_version = 8
    path = _save(model, tmp_path)
    with pytest.raises(EdgeliteError) as e:
        read_onnx(path)
    err = e.value
    assert err.code == Code.UNSUPPORTED and err.exit_code == 2
    assert sorted((u.op_type, u.node) for u in err.details) == [
        ("Det", "det"), ("Hardmax", "hm1"), ("Hardmax", "hm2"), ("com.example.Foo", "custom")]
    text = err.render()
    assert "\n" not in text and str(path) in text
    assert "cannot convert 4 node(s)" in text and "no lowering for op type" in text


def test_lowering_unsupported_error_is_collected(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # a lowering that emits an op and then finds a variant it cannot handle
    def half_done(ctx: LoweringContext, node: onnx.NodeProto) -> None:
        x = ctx.input(node, 0)
        ctx.unary("RELU", x)
        raise ctx.unsupported(node, "axis 0 is not supported")

    monkeypatch.setitem(REGISTRY, "Hardmax", Lowering("Hardmax", half_done, (1, 21),
                                                      ("float32",), (), ""))
    monkeypatch.delitem(REGISTRY, "Det", raising=False)
    nodes = [helper.make_node("Hardmax", ["x"], ["y"], name="hm", axis=0),
             helper.make_node("Det", ["x2"], ["d"], name="det")]
    model = make_model(nodes, {"x": (2, 2), "x2": (2, 2)}, ["y", "d"])
    with pytest.raises(EdgeliteError) as e:
        read_onnx(_save(model, tmp_path))
    assert sorted((u.op_type, u.reason) for u in e.value.details) == [
        ("Det", "no lowering for op type"), ("Hardmax", "axis 0 is not supported")]
