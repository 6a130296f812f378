"""The shared model builders (tests/models.py) build what they claim, checked by outside oracles:
onnx.checker, ONNX Runtime, and the published size figures of the architectures."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import models


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {model.graph.input[0].name: x})[0]


def _image(resolution: int) -> np.ndarray:
    return np.random.default_rng(7).standard_normal((1, 3, resolution, resolution)).astype(
        np.float32)


def test_mobilenet_v2_matches_published_size_and_runs() -> None:
    m = models.mobilenet_v2()
    onnx.checker.check_model(m, full_check=True)
    # torchvision's mobilenet_v2() has 3,504,872 parameters (its model card); the paper gives
    # 300 M multiply-adds for width 1.0 at 224x224.
    assert models.param_count(m) == 3_504_872
    assert 295e6 < models.macs(m) < 305e6
    ops = {n.op_type for n in m.graph.node}
    assert {"Conv", "BatchNormalization", "Clip", "Add", "GlobalAveragePool", "Flatten",
            "Gemm"} <= ops
    depthwise = [n for n in m.graph.node if n.op_type == "Conv"
                 and any(a.name == "group" and a.i > 1 for a in n.attribute)]
    assert len(depthwise) == 17
    assert sum(n.op_type == "Add" for n in m.graph.node) == 10  # residual connections
    y = _run(m, _image(224))
    assert y.shape == (1, 1000)
    assert np.all(np.isfinite(y)) and y.std() > 0.1  # not dead, not exploded


def test_mobilenet_v2_bn_statistics_are_not_trivial() -> None:
    m = models.mobilenet_v2(width=0.35, resolution=96)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    for node in (n for n in m.graph.node if n.op_type == "BatchNormalization"):
        gamma, beta, mean, var = (inits[name] for name in node.input[1:5])
        assert not np.allclose(mean, 0) and not np.allclose(var, 1), node.name
        assert not np.allclose(gamma, 1) and not np.allclose(beta, 0), node.name


def test_mobilenet_v2_small_variant_and_reshape_flatten() -> None:
    flat = models.mobilenet_v2(width=0.35, resolution=96)
    reshape = models.mobilenet_v2(width=0.35, resolution=96, flatten="reshape")
    assert 11.5e6 < models.macs(flat) < 12.5e6  # MobileNetV2 0.35/96: 11.9 M MACs
    assert [n.op_type for n in reshape.graph.node[-6:]] == [
        "Shape", "Gather", "Unsqueeze", "Concat", "Reshape", "Gemm"]
    x = _image(96)
    np.testing.assert_array_equal(_run(flat, x), _run(reshape, x))


def test_builders_are_deterministic() -> None:
    a = models.mobilenet_v2(width=0.5, resolution=64).SerializeToString()
    assert a == models.mobilenet_v2(width=0.5, resolution=64).SerializeToString()
    assert a != models.mobilenet_v2(width=0.5, resolution=64, seed=1).SerializeToString()
    assert models.resnet_tiny().SerializeToString() == models.resnet_tiny().SerializeToString()


def test_resnet_tiny_runs() -> None:
    m = models.resnet_tiny()
    onnx.checker.check_model(m, full_check=True)
    assert sum(n.op_type == "Add" for n in m.graph.node) == 3
    y = _run(m, _image(32))
    assert y.shape == (1, 10) and np.all(np.isfinite(y)) and y.std() > 0.01


def test_digits_example_accuracy_in_onnxruntime() -> None:
    model = onnx.load(models.digits_cnn_path())
    onnx.checker.check_model(model, full_check=True)
    data = models.digits_data()
    assert data["input"].dtype == np.float32 and data["input"].shape[1:] == (1, 28, 28)
    assert data["label"].dtype == np.int64 and len(data["label"]) == len(data["input"])
    assert data["calibration"].dtype == np.float32 and data["calibration"].shape[1:] == (1, 28, 28)
    sess = ort.InferenceSession(str(models.digits_cnn_path()), providers=["CPUExecutionProvider"])
    pred = np.array([sess.run(None, {"input": x[None]})[0].argmax() for x in data["input"]])
    accuracy = float(np.mean(pred == data["label"]))
    assert accuracy >= 0.97, accuracy  # README states 97.8 % (489/500)


@pytest.mark.parametrize("bad", ["view", ""])
def test_mobilenet_v2_rejects_unknown_flatten(bad: str) -> None:
    with pytest.raises(ValueError, match="flatten"):
        models.mobilenet_v2(width=0.35, resolution=32, flatten=bad)
