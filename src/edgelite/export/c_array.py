"""Turn a .tflite model (and optionally test inputs and expected outputs) into C sources.

    files = export_c(model_bytes, "digits", inputs=[x], outputs=[y], arena_bytes=5120)
    write_folder(files, "out/")     # out/digits.h, out/digits_model.c, out/digits_data.c

What the generated files hold (``name`` = "digits", ``NAME`` = "DIGITS"):

- ``digits.h``: ``DIGITS_MODEL_SIZE``, ``DIGITS_ARENA_SIZE`` (when known), ``DIGITS_STEPS``,
  ``DIGITS_INPUT_COUNT``, ``DIGITS_OUTPUT_COUNT`` and the declarations below. When the
  arena of a Cortex-M build differs (hosted optimized builds keep int8 filter sums, and
  x86-64 / aarch64 ones the int8 CONV_2D filters packed; Cortex-M builds do not),
  ``DIGITS_ARENA_SIZE`` is chosen by ``__ARM_ARCH_PROFILE == 'M'``.
- ``digits_model.c``: ``const unsigned char digits_model[]``, 16-byte aligned as runtime_micro
  requires (EL_MODEL_ALIGN), so firmware can pass it to el_init() in place. Define
  ``EL_EXPORT_MODEL_ATTR`` (e.g. a section attribute) to place it in a given memory.
- ``digits_data.c`` (only when inputs or outputs are given): one byte array per input
  (``digits_input_0`` ...) and per expected output (``digits_expected_0`` ...), plus tables
  ``digits_inputs[]`` / ``digits_input_sizes[]`` and ``digits_expected[]`` /
  ``digits_expected_sizes[]``. Sizes are bytes per step.

Arrays hold the raw little-endian bytes of the numpy arrays (C order), whatever their dtype,
so float bit patterns survive exactly; a comment above each array gives dtype and shape.
``steps`` > 1 describes a sequence of invokes (streaming models): each array holds ``steps``
equal slices, slice s being the bytes for invoke s.

Output is deterministic: the same arguments give byte-identical text.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgelite.errors import Code, EdgeliteError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BYTES_PER_LINE = 16
_HEX = tuple(f"0x{b:02x}" for b in range(256))
_C_KEYWORDS = frozenset((
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while",
))

# Alignment without C11: each compiler family spells it differently.
_ALIGN_MACRO = """\
#ifndef EL_EXPORT_ALIGN16
#if defined(__GNUC__) || defined(__clang__) || defined(__ARMCC_VERSION)
#define EL_EXPORT_ALIGN16 __attribute__((aligned(16)))
#elif defined(_MSC_VER)
#define EL_EXPORT_ALIGN16 __declspec(align(16))
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define EL_EXPORT_ALIGN16 _Alignas(16)
#else
#error "edgelite export: tell your compiler to align these arrays to 16 bytes (EL_EXPORT_ALIGN16)"
#endif
#endif
"""

# Firmware may place the model in a given memory, e.g.
# -DEL_EXPORT_MODEL_ATTR='__attribute__((section(".model_flash")))'
_MODEL_ATTR_MACRO = """\
#ifndef EL_EXPORT_MODEL_ATTR
#define EL_EXPORT_MODEL_ATTR
#endif
"""


def _check_name(name: str) -> None:
    if not _IDENT.match(name) or name in _C_KEYWORDS:
        raise EdgeliteError(
            f"export name {name!r} is not a C identifier",
            code=Code.BAD_INPUT,
            hint="use letters, digits and '_' only, not starting with a digit, e.g. 'my_model'",
        )


def _check_model(model_bytes: bytes) -> None:
    # A TFLite flatbuffer: root offset, then the file identifier "TFL3" at byte 4.
    if len(model_bytes) < 8 or bytes(model_bytes[4:8]) != b"TFL3":
        raise EdgeliteError(
            "model bytes are not a TFLite flatbuffer (no 'TFL3' identifier at byte 4)",
            code=Code.BAD_INPUT,
            where="model",
            hint="pass the bytes of a .tflite file (edgelite convert writes one)",
        )


def _as_bytes(arr: np.ndarray, what: str, steps: int) -> bytes:
    a = np.asarray(arr)
    if a.dtype == object or a.dtype.kind in "USV":
        raise EdgeliteError(f"{what}: dtype {a.dtype} cannot be exported as tensor bytes",
                            code=Code.BAD_INPUT, where=what,
                            hint="pass a numeric numpy array with the tensor's dtype")
    data = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()
    if steps > 1 and len(data) % steps:
        raise EdgeliteError(
            f"{what}: {len(data)} bytes do not split into {steps} equal steps",
            code=Code.BAD_INPUT, where=what,
            hint="give each array a leading axis of length steps (one slice per invoke)",
        )
    return data


def _byte_lines(data: bytes) -> list[str]:
    lines = []
    for start in range(0, len(data), _BYTES_PER_LINE):
        chunk = data[start:start + _BYTES_PER_LINE]
        lines.append("  " + ", ".join(map(_HEX.__getitem__, chunk)) + ",")
    return lines


def _array_def(ctype_name: str, data: bytes, comment: str, attr: str = "") -> str:
    body = _byte_lines(data) if data else ["  0x00, /* empty: C has no zero-length arrays */"]
    decl = f"EL_EXPORT_ALIGN16 {attr}const unsigned char {ctype_name}[{max(len(data), 1)}] = {{"
    return "\n".join([f"/* {comment} */", decl, *body, "};", ""])


def _describe(arr: np.ndarray, nbytes: int, steps: int) -> str:
    a = np.asarray(arr)
    shape = "x".join(str(d) for d in a.shape) or "scalar"
    per_step = nbytes // steps if steps else nbytes
    return f"{a.dtype.name} [{shape}], {nbytes} bytes ({per_step} per step)"


def export_c(
    model_bytes: bytes,
    name: str,
    inputs: Sequence[np.ndarray] | None = None,
    outputs: Sequence[np.ndarray] | None = None,
    arena_bytes: int | None = None,
    *,
    steps: int = 1,
    source: str | None = None,
    micro_arena_bytes: int | None = None,
    unfolded_arena_bytes: int | None = None,
) -> dict[str, str]:
    """Return {file name: C text} for the model and, when given, its inputs and expected outputs.

    inputs / outputs: one array per model input / output, in model order. steps: number of
    invokes the arrays describe (see module docs). arena_bytes: the arena the model needs on
    the target, written as NAME_ARENA_SIZE (omitted when None). micro_arena_bytes: the arena
    of a Cortex-M build when it differs (no filter sums kept): NAME_ARENA_SIZE is then that on
    Cortex-M and arena_bytes elsewhere. unfolded_arena_bytes: the arena of a hosted build
    that folds no PAD into its convolutions (any but x86-64 and aarch64) when it differs from
    arena_bytes: NAME_ARENA_SIZE is then arena_bytes on x86-64 / aarch64 only. source: a label
    (e.g. the .tflite path) recorded in the file headers.
    """
    _check_name(name)
    _check_model(model_bytes)
    if not isinstance(steps, int) or steps < 1:
        raise EdgeliteError(f"steps must be a positive integer, got {steps!r}",
                            code=Code.BAD_INPUT)
    for label, value in (("arena_bytes", arena_bytes), ("micro_arena_bytes", micro_arena_bytes),
                         ("unfolded_arena_bytes", unfolded_arena_bytes)):
        if value is not None and (int(value) != value or value <= 0):
            raise EdgeliteError(f"{label} must be a positive integer, got {value!r}",
                                code=Code.BAD_INPUT)
    ins = [_as_bytes(a, f"input {i}", steps) for i, a in enumerate(inputs or [])]
    outs = [_as_bytes(a, f"output {i}", steps) for i, a in enumerate(outputs or [])]

    upper = name.upper()
    guard = f"EDGELITE_EXPORT_{upper}_H"
    origin = f" from {source}" if source else ""
    banner = f"/* Generated by edgelite export{origin}. Do not edit. */\n"

    h = [banner, f"#ifndef {guard}", f"#define {guard}", "", "#include <stddef.h>", "",
         f"#define {upper}_MODEL_SIZE {len(model_bytes)}u"]
    if arena_bytes is not None and unfolded_arena_bytes not in (None, arena_bytes):
        h += ["#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'",
              f"#define {upper}_ARENA_SIZE {int(micro_arena_bytes or unfolded_arena_bytes)}u"
              " /* el_init arena bytes */",
              "#elif defined(__x86_64__) || defined(__aarch64__)"
              " /* int8 filter sums and packed filters kept, PADs folded */",
              f"#define {upper}_ARENA_SIZE {int(arena_bytes)}u",
              "#else /* other hosted builds: no PAD folded (an upper bound: no packed filter) */",
              f"#define {upper}_ARENA_SIZE {int(unfolded_arena_bytes)}u",
              "#endif"]
    elif arena_bytes is not None and micro_arena_bytes not in (None, arena_bytes):
        h += ["#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'",
              f"#define {upper}_ARENA_SIZE {int(micro_arena_bytes)}u /* el_init arena bytes */",
              "#else /* hosted optimized builds also keep int8 filter sums (and packed filters) */",
              f"#define {upper}_ARENA_SIZE {int(arena_bytes)}u",
              "#endif"]
    elif arena_bytes is not None:
        h.append(f"#define {upper}_ARENA_SIZE {int(arena_bytes)}u /* el_init arena bytes */")
    h += [f"#define {upper}_STEPS {steps} /* invokes described by the data arrays */",
          f"#define {upper}_INPUT_COUNT {len(ins)}",
          f"#define {upper}_OUTPUT_COUNT {len(outs)}",
          "",
          "/* The model, 16-byte aligned: pass it to el_init() as is. */",
          f"extern const unsigned char {name}_model[{upper}_MODEL_SIZE];"]
    if ins:
        h += ["", "/* Inputs: bytes per step in *_input_sizes; step s starts at s * size. */"]
        h += [f"extern const unsigned char {name}_input_{i}[];" for i in range(len(ins))]
        h += [f"extern const unsigned char *const {name}_inputs[{upper}_INPUT_COUNT];",
              f"extern const size_t {name}_input_sizes[{upper}_INPUT_COUNT];"]
    if outs:
        h += ["", "/* Expected outputs, laid out like the inputs. */"]
        h += [f"extern const unsigned char {name}_expected_{i}[];" for i in range(len(outs))]
        h += [f"extern const unsigned char *const {name}_expected[{upper}_OUTPUT_COUNT];",
              f"extern const size_t {name}_expected_sizes[{upper}_OUTPUT_COUNT];"]
    h += ["", f"#endif /* {guard} */", ""]

    model_c = "\n".join([banner, f'#include "{name}.h"', "", _ALIGN_MACRO, _MODEL_ATTR_MACRO,
                         _array_def(f"{name}_model", bytes(model_bytes),
                                    f"TFLite flatbuffer, {len(model_bytes)} bytes",
                                    "EL_EXPORT_MODEL_ATTR ")])
    files = {f"{name}.h": "\n".join(h), f"{name}_model.c": model_c}

    if ins or outs:
        d = [banner, f'#include "{name}.h"', "", _ALIGN_MACRO]
        for kind, arrays, datas, sym in (("input", inputs or [], ins, "input"),
                                         ("expected output", outputs or [], outs, "expected")):
            for i, (arr, data) in enumerate(zip(arrays, datas)):
                d.append(_array_def(f"{name}_{sym}_{i}", data,
                                    f"{kind} {i}: {_describe(arr, len(data), steps)}"))
            if datas:
                table = "inputs" if sym == "input" else "expected"
                sizes = "input_sizes" if sym == "input" else "expected_sizes"
                count = f"{upper}_INPUT_COUNT" if sym == "input" else f"{upper}_OUTPUT_COUNT"
                d.append(f"const unsigned char *const {name}_{table}[{count}] = {{\n"
                         + "".join(f"  {name}_{sym}_{i},\n" for i in range(len(datas))) + "};\n")
                d.append(f"const size_t {name}_{sizes}[{count}] = {{\n"
                         + "".join(f"  {len(x) // steps}u,\n" for x in datas) + "};\n")
        files[f"{name}_data.c"] = "\n".join(d)
    return files


def export_names(name: str) -> tuple[str, ...]:
    """Every file name export_c can produce for ``name`` (to clear stale ones)."""
    return (f"{name}.h", f"{name}_model.c", f"{name}_data.c")


def write_folder(files: dict[str, str], folder: str | os.PathLike[str], *,
                 replaces: Sequence[str] = (),
                 trees: dict[str, dict[str, bytes]] | None = None) -> list[Path]:
    """Write generated files into ``folder`` (created with its parents if missing); returns
    the paths written.

    Everything is first written to a temporary folder beside the target; only when every file
    is complete are they moved in (each move is atomic). A new folder appears all at once.
    replaces: names of files an earlier export may have left that this one does not write
    (e.g. ``export_names(name)``); they are removed so a build never mixes two exports.
    trees: subfolder name -> {relative path: bytes}; each subfolder is replaced whole.
    """
    target = Path(folder)
    parent = target.parent if str(target.parent) else Path(".")
    if target.exists() and not target.is_dir():
        raise EdgeliteError("output path exists and is not a folder", where=str(target),
                            code=Code.BAD_INPUT, hint="choose a folder path for the C sources")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgeliteError(f"cannot create the output folder: {exc.strerror}",
                            where=str(parent), code=Code.BAD_INPUT) from None
    if not parent.is_dir():
        raise EdgeliteError("parent path is not a folder", where=str(parent),
                            code=Code.BAD_INPUT)
    trees = trees or {}
    for fname in [*files, *trees]:
        if Path(fname).name != fname or fname in (".", ".."):
            raise EdgeliteError(f"file name {fname!r} is not a plain name", code=Code.INTERNAL)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    try:
        for sub in sorted(trees):
            for rel, data in sorted(trees[sub].items()):
                dest = tmp / sub / rel
                if ".." in Path(rel).parts or Path(rel).is_absolute():
                    raise EdgeliteError(f"path {rel!r} leaves {sub}/", code=Code.INTERNAL)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                os.chmod(dest, 0o644)
            for d in [tmp / sub, *(p for p in (tmp / sub).rglob("*") if p.is_dir())]:
                os.chmod(d, 0o755)
        for fname in sorted(files):
            with open(tmp / fname, "w", encoding="utf-8", newline="\n") as f:
                f.write(files[fname])
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp / fname, 0o644)
        if not target.exists():
            os.chmod(tmp, 0o755)
            os.replace(tmp, target)
        else:
            for fname in sorted(files):
                os.replace(tmp / fname, target / fname)
            for sub in sorted(trees):
                if (target / sub).is_dir() and not (target / sub).is_symlink():
                    shutil.rmtree(target / sub)
                elif (target / sub).exists() or (target / sub).is_symlink():
                    (target / sub).unlink()
                os.replace(tmp / sub, target / sub)
            for fname in replaces:
                if fname not in files and Path(fname).name == fname:
                    (target / fname).unlink(missing_ok=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return [target / fname for fname in sorted(files)] + [target / sub for sub in sorted(trees)]
