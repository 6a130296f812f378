"""The two op tables agree with each other and with the schema's enums.

Python's table (edgelite/tflite/ops.py) and runtime_micro's (src/el_op_table.h) are both written
from TFLite's published schema; a code or options union member typed wrong in one of them would
make a file one side writes unreadable to the other. LiteRT then checks what the writer puts in
files (every converter test loads its output there).
"""

from __future__ import annotations

import re
from pathlib import Path

from edgelite.tflite import schema as S
from edgelite.tflite.ops import OPS, with_layout, with_quant

TABLE_H = Path(__file__).resolve().parents[1] / "runtime_micro" / "src" / "el_op_table.h"


def _c_rows() -> list[tuple[str, str, list[str]]]:
    """(kind, NAME, the other arguments) of every row of EL_OP_TABLE."""
    text = TABLE_H.read_text().split("#define EL_OP_TABLE", 1)[1]
    return [(kind, name, [a.strip() for a in rest.split(",")])
            for kind, name, rest in re.findall(r"\b(KOPT|KOP|OPT|OP)\((\w+), ([^)]*)\)", text)]


def test_c_table_codes_are_the_schema_enum_without_gaps() -> None:
    rows = _c_rows()
    assert [(name, int(args[0])) for _, name, args in rows] == list(S.BUILTIN_OPERATORS.items())


def test_c_options_rows_match_the_python_table() -> None:
    for kind, name, args in _c_rows():
        if kind in ("KOPT", "OPT"):
            union_member = int(args[2] if kind == "KOPT" else args[1])
            assert name in OPS, f"{name}: runtime_micro reads options edgelite never writes"
            table = OPS[name].options
            assert table is not None, name
            assert S.BUILTIN_OPTIONS_UNION[union_member - 1] == table, name


def test_python_table_codes_and_options_are_the_schema_s() -> None:
    for name, op in OPS.items():
        assert S.BUILTIN_OPERATORS[name] == op.code, name
        assert op.options is None or op.options in S.OPTIONS_TABLES, name
        assert (op.quant == "weights") == (op.weights is not None), name
        assert (op.quant == "fixed") == (op.fixed_output is not None), name
    assert S.OP_OPTIONS == {name: op.options for name, op in OPS.items()}


def test_families_are_disjoint_and_known() -> None:
    families = [with_layout(f) for f in ("unary", "binary", "reduce", "pad", "last_axis")]
    assert sum(map(len, families)) == len(frozenset().union(*families))
    kinds = [with_quant(k) for k in ("weights", "same", "free", "fixed")]
    assert sum(map(len, kinds)) == len(frozenset().union(*kinds))
    assert {o.layout for o in OPS.values()} <= {None, "unary", "binary", "reduce", "pad",
                                                 "last_axis"}
    assert {o.quant for o in OPS.values()} <= {None, "weights", "same", "free", "fixed"}
