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


RUNTIME = PKG.parents[1] / "runtime_micro"


def _c_call_graph(tmp_path: Path) -> dict[str, set[str]]:
    """file -> the other files of runtime_micro/src whose functions or data it uses, read from
    `nm` of each object compiled on its own."""
    import shutil
    import subprocess

    cc, nm = shutil.which("cc"), shutil.which("nm")
    if not cc or not nm:
        pytest.fail("cc and nm are needed (apt-get install gcc binutils)")
    defined, used = {}, {}
    for src in sorted((RUNTIME / "src").glob("*.c")):
        obj = tmp_path / (src.stem + ".o")
        subprocess.run([cc, "-std=c99", "-O1", f"-I{RUNTIME / 'include'}", f"-I{RUNTIME / 'src'}",
                        f"-I{RUNTIME / 'kernels'}", "-c", str(src), "-o", str(obj)], check=True)
        rows = [line.split() for line in subprocess.run(
            [nm, str(obj)], check=True, capture_output=True, text=True).stdout.splitlines()]
        defined[src.name] = {r[2] for r in rows if len(r) == 3 and r[1] in "TDBRC"}
        used[src.name] = {r[1] for r in rows if len(r) == 2 and r[0] == "U"}
    return {a: {b for b in defined if b != a and used[a] & defined[b]} for a in defined}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (as a path that returns to its start), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_runtime_micro_src_files_call_each_other_without_a_cycle(tmp_path):
    """format/flatbuffer -> context -> options -> control -> model -> plan -> interpreter:
    each file calls only files below it (el_context.c holds what all of them need)."""
    graph = _c_call_graph(tmp_path)
    assert len(graph) >= 9
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
    assert "el_context.c" in graph["el_model.c"] and "el_model.c" in graph["el_interp.c"]


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
