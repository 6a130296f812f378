"""`edgelite bench --target`: ARM cores under QEMU (exact instruction counts, flash, RAM) and
ssh:// devices, plus the recorded budgets those counts must stay within.

Budgets (tests/budgets/*.json) are exact, deterministic figures, never timings: executed
instructions per inference of three models (digits float32, digits int8, microWakeWord
hey_mycroft int8) on Cortex-M4, Cortex-M55 and aarch64, and the Cortex-M4 code size of
runtime_micro as linked into a firmware image with the digits int8 model. A regression above
2 % (instructions) or 5 % (code size) fails; an improvement is reported. To re-record after an
intended change, from a clean checkout:

    EDGELITE_RECORD_BUDGETS=1 PYTHONPATH=src python -m pytest tests/test_bench_targets.py

The recorded files say which compiler, QEMU and git revision produced them.

Needs the Debian packages in edgelite.bench.cross.APT_LINE; without them these tests FAIL with
that line (CI installs them), they are never skipped. The ssh transport is tested against fake
`ssh` / `scp` scripts that run the command locally under qemu-aarch64 (no network, no sshd).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # firmware built and counted under QEMU

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("EDGELITE_SOURCE", str(ROOT))  # runtime_micro/ even from a wheel install

from edgelite.bench import cross
from edgelite.bench.ssh import (
    SshConfig,
    parse_ssh_target,
    remote_run_command,
    run_ssh_bench,
)
from edgelite.bench.targets import (
    TargetConfig,
    op_macs,
    run_target_bench,
    runtime_sections,
    toolchain_versions,
)
from edgelite.errors import EdgeliteError

DIGITS = ROOT / "examples" / "digits"
BUDGETS = ROOT / "tests" / "budgets"
INSN_FILE = BUDGETS / "instructions.json"
SIZE_FILE = BUDGETS / "code_size.json"
INSN_TOLERANCE_PERCENT = 2
SIZE_TOLERANCE_PERCENT = 5
BUDGET_TARGETS = ("cortex-m4", "cortex-m55", "aarch64")
RECORD = os.environ.get("EDGELITE_RECORD_BUDGETS") == "1"
RERECORD = ("re-record after an intended change: EDGELITE_RECORD_BUDGETS=1 PYTHONPATH=src "
            "python -m pytest tests/test_bench_targets.py (from a clean checkout)")
REPORT: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _print_report(request: pytest.FixtureRequest):
    yield
    if REPORT:
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print("\n[bench --target]\n" + "\n".join(REPORT))


def require_tools(targets: list[str]) -> None:
    missing = cross.missing_tools(targets)
    if missing:
        pytest.fail(f"ARM cross toolchains / QEMU missing: {', '.join(missing)}. "
                    f"Install them with: {cross.APT_LINE}", pytrace=False)


# ------------------------------------------------------------------ models and inputs
@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """name -> (.tflite, input .npy): fixed models and fixed inputs."""
    import pymicro_wakeword

    from edgelite.converter import ConvertOptions, convert_to_bytes
    from edgelite.quantize import QuantizeOptions, quantize
    from edgelite.runtime import Interpreter

    d = tmp_path_factory.mktemp("models")
    with np.load(DIGITS / "heldout.npz") as z:
        x = z["input"][:1].transpose(0, 2, 3, 1)[:, None][0].astype(np.float32)  # 1x28x28x1
    (d / "digits_f32.tflite").write_bytes(
        convert_to_bytes(DIGITS / "digits_cnn.onnx", ConvertOptions()))
    (d / "digits_i8.tflite").write_bytes(quantize(DIGITS / "digits_cnn.onnx", QuantizeOptions(
        calibration=DIGITS / "calibration.npz", progress=False)).model)
    np.save(d / "digit.npy", x)  # float: the int8 model's input is quantized from it
    ww = (Path(pymicro_wakeword.__file__).parent / "models" / "hey_mycroft.tflite").read_bytes()
    (d / "mycroft.tflite").write_bytes(ww)
    shape = Interpreter(ww).inputs[0].shape
    rng = np.random.default_rng(20261124)
    np.save(d / "features.npy", np.clip(rng.normal(-60, 40, shape), -128, 127).astype(np.int8))
    return {"digits_f32": (d / "digits_f32.tflite", d / "digit.npy"),
            "digits_i8": (d / "digits_i8.tflite", d / "digit.npy"),
            "mycroft": (d / "mycroft.tflite", d / "features.npy")}


def _litert_reference(model: Path, x: np.ndarray) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    li = LiteRT(model_path=str(model), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    li.allocate_tensors()
    d = li.get_input_details()[0]
    if x.dtype != d["dtype"]:
        scale, zp = d["quantization"]
        x = np.clip(np.round(x / scale) + zp, -128, 127).astype(d["dtype"])
    li.set_tensor(d["index"], x)
    li.invoke()
    return [li.get_tensor(o["index"]) for o in li.get_output_details()]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("targets")


# ------------------------------------------------------------------ budgets
def _git_revision() -> str:
    if os.environ.get("EDGELITE_GIT_REVISION"):
        return os.environ["EDGELITE_GIT_REVISION"]
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=False,
                         capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                            "runtime_micro", "tools"], check=False, capture_output=True,
                           text=True).stdout.strip()
    return rev + ("-dirty" if dirty else "")


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _record(path: Path, key: str, entry: dict) -> None:
    data = _load(path)
    data[key] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def compare_with_budget(measured: dict[str, dict[str, int]], budget: dict
                        ) -> tuple[list[str], list[str]]:
    """(regressions above the tolerance, improvements beyond it), one line per model."""
    over, better = [], []
    for name, m in measured.items():
        if name not in budget["models"]:
            over.append(f"{name}: no budget recorded")
            continue
        want = budget["models"][name]["per_invoke"]
        got = m["per_invoke"]
        text = (f"{name}: {got:,} instructions/invoke vs budget {want:,} "
                f"({100 * (got / want - 1):+.2f} %)")
        # Integer arithmetic: exactly 2 % more is still within the budget.
        if got * 100 > want * (100 + INSN_TOLERANCE_PERCENT):
            over.append(text)
        elif got * 100 < want * (100 - INSN_TOLERANCE_PERCENT):
            better.append(text)
    return over, better


def test_budget_comparison_flags_regressions_only_above_two_percent() -> None:
    budget = {"models": {"a": {"per_invoke": 1000}, "b": {"per_invoke": 1000},
                         "c": {"per_invoke": 1000}}}
    over, better = compare_with_budget({"a": {"per_invoke": 1020}, "b": {"per_invoke": 1021},
                                        "c": {"per_invoke": 979}, "d": {"per_invoke": 1}},
                                       budget)
    assert over == ["b: 1,021 instructions/invoke vs budget 1,000 (+2.10 %)",
                    "d: no budget recorded"]
    assert better == ["c: 979 instructions/invoke vs budget 1,000 (-2.10 %)"]


@pytest.mark.parametrize("target", BUDGET_TARGETS)
def test_instruction_budgets(target: str, models, work: Path) -> None:
    """Instructions per inference within 2 % of the recorded budget; outputs checked on the
    target against the host run, and the host run against LiteRT's reference kernels."""
    require_tools([target])
    from edgelite.runtime import Interpreter

    measured: dict[str, dict[str, int]] = {}
    lines = []
    for name, (model, data) in models.items():
        x = np.load(data)
        host = Interpreter(model.read_bytes())
        if x.dtype != host.inputs[0].dtype:
            d = host.inputs[0]
            x = np.clip(np.round(x / d.scale) + d.zero_point, -128, 127).astype(d.dtype)
        host.set_input(0, x)
        host.invoke()
        for i, want in enumerate(_litert_reference(model, np.load(data))):
            got = host.get_output(i)
            if got.dtype.kind == "f":
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
            else:
                np.testing.assert_array_equal(got, want, err_msg=f"{name}: host vs LiteRT")
        # Raises when the target's outputs differ from the host's (bit-exact int8).
        r = run_target_bench(TargetConfig(model, target, input=data, profile=False,
                                          work=work / target))
        measured[name] = {"per_invoke": r.invoke_instructions, "el_init": r.init_instructions,
                          "macs": r.macs}
        lines.append(f"  {name}: {r.invoke_instructions:,} instructions/invoke "
                     f"({r.per_mac:.2f}/MAC), el_init {r.init_instructions:,}; "
                     f"flash {r.memory.flash:,} B, RAM {r.memory.ram:,} B")
    REPORT.append(f"[{target}]\n" + "\n".join(lines))
    if RECORD:
        cfg = TargetConfig(Path("-"), target)
        _record(INSN_FILE, target, {"git_revision": _git_revision(),
                                    **toolchain_versions(target), "models": measured,
                                    "build": f"{cfg.opt}, runtime_micro/targets harness",
                                    "machine": "qemu-aarch64 -cpu " + cfg.qemu_cpu
                                    if target == "aarch64" else cross.BOARDS[target]})
        return
    budget = _load(INSN_FILE).get(target)
    assert budget, f"no budget recorded for {target} in {INSN_FILE}: {RERECORD}"
    over, better = compare_with_budget(measured, budget)
    provenance = (f"budget from {budget['git_revision']}, {budget['compiler']}, {budget['qemu']}"
                  f"; now {toolchain_versions(target)}")
    if better:
        REPORT.append(f"[{target}] improved beyond 2 %: " + "; ".join(better)
                      + f" -- {RERECORD}")
    assert not over, (f"{target}: instruction count regressed more than "
                      f"{INSN_TOLERANCE_PERCENT} %:\n  " + "\n  ".join(over)
                      + f"\n{provenance}\nIf intended: {RERECORD}")


def test_cortex_m4_code_size_budget(models, work: Path) -> None:
    """Runtime code (.text + .rodata kept from libedgelite_micro.a) in a Cortex-M4 image with
    the digits int8 model. runtime_micro has no per-op linking (el_find_kernel's table
    references every kernel), so this is the whole library as the linker keeps it."""
    require_tools(["cortex-m4"])
    model, data = models["digits_i8"]
    r = run_target_bench(TargetConfig(model, "cortex-m4", input=data, profile=False,
                                      work=work / "cortex-m4"))
    code = r.memory.runtime_code
    lib = sorted((work / "cortex-m4" / "build").glob("lib_O2/libedgelite_micro.a"))
    assert lib, "no library built"
    sizes = subprocess.run(["arm-none-eabi-size", "-t", str(lib[0])], check=True,
                           capture_output=True, text=True).stdout
    total_text = int(next(ln for ln in sizes.splitlines() if "(TOTALS)" in ln).split()[0])
    # The linker keeps at most what the archive holds (text includes rodata in `size`).
    assert 0 < code <= total_text, (code, total_text)
    REPORT.append(f"[cortex-m4] runtime code linked with digits int8: {code:,} B (all "
                  f"kernels; archive text {total_text:,} B); model {r.memory.model:,} B; "
                  f"arena {r.memory.arena:,} B, stack {r.memory.stack:,} B")
    if RECORD:
        _record(SIZE_FILE, "cortex-m4", {"git_revision": _git_revision(),
                                         **toolchain_versions("cortex-m4"),
                                         "runtime_code_bytes": code,
                                         "what": "libedgelite_micro.a .text+.rodata kept by "
                                                 "the linker (-O2, --gc-sections) in a "
                                                 "Cortex-M4 image with digits int8; all "
                                                 "kernels (no per-op linking)"})
        return
    budget = _load(SIZE_FILE).get("cortex-m4")
    assert budget, f"no code-size budget in {SIZE_FILE}: {RERECORD}"
    want = budget["runtime_code_bytes"]
    assert code * 100 <= want * (100 + SIZE_TOLERANCE_PERCENT), (
        f"Cortex-M4 runtime code grew to {code:,} B, budget {want:,} B "
        f"({100 * (code / want - 1):+.1f} %, limit +{SIZE_TOLERANCE_PERCENT} %); budget from "
        f"{budget['git_revision']}, {budget['compiler']}. If intended: {RERECORD}")


# ------------------------------------------------------------------ the command itself
def _onnx_macs(path: Path) -> int:
    """MACs of Conv/Gemm/MatMul from the ONNX graph (an independent count)."""
    import onnx

    m = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*m.graph.value_info, *m.graph.output, *m.graph.input]}
    shapes.update({t.name: list(t.dims) for t in m.graph.initializer})
    total = 0
    for node in m.graph.node:
        if node.op_type == "Conv":
            w = shapes[node.input[1]]  # [O, I/group, KH, KW]
            total += int(np.prod(shapes[node.output[0]])) * w[1] * w[2] * w[3]
        elif node.op_type in ("Gemm", "MatMul"):
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            w = shapes[node.input[1]]
            k = w[1] if trans_b else w[0]
            total += int(np.prod(shapes[node.output[0]])) * k
    return total


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgelite.cli", *args], check=False,
                          capture_output=True, text=True, env=env or os.environ.copy(),
                          timeout=900)


def test_cli_reports_counts_per_op_mac_flash_ram(models, work: Path) -> None:
    require_tools(["cortex-m4"])
    model, data = models["digits_i8"]
    proc = _cli("bench", str(model), "--target", "cortex-m4", "--input", str(data), "--json")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    ins = r["instructions"]
    assert r["target"] == "cortex-m4" and r["outputs_match"] == "bit-exact with the host runtime"
    assert ins["macs_per_invoke"] == _onnx_macs(DIGITS / "digits_cnn.onnx") == 236_400
    assert ins["per_mac"] == pytest.approx(ins["per_invoke"] / ins["macs_per_invoke"])
    from edgelite.tflite.reader import read_model

    info = read_model(model.read_bytes(), str(model))
    assert [(o["index"], o["op"]) for o in r["ops"]] == \
        [(o.index, o.op) for o in info.subgraphs[0].operators]
    # The per-op build adds the callback's call path around each op, nothing else: its sum
    # is the invoke of the plain build plus a bounded overhead per op.
    per_op = sum(o["instructions"] for o in r["ops"])
    assert 0 <= per_op - ins["per_invoke"] <= 80 * len(r["ops"]), (per_op, ins["per_invoke"])
    assert {o["op"] for o in r["ops"] if o["macs"]} == {"CONV_2D", "FULLY_CONNECTED"}
    flash, ram = r["flash_bytes"], r["ram_bytes"]
    assert flash["model"] == model.stat().st_size
    assert flash["total"] == flash["runtime_code"] + flash["model"] < flash[
        "elf_text_with_harness_and_libc"] + flash["model"]
    assert 0 < ram["arena"] <= 16 * 1024 and 0 < ram["stack"] < 16 * 1024
    assert ram["total"] == ram["arena"] + ram["interpreter"] + ram["stack"] + ram["runtime_static"]
    text = _cli("bench", str(model), "--target", "cortex-m4", "--input", str(data),
                "--no-profile")
    assert text.returncode == 0, text.stderr
    assert f"invoke    {ins['per_invoke']:,} instructions" in text.stdout, text.stdout
    assert "per op" not in text.stdout
    REPORT.append("[cli] " + text.stdout.replace("\n", "\n      "))


@pytest.mark.parametrize("target", ["cortex-m4", "aarch64"])
def test_reference_kernels_on_target_same_outputs_more_instructions(models, work: Path,
                                                                     target: str) -> None:
    """--reference-kernels builds the harness with el_config.disable_isa = EL_ISA_ALL: the
    outputs still match the host (bit-exact) and the conv layers cost the plain C loops'
    instructions, several times the optimized kernels' (DSP on the M4, NEON/SDOT on aarch64)."""
    require_tools([target])
    model, data = models["digits_i8"]
    runs = {}
    for ref in (False, True):
        proc = _cli("bench", str(model), "--target", target, "--input", str(data), "--json",
                    *(["--reference-kernels"] if ref else []))
        assert proc.returncode == 0, proc.stderr
        runs[ref] = json.loads(proc.stdout)
    for r in runs.values():
        assert r["outputs_match"] == "bit-exact with the host runtime"
    assert (runs[False]["kernels"], runs[True]["kernels"]) == ("optimized", "reference")
    conv = {ref: next(t for t in r["by_op_type"] if t["op"] == "CONV_2D")
            for ref, r in runs.items()}
    assert conv[True]["macs"] == conv[False]["macs"] > 0
    assert conv[True]["per_mac"] > 2 * conv[False]["per_mac"], conv
    REPORT.append(f"[{target}] digits int8 CONV_2D: {conv[False]['per_mac']:.2f} instructions "
                  f"per MAC optimized, {conv[True]['per_mac']:.2f} reference kernels")


def test_op_macs_of_the_wake_word_model(models) -> None:
    """Depthwise and FC MACs from shapes (DEPTHWISE: KH*KW per output; FC: depth per output)."""
    from edgelite.tflite.reader import read_model

    model = models["mycroft"][0]
    info = read_model(model.read_bytes(), str(model))
    macs = op_macs(info)
    sg = info.subgraphs[0]
    for (s, i), n in macs.items():
        op = sg.operators[i]
        out = int(np.prod(sg.tensors[op.outputs[0]].shape))
        w = sg.tensors[op.inputs[1]].shape
        if op.op == "CONV_2D":
            want = out * w[1] * w[2] * w[3]
        elif op.op == "DEPTHWISE_CONV_2D":
            want = out * w[1] * w[2]
        else:
            assert op.op == "FULLY_CONNECTED", op.op
            want = out * w[-1]
        assert s == 0 and n == want > 0
    kinds = {sg.operators[i].op for _, i in macs}
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"} & kinds, kinds


def test_wrong_expected_output_on_target_is_an_error(models, work: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The on-target comparison can fail: one expected int8 output byte off by one."""
    require_tools(["cortex-m4"])
    import re

    from edgelite import export

    real = export.export_model

    def tampered(model, out_dir, **kw):
        written = real(model, out_dir, **kw)
        data = next(p for p in written if p.name.endswith("_data.c"))
        text = data.read_text()
        at = text.index("_expected_0[")
        m = re.compile(r"0x([0-9a-f]{2})").search(text, at)
        flipped = f"0x{int(m.group(1), 16) ^ 1:02x}"
        data.write_text(text[:m.start()] + flipped + text[m.end():])
        return written

    monkeypatch.setattr(export, "export_model", tampered)
    model, data = models["digits_i8"]
    with pytest.raises(EdgeliteError, match=r"outputs on cortex-m4 differ from the host "
                                            r"runtime's \(FAIL 1\)"):
        run_target_bench(TargetConfig(model, "cortex-m4", input=data, steps=1, profile=False,
                                      work=work / "cortex-m4"))


def test_model_too_big_for_the_board_is_a_one_line_error(work: Path, tmp_path: Path) -> None:
    require_tools(["cortex-m4"])
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from edgelite.converter import ConvertOptions, convert_to_bytes

    w = numpy_helper.from_array(np.ones((1200, 1000), np.float32), "w")  # 4.8 MB of weights
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "big",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1200])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1000])],
                              [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              str(tmp_path / "big.onnx"))
    (tmp_path / "big.tflite").write_bytes(convert_to_bytes(tmp_path / "big.onnx",
                                                           ConvertOptions()))
    with pytest.raises(EdgeliteError) as info:
        run_target_bench(TargetConfig(tmp_path / "big.tflite", "cortex-m4", profile=False,
                                      work=work / "cortex-m4"))
    text = str(info.value)
    assert "do not fit the QEMU board's memory (mps2-an386: 4 MB code + model" in text
    assert "\n" not in text and "try cortex-m55" in text


def test_streaming_model_profile_counts_nested_subgraphs_in_their_caller(models,
                                                                          work: Path) -> None:
    """hey_mycroft's first invoke runs CALL_ONCE (variable initialisation in subgraph 1): the
    per-op profile (last invoke) lists subgraph 0's ops, and the first invoke costs more."""
    require_tools(["cortex-m55"])
    model, data = models["mycroft"]
    r = run_target_bench(TargetConfig(model, "cortex-m55", input=data, steps=3,
                                      work=work / "cortex-m55"))
    from edgelite.tflite.reader import read_model

    info = read_model(model.read_bytes(), str(model))
    assert [(o.subgraph, o.index, o.op) for o in r.ops] == \
        [(0, o.index, o.op) for o in info.subgraphs[0].operators]
    per_op = sum(o.instructions for o in r.ops)
    assert 0 <= per_op - r.invoke_instructions <= 80 * len(r.ops)
    assert r.first_invoke_instructions > r.invoke_instructions
    REPORT.append(f"[cortex-m55] mycroft: first invoke {r.first_invoke_instructions:,}, then "
                  f"{r.invoke_instructions:,} instructions; top op "
                  f"{max(r.ops, key=lambda o: o.instructions).op}")


def test_missing_toolchain_is_one_line_with_the_apt_command(models, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no make, gcc or QEMU on PATH
    proc = _cli("bench", str(models["digits_i8"][0]), "--target", "cortex-m55", env=env)
    assert proc.returncode == 2, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "cortex-m55 needs" in lines[0] and "qemu-system-arm" in lines[0]
    assert "apt-get install -y --no-install-recommends gcc-arm-none-eabi" in lines[0]
    bad = _cli("bench", str(models["digits_i8"][0]), "--target", "cortex-m99")
    assert bad.returncode == 2 and "unknown target 'cortex-m99'" in bad.stderr
    mixed = _cli("bench", str(models["digits_i8"][0]), "--target", "aarch64", "--compare", "tflm")
    assert mixed.returncode == 2 and "--target" in mixed.stderr


def test_runtime_sections_reads_a_link_map(tmp_path: Path) -> None:
    """Long section names wrap onto the next line in GNU ld maps; both forms count."""
    (tmp_path / "x.map").write_text(
        "Discarded input sections\n"
        " .text.unused   0x00000000       0x40 /b/libedgelite_micro.a(a.o)\n"
        "Linker script and memory map\n"
        " .text.el_invoke\n"
        "                0x00001000       0x3c /b/libedgelite_micro.a(el_interp.o)\n"
        " .text.main     0x00002000      0x100 /b/main.o\n"
        " .rodata.k_names\n"
        "                0x00003000       0x20 /b/libedgelite_micro.a(el_ops.o)\n"
        " .bss.known     0x20000000        0x4 /b/libedgelite_micro.a(opt.o)\n"
        " .data.rel.ro.local\n"
        "                0x00004000       0x10 /b/libedgelite_micro.a(el_kernels.o)\n"
        " *(.text*)\n")
    assert runtime_sections(tmp_path / "x.map") == {"text": 0x3C, "rodata": 0x30, "data": 0,
                                                    "bss": 4}


# ------------------------------------------------------------------ ssh:// transport
FAKE_SCP = r"""#!/bin/sh
# Fake scp: log argv, copy SRC to $FAKE_REMOTE_ROOT/<remote path>.
printf '%s\n' "scp $*" >> "$FAKE_LOG"
for a in "$@"; do src="$dst"; dst="$a"; done
exec cp "$src" "$FAKE_REMOTE_ROOT/${dst#*:}"
"""
FAKE_SSH = r"""#!/bin/sh
# Fake ssh: log argv, run the remote command locally with the remote /tmp mapped into
# $FAKE_REMOTE_ROOT and the aarch64 binary under qemu-aarch64.
printf '%s\n' "ssh $*" >> "$FAKE_LOG"
for a in "$@"; do cmd="$a"; done
if [ -n "$FAKE_SSH_FAIL" ]; then echo "$FAKE_SSH_FAIL" >&2; exit 255; fi
cmd=$(printf '%s' "$cmd" | sed -e "s#^f=/tmp/#f=$FAKE_REMOTE_ROOT/tmp/#" \
                               -e 's#&& "$f"#\&\& qemu-aarch64 "$f"#')
exec sh -c "$cmd"
"""


@pytest.fixture()
def fake_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    bin_dir, remote = tmp_path / "bin", tmp_path / "remote"
    bin_dir.mkdir()
    (remote / "tmp").mkdir(parents=True)
    for name, body in (("ssh", FAKE_SSH), ("scp", FAKE_SCP)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("FAKE_REMOTE_ROOT", str(remote))
    return log, remote


def test_ssh_target_copies_runs_and_times(models, work: Path, fake_ssh) -> None:
    require_tools(["aarch64"])
    log, remote = fake_ssh
    model, data = models["digits_i8"]
    r = run_ssh_bench(SshConfig(model, "ssh://pi@board.local:2222", runs=7, warmup=2,
                                input=data, work=work / "ssh"))
    calls = log.read_text().splitlines()
    assert len(calls) == 2, calls
    scp, ssh = shlex.split(calls[0]), calls[1]
    assert scp[:6] == ["scp", "-o", "BatchMode=yes", "-q", "-P", "2222"], scp
    assert scp[6].endswith("/build/digits_i8_timed7.elf")
    assert scp[7].startswith("pi@board.local:/tmp/edgelite-bench-")
    remote_path = scp[7].split(":", 1)[1]
    assert ssh == "ssh -o BatchMode=yes -p 2222 pi@board.local " + remote_run_command(remote_path)
    assert list((remote / "tmp").iterdir()) == []  # the binary was removed after the run
    assert r.latency.runs == 7 and 0 < r.latency.min_ms <= r.latency.p50_ms <= r.latency.p99_ms
    assert r.outputs_match == "bit-exact with the host runtime"
    assert r.commands[0] == scp and shlex.join(r.commands[1][:-1]) + " " + \
        r.commands[1][-1] == ssh
    REPORT.append(f"[ssh fake] 7 timed invokes under qemu-aarch64: p50 {r.latency.p50_ms:.3f} ms")


@pytest.mark.parametrize("which", ["digits_f32", "digits_i8"])
def test_ssh_threads_run_the_hosted_pool_on_the_device(models, work: Path, fake_ssh,
                                                       which: str) -> None:
    """`bench --target ssh://... --threads 2`: the device binary links runtime_micro's hosted
    pool (POSIX threads; here real threads of qemu-aarch64), checks its outputs there against
    the host runtime's one-thread ones (bit-exact for int8, within 1e-5 for float32), and its
    worker thread ran parts of the split layers."""
    require_tools(["aarch64"])
    log, _ = fake_ssh
    model, data = models[which]
    # 20 untimed invokes: enough hand-offs that a worker slowed by a busy machine still joins
    proc = _cli("bench", str(model), "--target", "ssh://pi@board", "--threads", "2", "--runs",
                "4", "--warmup", "20", "--input", str(data), "--json")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    scp = shlex.split(log.read_text().splitlines()[0])
    assert scp[-2].endswith("_timed4_pool2.elf"), scp  # the pool build, not the one-thread one
    assert r["threads"] == 2 and r["worker_tasks"] > 0, r
    assert r["outputs_match"] == ("bit-exact with the host runtime" if which == "digits_i8"
                                  else "within 1e-5 of the host runtime (float32)"), r
    assert r["latency_ms"]["runs"] == 4
    text = _cli("bench", str(model), "--target", "ssh://pi@board", "--threads", "2", "--runs",
                "2", "--warmup", "1", "--input", str(data))
    assert text.returncode == 0 and "\nthreads   2 (runtime_micro's hosted pool; its workers " \
        "ran" in text.stdout, text.stdout + text.stderr
    REPORT.append(f"[ssh fake, 2 threads] {which}: {r['worker_tasks']} layer parts on the "
                  f"worker, p50 {r['latency_ms']['p50_ms']:.3f} ms under qemu-aarch64")


def test_threads_on_a_target_refused_where_they_cannot_run(models) -> None:
    model, data = models["digits_i8"]
    qemu = _cli("bench", str(model), "--target", "aarch64", "--threads", "2")
    assert qemu.returncode == 2 and "--threads with --target applies to ssh:// and adb" in \
        qemu.stderr, qemu.stderr
    pinned = _cli("bench", str(model), "--target", "adb", "--threads", "2", "--cpu", "1")
    assert pinned.returncode == 2 and "--cpu 1 pins the benchmark to 1 core(s), fewer than " \
        "its 2 threads" in pinned.stderr, pinned.stderr
    many = _cli("bench", str(model), "--target", "adb", "--threads", "0")
    assert many.returncode == 2 and "--threads must be from 1 to 256" in many.stderr
    cores = [_cli("bench", str(model), "--target", "adb", "--cpu", bad)
             for bad in ("7-4", "x", "64", "1,,2")]
    assert all(p.returncode == 2 and "--cpu must be a core number 0..63 or a list" in p.stderr
               for p in cores), [p.stderr for p in cores]
    for p in (qemu, pinned, many, *cores):
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_ssh_failure_names_the_host_and_key_login(models, work: Path, fake_ssh,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    require_tools(["aarch64"])
    monkeypatch.setenv("FAKE_SSH_FAIL", "pi@board: Permission denied (publickey).")
    model, data = models["digits_i8"]
    with pytest.raises(EdgeliteError, match=r"Permission denied \(publickey\).*key login"):
        run_ssh_bench(SshConfig(model, "ssh://pi@board", runs=3, input=data,
                                work=work / "ssh"))


def test_ssh_urls() -> None:
    t = parse_ssh_target("ssh://me@10.0.0.2:2200")
    assert (t.user, t.host, t.port, t.destination) == ("me", "10.0.0.2", 2200, "me@10.0.0.2")
    t = parse_ssh_target("ssh://phone")
    assert (t.user, t.host, t.port) == (None, "phone", None)
    assert parse_ssh_target("ssh://[fe80::1]:22").host == "fe80::1"
    assert t.remote_dir == "/tmp"
    assert parse_ssh_target("ssh://u@phone:8022/data/local/tmp/").remote_dir == "/data/local/tmp"
    for bad in ("ssh://", "http://host", "ssh://a b", "ssh://h:99999", "ssh://h;rm -rf /"):
        with pytest.raises(EdgeliteError, match="ssh"):
            parse_ssh_target(bad)


# ------------------------------------------------------------------ adb transport
FAKE_ADB = r"""#!/bin/sh
# Fake adb: log argv; push copies into $FAKE_REMOTE_ROOT; shell runs the command locally with
# /data/local/tmp mapped there and the binary under $FAKE_QEMU. Like adb before Android 7, it
# exits 0 whatever the remote command did (edgelite reads the status the command prints).
printf '%s\n' "adb $*" >> "$FAKE_LOG"
if [ "$1" = "-s" ]; then shift 2; fi
if [ -n "$FAKE_ADB_FAIL" ]; then echo "$FAKE_ADB_FAIL" >&2; exit 1; fi
case "$1" in
  push) cp "$2" "$FAKE_REMOTE_ROOT$3" && echo "$2: 1 file pushed" ;;
  shell) cmd=$(printf '%s' "$2" | sed -e "s#^f=/data/local/tmp/#f=$FAKE_REMOTE_ROOT/data/local/tmp/#" \
                                      -e "s#\"\$f\"; rc=#$FAKE_QEMU \"\$f\"; rc=#")
         sh -c "$cmd" ;;
  *) echo "fake adb: unexpected $*" >&2; exit 1 ;;
esac
exit 0
"""


@pytest.fixture()
def fake_adb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    bin_dir, remote = tmp_path / "bin", tmp_path / "phone"
    bin_dir.mkdir()
    (remote / "data" / "local" / "tmp").mkdir(parents=True)
    (bin_dir / "adb").write_text(FAKE_ADB)
    (bin_dir / "adb").chmod(0o755)
    log = tmp_path / "adb_log.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("FAKE_REMOTE_ROOT", str(remote))
    monkeypatch.setenv("FAKE_QEMU", "qemu-aarch64")
    return log, remote


def test_adb_target_pushes_pins_runs_checks_and_cleans_up(models, fake_adb) -> None:
    """`bench --target adb://SERIAL --cpu 1`: one push to /data/local/tmp, one adb shell that
    runs the static aarch64 binary pinned with taskset (here: under qemu-aarch64, pinned for
    real to core 1 of this machine), then removes it; outputs checked on the 'device'."""
    require_tools(["aarch64"])
    log, remote = fake_adb
    model, data = models["digits_i8"]
    proc = _cli("bench", str(model), "--target", "adb://emulator-5554", "--cpu", "1",
                "--runs", "6", "--warmup", "1", "--input", str(data), "--json")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    lines = log.read_text().splitlines()
    assert len(lines) == 2, lines
    push = shlex.split(lines[0])
    assert push[:4] == ["adb", "-s", "emulator-5554", "push"], push
    pushed = push[5]
    assert push[4].endswith("_timed6.elf") and pushed.startswith("/data/local/tmp/edgelite-")
    assert lines[1] == (f"adb -s emulator-5554 shell f={pushed}; chmod 700 \"$f\" && "
                        "taskset 2 \"$f\"; rc=$?; rm -f \"$f\"; echo edgelite_exit $rc; "
                        "exit $rc")
    assert r["commands"][1] == shlex.join(["adb", "-s", "emulator-5554", "shell",
                                           lines[1].split(" shell ", 1)[1]])
    assert list((remote / "data" / "local" / "tmp").iterdir()) == []
    assert r["outputs_match"] == "bit-exact with the host runtime"
    assert r["binary"] == "static aarch64 binary" and r["cpu"] == 1
    lat = r["latency_ms"]
    assert lat["runs"] == 6 and 0 < lat["min_ms"] <= lat["p50_ms"] <= lat["p99_ms"], lat
    REPORT.append(f"[adb fake] 6 timed invokes pinned to core 1 under qemu-aarch64: "
                  f"p50 {lat['p50_ms']:.3f} ms")


def test_adb_threads_pinned_to_a_set_of_cores(models, fake_adb) -> None:
    """`--cpu 0-1 --threads 2`: the binary runs on two threads pinned to cores 0 and 1 (taskset
    mask 3; here under qemu-aarch64, pinned for real), outputs checked on the 'device'."""
    require_tools(["aarch64"])
    log, _ = fake_adb
    model, data = models["digits_i8"]
    proc = _cli("bench", str(model), "--target", "adb", "--cpu", "0-1", "--threads", "2",
                "--runs", "3", "--warmup", "20", "--input", str(data), "--json")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert "taskset 3 " in log.read_text().splitlines()[1]
    assert r["cpu"] == [0, 1] and r["threads"] == 2 and r["worker_tasks"] > 0, r
    assert r["outputs_match"] == "bit-exact with the host runtime"


def test_adb_armeabi_v7a_builds_a_32_bit_binary(models, fake_adb, work: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    require_tools(["aarch64"])
    if cross.missing_tools(["armv7"]):
        pytest.fail(f"armv7 cross compiler missing: {cross.missing_tools(['armv7'])}; "
                    "apt-get install -y gcc-arm-linux-gnueabihf libc6-dev-armhf-cross",
                    pytrace=False)
    from edgelite.bench.adb import run_adb_bench

    monkeypatch.setenv("FAKE_QEMU", "qemu-arm")
    model, data = models["digits_i8"]
    r = run_adb_bench(SshConfig(model, "adb", runs=3, warmup=0, input=data,
                                abi="armeabi-v7a", work=work / "armv7"))
    assert r.binary == "static armv7 binary"
    assert r.outputs_match == "bit-exact with the host runtime" and r.latency.runs == 3
    elf = Path(r.commands[0][2])
    head = elf.read_bytes()[:20]
    assert head[4] == 1 and int.from_bytes(head[18:20], "little") == 40  # ELFCLASS32, EM_ARM
    assert r.commands[0][:2] == ["adb", "push"]  # no -s: adb's only device


def test_adb_failures_are_one_line_errors(models, fake_adb, work: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from edgelite.bench.adb import parse_adb_target, run_adb_bench

    for bad in ("adb:/x", "adb://a b", "adbx", "adb://"):
        with pytest.raises(EdgeliteError, match="not an adb target"):
            parse_adb_target(bad)
    require_tools(["aarch64"])
    monkeypatch.setenv("FAKE_ADB_FAIL", "adb: error: no devices/emulators found")
    model, data = models["digits_i8"]
    with pytest.raises(EdgeliteError, match=r"copying to the adb device failed.*no devices.*"
                                            r"adb devices"):
        run_adb_bench(SshConfig(model, "adb", runs=2, input=data, work=work / "ssh"))
    proc = _cli("bench", str(model), "--cpu", "1")
    assert proc.returncode == 2 and "--cpu/--abi apply to ssh:// and adb" in proc.stderr
