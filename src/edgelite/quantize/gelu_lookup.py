"""Integer GELU written with ops TFLite Micro has, for models that must run there.

TFLite Micro has no GELU kernel. An integer GELU is a pure function of its input's integer
value, so it is exactly a table: the table runtime_micro's GELU builds (bit-exact with LiteRT's
GELU, tests/test_kernels.py) is read back by running that one op over every input value, and
the op becomes CAST (to int32) + ADD (the offset that makes the value an index) + GATHER.
TFLite Micro's GATHER takes int8 tables only, so an int16 table is stored as its high and low
bytes and put back together in int32 (MUL by 256, ADD, ADD 128) before a CAST to int16.

The result computes the same bytes as the GELU it replaces, in every runtime; it costs an int32
copy of the activation in the arena and a few passes over it.
"""

from __future__ import annotations

import numpy as np

from edgelite import ir

_NONE = {"fused_activation_function": "NONE"}
_AXIS0 = {"axis": 0, "batch_dims": 0}


def gelu_table(op: ir.Op) -> np.ndarray:
    """The integer GELU ``op`` as a table over every input value (int32, lowest input first),
    computed by runtime_micro."""
    from edgelite.runtime import Interpreter
    from edgelite.tflite.writer import write_model

    x_t, y_t = op.inputs[0], op.outputs[0]
    info = np.iinfo(x_t.dtype)
    values = np.arange(int(info.min), int(info.max) + 1)
    x = ir.Tensor("x", values.shape, x_t.dtype, quant=x_t.quant)
    y = ir.Tensor("y", values.shape, y_t.dtype, quant=y_t.quant)
    g = ir.Graph(inputs=[x], outputs=[y], ops=[ir.Op("GELU", [x], [y], dict(op.options), "g")],
                 name="gelu_table")
    it = Interpreter(write_model(g))
    it.set_input(0, values.astype(x_t.dtype))
    it.invoke()
    return it.get_output(0).astype(np.int32)


def gelu_as_lookup(graph: ir.Graph) -> ir.Graph:
    """A copy of ``graph`` (ops list; tensors shared) with every int8/int16 GELU replaced by its
    table lookup. Float GELUs are left alone."""
    ops: list[ir.Op] = []
    for op in graph.ops:
        if op.type != "GELU" or op.inputs[0].dtype not in ("int8", "int16"):
            ops.append(op)
            continue
        ops += _lookup_ops(op, gelu_table(op))
    return ir.Graph(inputs=list(graph.inputs), outputs=list(graph.outputs), ops=ops,
                    name=graph.name, metadata=dict(graph.metadata))


def _lookup_ops(op: ir.Op, table: np.ndarray) -> list[ir.Op]:
    x, y = op.inputs[0], op.outputs[0]
    base = y.name

    def t(suffix: str, dtype: str) -> ir.Tensor:
        return ir.Tensor(f"{base}_{suffix}", y.shape, dtype)

    def c(suffix: str, value: np.ndarray, quant: ir.QuantParams | None = None) -> ir.Tensor:
        return ir.Tensor(f"{base}_{suffix}", value.shape, str(value.dtype), data=value,
                         quant=quant)

    wide, idx = t("wide", "int32"), t("index", "int32")
    offset = -int(np.iinfo(x.dtype).min)
    ops = [ir.Op("CAST", [x], [wide], {}, wide.name),
           ir.Op("ADD", [wide, c("offset", np.array([offset], np.int32))], [idx], dict(_NONE),
                 idx.name)]
    if x.dtype == "int8":
        return ops + [ir.Op("GATHER", [c("table", table.astype(np.int8), y.quant), idx], [y],
                            dict(_AXIS0), f"{base}_gather")]
    hi, lo = (table >> 8).astype(np.int8), ((table & 255) - 128).astype(np.int8)
    ghi, glo, whi, wlo = t("ghi", "int8"), t("glo", "int8"), t("whi", "int32"), t("wlo", "int32")
    scaled, summed, value = t("scaled", "int32"), t("summed", "int32"), t("value", "int32")
    return ops + [
        ir.Op("GATHER", [c("table_hi", hi), idx], [ghi], dict(_AXIS0), ghi.name),
        ir.Op("GATHER", [c("table_lo", lo), idx], [glo], dict(_AXIS0), glo.name),
        ir.Op("CAST", [ghi], [whi], {}, whi.name),
        ir.Op("CAST", [glo], [wlo], {}, wlo.name),
        ir.Op("MUL", [whi, c("256", np.array([256], np.int32))], [scaled], dict(_NONE),
              scaled.name),
        ir.Op("ADD", [scaled, wlo], [summed], dict(_NONE), summed.name),
        ir.Op("ADD", [summed, c("128", np.array([128], np.int32))], [value], dict(_NONE),
              value.name),
        ir.Op("CAST", [value], [y], {}, f"{base}_cast")]
