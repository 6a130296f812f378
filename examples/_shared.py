"""What the example training scripts (examples/*/train.py) have in common: the stratified split,
the training loop, the onnx.helper export of conv + BatchNorm + ReLU stacks and the ONNX Runtime
accuracy check. Not part of the edgelite package; it needs torch like the scripts that use it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

OPSET = 13


def stratified_split(x: np.ndarray, y: np.ndarray, seed: int, held_per_class: int,
                     calib_per_class: int) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_held, y_held, x_calib, y_calib), ten classes.

    The calibration samples come from the training split (they are real inputs the model has
    seen, which is what post-training calibration uses), never from the held-out split.
    """
    rng = np.random.default_rng(seed)
    train_idx, held_idx, calib_idx = [], [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(y == digit))
        held_idx.append(idx[:held_per_class])
        rest = idx[held_per_class:]
        train_idx.append(rest)
        calib_idx.append(rest[:calib_per_class])
    # Interleave classes so any prefix of the held-out or calibration set is balanced.
    held = np.stack(held_idx, axis=1).reshape(-1)
    calib = np.stack(calib_idx, axis=1).reshape(-1)
    train = np.concatenate(train_idx)
    return x[train], y[train], x[held], y[held], x[calib], y[calib]


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, seed: int, lr: float,
          batch: int, augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor]) -> None:
    """AdamW with a one-cycle schedule; the generator drives both shuffling and augmentation."""
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
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


class OnnxWriter:
    """Collects nodes and float32 initializers named after the torch parameters.

    The graph is written with onnx.helper from the trained weights (torch.onnx.export needs
    onnxscript in torch 2.x, which we do not want to depend on), with the BatchNormalization nodes
    kept unfused and their running statistics, so the converter's BatchNorm folding has real work.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def w(self, name: str) -> str:
        """The parameter `name` (e.g. "conv1.weight") as an initializer of the same name."""
        t = self.model
        for part in name.split("."):
            t = getattr(t, part)
        self.inits.append(numpy_helper.from_array(t.detach().numpy().astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def conv_bn_relu(self, x: str, i: int, pad: int) -> str:
        """conv{i} (3x3, stride 1, `pad` on every side) -> bn{i} -> relu{i}."""
        conv = self.node("Conv", [x, self.w(f"conv{i}.weight"), self.w(f"conv{i}.bias")],
                         f"conv{i}", f"conv{i}", kernel_shape=[3, 3], pads=[pad] * 4,
                         strides=[1, 1])
        bn = f"bn{i}"
        stats = [self.w(f"{bn}.{p}") for p in ("weight", "bias", "running_mean", "running_var")]
        self.node("BatchNormalization", [conv, *stats], bn, bn,
                  epsilon=getattr(self.model, bn).eps)
        return self.node("Relu", [bn], f"relu{i}", f"relu{i}")

    def gemm(self, x: str, layer: str, output: str) -> str:
        return self.node("Gemm", [x, self.w(f"{layer}.weight"), self.w(f"{layer}.bias")], output,
                         layer, transB=1)

    def model_proto(self, graph_name: str, input_shape: list[int], producer: str,
                    doc: str) -> onnx.ModelProto:
        """The graph from "input" (float32 `input_shape`) to "logits" (1x10), checked."""
        graph = helper.make_graph(
            self.nodes, graph_name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
            initializer=self.inits,
        )
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name=producer, producer_version="1")
        proto.ir_version = 8  # readable by every onnxruntime >= 1.10
        proto.doc_string = doc
        onnx.checker.check_model(proto, full_check=True)
        return proto


def ort_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))])
    return float(np.mean(logits.argmax(1) == y)), logits


def deterministic(seed: int) -> None:
    """Fixed seeds, one thread, deterministic kernels: a rerun on the same CPU and versions
    reproduces the weights."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def save_checked(model: nn.Module, proto: onnx.ModelProto, path: Path, x_held: np.ndarray,
                 y_held: np.ndarray) -> float:
    """Writes `proto` and returns its held-out accuracy in ONNX Runtime, after checking that its
    logits are the trained network's, not an approximation of them."""
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(x_held)).numpy()
    onnx.save(proto, path)
    acc, logits = ort_accuracy(path, x_held, y_held)
    np.testing.assert_allclose(logits, torch_logits, rtol=1e-4, atol=1e-4)
    params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {params}; {path.name}: {path.stat().st_size} bytes")
    return acc
