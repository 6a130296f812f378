"""The package stands in layers: ONNX -> IR -> passes -> tflite <- runtime.

Read from the source (every import statement, also those inside functions), so a lazy import
that climbs a layer is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "edgelite"

# package folder -> the edgelite modules it may import (prefixes)
ALLOWED = {
    "tflite": ("edgelite.ir", "edgelite.errors", "edgelite.fileio", "edgelite.tflite"),
    "runtime": ("edgelite.ir", "edgelite.errors", "edgelite.fileio", "edgelite.tflite",
                "edgelite.runtime"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "edgelite":  # from edgelite import ir
            out.extend((node.lineno, f"edgelite.{a.name}") for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            out.append((node.lineno, "<relative>"))
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
    return out


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_layer_imports_only_what_is_below(folder):
    wrong = []
    for path in sorted((PKG / folder).rglob("*.py")):
        for line, module in _imports(path):
            if module == "<relative>" or (module.startswith("edgelite")
                                          and not module.startswith(ALLOWED[folder])):
                wrong.append(f"{path.relative_to(PKG)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_checker_sees_a_climbing_import(tmp_path):
    """The walk finds an import inside a function body (the form that used to hide one)."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from edgelite.converter.pipeline import convert\n")
    assert _imports(f) == [(2, "edgelite.converter.pipeline")]
