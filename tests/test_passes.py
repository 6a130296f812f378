"""IR passes: each rewrite is checked for its shape (what ops remain) and for its values.

The value oracle is ONNX Runtime on an equivalent inline ONNX graph; the converted model runs
in LiteRT (and TFLite Micro where noted). Nothing here compares our output with our own code.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from helpers.onnx_checks import (  # noqa: E402
    check_against_ort,
    conv,
    convert_onnx,
    io_layout,
    litert_run,
    make_model,
    op_types,
    ort_run,
    rand,
)
from onnx import TensorProto, helper

from edgelite import ir
from edgelite.converter.passes import (
    fold_constants,
    fold_reshape_chains,
    remove_dead,
    remove_identities,
    run_passes,
)
from edgelite.converter.passes.fold_constants import EVALUATORS
from edgelite.converter.passes.sinking import TO_NCHW, group_order, reshape_through
from edgelite.tflite.writer import write_model

# ---- IR-level passes ------------------------------------------------------------------------

def _ir_graph_add_transposed_const() -> tuple[ir.Graph, np.ndarray]:
    c = rand(3, 2)
    x = ir.Tensor("x", (2, 3))
    ct = ir.Tensor("ct", (2, 3))
    y = ir.Tensor("y", (2, 3))
    g = ir.Graph(inputs=[x], outputs=[y], ops=[
        ir.Op("TRANSPOSE", [ir.const("c", c), ir.const("perm", np.array([1, 0], np.int32))],
              [ct]),
        ir.Op("ADD", [x, ct], [y], {"fused_activation_function": "NONE"}),
    ])
    return g, c


def test_fold_constants_evaluates_ops_on_constants() -> None:
    g, c = _ir_graph_add_transposed_const()
    assert fold_constants(g)
    g.validate()
    assert [op.type for op in g.ops] == ["ADD"]
    x = rand(2, 3)
    model = make_model([helper.make_node("Transpose", ["c"], ["ct"], perm=[1, 0]),
                        helper.make_node("Add", ["x", "ct"], ["y"])],
                       {"x": (2, 3)}, ["y"], {"c": c})
    got = litert_run(write_model(g), {"x": x})["y"]
    np.testing.assert_allclose(got, ort_run(model, {"x": x})[0], rtol=1e-6)


def test_fold_constants_keeps_graph_outputs() -> None:
    t = ir.Tensor("t", (2,))
    g = ir.Graph(inputs=[], outputs=[t], ops=[
        ir.Op("ADD", [ir.const("a", np.ones(2, np.float32)), ir.const("b", np.ones(2, np.float32))],
              [t], {"fused_activation_function": "NONE"})])
    assert not fold_constants(g)
    assert len(g.ops) == 1


def test_remove_dead_drops_unread_ops() -> None:
    x, y, z = ir.Tensor("x", (4,)), ir.Tensor("y", (4,)), ir.Tensor("z", (4,))
    g = ir.Graph(inputs=[x], outputs=[y], ops=[ir.Op("RELU", [x], [y]), ir.Op("TANH", [x], [z])])
    assert remove_dead(g)
    assert [op.type for op in g.ops] == ["RELU"]
    assert not remove_dead(g)


def test_identity_ops_removed_and_output_name_kept() -> None:
    x = ir.Tensor("x", (2, 3))
    a, b, c, y = (ir.Tensor(n, (2, 3)) for n in ("a", "b", "c", "y"))
    g = ir.Graph(inputs=[x], outputs=[y], ops=[
        ir.Op("ADD", [x, ir.const("one", np.float32(1))], [a],
              {"fused_activation_function": "NONE"}),
        ir.Op("RESHAPE", [a, ir.const("s", np.array([2, 3], np.int32))], [b],
              {"new_shape": [2, 3]}),
        ir.Op("CAST", [b], [c]),
        ir.Op("TRANSPOSE", [c, ir.const("p", np.array([0, 1], np.int32))], [y]),
    ])
    while remove_identities(g):
        g.validate()
    assert [op.type for op in g.ops] == ["ADD"]
    assert g.outputs[0] is y and g.ops[0].outputs[0] is y
    x_val = rand(2, 3)
    model = make_model([helper.make_node("Add", ["x", "one"], ["a"]),
                        helper.make_node("Reshape", ["a", "s"], ["b"]),
                        helper.make_node("Cast", ["b"], ["c"], to=TensorProto.FLOAT),
                        helper.make_node("Transpose", ["c"], ["y"], perm=[0, 1])],
                       {"x": (2, 3)}, ["y"], {"one": np.float32(1), "s": np.array([2, 3])})
    got = litert_run(write_model(g), {"x": x_val})["y"]
    np.testing.assert_allclose(got, ort_run(model, {"x": x_val})[0], rtol=1e-6)


def test_identity_between_input_and_output_stays() -> None:
    x, y = ir.Tensor("x", (2, 3)), ir.Tensor("y", (2, 3))
    g = ir.Graph(inputs=[x], outputs=[y],
                 ops=[ir.Op("RESHAPE", [x, ir.const("s", np.array([2, 3], np.int32))], [y])])
    assert not remove_identities(g)
    assert len(g.ops) == 1


def test_reshape_chain_folds_to_one_reshape() -> None:
    x, a, b, y = (ir.Tensor("x", (2, 6)), ir.Tensor("a", (3, 4)), ir.Tensor("b", (12,)),
                  ir.Tensor("y", (4, 3)))
    g = ir.Graph(inputs=[x], outputs=[y], ops=[
        ir.Op("RESHAPE", [x, ir.const("s1", np.array([3, 4], np.int32))], [a]),
        ir.Op("RESHAPE", [a, ir.const("s2", np.array([12], np.int32))], [b]),
        ir.Op("RESHAPE", [b, ir.const("s3", np.array([4, 3], np.int32))], [y]),
    ])
    run_passes(g, passes=[("reshape", fold_reshape_chains), ("dead", remove_dead)])
    assert [op.type for op in g.ops] == ["RESHAPE"]
    assert g.ops[0].inputs[0] is x and g.ops[0].outputs[0] is y
    xv = rand(2, 6)
    np.testing.assert_array_equal(litert_run(write_model(g), {"x": xv})["y"], xv.reshape(4, 3))


# ---- layout ---------------------------------------------------------------------------------

def _plain_cnn() -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    inits = {"w1": rand(8, 3, 3, 3, scale=0.3), "w2": rand(8, 8, 3, 3, scale=0.2),
             "w3": rand(8, 8, 1, 1, scale=0.3), "fc_w": rand(5, 16, scale=0.3),
             "fc_b": rand(5)}
    nodes = [
        conv("c1", "x", "w1", "a"),
        helper.make_node("Relu", ["a"], ["ar"]),
        helper.make_node("MaxPool", ["ar"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        conv("c2", "p", "w2", "b"),
        helper.make_node("Add", ["b", "p"], ["s"]),
        conv("c3", "s", "w3", "c", k=1),
        helper.make_node("Concat", ["s", "c"], ["cat"], axis=1),
        helper.make_node("GlobalAveragePool", ["cat"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], transB=1),
    ]
    return make_model(nodes, {"x": (1, 3, 12, 12)}, ["y"], inits), {"x": rand(1, 3, 12, 12)}


def test_plain_cnn_has_no_transpose(tmp_path: Path) -> None:
    model, feeds = _plain_cnn()
    g = check_against_ort(model, tmp_path, feeds, tflm=True)
    assert "TRANSPOSE" not in op_types(g)
    assert g.inputs[0].shape == (1, 12, 12, 3)


def test_keep_nchw_io_has_one_transpose_at_each_end(tmp_path: Path) -> None:
    inits = {"w1": rand(4, 3, 3, 3, scale=0.3), "w2": rand(2, 4, 3, 3, scale=0.3)}
    nodes = [conv("c1", "x", "w1", "a"), helper.make_node("Relu", ["a"], ["r"]),
             conv("c2", "r", "w2", "y")]
    model = make_model(nodes, {"x": (1, 3, 8, 8)}, ["y"], inits)
    feeds = {"x": rand(1, 3, 8, 8)}
    g = check_against_ort(model, tmp_path, feeds, keep_nchw_io=True)
    transposes = [op for op in g.ops if op.type == "TRANSPOSE"]
    assert len(transposes) == 2
    assert transposes[0].inputs[0] is g.inputs[0] and transposes[1].outputs[0] is g.outputs[0]
    assert g.inputs[0].shape == (1, 3, 8, 8) and g.outputs[0].shape == (1, 2, 8, 8)
    g = check_against_ort(model, tmp_path, feeds)  # default: NHWC at both ends
    assert "TRANSPOSE" not in op_types(g)
    assert g.outputs[0].shape == (1, 8, 8, 2) and g.outputs[0].name == "y"


def _between_convs(middle: list[onnx.NodeProto], inits: dict[str, np.ndarray],
                   cmid: int = 6) -> onnx.ModelProto:
    """conv -> middle (reads "a", writes "m") -> conv: a TRANSPOSE pair to cancel."""
    inits = {"w1": rand(6, 3, 3, 3, scale=0.3), "w2": rand(4, cmid, 1, 1, scale=0.3), **inits}
    nodes = [conv("c1", "x", "w1", "a"), *middle, conv("c2", "m", "w2", "y", k=1)]
    return make_model(nodes, {"x": (1, 3, 8, 8)}, ["y"], inits)


MIDDLES = {
    "mul_per_channel": ([helper.make_node("Mul", ["a", "k"], ["m"])],
                        {"k": rand(6, 1, 1)}, 6),
    "sub_full_const": ([helper.make_node("Sub", ["k", "a"], ["m"])],
                       {"k": rand(1, 6, 8, 8)}, 6),
    "sigmoid": ([helper.make_node("Sigmoid", ["a"], ["m"])], {}, 6),
    "pad_reflect": ([helper.make_node("Pad", ["a", "pads"], ["m"], mode="reflect")],
                    {"pads": np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64)}, 6),
    "slice": ([helper.make_node("Slice", ["a", "st", "en", "ax"], ["m"])],
              {"st": np.array([1, 2], np.int64), "en": np.array([5, 7], np.int64),
               "ax": np.array([1, 3], np.int64)}, 4),
    "reduce_mean_keepdims": ([helper.make_node("ReduceMean", ["a"], ["m"], axes=[2],
                                               keepdims=1)], {}, 6),
    "concat_with_self": ([helper.make_node("Concat", ["a", "a"], ["m"], axis=1)], {}, 12),
    "concat_with_const": ([helper.make_node("Concat", ["k", "a"], ["m"], axis=1)],
                          {"k": rand(1, 2, 8, 8)}, 8),
    "slice_steps": ([helper.make_node("Slice", ["a", "st", "en", "ax", "sp"], ["m"])],
                    {"st": np.array([0, 7], np.int64), "en": np.array([6, 0], np.int64),
                     "ax": np.array([1, 2], np.int64), "sp": np.array([2, -2], np.int64)}, 3),
    "reduce_max_channels": ([helper.make_node("ReduceMax", ["a"], ["m"], axes=[1],
                                              keepdims=1)], {}, 1),
    "prelu": ([helper.make_node("PRelu", ["a", "k"], ["m"])], {"k": rand(6, 1, 1)}, 6),
    "split_equal": ([helper.make_node("Split", ["a"], ["s1", "s2"], axis=1),
                     helper.make_node("Mul", ["s1", "s2"], ["m"])], {}, 3),
    "split_sizes": ([helper.make_node("Split", ["a", "sizes"], ["s1", "s2"], axis=1),
                     helper.make_node("Concat", ["s2", "s1"], ["m"], axis=1)],
                    {"sizes": np.array([2, 4], np.int64)}, 6),
    "max_of_two_branches": ([helper.make_node("Relu", ["a"], ["r"]),
                             helper.make_node("Sigmoid", ["a"], ["s"]),
                             helper.make_node("Max", ["r", "s"], ["m"])], {}, 6),
}


@pytest.mark.parametrize("case", sorted(MIDDLES))
def test_transposes_sink_through_layout_agnostic_ops(case: str, tmp_path: Path) -> None:
    middle, inits, cmid = MIDDLES[case]
    model = _between_convs(middle, inits, cmid)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 8, 8)})
    assert "TRANSPOSE" not in op_types(g), op_types(g)


def test_flatten_before_classifier_permutes_fc_weights(tmp_path: Path) -> None:
    # No pooling: the flattened order matters, so the FC weight columns must be permuted.
    inits = {"w1": rand(4, 3, 3, 3, scale=0.3), "fc_w": rand(7, 4 * 5 * 6, scale=0.1)}
    nodes = [conv("c1", "x", "w1", "a"), helper.make_node("Flatten", ["a"], ["f"]),
             helper.make_node("Gemm", ["f", "fc_w"], ["y"], transB=1)]
    model = make_model(nodes, {"x": (1, 3, 5, 6)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 5, 6)}, tflm=True)
    assert "TRANSPOSE" not in op_types(g)


def test_reduce_without_keepdims(tmp_path: Path) -> None:
    inits = {"w1": rand(4, 3, 3, 3, scale=0.3), "fc_w": rand(4, 7)}
    nodes = [conv("c1", "x", "w1", "a"),
             helper.make_node("ReduceMean", ["a"], ["r"], axes=[2, 3], keepdims=0),
             helper.make_node("MatMul", ["r", "fc_w"], ["y"])]
    model = make_model(nodes, {"x": (1, 3, 6, 6)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 6, 6)})
    assert "TRANSPOSE" not in op_types(g)


def test_input_normalisation_is_moved_behind_the_nhwc_input(tmp_path: Path) -> None:
    inits = {"mean": rand(1, 3, 1, 1), "std": (np.abs(rand(1, 3, 1, 1)) + 0.5),
             "w1": rand(4, 3, 3, 3, scale=0.3)}
    nodes = [helper.make_node("Sub", ["x", "mean"], ["a"]),
             helper.make_node("Div", ["a", "std"], ["b"]), conv("c1", "b", "w1", "y")]
    model = make_model(nodes, {"x": (1, 3, 6, 6)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 6, 6)})
    assert "TRANSPOSE" not in op_types(g)
    assert g.inputs[0].shape == (1, 6, 6, 3)


def test_transpose_with_several_consumers_is_duplicated_and_cancelled(tmp_path: Path) -> None:
    inits = {"w1": rand(4, 3, 3, 3, scale=0.3), "w2": rand(4, 4, 3, 3, scale=0.3),
             "w3": rand(4, 4, 1, 1, scale=0.3)}
    nodes = [conv("c1", "x", "w1", "a"), conv("c2", "a", "w2", "b"),
             conv("c3", "a", "w3", "c", k=1), helper.make_node("Add", ["a", "b"], ["s"]),
             helper.make_node("Mul", ["s", "c"], ["y"])]
    model = make_model(nodes, {"x": (1, 3, 6, 6)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 6, 6)})
    assert "TRANSPOSE" not in op_types(g)


def test_squeeze_excite_gate_has_no_transpose(tmp_path: Path) -> None:
    inits = {"w1": rand(8, 3, 3, 3, scale=0.3), "se1": rand(4, 8, 1, 1, scale=0.3),
             "se1_b": rand(4), "se2": rand(8, 4, 1, 1, scale=0.3), "se2_b": rand(8),
             "w2": rand(5, 8, 1, 1, scale=0.3)}
    nodes = [conv("c1", "x", "w1", "a"), helper.make_node("Relu", ["a"], ["ar"]),
             helper.make_node("GlobalAveragePool", ["ar"], ["g"]),
             conv("se1", "g", "se1", "s1", k=1, bias="se1_b"),
             helper.make_node("Relu", ["s1"], ["s1r"]),
             conv("se2", "s1r", "se2", "s2", k=1, bias="se2_b"),
             helper.make_node("HardSigmoid", ["s2"], ["gate"], alpha=1 / 6, beta=0.5),
             helper.make_node("Mul", ["ar", "gate"], ["m"]), conv("c2", "m", "w2", "y", k=1)]
    model = make_model(nodes, {"x": (1, 3, 8, 8)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 8, 8)}, tflm=True)
    assert "TRANSPOSE" not in op_types(g), op_types(g)


def test_conv1d_stack_has_no_transpose_and_fused_relu(tmp_path: Path) -> None:
    inits = {"w1": rand(4, 3, 3), "w2": rand(4, 4, 3), "fc": rand(5, 4)}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], kernel_shape=[3], pads=[1, 1]),
             helper.make_node("Relu", ["a"], ["ar"]),
             helper.make_node("Conv", ["ar", "w2"], ["b"], kernel_shape=[3], pads=[1, 1]),
             helper.make_node("Add", ["b", "ar"], ["s"]),
             helper.make_node("GlobalAveragePool", ["s"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1)]
    model = make_model(nodes, {"x": (1, 3, 16)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 16)}, tflm=True)
    types = op_types(g)
    assert "TRANSPOSE" not in types and "RELU" not in types, types
    assert io_layout(g) == {"x": "NWC"} and g.inputs[0].shape == (1, 16, 3)


def test_second_graph_input_joins_the_nhwc_layout(tmp_path: Path) -> None:
    inits = {"w1": rand(4, 3, 3, 3), "wt": rand(4, 5, 2, 2)}
    nodes = [conv("c1", "x", "w1", "a"),
             helper.make_node("ConvTranspose", ["a", "wt"], ["u"], strides=[2, 2],
                              kernel_shape=[2, 2]),
             helper.make_node("Add", ["u", "x2"], ["y"])]
    model = make_model(nodes, {"x": (1, 3, 4, 4), "x2": (1, 5, 8, 8)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 4, 4), "x2": rand(1, 5, 8, 8)},
                          tflm=True)
    assert "TRANSPOSE" not in op_types(g)
    assert io_layout(g) == {"x": "NHWC", "x2": "NHWC", "y": "NHWC"}


def test_channel_shuffle_keeps_only_the_shuffle(tmp_path: Path) -> None:
    inits = {"w1": rand(8, 3, 3, 3), "w2": rand(2, 8, 3, 3),
             "s1": np.array([1, 2, 4, 4, 4]), "s2": np.array([1, 8, 4, 4])}
    nodes = [conv("c1", "x", "w1", "a"), helper.make_node("Reshape", ["a", "s1"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", ["t", "s2"], ["r2"]), conv("c2", "r2", "w2", "y")]
    model = make_model(nodes, {"x": (1, 3, 4, 4)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 4, 4)}, tflm=True)
    # the shuffle itself: the TRANSPOSE is split, its layout part cancels with the conv's
    assert op_types(g)["TRANSPOSE"] == 1


def test_shuffle_then_split_keeps_one_transpose(tmp_path: Path) -> None:
    # ShuffleNetV2: channel shuffle, then chunk(2) into an identity and a conv branch
    inits = {"w1": rand(8, 3, 3, 3), "w2": rand(4, 4, 3, 3), "s1": np.array([1, 2, 4, 4, 4]),
             "s2": np.array([1, 8, 4, 4])}
    nodes = [conv("c1", "x", "w1", "a"), helper.make_node("Reshape", ["a", "s1"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", ["t", "s2"], ["r2"]),
             helper.make_node("Split", ["r2"], ["p1", "p2"], axis=1),
             conv("c2", "p2", "w2", "q2"), helper.make_node("Concat", ["p1", "q2"], ["y"], axis=1)]
    model = make_model(nodes, {"x": (1, 3, 4, 4)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 4, 4)}, tflm=True)
    assert op_types(g)["TRANSPOSE"] == 1 and io_layout(g)["y"] == "NHWC"


def test_pixel_shuffle_by_reshapes_keeps_one_transpose(tmp_path: Path) -> None:
    # (N, C*r*r, H, W) -> (N, C, r, r, H, W) -> perm (0,1,4,2,5,3) -> (N, C, H*r, W*r)
    inits = {"w1": rand(8, 3, 3, 3), "w2": rand(2, 2, 3, 3),
             "s1": np.array([1, 2, 2, 2, 4, 4]), "s2": np.array([1, 2, 8, 8])}
    nodes = [conv("c1", "x", "w1", "a"), helper.make_node("Reshape", ["a", "s1"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 1, 4, 2, 5, 3]),
             helper.make_node("Reshape", ["t", "s2"], ["r2"]), conv("c2", "r2", "w2", "y")]
    model = make_model(nodes, {"x": (1, 3, 4, 4)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 4, 4)})  # 6-D: not for TFLM
    assert op_types(g)["TRANSPOSE"] == 1


@pytest.mark.parametrize("seed", range(40))
def test_group_order_splits_transposes_correctly(seed: int) -> None:
    # numpy as the oracle: transpose(x, P) == transpose(transpose(x, S), rest)
    rng = np.random.default_rng(100 + seed)
    rank = int(rng.integers(2, 6))
    x_shape = tuple(int(d) for d in rng.choice([1, 2, 3, 4], size=rank))
    perm = tuple(int(p) for p in rng.permutation(rank))
    y_shape = [x_shape[p] for p in perm]
    i = int(rng.integers(0, rank))
    j = int(rng.integers(i, rank)) + 1
    z = (*y_shape[:i], int(np.prod(y_shape[i:j])), *y_shape[j:])
    order = group_order(perm, x_shape, z)
    assert order is not None and sorted(order) == list(range(rank))
    inv = [0] * rank
    for k, a in enumerate(order):
        inv[a] = k
    rest = tuple(inv[p] for p in perm)
    x = np.arange(int(np.prod(x_shape))).reshape(x_shape)
    np.testing.assert_array_equal(np.transpose(np.transpose(x, order), rest),
                                  np.transpose(x, perm))
    # and the reshape now commutes with the rest
    result = reshape_through(rest, tuple(x_shape[a] for a in order), z)
    assert result is not None
    x2, q = result
    np.testing.assert_array_equal(np.transpose(np.transpose(x, order).reshape(x2), q),
                                  np.transpose(x, perm).reshape(z))


@pytest.mark.parametrize("seed", range(40))
def test_reshape_through_transpose_algebra(seed: int) -> None:
    # numpy is the oracle for pure data movement: reshape(transpose(x, P)) must equal
    # transpose(reshape(x, x2), Q) whenever _reshape_through says it can be rewritten
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(2, 6))
    x_shape = tuple(int(d) for d in rng.choice([1, 1, 2, 3, 4], size=rank))
    perm = tuple(int(p) for p in rng.permutation(rank))
    y_shape = [x_shape[p] for p in perm]
    # z: merge a random run of y axes, then sprinkle size-1 axes
    i = int(rng.integers(0, rank))
    j = int(rng.integers(i, rank)) + 1
    z = [*y_shape[:i], int(np.prod(y_shape[i:j])), *y_shape[j:]]
    z = [d for d in z if d != 1 or rng.random() < 0.5]
    for _ in range(int(rng.integers(0, 3))):
        z.insert(int(rng.integers(0, len(z) + 1)), 1)
    result = reshape_through(perm, x_shape, tuple(z))
    x = np.arange(int(np.prod(x_shape))).reshape(x_shape)
    expected = np.transpose(x, perm).reshape(z)
    if result is None:
        return
    x2, q = result
    np.testing.assert_array_equal(np.transpose(x.reshape(x2), q), expected)


def test_reshape_through_transpose_cases() -> None:
    # the squeeze after a 1-D conv: NHWC (1,1,L,C) -> NCHW -> (1,C,L) is NLC -> NCL
    assert reshape_through(TO_NCHW, (1, 1, 16, 4), (1, 4, 16)) == ((1, 16, 4), (0, 2, 1))
    # flattening NCHW order from NHWC data cannot be a plain reshape
    assert reshape_through(TO_NCHW, (1, 3, 3, 4), (1, 36)) is None
    # the GAP result (1,1,1,C) -> (1,C): no transpose left at all
    assert reshape_through(TO_NCHW, (1, 1, 1, 8), (1, 8)) == ((1, 8), (0, 1))


def test_single_channel_conv_transpose_1d_settles(tmp_path: Path) -> None:
    # the NCW input with one channel is its own NWC: hoisting used to flip it forever
    model = make_model([helper.make_node("ConvTranspose", ["x", "w"], ["y"])],
                       {"x": (1, 1, 3)}, ["y"], {"w": rand(1, 2, 3)})
    g = check_against_ort(model, tmp_path, {"x": rand(1, 1, 3)})
    assert "TRANSPOSE" not in op_types(g)


def test_model_that_only_transposes_keeps_its_transpose(tmp_path: Path) -> None:
    model = make_model([helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 1])],
                       {"x": (2, 3, 4)}, ["y"])
    g = check_against_ort(model, tmp_path, {"x": rand(2, 3, 4)})
    assert [op.type for op in g.ops] == ["TRANSPOSE"] and io_layout(g) == {"x": "NCW", "y": "NCW"}


def test_channel_softmax_stays_correct(tmp_path: Path) -> None:
    # softmax over channels: a layout-sensitive reader; whatever TRANSPOSEs remain, values hold
    inits = {"w1": rand(4, 3, 3, 3, scale=0.3)}
    nodes = [conv("c1", "x", "w1", "a"), helper.make_node("Softmax", ["a"], ["y"], axis=1)]
    model = make_model(nodes, {"x": (1, 3, 5, 5)}, ["y"], inits)
    check_against_ort(model, tmp_path, {"x": rand(1, 3, 5, 5)})


# ---- BatchNorm folding ----------------------------------------------------------------------

def _bn_inits(prefix: str, c: int) -> dict[str, np.ndarray]:
    return {f"{prefix}_s": rand(c, scale=0.5) + 1, f"{prefix}_b": rand(c),
            f"{prefix}_m": rand(c), f"{prefix}_v": np.abs(rand(c)) + 0.5}


def _bn(prefix: str, x: str, y: str) -> onnx.NodeProto:
    return helper.make_node("BatchNormalization",
                            [x, f"{prefix}_s", f"{prefix}_b", f"{prefix}_m", f"{prefix}_v"], [y],
                            epsilon=1e-3)


@pytest.mark.parametrize("kind", ["conv", "depthwise", "conv_transpose", "conv_no_bias"])
def test_batchnorm_folds_into_the_op_before(kind: str, tmp_path: Path) -> None:
    if kind == "depthwise":
        inits = {"w": rand(3, 1, 3, 3, scale=0.3), "bias": rand(3)}
        first = conv("c", "x", "w", "a", group=3, bias="bias")
        c = 3
    elif kind == "conv_transpose":
        inits = {"w": rand(3, 5, 2, 2, scale=0.3), "bias": rand(5)}
        first = helper.make_node("ConvTranspose", ["x", "w", "bias"], ["a"], strides=[2, 2],
                                 kernel_shape=[2, 2])
        c = 5
    else:
        inits = {"w": rand(5, 3, 3, 3, scale=0.3), "bias": rand(5)}
        first = conv("c", "x", "w", "a", bias=None if kind == "conv_no_bias" else "bias")
        c = 5
    model = make_model([first, _bn("bn", "a", "y")], {"x": (1, 3, 6, 6)}, ["y"],
                       {**inits, **_bn_inits("bn", c)})
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 6, 6)})
    types = op_types(g)
    assert not types["MUL"] and not types["ADD"] and not types["TRANSPOSE"], types


def test_gemm_mul_add_fold_into_fully_connected(tmp_path: Path) -> None:
    inits = {"w": rand(4, 6), "b": rand(4), "k": rand(4), "d": rand(4)}
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["a"], transB=1),
             helper.make_node("Mul", ["a", "k"], ["m"]),
             helper.make_node("Sub", ["m", "d"], ["y"])]
    model = make_model(nodes, {"x": (2, 6)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(2, 6)})
    assert list(op_types(g)) == ["FULLY_CONNECTED"]


def test_batchnorm_not_folded_into_shared_conv_output(tmp_path: Path) -> None:
    inits = {"w": rand(4, 3, 3, 3, scale=0.3), **_bn_inits("bn", 4)}
    nodes = [conv("c", "x", "w", "a"), _bn("bn", "a", "b"), helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("Add", ["b", "r"], ["y"])]
    model = make_model(nodes, {"x": (1, 3, 6, 6)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 6, 6)})
    assert op_types(g)["MUL"] == 1


def test_batchnorm_and_relu_fold_through_grouped_conv_concat(tmp_path: Path) -> None:
    # group=2 lowers to SPLIT -> 2 x CONV_2D -> CONCATENATION; BN + Relu go into both convs
    inits = {"w": rand(6, 2, 3, 3, scale=0.3), **_bn_inits("bn", 6)}
    nodes = [conv("c", "x", "w", "a", group=2), _bn("bn", "a", "b"),
             helper.make_node("Relu", ["b"], ["y"])]
    model = make_model(nodes, {"x": (1, 4, 6, 6)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 4, 6, 6)}, tflm=True)
    types = op_types(g)
    assert not types["MUL"] and not types["ADD"] and not types["RELU"], types
    convs = [op for op in g.ops if op.type == "CONV_2D"]
    assert len(convs) == 2 and all(c.options["fused_activation_function"] == "RELU"
                                   for c in convs)


def test_nested_concat_flattens_and_relu_reaches_every_branch(tmp_path: Path) -> None:
    inits = {"w1": rand(2, 3, 3, 3), "w2": rand(3, 3, 3, 3), "w3": rand(2, 3, 1, 1)}
    nodes = [conv("c1", "x", "w1", "a"), conv("c2", "x", "w2", "b"),
             conv("c3", "x", "w3", "c", k=1),
             helper.make_node("Concat", ["a", "b"], ["ab"], axis=1),
             helper.make_node("Concat", ["ab", "c"], ["abc"], axis=1),
             helper.make_node("Relu", ["abc"], ["y"])]
    model = make_model(nodes, {"x": (1, 3, 5, 5)}, ["y"], inits)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 5, 5)})
    assert op_types(g) == Counter({"CONV_2D": 3, "CONCATENATION": 1})


@pytest.mark.parametrize("width", [11, 23])
def test_wide_concat_runs_in_tflite_micro(tmp_path: Path, width: int) -> None:
    """TFLite Micro's CONCATENATION takes at most 10 inputs: a wider Concat becomes a tree of
    at most 10 each, float equal to ONNX Runtime in LiteRT and TFLite Micro; and as int8,
    runtime_micro is bit-exact with TFLite Micro on it."""
    from helpers.tflite_checks import assert_int8_bit_exact_with_tflm

    from edgelite.quantize import QuantizeOptions, quantize

    names = [f"x{i}" for i in range(width)]
    nodes = [helper.make_node("Concat", names, ["c"], axis=1),
             helper.make_node("Relu", ["c"], ["y"])]
    model = make_model(nodes, {n: (1, 2, 3) for n in names}, ["y"], {})
    feeds = {n: rand(1, 2, 3) * (1 + i) for i, n in enumerate(names)}
    g = check_against_ort(model, tmp_path, feeds, tflm=True)
    widths = sorted(len(op.inputs) for op in g.ops if op.type == "CONCATENATION")
    assert max(widths) <= 10 and sum(widths) == width + len(widths) - 1, widths
    q = quantize(g, QuantizeOptions(calibration={n: np.stack([f] * 4) for n, f in feeds.items()},
                                    progress=False))
    assert all(len(op.inputs) <= 10 for op in q.graph.ops if op.type == "CONCATENATION")
    assert_int8_bit_exact_with_tflm(q.model, samples=1)


# ---- activation fusion ----------------------------------------------------------------------

ACTS = {
    "relu": ([helper.make_node("Relu", ["a"], ["y"])], {}, "RELU"),
    "clip06": ([helper.make_node("Clip", ["a", "lo", "hi"], ["y"])],
               {"lo": np.float32(0), "hi": np.float32(6)}, "RELU6"),
    "clip11": ([helper.make_node("Clip", ["a", "lo", "hi"], ["y"])],
               {"lo": np.float32(-1), "hi": np.float32(1)}, "RELU_N1_TO_1"),
    "max_min": ([helper.make_node("Max", ["a", "lo"], ["mx"]),
                 helper.make_node("Min", ["mx", "hi"], ["y"])],
                {"lo": np.float32(0), "hi": np.float32(6)}, "RELU6"),
    "min_max_n1": ([helper.make_node("Min", ["a", "hi"], ["mx"]),
                    helper.make_node("Max", ["mx", "lo"], ["y"])],
                   {"lo": np.float32(-1), "hi": np.float32(1)}, "RELU_N1_TO_1"),
}


@pytest.mark.parametrize("producer", ["conv", "add", "gemm", "maxpool", "conv_transpose"])
@pytest.mark.parametrize("act", sorted(ACTS))
def test_activation_fuses_into_producer(producer: str, act: str, tmp_path: Path) -> None:
    nodes_act, inits, expected = ACTS[act]
    shape: tuple[int, ...] = (1, 3, 6, 6)
    if producer == "conv":
        inits = {**inits, "w": rand(4, 3, 3, 3)}
        first = [conv("c", "x", "w", "a")]
    elif producer == "add":
        inits = {**inits, "k": rand(1, 3, 6, 6)}
        first = [helper.make_node("Add", ["x", "k"], ["a"])]
    elif producer == "conv_transpose":
        inits = {**inits, "w": rand(3, 4, 2, 2), "bias": rand(4)}
        first = [helper.make_node("ConvTranspose", ["x", "w", "bias"], ["a"], strides=[2, 2],
                                  kernel_shape=[2, 2])]
    elif producer == "gemm":
        shape = (2, 5)
        inits = {**inits, "w": rand(5, 4), "b": rand(4)}
        first = [helper.make_node("Gemm", ["x", "w", "b"], ["a"])]
    else:
        first = [helper.make_node("MaxPool", ["x"], ["a"], kernel_shape=[2, 2], strides=[2, 2])]
    model = make_model([*first, *nodes_act], {"x": shape}, ["y"], inits)
    feeds = {"x": rand(*shape, scale=4.0)}
    g = check_against_ort(model, tmp_path, feeds, tflm=True)
    assert len(g.ops) == 1, g.ops
    assert g.ops[0].options["fused_activation_function"] == expected


def test_activation_not_fused_when_producer_output_is_a_graph_output(tmp_path: Path) -> None:
    model = make_model([conv("c", "x", "w", "a"), helper.make_node("Relu", ["a"], ["y"])],
                       {"x": (1, 3, 6, 6)}, ["a", "y"], {"w": rand(4, 3, 3, 3)})
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 6, 6)})
    assert op_types(g)["RELU"] == 1
    assert [t.name for t in g.outputs] == ["a", "y"]


def test_concat_relu(tmp_path: Path) -> None:
    model = make_model([helper.make_node("Concat", ["x", "x2"], ["a"], axis=1),
                        helper.make_node("Relu", ["a"], ["y"])],
                       {"x": (1, 3, 4, 4), "x2": (1, 2, 4, 4)}, ["y"])
    check_against_ort(model, tmp_path, {"x": rand(1, 3, 4, 4), "x2": rand(1, 2, 4, 4)},
                      tflm=True)


# ---- PAD folding ----------------------------------------------------------------------------

def _pad_then(node: onnx.NodeProto, pads: list[int], inits: dict[str, np.ndarray],
              relu_first: bool = False, value: float | None = None,
              shared: bool = False) -> onnx.ModelProto:
    """x -> (Relu) -> Pad(pads, value) as "p" -> node -> y; with ``shared`` "p" is a second
    graph output."""
    nodes = [helper.make_node("Relu", ["x"], ["xr"])] if relu_first else []
    pad_in = ["xr" if relu_first else "x", "pads"] + (["value"] if value is not None else [])
    nodes += [helper.make_node("Pad", pad_in, ["p"]), node]
    inits = {**inits, "pads": np.array(pads, np.int64)}
    if value is not None:
        inits["value"] = np.array(value, np.float32)
    return make_model(nodes, {"x": (1, 3, 8, 8)}, ["y"] + (["p"] if shared else []), inits)


@pytest.mark.parametrize("pads,stride,folded", [
    ([0, 0, 1, 1, 0, 0, 1, 1], 1, True),   # 3x3 stride 1: SAME pads 1 / 1
    ([0, 0, 0, 0, 0, 0, 1, 1], 2, True),   # 3x3 stride 2 on 8: SAME pads 0 / 1
    ([0, 0, 1, 1, 0, 0, 1, 1], 2, False),  # torch-style symmetric pad on stride 2: not SAME
    ([0, 0, 2, 2, 0, 0, 2, 2], 1, False),
])
def test_pad_folds_into_conv_when_it_equals_same(pads: list[int], stride: int, folded: bool,
                                                 tmp_path: Path) -> None:
    node = conv("c", "p", "w", "y", stride=stride, pad=0)
    model = _pad_then(node, pads, {"w": rand(4, 3, 3, 3)})
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 8, 8)})
    assert ("PAD" not in op_types(g)) == folded
    if folded:
        assert g.ops[0].options["padding"] == "SAME"


def test_pad_folds_into_depthwise_conv(tmp_path: Path) -> None:
    node = conv("c", "p", "w", "y", pad=0, group=3)
    model = _pad_then(node, [0, 0, 1, 1, 0, 0, 1, 1], {"w": rand(3, 1, 3, 3)})
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 8, 8)})
    assert list(op_types(g)) == ["DEPTHWISE_CONV_2D"]


@pytest.mark.parametrize("relu_first", [True, False])
def test_zero_pad_folds_into_max_pool_only_for_non_negative_input(relu_first: bool,
                                                                  tmp_path: Path) -> None:
    node = helper.make_node("MaxPool", ["p"], ["y"], kernel_shape=[3, 3], strides=[1, 1])
    model = _pad_then(node, [0, 0, 1, 1, 0, 0, 1, 1], {}, relu_first=relu_first)
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 8, 8)})
    assert ("PAD" in op_types(g)) == (not relu_first)


def test_zero_pad_never_folds_into_average_pool(tmp_path: Path) -> None:
    node = helper.make_node("AveragePool", ["p"], ["y"], kernel_shape=[3, 3], strides=[1, 1])
    model = _pad_then(node, [0, 0, 1, 1, 0, 0, 1, 1], {})
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 8, 8)})
    assert "PAD" in op_types(g)


def test_max_pool_with_onnx_pads_has_no_pad_op(tmp_path: Path) -> None:
    model = make_model([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3],
                                         strides=[2, 2], pads=[0, 0, 1, 1])],
                       {"x": (1, 3, 8, 8)}, ["y"])
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 8, 8)})
    assert list(op_types(g)) == ["MAX_POOL_2D"]


def _pad_pad_conv(onnx_pads: list[int], conv_pads: list[int], **pad) -> onnx.ModelProto:
    """_pad_then with a 3x3 Conv padded by conv_pads (top, left, bottom, right)."""
    node = helper.make_node("Conv", ["p", "w"], ["y"], kernel_shape=[3, 3], pads=conv_pads)
    return _pad_then(node, onnx_pads, {"w": rand(4, 3, 3, 3)}, **pad)


def test_explicit_pad_and_conv_padding_become_one_pad_the_runtime_folds(tmp_path: Path) -> None:
    """An ONNX Pad (left 1) before a Conv padded top 1 only (not SAME, so the Conv's padding is
    a PAD of its own): one PAD of both, which runtime_micro folds into the convolution (it does
    not fold a PAD read by a PAD)."""
    from edgelite.runtime import Interpreter

    model = _pad_pad_conv([0, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 0])
    g, data = convert_onnx(model, tmp_path)
    check_against_ort(model, tmp_path, {"x": rand(1, 3, 8, 8)}, tflm=True)
    assert op_types(g) == Counter({"PAD": 1, "CONV_2D": 1})
    pad = g.ops[0]
    assert pad.inputs[0] is g.inputs[0]
    assert pad.inputs[1].data.tolist() == [[0, 0], [1, 0], [1, 0], [0, 0]]  # NHWC: top, left
    assert Interpreter(data).folded_ops() == [0]


@pytest.mark.parametrize("case,pads", [
    ("different fills", 2),   # Pad of 0.5, then the Conv's zero padding
    ("same fill 0.5", 1),     # two Pads of 0.5 (the second written as an ONNX Pad too)
    ("shared output", 2),     # the first Pad's output is also a graph output
])
def test_pads_merge_only_with_the_same_fill_and_one_reader(case: str, pads: int,
                                                          tmp_path: Path) -> None:
    if case == "same fill 0.5":
        inits = {"w": rand(4, 3, 3, 3), "a": np.array([0, 0, 1, 0, 0, 0, 0, 0], np.int64),
                 "b": np.array([0, 0, 0, 0, 0, 0, 1, 2], np.int64),
                 "value": np.array(0.5, np.float32)}
        nodes = [helper.make_node("Pad", ["x", "a", "value"], ["p"]),
                 helper.make_node("Pad", ["p", "b", "value"], ["q"]),
                 helper.make_node("Conv", ["q", "w"], ["y"], kernel_shape=[3, 3])]
        model = make_model(nodes, {"x": (1, 3, 8, 8)}, ["y"], inits)
    else:
        model = _pad_pad_conv([0, 0, 1, 1, 0, 0, 0, 0], [0, 0, 1, 1],
                              value=0.5 if case == "different fills" else None,
                              shared=case == "shared output")
    g = check_against_ort(model, tmp_path, {"x": rand(1, 3, 8, 8)}, tflm=True)
    assert sum(op.type in ("PAD", "PADV2") for op in g.ops) == pads
    if case == "same fill 0.5":
        (pad,) = [op for op in g.ops if op.type == "PADV2"]
        assert pad.inputs[1].data.tolist() == [[0, 0], [1, 1], [0, 2], [0, 0]]


# ---- random compositions ----------------------------------------------------------------------

def _random_graph(seed: int) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """conv -> 3-6 random layout-agnostic or layout-sensitive steps -> (conv): a fuzz case for
    the layout pass's rewrites working together."""
    rng = np.random.default_rng(seed)
    nodes: list[onnx.NodeProto] = []
    inits: dict[str, np.ndarray] = {}
    count = [0]

    def name(base: str) -> str:
        count[0] += 1
        return f"{base}{count[0]}"

    batch = int(rng.integers(1, 3))  # batch 1 makes axis 0 a size-1 axis: both matter
    shape = [batch, 4, 6, 6]
    inits["w0"] = rand(4, 3, 3, 3, scale=0.3)
    nodes.append(conv("c0", "x", "w0", "v0"))
    v = "v0"
    for _ in range(int(rng.integers(3, 7))):
        r = len(shape)
        step = str(rng.choice(["relu", "sigmoid", "add_const", "mul_branch", "pad", "slice",
                               "reduce", "transpose", "concat", "softmax", "conv", "shuffle",
                               "maxpool", "gap", "split", "flatten_gemm"]))
        out = name("v")
        if step in ("relu", "sigmoid"):
            nodes.append(helper.make_node(step.capitalize(), [v], [out]))
        elif step == "add_const":
            cshape = [d if rng.random() < 0.5 else 1 for d in shape]
            cshape = cshape[int(rng.integers(0, r)):]
            k = name("k")
            inits[k] = rand(*cshape)
            nodes.append(helper.make_node("Add", [v, k], [out]))
        elif step == "mul_branch" and r == 4:
            w = name("w")
            inits[w] = rand(shape[1], shape[1], 1, 1, scale=0.3)
            b = name("b")
            nodes += [conv(name("c"), v, w, b, k=1), helper.make_node("Mul", [v, b], [out])]
        elif step == "pad" and r == 4:
            pads = [0, 0, *rng.integers(0, 2, 2).tolist(), 0, 0, *rng.integers(0, 2, 2).tolist()]
            p = name("p")
            inits[p] = np.array(pads, np.int64)
            nodes.append(helper.make_node("Pad", [v, p], [out]))
            shape = [d + pads[i] + pads[i + 4] for i, d in enumerate(shape)]
        elif step == "slice":
            axis = int(rng.integers(1, r))
            if shape[axis] < 2:
                continue
            st, en, ax = name("st"), name("en"), name("ax")
            inits[st], inits[en], inits[ax] = (np.array([1], np.int64),
                                               np.array([shape[axis]], np.int64),
                                               np.array([axis], np.int64))
            nodes.append(helper.make_node("Slice", [v, st, en, ax], [out]))
            shape[axis] -= 1
        elif step == "reduce" and r > 2:
            axes = sorted(int(a) for a in rng.choice(range(1, r), int(rng.integers(1, r - 1)),
                                                     replace=False))
            keep = int(rng.integers(0, 2))
            nodes.append(helper.make_node("ReduceMean", [v], [out], axes=axes, keepdims=keep))
            shape = [1 if i in axes else d for i, d in enumerate(shape)] if keep else \
                [d for i, d in enumerate(shape) if i not in axes]
        elif step == "transpose":
            perm = [0, *(int(p) + 1 for p in rng.permutation(r - 1))]
            nodes.append(helper.make_node("Transpose", [v], [out], perm=perm))
            shape = [shape[p] for p in perm]
        elif step == "concat":
            axis = int(rng.integers(1, r))
            nodes.append(helper.make_node("Concat", [v, v], [out], axis=axis))
            shape[axis] *= 2
        elif step == "softmax":
            nodes.append(helper.make_node("Softmax", [v], [out], axis=int(rng.integers(1, r))))
        elif step == "conv" and r == 4:
            w = name("w")
            cout = int(rng.integers(2, 6))
            inits[w] = rand(cout, shape[1], 3, 3, scale=0.3)
            nodes.append(conv(name("c"), v, w, out))
            shape[1] = cout
        elif step == "shuffle" and r == 4 and shape[1] % 2 == 0:
            s1, s2, a, b = name("s"), name("s"), name("r"), name("t")
            inits[s1] = np.array([batch, 2, shape[1] // 2, shape[2], shape[3]], np.int64)
            inits[s2] = np.array(shape, np.int64)
            nodes += [helper.make_node("Reshape", [v, s1], [a]),
                      helper.make_node("Transpose", [a], [b], perm=[0, 2, 1, 3, 4]),
                      helper.make_node("Reshape", [b, s2], [out])]
        elif step == "maxpool" and r == 4 and min(shape[2:]) >= 2:
            nodes.append(helper.make_node("MaxPool", [v], [out], kernel_shape=[2, 2]))
            shape = [shape[0], shape[1], shape[2] - 1, shape[3] - 1]
        elif step == "gap" and r == 4:
            nodes.append(helper.make_node("GlobalAveragePool", [v], [out]))
            shape = [shape[0], shape[1], 1, 1]
        elif step == "split":
            axis = int(rng.integers(1, r))
            if shape[axis] % 2:
                continue
            a, b = name("a"), name("b")
            nodes += [helper.make_node("Split", [v], [a, b], axis=axis),
                      helper.make_node("Sub", [b, a], [out])]
            shape[axis] //= 2
        elif step == "flatten_gemm":
            f, w = name("f"), name("w")
            inits[w] = rand(5, int(np.prod(shape[1:])), scale=0.3)
            nodes += [helper.make_node("Flatten", [v], [f]),
                      helper.make_node("Gemm", [f, w], [out], transB=1)]
            shape = [shape[0], 5]
            v = out
            break
        else:
            continue
        v = out
    if len(shape) == 4:
        inits["wl"] = rand(3, shape[1], 1, 1, scale=0.3)
        nodes.append(conv("cl", v, "wl", "y", k=1))
    else:
        nodes.append(helper.make_node("Identity", [v], ["y"]))
    return make_model(nodes, {"x": (batch, 3, 6, 6)}, ["y"], inits), {"x": rand(batch, 3, 6, 6)}


@pytest.mark.parametrize("keep_nchw_io", [False, True])
# 268 and 500 once had a model's own Transpose at the output taken for a layout one
@pytest.mark.parametrize("seed", [*range(25), 268, 500])
def test_random_compositions_match_onnxruntime(seed: int, keep_nchw_io: bool,
                                               tmp_path: Path) -> None:
    model, feeds = _random_graph(seed)
    check_against_ort(model, tmp_path, feeds, keep_nchw_io=keep_nchw_io)


# ---- constant folding agrees with TFLite ----------------------------------------------------

def _fold_case(op_type: str, rng: np.random.Generator):
    """(inputs, options, output shape, output dtype) for one op folding can evaluate."""
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 1)).astype(np.float32)
    pos = (np.abs(a) + 0.5).astype(np.float32)
    act = {"fused_activation_function": "RELU6"}
    i32 = lambda v: np.array(v, np.int32)
    cases = {
        "TRANSPOSE": ([a, i32([2, 0, 1])], {}, (4, 2, 3), "float32"),
        "RESHAPE": ([a, i32([6, 4])], {"new_shape": [6, 4]}, (6, 4), "float32"),
        "SQUEEZE": ([a[:, :1]], {"squeeze_dims": [1]}, (2, 4), "float32"),
        "EXPAND_DIMS": ([a, i32(1)], {}, (2, 1, 3, 4), "float32"),
        "CAST": ([a * 10], {}, (2, 3, 4), "int32"),
        "ADD": ([a, b], act, (2, 3, 4), "float32"),
        "SUB": ([a, b], act, (2, 3, 4), "float32"),
        "MUL": ([a, b], act, (2, 3, 4), "float32"),
        "DIV": ([a, b + 3], act, (2, 3, 4), "float32"),
        "MAXIMUM": ([a, b], {}, (2, 3, 4), "float32"),
        "MINIMUM": ([a, b], {}, (2, 3, 4), "float32"),
        "POW": ([pos, b], {}, (2, 3, 4), "float32"),
        "SQUARED_DIFFERENCE": ([a, b], {}, (2, 3, 4), "float32"),
        "NEG": ([a], {}, (2, 3, 4), "float32"),
        "ABS": ([a], {}, (2, 3, 4), "float32"),
        "SQRT": ([pos], {}, (2, 3, 4), "float32"),
        "RSQRT": ([pos], {}, (2, 3, 4), "float32"),
        "EXP": ([a], {}, (2, 3, 4), "float32"),
        "LOG": ([pos], {}, (2, 3, 4), "float32"),
        "SQUARE": ([a], {}, (2, 3, 4), "float32"),
        "FLOOR": ([a * 3], {}, (2, 3, 4), "float32"),
        "CEIL": ([a * 3], {}, (2, 3, 4), "float32"),
        "RELU": ([a], {}, (2, 3, 4), "float32"),
        "RELU6": ([a * 8], {}, (2, 3, 4), "float32"),
        "CONCATENATION": ([a, a * 2], {"axis": 1}, (2, 6, 4), "float32"),
        "PAD": ([a, i32([[0, 1], [2, 0], [1, 1]])], {}, (3, 5, 6), "float32"),
        "PADV2": ([a, i32([[0, 1], [2, 0], [1, 1]]), np.array([1.5], np.float32)], {},
                  (3, 5, 6), "float32"),
        "GATHER": ([a, i32([2, 0, 2])], {"axis": 1}, (2, 3, 4), "float32"),
        "SLICE": ([a, i32([1, 0, 1]), i32([1, -1, 2])], {}, (1, 3, 2), "float32"),
        "TILE": ([a, i32([1, 2, 1])], {}, (2, 6, 4), "float32"),
        "MEAN": ([a, i32([1, -1])], {"keep_dims": True}, (2, 1, 1), "float32"),
        "SUM": ([a, i32([0])], {"keep_dims": False}, (3, 4), "float32"),
        "REDUCE_MAX": ([a, i32([2])], {"keep_dims": False}, (2, 3), "float32"),
        "REDUCE_MIN": ([a, i32([0, 2])], {"keep_dims": True}, (1, 3, 1), "float32"),
        "REDUCE_PROD": ([a, i32([1])], {"keep_dims": False}, (2, 4), "float32"),
        "SHAPE": ([a], {"out_type": "INT32"}, (3,), "int32"),
    }
    return cases[op_type]


@pytest.mark.parametrize("op_type", sorted(EVALUATORS))
def test_folded_values_match_litert(op_type: str) -> None:
    # the same op, with its data as graph inputs, run by LiteRT: our numpy evaluation of it on
    # constants must give what TFLite would have computed
    values, options, out_shape, out_dtype = _fold_case(op_type, np.random.default_rng(3))
    # data inputs are float tensors; parameter tensors (perm, shape, axes...) stay constant
    inputs = [ir.Tensor(f"in{k}", v.shape, str(v.dtype)) if v.dtype == np.float32
              else ir.const(f"p{k}", v) for k, v in enumerate(values)]
    y = ir.Tensor("y", out_shape, out_dtype)
    g = ir.Graph(inputs=[t for t in inputs if not t.is_const], outputs=[y],
                 ops=[ir.Op(op_type, inputs, [y], dict(options))])
    got = litert_run(write_model(g), {f"in{k}": v for k, v in enumerate(values)
                                      if v.dtype == np.float32},
                     reference=op_type != "CEIL")["y"]  # no reference CEIL kernel
    op = ir.Op(op_type, inputs, [y], dict(options))
    with np.errstate(all="ignore"):
        folded = np.asarray(EVALUATORS[op_type](op, values)).astype(out_dtype)
    assert folded.shape == got.shape
    np.testing.assert_allclose(folded, got, rtol=1e-5, atol=1e-6)
