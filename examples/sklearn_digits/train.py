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

The ONNX graph is written node for node with onnx.helper (examples/_shared.py), BatchNorm unfused.

Versions that produced the committed files: Python 3.11, torch 2.13.0+cpu, numpy 2.4.6,
scikit-learn 1.9.1, onnx 1.23.2, onnxruntime 1.32.0 (x86-64, 1 thread). Seeds are fixed and
torch runs deterministic algorithms on one thread, so a rerun on the same versions and CPU
reproduces the weights; other CPUs or versions may differ in the last bits, and the accuracy by
a few samples.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from sklearn.datasets import load_digits
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _shared import OnnxWriter, deterministic, ort_accuracy, save_checked, stratified_split, train

HERE = Path(__file__).resolve().parent
SEED = 20261124
HELDOUT_PER_CLASS = 50
CALIBRATION_PER_CLASS = 10


def load_split() -> tuple[np.ndarray, ...]:
    """Stratified split: (x_train, y_train, x_held, y_held, x_calib, y_calib).

    Preprocessing, baked into every array we write: pixel / 16 as float32, NCHW 1x8x8.
    """
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    return stratified_split(x, y, SEED, HELDOUT_PER_CLASS, CALIBRATION_PER_CLASS)


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




def to_onnx(model: Digits8CNN) -> onnx.ModelProto:
    """The trained network as an ONNX graph, node for node, BatchNorm unfused."""
    g = OnnxWriter(model)
    x = g.conv_bn_relu("input", 1, pad=1)
    x = g.node("MaxPool", [x], "pool1", "pool1", kernel_shape=[2, 2], strides=[2, 2])
    x = g.conv_bn_relu(x, 2, pad=1)
    x = g.node("GlobalAveragePool", [x], "gap", "gap")
    x = g.node("Flatten", [x], "flat", "flatten", axis=1)
    g.gemm(x, "fc", "logits")
    return g.model_proto("digits8_cnn", [1, 1, 8, 8], "edgelite-examples-sklearn-digits",
                         "scikit-learn 8x8 digits CNN trained by examples/sklearn_digits/"
                         "train.py; input: pixel/16 float32 NCHW 1x1x8x8; output: 10 logits")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()

    deterministic(SEED)
    x_tr, y_tr, x_held, y_held, x_cal, _ = load_split()
    print(f"train {len(x_tr)}, held-out {len(x_held)}, calibration {len(x_cal)} (from train)")

    model = Digits8CNN()
    train(model, x_tr, y_tr, args.epochs, SEED, lr=1e-2, batch=32, augment=augment)

    args.out.mkdir(parents=True, exist_ok=True)
    acc = save_checked(model, to_onnx(model), args.out / "digits8_cnn.onnx", x_held, y_held)
    # Only the held-out digits and their labels: `edgelite eval --data heldout.npz --labels
    # label` then sees exactly one model input.
    np.savez_compressed(args.out / "heldout.npz", input=x_held, label=y_held)
    # The calibration samples keyed by the model's input name, which is what calibration
    # tools take: passing heldout.npz there would calibrate on the held-out test digits.
    np.savez_compressed(args.out / "calibration.npz", input=x_cal)

    train_acc, _ = ort_accuracy(args.out / "digits8_cnn.onnx", x_tr, y_tr)
    print(f"ONNX Runtime accuracy on the training digits: {train_acc * 100:.1f} %")
    print(f"ONNX Runtime accuracy on held-out 8x8 digits: {acc * 100:.1f} % "
          f"({round(acc * len(y_held))}/{len(y_held)})")


if __name__ == "__main__":
    main()
