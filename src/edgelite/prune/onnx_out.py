"""Write a (pruned) float IR graph as an ONNX model, so users can fine-tune it and convert again.

Decision: the ONNX file is built from the IR, not by editing the source ONNX graph. The IR is
what was pruned and repaired (BatchNorm already folded into the weights, the layout already
NHWC), and a .tflite source has no ONNX graph to edit. Tensors stay NHWC inside the ONNX graph:
each convolution or pooling op is wrapped in a pair of Transposes (NHWC -> NCHW -> NHWC), which
ONNX Runtime cancels when it optimises the graph and training frameworks import as plain
permutes. The interface keeps the source model's layout: inputs and outputs the converter moved
to channels-last (its metadata says which) are NCHW again in the ONNX file, as in the original.
Opset 13; weights are float32 initializers named after the IR tensors.
"""

from __future__ import annotations

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError

OPSET = 13
SIMPLE = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div", "MAXIMUM": "Max",
          "MINIMUM": "Min", "LOGISTIC": "Sigmoid", "TANH": "Tanh", "RELU": "Relu",
          "ABS": "Abs", "NEG": "Neg", "EXP": "Exp", "SQRT": "Sqrt", "FLOOR": "Floor",
          "HARD_SWISH": "HardSwish", "POW": "Pow", "PRELU": "PRelu"}
FUSED_ACT = ("fused_activation_function",)


class _Builder:
    def __init__(self, graph: ir.Graph) -> None:
        import onnx  # noqa: F401 - fail early with a clear message if missing

        self.g = graph
        self.nodes: list = []
        self.inits: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.k = 0

    def name(self, t: ir.Tensor) -> str:
        key = id(t)
        if key not in self.names:
            base = t.name or "t"
            n, i = base, 1
            while n in self.used:
                n = f"{base}_{i}"
                i += 1
            self.used.add(n)
            self.names[key] = n
            if t.is_const:
                self.inits[n] = np.asarray(t.data)
        return self.names[key]

    def fresh(self, hint: str) -> str:
        self.k += 1
        n = f"{hint}__{self.k}"
        self.used.add(n)
        return n

    def const(self, hint: str, value: np.ndarray) -> str:
        n = self.fresh(hint)
        self.inits[n] = np.asarray(value)
        return n

    def node(self, op_type: str, inputs: list[str], outputs: list[str], **attrs: object) -> None:
        from onnx import helper

        self.nodes.append(helper.make_node(op_type, inputs, outputs,
                                           name=f"{op_type}_{len(self.nodes)}", **attrs))

    def act(self, x: str, fused: str, out: str) -> None:
        """``out`` = the fused activation of ``x`` (Identity for NONE)."""
        if fused in (None, "NONE"):
            self.node("Identity", [x], [out])
        elif fused == "RELU":
            self.node("Relu", [x], [out])
        elif fused == "RELU6":
            self.node("Clip", [x, self.const("zero", np.float32(0)),
                               self.const("six", np.float32(6))], [out])
        elif fused == "RELU_N1_TO_1":
            self.node("Clip", [x, self.const("m1", np.float32(-1)),
                               self.const("p1", np.float32(1))], [out])
        elif fused == "TANH":
            self.node("Tanh", [x], [out])
        else:
            raise EdgeliteError(f"fused activation {fused} has no ONNX form here",
                                code=Code.UNSUPPORTED)


def _same_pads(in_hw: tuple[int, int], out_hw: tuple[int, int], k: tuple[int, int],
               s: tuple[int, int], d: tuple[int, int]) -> list[int]:
    pads = []
    for i in range(2):
        total = max((out_hw[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in_hw[i], 0)
        pads.append((total // 2, total - total // 2))
    return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]


def _window(b: _Builder, op: ir.Op, onnx_op: str, x: str, out: str, extra: list[str],
            **attrs: object) -> None:
    """A windowed NCHW op between Transposes, then the fused activation."""
    o = op.options
    t_in = b.fresh("nchw")
    b.node("Transpose", [x], [t_in], perm=[0, 3, 1, 2])
    y = b.fresh("y")
    b.node(onnx_op, [t_in, *extra], [y], **attrs)
    z = b.fresh("nhwc")
    b.node("Transpose", [y], [z], perm=[0, 2, 3, 1])
    b.act(z, o.get("fused_activation_function", "NONE"), out)


def _emit(b: _Builder, op: ir.Op) -> None:
    o = op.options
    ins = [b.name(t) if t is not None else "" for t in op.inputs]
    out = b.name(op.outputs[0])
    x = op.inputs[0]
    fused = o.get("fused_activation_function", "NONE")
    if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        w = np.asarray(op.inputs[1].data, dtype=np.float32)
        if op.type == "CONV_2D":
            wo = w.transpose(0, 3, 1, 2)
            group = 1
        else:
            wo = w.transpose(3, 0, 1, 2)
            group = x.shape[-1]
        k = (w.shape[1], w.shape[2])
        s = (int(o.get("stride_h", 1)), int(o.get("stride_w", 1)))
        d = (int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1)))
        pads = ([0, 0, 0, 0] if o.get("padding", "SAME") == "VALID" else
                _same_pads(x.shape[1:3], op.outputs[0].shape[1:3], k, s, d))
        extra = [b.const(f"{op.inputs[1].name}_oihw", wo)]
        if len(op.inputs) > 2 and op.inputs[2] is not None:
            extra.append(ins[2])
        _window(b, op, "Conv", ins[0], out, extra, kernel_shape=list(k), strides=list(s),
                dilations=list(d), pads=pads, group=group)
        return
    if op.type in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        k = (int(o["filter_height"]), int(o["filter_width"]))
        s = (int(o.get("stride_h", 1)), int(o.get("stride_w", 1)))
        pads = ([0, 0, 0, 0] if o.get("padding", "SAME") == "VALID" else
                _same_pads(x.shape[1:3], op.outputs[0].shape[1:3], k, s, (1, 1)))
        attrs: dict[str, object] = {"kernel_shape": list(k), "strides": list(s), "pads": pads}
        if op.type == "AVERAGE_POOL_2D":
            attrs["count_include_pad"] = 0  # TFLite averages the pixels inside the image
        _window(b, op, "MaxPool" if op.type == "MAX_POOL_2D" else "AveragePool", ins[0], out,
                [], **attrs)
        return
    if op.type == "FULLY_CONNECTED":
        w = op.inputs[1]
        flat = b.fresh("flat")
        b.node("Reshape", [ins[0], b.const("shape", np.asarray([-1, w.shape[1]], np.int64))],
               [flat])
        y = b.fresh("fc")
        gin = [flat, ins[1]]
        if len(op.inputs) > 2 and op.inputs[2] is not None:
            gin.append(ins[2])
        b.node("Gemm", gin, [y], transB=1)
        y2 = b.fresh("fc_shaped")
        b.node("Reshape", [y, b.const("shape", np.asarray(op.outputs[0].shape, np.int64))],
               [y2])
        b.act(y2, fused, out)
        return
    if op.type in SIMPLE:
        y = b.fresh("y") if fused not in (None, "NONE") else out
        b.node(SIMPLE[op.type], [i for i in ins if i], [y])
        if y != out:
            b.act(y, fused, out)
        return
    if op.type == "RELU6":
        b.act(ins[0], "RELU6", out)
        return
    if op.type == "RELU_N1_TO_1":
        b.act(ins[0], "RELU_N1_TO_1", out)
        return
    if op.type == "LEAKY_RELU":
        b.node("LeakyRelu", [ins[0]], [out], alpha=float(o.get("alpha", 0.2)))
        return
    if op.type == "SOFTMAX":
        y = b.fresh("scaled")
        b.node("Mul", [ins[0], b.const("beta", np.float32(o.get("beta", 1.0)))], [y])
        b.node("Softmax", [y], [out], axis=-1)
        return
    if op.type == "CONCATENATION":
        y = b.fresh("y") if fused not in (None, "NONE") else out
        b.node("Concat", ins, [y], axis=int(o.get("axis", 0)))
        if y != out:
            b.act(y, fused, out)
        return
    if op.type in ("SPLIT", "SPLIT_V"):
        xin = ins[1] if op.type == "SPLIT" else ins[0]
        axis_t = op.inputs[0] if op.type == "SPLIT" else op.inputs[2]
        axis = int(np.asarray(axis_t.data).reshape(-1)[0])
        sizes = [t.shape[axis] for t in op.outputs]
        b.node("Split", [xin, b.const("split", np.asarray(sizes, np.int64))],
               [b.name(t) for t in op.outputs], axis=axis)
        return
    if op.type in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
        b.node("Reshape", [ins[0], b.const("shape", np.asarray(op.outputs[0].shape, np.int64))],
               [out])
        return
    if op.type in ("MEAN", "SUM", "REDUCE_MAX"):
        axes = [int(a) for a in np.asarray(op.inputs[1].data).reshape(-1)]
        onnx_op = {"MEAN": "ReduceMean", "SUM": "ReduceSum", "REDUCE_MAX": "ReduceMax"}[op.type]
        if onnx_op == "ReduceSum":
            b.node(onnx_op, [ins[0], b.const("axes", np.asarray(axes, np.int64))], [out],
                   keepdims=int(bool(o.get("keep_dims", False))))
        else:
            b.node(onnx_op, [ins[0]], [out], axes=axes,
                   keepdims=int(bool(o.get("keep_dims", False))))
        return
    if op.type in ("PAD", "PADV2"):
        p = np.asarray(op.inputs[1].data, dtype=np.int64).reshape(-1, 2)
        pin = [ins[0], b.const("pads", np.concatenate([p[:, 0], p[:, 1]]))]
        if op.type == "PADV2" and len(ins) > 2:
            pin.append(b.const("value", np.asarray(op.inputs[2].data, np.float32).reshape(())))
        b.node("Pad", pin, [out], mode="constant")
        return
    if op.type == "TRANSPOSE":
        perm = [int(a) for a in np.asarray(op.inputs[1].data).reshape(-1)]
        b.node("Transpose", [ins[0]], [out], perm=perm)
        return
    if op.type in ("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"):
        nearest = op.type == "RESIZE_NEAREST_NEIGHBOR"
        if o.get("align_corners"):
            mode = "align_corners"
        elif o.get("half_pixel_centers"):
            mode = "tf_half_pixel_for_nn" if nearest else "half_pixel"
        else:
            mode = "asymmetric"
        attrs = {"mode": "nearest" if nearest else "linear",
                 "coordinate_transformation_mode": mode}
        if nearest:
            attrs["nearest_mode"] = "round_prefer_ceil" if o.get("align_corners") else "floor"
        b.node("Resize", [ins[0], "", "", b.const("sizes", np.asarray(op.outputs[0].shape,
                                                                       np.int64))], [out],
               **attrs)
        return
    raise EdgeliteError(f"{op.type} cannot be written to ONNX yet",
                        where=op.name or op.outputs[0].name, code=Code.UNSUPPORTED,
                        hint="write the pruned model as .tflite")


def to_onnx(graph: ir.Graph):  # noqa: ANN201 - onnx.ModelProto
    """The ONNX model of a float IR graph (see the module docstring for the layout)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from edgelite.quantize.data import channels_last_io

    for t in graph.tensors():
        if t.dtype not in ("float32", "int32", "int64") or t.quant is not None:
            raise EdgeliteError(f"tensor {t.name!r} is {t.dtype}: only float models can be "
                                "written as ONNX", code=Code.UNSUPPORTED,
                                hint="write the pruned float model, quantize afterwards")
    moved = channels_last_io(graph)
    b = _Builder(graph)
    inputs, outputs = [], []
    for t in graph.outputs:  # the interface names stay free for the final nodes
        b.used.add(t.name)
    for t in graph.outputs:
        if not t.is_const:
            b.names.setdefault(id(t), b.fresh(t.name))
    for t in graph.inputs:
        b.used.add(t.name)
        shape = list(t.shape)
        if t.name in moved and len(t.shape) == 4:
            b.names[id(t)] = b.fresh(f"{t.name}_nhwc")
            b.node("Transpose", [t.name], [b.names[id(t)]], perm=[0, 2, 3, 1])
            shape = [t.shape[0], t.shape[3], t.shape[1], t.shape[2]]
        else:
            b.names[id(t)] = t.name
        inputs.append(helper.make_tensor_value_info(t.name, TensorProto.FLOAT, shape))
    for op in graph.ops:
        _emit(b, op)
    for t in graph.outputs:
        inner = b.name(t)
        if t.name in moved and len(t.shape) == 4:
            b.node("Transpose", [inner], [t.name], perm=[0, 3, 1, 2])
            shape = [t.shape[0], t.shape[3], t.shape[1], t.shape[2]]
        else:
            b.node("Identity", [inner], [t.name])
            shape = list(t.shape)
        outputs.append(helper.make_tensor_value_info(t.name, TensorProto.FLOAT, shape))
    read = {i for n in b.nodes for i in n.input}
    inits = [numpy_helper.from_array(np.ascontiguousarray(v), n)
             for n, v in sorted(b.inits.items()) if n in read]
    g = helper.make_graph(b.nodes, graph.name or "pruned", inputs, outputs, inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edgelite")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def to_onnx_bytes(graph: ir.Graph) -> bytes:
    return to_onnx(graph).SerializeToString()
