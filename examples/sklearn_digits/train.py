"""Train the 8x8 digits example CNN; write digits8_cnn.onnx, heldout.npz and calibration.npz.

This script is a tool for regenerating the committed files, not part of the edgelite package:
it needs PyTorch, which edgelite never imports. Install the CPU wheel in a separate virtual
environment (a plain `pip install torch` pulls a multi-GB CUDA build):

    python -m venv --system-site-packages /opt/venv-torch
    /opt/venv-torch/bin/pip install torch==2.13.0      # the +cpu wheel
    /opt/venv-torch/bin/python examples/sklearn_digits/train.py

Data: scikit-learn's `load_digits` (the UCI optical-recognition digits: 1,797 real handwritten
digits written by 13 people, 8x8, 17 grey levels 0..16), shipped inside the scikit-learn wheel,
so no network is needed. A stratified split holds out 50 digits per class (500); the other
1,297 train the model.

The ONNX graph is written with onnx.helper from the trained weights (torch.onnx.export needs
onnxscript in torch 2.x, which we do not want to depend on), with the BatchNormalization nodes
kept unfused and their running statistics, so the converter's BatchNorm folding has real work.

Versions that produced the committed files: Python 3.11, torch 2.13.0+cpu, numpy 2.4.6,
scikit-learn 1.9.1, onnx 1.23.2, onnxruntime 1.32.0 (x86-64, 1 thread). Seeds are fixed and
torch runs deterministic algorithms on one thread, so a rerun on the same versions and CPU
reproduces the weights; other CPUs or versions may differ in the last bits, and the accuracy by
a few samples.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from torch import nn

HERE = Path(__file__).resolve().parent
SEED = 20261124
HELDOUT_PER_CLASS = 50
CALIBRATION_PER_CLASS = 10
OPSET = 13


def load_split() -> tuple[np.ndarray, ...]:
    """Stratified split: (x_train, y_train, x_held, y_held, x_calib, y_calib).

    Preprocessing, baked into every array we write: pixel / 16 as float32, NCHW 1x8x8.
    The calibration samples come from the training split (they are real inputs the model has
    seen, which is what post-training calibration uses), never from the held-out split.
    """
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
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


class Digits8CNN(nn.Module):
    # Unlike examples/digits, the head is GlobalAveragePool (a MEAN in TFLite) straight into one
    # Gemm, and both convolutions pad (SAME-like) on a tiny 8x8 / 4x4 feature map, where the
    # border is a large share of every output.
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)  # 8 -> 4
        x = torch.relu(self.bn2(self.conv2(x)))  # 4 -> 4
        x = torch.flatten(x.mean(dim=(2, 3), keepdim=True), 1)
        return self.fc(x)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random whole-pixel shifts of up to 1 pixel (zero fill): 1,297 digits are few."""
    n = x.shape[0]
    padded = nn.functional.pad(x, (1, 1, 1, 1))
    dy = torch.randint(0, 3, (n,), generator=gen)
    dx = torch.randint(0, 3, (n,), generator=gen)
    return torch.stack([padded[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8] for i in range(n)])


def train(model: Digits8CNN, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
    gen = torch.Generator().manual_seed(SEED)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    batch = 32
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=steps)
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


def to_onnx(model: Digits8CNN) -> onnx.ModelProto:
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
          ["conv2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        n("BatchNormalization", ["conv2", *bn("bn2", m.bn2)], ["bn2"], name="bn2",
          epsilon=m.bn2.eps),
        n("Relu", ["bn2"], ["relu2"], name="relu2"),
        n("GlobalAveragePool", ["relu2"], ["gap"], name="gap"),
        n("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        n("Gemm", ["flat", w("fc.weight", m.fc.weight), w("fc.bias", m.fc.bias)],
          ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits8_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        initializer=inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edgelite-examples-sklearn-digits",
                              producer_version="1")
    proto.ir_version = 8  # readable by every onnxruntime >= 1.10
    proto.doc_string = ("scikit-learn 8x8 digits CNN trained by examples/sklearn_digits/"
                        "train.py; input: pixel/16 float32 NCHW 1x1x8x8; output: 10 logits")
    onnx.checker.check_model(proto, full_check=True)
    return proto


def ort_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))])
    return float(np.mean(logits.argmax(1) == y)), logits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x_tr, y_tr, x_held, y_held, x_cal, _ = load_split()
    print(f"train {len(x_tr)}, held-out {len(x_held)}, calibration {len(x_cal)} (from train)")

    model = Digits8CNN()
    train(model, x_tr, y_tr, args.epochs)
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(x_held)).numpy()

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "digits8_cnn.onnx"
    onnx.save(to_onnx(model), onnx_path)
    # Only the held-out digits and their labels: `edgelite eval --data heldout.npz --labels
    # label` then sees exactly one model input.
    np.savez_compressed(args.out / "heldout.npz", input=x_held, label=y_held)
    # The calibration samples keyed by the model's input name, which is what calibration
    # tools take: passing heldout.npz there would calibrate on the held-out test digits.
    np.savez_compressed(args.out / "calibration.npz", input=x_cal)

    acc, logits = ort_accuracy(onnx_path, x_held, y_held)
    # The ONNX graph must be the trained network, not an approximation of it.
    np.testing.assert_allclose(logits, torch_logits, rtol=1e-4, atol=1e-4)
    train_acc, _ = ort_accuracy(onnx_path, x_tr, y_tr)
    params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {params}; {onnx_path.name}: {onnx_path.stat().st_size} bytes")
    print(f"ONNX Runtime accuracy on the training digits: {train_acc * 100:.1f} %")
    print(f"ONNX Runtime accuracy on held-out 8x8 digits: {acc * 100:.1f} % "
          f"({round(acc * len(y_held))}/{len(y_held)})")


if __name__ == "__main__":
    main()
