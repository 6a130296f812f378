"""Operator versions written into OperatorCode.version: each op's rule from the op table
(`edgelite.tflite.ops`, rules in `version_rules`); the lowest version that covers what the op
uses. TFLite Micro ignores versions; LiteRT does not."""

from __future__ import annotations

from edgelite import ir
from edgelite.tflite.ops import OPS


def op_version(op: ir.Op) -> int:
    row = OPS.get(op.type)
    return row.version(op) if row is not None and row.version is not None else 1
