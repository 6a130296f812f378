"""runtime_micro on ARM targets under QEMU, and the C export it is fed with.

The same runtime sources are cross-compiled for Cortex-M4 (mps2-an386), Cortex-M7
(mps2-an500), Cortex-M55 (mps3-an547, MVE) and aarch64 (static Linux binary under qemu-aarch64 as a Cortex-A53 and a
Cortex-A76). Each target runs real models, exported as C by edgelite.export, and its outputs and
every intermediate tensor are compared with the host run of the same runtime, whose outputs
are checked here against LiteRT's reference kernels. Instruction counts come from a QEMU plugin (and
SysTick under -icount on the mps2 board, as an independent cross-check).

Needs the Debian packages in tools/arm_targets.APT_LINE; without them these tests FAIL with
that line (CI installs them), they are never skipped.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edgelite.errors import EdgeliteError
from edgelite.export import export_c, export_names, write_folder
from edgelite.runtime import Interpreter

pytestmark = pytest.mark.slow  # ARM targets under QEMU

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import arm_targets as at

DIGITS = ROOT / "examples" / "digits"
CORPUS = ROOT / "runtime_micro" / "corpus"
# (target, qemu cpu): the aarch64 binary runs as an ARMv8.0 and an ARMv8.2 core.
RUNS = [("cortex-m4", None), ("cortex-m7", None), ("cortex-m55", None),
        ("aarch64", "cortex-a53"), ("aarch64", "cortex-a76")]
REPEAT = 2  # the step sequence runs twice on target, with el_reset() between
M4_TEXT_BUDGET = 160_000  # bytes of runtime_micro code (all objects, -O2) on Cortex-M4
FLOAT_TOL = 1e-5


REPORT: list[str] = []  # figures printed at the end of the module, past output capture


@pytest.fixture(scope="module", autouse=True)
def _print_report(request: pytest.FixtureRequest):
    yield
    if REPORT:
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print("\n[ARM targets under QEMU]\n" + "\n".join(REPORT))


def require_tools(targets: list[str]) -> None:
    missing = at.missing_tools(targets)
    if missing:
        pytest.fail(f"ARM cross toolchains / QEMU missing: {', '.join(missing)}. "
                    f"Install them with: {at.APT_LINE}", pytrace=False)


# ------------------------------------------------------------------ models and host runs
@dataclass
class Case:
    name: str
    model: bytes
    steps: list[list[np.ndarray]]  # per invoke, one array per model input
    outputs: list[list[np.ndarray]]  # host outputs per invoke
    tensors: dict[tuple[int, int], tuple[int, np.dtype]]  # (step, index) -> (hash, dtype)
    host_arena: int
    export_dir: Path


def _host_run(model: bytes, steps: list[list[np.ndarray]]):
    it = Interpreter(model, planner="linear")  # every tensor readable after invoke
    outputs, tensors = [], {}
    for s, xs in enumerate(steps):
        for i, x in enumerate(xs):
            it.set_input(i, x)
        it.invoke()
        outputs.append([it.get_output(i) for i in range(len(it.outputs))])
        for idx in range(it.tensor_count):
            det = it.tensor_details(idx)
            if det.is_const:  # the target trace covers tensors the runtime writes
                continue
            try:
                arr = it.get_tensor(idx)
            except EdgeliteError:  # no data: a tensor no op uses
                continue
            tensors[(s, idx)] = (at.fnv1a64(arr.tobytes()), det.dtype)
    greedy = Interpreter(model)
    return outputs, tensors, greedy.arena_bytes


def _litert_agrees(name: str, model: bytes, steps: list[list[np.ndarray]],
                   outputs: list[list[np.ndarray]]) -> None:
    """The host run itself is checked against an oracle: LiteRT's reference kernels for float,
    TFLite Micro for integer models. (LiteRT's reference per-channel FULLY_CONNECTED rounds a
    rare product one step away from TFLite Micro and LiteRT's own built-in kernels: digits int8
    sample 41 of heldout.npz, fc1 channel 3: -120 there, -119 in TFLite Micro, LiteRT's
    built-in kernels and runtime_micro.)"""
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    if all(o.dtype.kind != "f" for step in outputs for o in step):
        from tflite_micro.python.tflite_micro import runtime as tflm

        micro = tflm.Interpreter.from_bytes(model, arena_size=1 << 22)
        for s, xs in enumerate(steps):
            for i, x in enumerate(xs):
                micro.set_input(x, i)
            micro.invoke()
            for i, ours in enumerate(outputs[s]):
                np.testing.assert_array_equal(
                    ours, np.asarray(micro.get_output(i)).reshape(ours.shape),
                    err_msg=f"{name} step {s}: host vs TFLite Micro")
        return
    li = LiteRT(model_content=model,
                experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    li.allocate_tensors()
    ins, outs = li.get_input_details(), li.get_output_details()
    for s, xs in enumerate(steps):
        for d, x in zip(ins, xs):
            li.set_tensor(d["index"], x)
        li.invoke()
        for d, ours in zip(outs, outputs[s]):
            theirs = li.get_tensor(d["index"])
            np.testing.assert_allclose(ours, theirs, rtol=FLOAT_TOL, atol=FLOAT_TOL,
                                       err_msg=f"{name} step {s}: host vs LiteRT")


def _digits_samples(n: int) -> np.ndarray:
    with np.load(DIGITS / "heldout.npz") as d:
        return d["input"][:n].transpose(0, 2, 3, 1)[:, None].astype(np.float32)  # NHWC


def _make_cases(work: Path) -> dict[str, Case]:
    from edgelite.converter import ConvertOptions, convert_to_bytes
    from edgelite.quantize import QuantizeOptions, quantize

    models: dict[str, tuple[bytes, list[list[np.ndarray]]]] = {}
    x = _digits_samples(3)
    f32 = convert_to_bytes(DIGITS / "digits_cnn.onnx", ConvertOptions())
    models["digits_f32"] = (f32, [[s] for s in x])

    i8 = quantize(DIGITS / "digits_cnn.onnx", QuantizeOptions(
        calibration=DIGITS / "calibration.npz", progress=False)).model
    inp = Interpreter(i8).inputs[0]
    q = np.clip(np.round(x / inp.scale) + inp.zero_point, -128, 127).astype(np.int8)
    models["digits_i8"] = (i8, [[s] for s in q])

    import pymicro_wakeword

    ww = (Path(pymicro_wakeword.__file__).parent / "models" / "hey_mycroft.tflite").read_bytes()
    shape = Interpreter(ww).inputs[0].shape
    rng = np.random.default_rng(20261124)
    # Silence-like frames first (they move the streaming state and the output), then noise.
    steps = [[np.full(shape, -128, np.int8)] for _ in range(3)]
    steps += [[np.clip(rng.normal(-60, 40, shape), -128, 127).astype(np.int8)] for _ in range(5)]
    models["mycroft"] = (ww, steps)

    cases = {}
    (work / "export").mkdir()
    for name, (model, st) in models.items():
        outputs, tensors, arena = _host_run(model, st)
        _litert_agrees(name, model, st, outputs)
        n_in, n_out = len(st[0]), len(outputs[0])
        files = export_c(model, name,
                         inputs=[np.stack([s[i] for s in st]) for i in range(n_in)],
                         outputs=[np.stack([o[i] for o in outputs]) for i in range(n_out)],
                         arena_bytes=arena, steps=len(st), source=name)
        write_folder(files, work / "export" / name)
        cases[name] = Case(name, model, st, outputs, tensors, arena, work / "export" / name)
    return cases


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("targets")


@pytest.fixture(scope="module")
def cases(work: Path) -> dict[str, Case]:
    return _make_cases(work)


def _check_outputs(case: Case, res: at.HarnessResult) -> None:
    for s, host_outs in enumerate(case.outputs):
        for i, want in enumerate(host_outs):
            assert (s, i) in res.outputs, f"{case.name}: no output {i} for step {s}\n" \
                                          f"{res.describe()}"
            _, raw = res.outputs[(s, i)]
            got = np.frombuffer(raw, dtype=want.dtype).reshape(want.shape)
            if want.dtype.kind == "f":
                np.testing.assert_allclose(got, want, rtol=FLOAT_TOL, atol=FLOAT_TOL,
                                           err_msg=f"{case.name} step {s} output {i}")
            else:
                np.testing.assert_array_equal(got, want, err_msg=f"{case.name} step {s} "
                                                                 f"output {i}")


# ------------------------------------------------------------------ tests on targets
@pytest.mark.parametrize("target,cpu", RUNS, ids=[f"{t}-{c}" if c else t for t, c in RUNS])
def test_models_match_host_bit_for_bit(target: str, cpu: str | None, cases, work) -> None:
    require_tools([target])
    out = work / "build" / target
    for case in cases.values():
        elf = at.build(target, case.export_dir, case.name, out=out, repeat=REPEAT, trace=True,
                       arena=max(2 * case.host_arena, 256 * 1024))
        res = at.run(target, elf, qemu_cpu=cpu)
        assert res.returncode == 0 and res.result == "ok", res.describe()
        _check_outputs(case, res)
        # Every intermediate tensor after every step: integers must be identical; floats
        # are reported (reference float C without fast-math gives identical bits here).
        assert set(res.tensors) == set(case.tensors), f"traced tensors differ\n{res.describe()}"
        int_bad, float_same, float_total = [], 0, 0
        for key, (dtype, _nbytes, h) in res.tensors.items():
            host_hash, host_dtype = case.tensors[key]
            if host_dtype.kind == "f":
                float_total += 1
                float_same += host_hash == h
            elif host_hash != h:
                int_bad.append(key)
        assert not int_bad, f"{case.name} on {target}: integer tensors differ at (step, " \
                            f"tensor) {int_bad[:10]}"
        REPORT.append(f"[{target}{'/' + cpu if cpu else ''}] {case.name}: {len(case.steps)} steps x "
              f"{REPEAT} runs ok, {len(res.tensors)} tensors checked"
              + (f" (float ones bit-identical: {float_same}/{float_total})" if float_total else "")
              + f", linear-planner arena {res.arena_required} B")


def test_harness_reports_a_wrong_expected_output(cases, work) -> None:
    """The on-target comparison can fail: one int8 step off by one LSB, one float off by 1e-3."""
    require_tools(["cortex-m4"])
    for key, bump in (("digits_i8", 1), ("digits_f32", 1e-3)):
        case = cases[key]
        wrong = [o[0].copy() for o in case.outputs]
        flat = wrong[1].reshape(-1)
        flat[3] = flat[3] + bump if case.outputs[0][0].dtype.kind == "f" else \
            np.int8(-128 if flat[3] == 127 else flat[3] + 1)
        name = f"{key}_wrong"
        files = export_c(case.model, name, inputs=[np.stack([s[0] for s in case.steps])],
                         outputs=[np.stack(wrong)], steps=len(case.steps))
        write_folder(files, work / "export" / name)
        elf = at.build("cortex-m4", work / "export" / name, name,
                       out=work / "build" / "cortex-m4", arena=case.host_arena)
        res = at.run("cortex-m4", elf)
        assert res.returncode == 1 and res.result == "FAIL 1", res.describe()
        assert " 0 1 0 " in res.stdout.split("mismatch", 1)[1].split("\n", 1)[0], res.stdout


def _bench(target: str, cpu: str | None, case: Case, out: Path, plugin: Path | None,
           systick: bool) -> at.HarnessResult:
    # The arena the export header records (host size) must be enough on every target.
    elf = at.build(target, case.export_dir, case.name, out=out, systick=systick,
                   arena=case.host_arena)
    res = at.run(target, elf, qemu_cpu=cpu, plugin=plugin, icount=systick)
    assert res.returncode == 0 and res.result == "ok", res.describe()  # greedy planner too
    return res


@pytest.mark.parametrize("target,cpu", [("cortex-m4", None), ("cortex-m55", None),
                                        ("aarch64", "cortex-a76")],
                         ids=["cortex-m4", "cortex-m55", "aarch64"])
def test_instruction_counts_are_repeatable(target: str, cpu: str | None, cases, work) -> None:
    require_tools([target])
    try:
        plugin: Path | None = at.build_plugin()
        method = "QEMU plugin"
    except at.PluginUnavailable as exc:
        plugin, method = None, f"SysTick only (plugin unavailable: {exc})"
    systick = target == "cortex-m4"  # mps2 SysTick: 25 MHz, 1 tick = 40 instructions
    if plugin is None and not systick:
        pytest.fail(f"no instruction counter for {target}: {method}")
    out = work / "bench" / target
    lines = []
    for case in cases.values():
        first = _bench(target, cpu, case, out, plugin, systick)
        again = _bench(target, cpu, case, out, plugin, systick)
        n = len(case.steps)
        assert first.arena_required is not None and first.arena_required <= case.host_arena
        line = f"{case.name}: arena {first.arena_required} B (host {case.host_arena} B)"
        if target in at.CORTEX_M:
            assert first.stack_init and first.stack_invoke, first.describe()
            assert max(first.stack_init, first.stack_invoke) < 16 * 1024, "stack use > 16 KB"
            line += f", stack el_init {first.stack_init} B / el_invoke {first.stack_invoke} B"
        if plugin is not None:
            assert first.regions == n + 1, first.describe()  # el_init + one per invoke
            assert (first.insns_region, first.insns_total, first.insns_init) == \
                   (again.insns_region, again.insns_total, again.insns_init), \
                   "instruction counts not repeatable"
            line += (f", el_init {first.insns_init:,} instructions, "
                     f"{first.insns_per_invoke:,} instructions/invoke")
        if systick:
            assert first.systick == again.systick and first.systick
            line += f", SysTick {first.systick * 40 // n:,} (x40)/invoke"
            if plugin is not None:
                # Two independent counters (QEMU's icount clock, the plugin) must agree: the
                # SysTick window only adds the marker calls and the tick reads around them.
                invokes = first.insns_region - first.insns_init
                assert abs(first.systick * 40 - invokes) <= 80 * n + invokes // 1000, \
                    (first.systick, invokes)
        lines.append(line)
    REPORT.append(f"[{target}] instruction counts via {method}:\n  " + "\n  ".join(lines))


@pytest.mark.parametrize("target,cpu", [("cortex-m4", None), ("aarch64", "cortex-a53")],
                         ids=["cortex-m4", "aarch64"])
def test_malformed_models_fail_cleanly_on_target(target: str, cpu: str | None, work) -> None:
    """The malformed-model corpus with 32-bit size_t (Cortex-M): statuses as on the host."""
    require_tools([target])
    expected = at.read_manifest(CORPUS)
    src = at.write_corpus_sources(CORPUS, work / "corpus")
    elf = at.build_corpus(target, src, out=work / "build" / target)
    _, seen, done = at.run_corpus(target, elf, qemu_cpu=cpu)
    assert done == len(expected)
    wrong = []
    for name, want in expected.items():
        greedy, linear, message = seen[name]
        for got in (greedy, linear):
            ok = got.startswith("EL_ERROR_") if want == "EL_ERROR_*" else got == want
            if not ok:
                wrong.append(f"{name}: {got} (want {want}) {message}")
        if want != "EL_OK":
            assert message, f"{name}: error without a message"
    assert not wrong, "\n".join(wrong)
    REPORT.append(f"[{target}] {len(expected)} corpus models: statuses as expected")


def test_cortex_m4_code_size(work) -> None:
    require_tools(["cortex-m4"])
    size = at.library_size("cortex-m4", work / "build" / "cortex-m4")
    small = at.library_size("cortex-m4", work / "build" / "cortex-m4", opt="-Os")
    REPORT.append(f"[cortex-m4] runtime_micro objects (all kernels): text {size['text']:,} B "
                  f"at -O2, {small['text']:,} B at -Os; data {size['data']} B, bss "
                  f"{size['bss']} B")
    assert size["data"] == 0 and size["bss"] == 0, "runtime_micro must keep no static state"
    imports = at.library_imports("cortex-m4", work / "build" / "cortex-m4")
    every = sorted({sym for syms in imports.values() for sym in syms})
    forbidden = [s for s in every if s in {"malloc", "calloc", "realloc", "free", "printf",
                                           "sprintf", "snprintf", "vsnprintf", "fprintf",
                                           "puts", "abort", "exit"}]
    assert not forbidden, f"runtime_micro on Cortex-M4 references {forbidden}"
    soft_double = sorted(m for m, syms in imports.items()
                         if any(s.startswith("__aeabi_d") for s in syms))
    REPORT.append("[cortex-m4] runtime_micro needs from libc/libm: "
                  + " ".join(s for s in every if not s.startswith("__aeabi_"))
                  + "\n  double-precision software float (no double FPU on M4) in: "
                  + (", ".join(soft_double) or "none"))
    assert size["text"] <= M4_TEXT_BUDGET, \
        f"Cortex-M4 code grew to {size['text']:,} B (budget {M4_TEXT_BUDGET:,} B): shrink it " \
        "or raise the budget deliberately"


@pytest.mark.parametrize("target", at.TARGETS)
def test_startup_exit_code_and_fault_reporting(target: str, work) -> None:
    require_tools([target])
    out = work / "build" / target
    at.build_smoke(target, out)
    hello = subprocess.run(at.qemu_command(target, out / "hello.elf"), check=False, capture_output=True,
                           text=True, timeout=60)
    assert hello.returncode == 3 and f"hello from {target}, 3" in hello.stdout, hello
    fault = subprocess.run(at.qemu_command(target, out / "fault.elf"), check=False, capture_output=True,
                           text=True, timeout=60)
    assert fault.returncode != 0, fault
    if target in at.CORTEX_M:
        assert "harness: fault: HardFault pc=0xfffffff0" in fault.stderr, fault


def test_export_model_files_run_on_cortex_m4(work, tmp_path: Path) -> None:
    """The user flow: .tflite + float .npy -> export_model -> firmware with the recorded
    arena size -> outputs as recorded (run twice through el_reset)."""
    require_tools(["cortex-m4"])
    from edgelite.export import export_model
    from edgelite.quantize import QuantizeOptions, quantize

    model = tmp_path / "digits-int8.tflite"
    model.write_bytes(quantize(DIGITS / "digits_cnn.onnx", QuantizeOptions(
        calibration=DIGITS / "calibration.npz", progress=False)).model)
    np.save(tmp_path / "x.npy", _digits_samples(2))  # float data for an int8 input
    written = export_model(model, tmp_path / "c", inputs=[tmp_path / "x.npy"])
    assert [p.name for p in written] == ["digits_int8.h", "digits_int8_data.c",
                                         "digits_int8_model.c"]
    header = (tmp_path / "c" / "digits_int8.h").read_text()
    arena = int(header.split("DIGITS_INT8_ARENA_SIZE ")[1].split("u")[0])
    assert "#define DIGITS_INT8_STEPS 2" in header
    elf = at.build("cortex-m4", tmp_path / "c", "digits_int8", out=work / "build" / "cortex-m4",
                   arena=arena, repeat=2)
    res = at.run("cortex-m4", elf)
    assert res.returncode == 0 and res.result == "ok", res.describe()
    assert len(res.outputs) == 2


# ------------------------------------------------------------------ export (host compiler)
def _tiny_model() -> bytes:
    from edgelite.converter import ConvertOptions, convert_to_bytes

    return convert_to_bytes(DIGITS / "digits_cnn.onnx", ConvertOptions())


def test_export_round_trips_through_a_c_compiler(tmp_path: Path) -> None:
    """The host C compiler reads back exactly our bytes, 16-byte aligned."""
    model = _tiny_model()
    x = _digits_samples(2)
    y = np.arange(20, dtype=np.float32).reshape(2, 10) - 3.25
    files = export_c(model, "rt", inputs=[x], outputs=[y], arena_bytes=1234, steps=2)
    assert export_c(model, "rt", inputs=[x], outputs=[y], arena_bytes=1234, steps=2) == files
    write_folder(files, tmp_path / "c")
    (tmp_path / "c" / "dump.c").write_text(r"""
#include <stdint.h>
#include <stdio.h>
#include "rt.h"
static int put(const char *path, const unsigned char *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n) return 1;
  return fclose(f) != 0;
}
int main(void) {
  if (((uintptr_t)rt_model | (uintptr_t)rt_input_0 | (uintptr_t)rt_expected_0) % 16) return 9;
  if (RT_STEPS != 2 || RT_ARENA_SIZE != 1234u || RT_INPUT_COUNT != 1) return 8;
  return put("model.bin", rt_model, RT_MODEL_SIZE)
       | put("in.bin", rt_inputs[0], RT_STEPS * rt_input_sizes[0])
       | put("out.bin", rt_expected[0], RT_STEPS * rt_expected_sizes[0]);
}
""")
    exe = tmp_path / "dump"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o", str(exe),
                    *(str(tmp_path / "c" / f) for f in ("dump.c", "rt_model.c", "rt_data.c"))],
                   check=True)
    subprocess.run([str(exe)], cwd=tmp_path, check=True)
    assert (tmp_path / "model.bin").read_bytes() == model
    assert (tmp_path / "in.bin").read_bytes() == x.astype("<f4").tobytes()
    assert (tmp_path / "out.bin").read_bytes() == y.astype("<f4").tobytes()


def test_export_rejects_bad_arguments(tmp_path: Path) -> None:
    model = _tiny_model()
    with pytest.raises(EdgeliteError, match="not a C identifier"):
        export_c(model, "9lives")
    with pytest.raises(EdgeliteError, match="not a C identifier"):
        export_c(model, "int")
    with pytest.raises(EdgeliteError, match="not a TFLite flatbuffer"):
        export_c(b"\x00" * 64, "m")
    with pytest.raises(EdgeliteError, match="equal steps"):
        export_c(model, "m", inputs=[np.zeros(5, np.int8)], steps=2)
    with pytest.raises(EdgeliteError, match="arena_bytes"):
        export_c(model, "m", arena_bytes=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(EdgeliteError, match="not a folder"):
        write_folder(export_c(model, "m"), tmp_path / "file")
    # An existing folder gets the new files; nothing else is left behind.
    write_folder(export_c(model, "m"), tmp_path / "out")
    write_folder(export_c(model, "m", arena_bytes=64), tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m.h", "m_model.c"]
    assert "M_ARENA_SIZE 64u" in (tmp_path / "out" / "m.h").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "out"]
    # Data from an earlier export is removed when the new one has none (no mixed builds).
    x = np.zeros((1, 28, 28, 1), np.float32)
    write_folder(export_c(model, "m", inputs=[x]), tmp_path / "out")
    assert (tmp_path / "out" / "m_data.c").exists()
    write_folder(export_c(model, "m"), tmp_path / "out", replaces=export_names("m"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m.h", "m_model.c"]
