"""Operator versions written into OperatorCode.version.

TFLite bumps an operator's version when it gains a feature (a new tensor type, a new option);
a runtime refuses versions it does not know. We write the lowest version that covers what the
op uses, following the rules of TFLite's op_version table for the cases we produce.
"""

from __future__ import annotations

from edgelite import ir


def op_version(op: ir.Op) -> int:
    return 1
