"""`edgelite bench --target cortex-m4|cortex-m7|cortex-m55|aarch64`: runtime_micro on an ARM
core under QEMU, measured in executed instructions (exact and repeatable; QEMU models no cycles).

    report = run_target_bench(TargetConfig(Path("model.tflite"), "cortex-m4"))
    print(render_target(report))

Steps: export the model and its input as C (edgelite.export; the expected outputs are the host
runtime's), cross-compile runtime_micro + the harness (runtime_micro/targets) for the target, run
it under QEMU with the instruction-counting plugin (tools/qemu_insn_plugin.c, a separate GPL
test tool built into the user cache, never part of the package). The harness compares its
outputs with the host's: bit-exact for integers, within 1e-5 (relative to 1 + |value|) for
float32. A second build brackets each op with markers from runtime_micro's per-op callback for
the per-op counts, so the per-inference figures come from a build without the callback.

Flash and RAM come from the linked ELF: runtime code is what the linker kept of
libedgelite_micro.a (the link map), the model is its array; RAM is the arena the target reports,
the interpreter handle, the stack high-water mark (Cortex-M: painted stack) and the runtime's
static data. The harness, startup code and newlib (printf alone is ~10 KB) are not counted.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgelite.bench import cross
from edgelite.bench.api import BenchConfig, build_workload
from edgelite.bench.runners import Workload
from edgelite.errors import Code, EdgeliteError
from edgelite.progress import Progress
from edgelite.runtime.interpreter import Interpreter, TensorDetails
from edgelite.tflite.reader import ModelInfo

QEMU_TARGETS = cross.TARGETS
INTERPRETER_BYTES = 512  # EL_INTERPRETER_SIZE: the caller-owned handle
# Ops whose work is multiply-accumulates, for the instructions-per-MAC figure.
MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL",
           "CONV_3D")


@dataclass(frozen=True)
class TargetConfig:
    model: Path
    target: str  # cortex-m4, cortex-m7, cortex-m55, aarch64
    input: Path | None = None  # .npy / .npz (first sample); None: fixed-seed random data
    seed: int = 0
    profile: bool = True  # per-op counts (a second build with per-op markers)
    steps: int = 2  # invokes of the same input: the first, then steady state (streaming
    #                 models initialise variables in their first invoke)
    qemu_cpu: str = "cortex-a76"  # aarch64 only
    work: Path | None = None  # build folder; default: one per target in the user cache
    opt: str = "-O2"
    reference_kernels: bool = False  # run the reference kernels only (what kernels/opt saves)
    fp16: bool = False  # el_config.allow_fp16 (aarch64 with FEAT_FP16: float16 arithmetic)
    progress: bool = False  # a progress bar on stderr (a terminal only): build, run, profile


@dataclass(frozen=True)
class OpCount:
    subgraph: int
    index: int
    op: str
    instructions: int  # includes the callback's return/call path around the op (a few tens)
    macs: int

    @property
    def per_mac(self) -> float | None:
        return self.instructions / self.macs if self.macs else None


@dataclass(frozen=True)
class Memory:
    runtime_code: int  # bytes of libedgelite_micro.a the linker kept (.text + .rodata)
    model: int  # the model array
    arena: int  # el_arena_required on the target
    stack: int | None  # high-water mark of el_init / el_invoke (Cortex-M builds)
    runtime_static: int  # .data + .bss of the runtime (0 by design)
    elf_text: int  # the whole ELF (harness, startup, libc included), for reference

    @property
    def flash(self) -> int:
        return self.runtime_code + self.model

    @property
    def ram(self) -> int:
        return self.arena + INTERPRETER_BYTES + (self.stack or 0) + self.runtime_static


@dataclass(frozen=True)
class TargetReport:
    model: str
    target: str
    qemu: str  # the QEMU command's machine / cpu
    input_source: str
    notes: list[str]
    outputs_match: str  # what the on-target comparison established
    init_instructions: int
    invoke_instructions: int  # the last of `steps` invokes (steady state)
    first_invoke_instructions: int
    macs: int
    ops: list[OpCount]
    memory: Memory
    toolchain: dict[str, str] = field(default_factory=dict)
    kernels: str = "optimized"  # or "reference" (bench --reference-kernels)
    fp16: bool | None = None  # --fp16: whether float16 arithmetic ran (the CPU has FEAT_FP16)

    @property
    def per_mac(self) -> float | None:
        return self.invoke_instructions / self.macs if self.macs else None

    def by_type(self) -> list[tuple[str, int, int]]:
        """(op type, instructions, MACs) summed over the profiled ops, most instructions first."""
        sums: dict[str, list[int]] = {}
        for o in self.ops:
            s = sums.setdefault(o.op, [0, 0])
            s[0] += o.instructions
            s[1] += o.macs
        return sorted(((k, v[0], v[1]) for k, v in sums.items()), key=lambda r: (-r[1], r[0]))

    def as_json(self) -> dict:
        m = self.memory
        return {
            "model": self.model, "target": self.target, "qemu": self.qemu,
            "input_source": self.input_source, "notes": self.notes,
            "outputs_match": self.outputs_match, "kernels": self.kernels, "fp16": self.fp16,
            "instructions": {"el_init": self.init_instructions,
                             "per_invoke": self.invoke_instructions,
                             "first_invoke": self.first_invoke_instructions,
                             "macs_per_invoke": self.macs, "per_mac": self.per_mac},
            "ops": [{"subgraph": o.subgraph, "index": o.index, "op": o.op,
                     "instructions": o.instructions, "macs": o.macs, "per_mac": o.per_mac}
                    for o in self.ops],
            "by_op_type": [{"op": k, "instructions": n, "macs": macs,
                            "per_mac": n / macs if macs else None}
                           for k, n, macs in self.by_type()],
            "flash_bytes": {"runtime_code": m.runtime_code, "model": m.model, "total": m.flash,
                            "elf_text_with_harness_and_libc": m.elf_text},
            "ram_bytes": {"arena": m.arena, "interpreter": INTERPRETER_BYTES, "stack": m.stack,
                          "runtime_static": m.runtime_static, "total": m.ram},
            "toolchain": self.toolchain,
        }


# ------------------------------------------------------------------ model arithmetic
def op_macs(info: ModelInfo,
            shapes: dict[int, list[int]] | None = None) -> dict[tuple[int, int], int]:
    """Multiply-accumulates per invoke of each MAC op, from tensor shapes.

    shapes: tensor index -> shape for subgraph 0 as prepared by the runtime (overrides the
    file's shapes, which may hold -1 for dynamic dimensions).
    """
    out: dict[tuple[int, int], int] = {}
    for sg in info.subgraphs:
        def shape(t: int, sg=sg) -> list[int]:
            if sg.index == 0 and shapes and t in shapes:
                return list(shapes[t])
            return [max(d, 1) for d in sg.tensors[t].shape]

        for op in sg.operators:
            if op.op not in MAC_OPS or len(op.inputs) < 2 or not op.outputs:
                continue
            out_elems = int(np.prod(shape(op.outputs[0]), dtype=np.int64))
            if op.op == "CONV_2D":  # filter [O, KH, KW, I/groups]
                f = shape(op.inputs[1])
                macs = out_elems * f[1] * f[2] * f[3]
            elif op.op == "CONV_3D":  # filter [KD, KH, KW, I, O]
                f = shape(op.inputs[1])
                macs = out_elems * f[0] * f[1] * f[2] * f[3]
            elif op.op == "DEPTHWISE_CONV_2D":  # filter [1, KH, KW, O]
                f = shape(op.inputs[1])
                macs = out_elems * f[1] * f[2]
            elif op.op == "FULLY_CONNECTED":  # weights [units, depth]
                macs = out_elems * shape(op.inputs[1])[-1]
            elif op.op == "TRANSPOSE_CONV":  # inputs: out shape, filter [O, KH, KW, I], x
                f = shape(op.inputs[1])
                x = shape(op.inputs[2]) if len(op.inputs) > 2 else [0]
                macs = int(np.prod(x, dtype=np.int64)) * f[0] * f[1] * f[2]
            else:  # BATCH_MATMUL: out [..., M, N], reduction over the last axis of x
                x = shape(op.inputs[0])
                adj_x = bool(op.options.get("adj_x", False))
                macs = out_elems * (x[-2] if adj_x and len(x) > 1 else x[-1])
            out[(sg.index, op.index)] = int(macs)
    return out


# ------------------------------------------------------------------ ELF sizes
_MAP_LINE = re.compile(r"^\s*(\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$")


def runtime_sections(map_path: Path) -> dict[str, int]:
    """Bytes the linker kept from libedgelite_micro.a, by kind: text, rodata (with
    .data.rel.ro, constant after relocation), data, bss."""
    sizes = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    in_memory_map = False
    pending = ""  # a long input-section name sits alone on its line, its numbers below
    for raw in map_path.read_text(errors="replace").splitlines():
        if raw.startswith("Linker script and memory map"):
            in_memory_map = True
            continue
        if not in_memory_map or not raw.startswith(" ") or raw.startswith(" *"):
            continue
        parts = raw.split()
        if len(parts) == 1 and parts[0].startswith("."):
            pending = parts[0]
            continue
        m = _MAP_LINE.match(raw)
        section = pending
        pending = ""
        if not m:
            continue
        section = m.group(1) or section
        if not section or "libedgelite_micro.a(" not in m.group(4) or not section.startswith("."):
            continue
        size = int(m.group(3), 16)
        if section.startswith(".data.rel.ro"):  # constant pointer tables (-fPIC): read-only
            sizes["rodata"] += size
            continue
        for kind in ("text", "rodata", "data", "bss"):
            if section == f".{kind}" or section.startswith(f".{kind}."):
                sizes[kind] += size
                break
    return sizes


def _symbol_sizes(target: str, elf: Path) -> dict[str, int]:
    nm = "aarch64-linux-gnu-nm" if target == "aarch64" else "arm-none-eabi-nm"
    text = subprocess.run([nm, "-S", str(elf)], check=True, capture_output=True,
                          text=True).stdout
    sizes: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            sizes[parts[3]] = int(parts[1], 16)
    return sizes


def _elf_text(target: str, elf: Path) -> int:
    tool = "aarch64-linux-gnu-size" if target == "aarch64" else "arm-none-eabi-size"
    text = subprocess.run([tool, str(elf)], check=True, capture_output=True, text=True).stdout
    return int(text.splitlines()[1].split()[0])


def toolchain_versions(target: str) -> dict[str, str]:
    """Compiler and QEMU versions (budgets and reports record them)."""
    cc = "aarch64-linux-gnu-gcc" if target == "aarch64" else "arm-none-eabi-gcc"
    qemu = "qemu-aarch64" if target == "aarch64" else "qemu-system-arm"
    out = {}
    for key, cmd in (("compiler", [cc, "--version"]), ("qemu", [qemu, "--version"])):
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
        out[key] = (proc.stdout.splitlines() or ["unknown"])[0].strip()
    return out


def f16_weight_bytes(info: ModelInfo) -> int:
    """An upper bound on the arena bytes --fp16 adds: every float16 tensor of the model packed
    in 16-channel panels (at most 15 padded rows each), 16-byte aligned."""
    total = 0
    for sg in info.subgraphs:
        for t in sg.tensors:
            if t.type == "FLOAT16" and t.shape:
                rows = max(t.shape[0], 1)
                per_row = int(np.prod([max(d, 1) for d in t.shape[1:]], dtype=np.int64))
                total += ((rows + 15) // 16 * 16 * per_row * 2 + 15) // 16 * 16 + 64
    return total


# ------------------------------------------------------------------ the run
def check_tools(target: str) -> None:
    """One-line error naming what is missing and the apt-get line that installs it."""
    if target not in QEMU_TARGETS:
        raise EdgeliteError(f"unknown target {target!r}", code=Code.BAD_INPUT,
                            hint=f"use one of {', '.join(QEMU_TARGETS)} or "
                                 "ssh://[user@]HOST[:PORT] or adb[://SERIAL]")
    missing = cross.missing_tools([target])
    if missing:
        raise EdgeliteError(f"{target} needs {', '.join(missing)}, not installed",
                            code=Code.BAD_INPUT, hint=f"install with: {cross.APT_LINE}")


def default_work(target: str) -> Path:
    """One build folder per checkout and target in the user cache: the runtime library is
    compiled once and rebuilt by make when its sources change."""
    root = str(cross.source_root().resolve()).encode()
    return cross.cache_dir() / "bench-targets" / hashlib.sha256(root).hexdigest()[:12] / target


@contextlib.contextmanager
def work_lock(work: Path) -> Iterator[None]:
    """One run at a time per build folder (the default one is shared by every run)."""
    import fcntl

    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def export_for_target(config: TargetConfig, work: Path):
    """Export model + input (+ host outputs) as C; returns (workload, info, name, notes, source)."""
    from edgelite.export import c_name, export_model

    w, info, source, notes = build_workload(BenchConfig(config.model, input=config.input,
                                                         seed=config.seed))
    name = c_name(config.model.stem)
    export_model(config.model, work / "export",
                 inputs=[np.stack([x] * config.steps) for x in w.inputs],
                 name=name)
    return w, info, name, notes, source


def outputs_match_text(outputs: list[TensorDetails], fp16: bool = False) -> str:
    """What the harness's comparison with the host outputs established (main.c)."""
    kinds = {d.dtype.kind for d in outputs}
    if fp16 and "f" in kinds:
        return ("floats within 0.1 of each output's largest magnitude of the host runtime "
                "(a sanity bound for float16 arithmetic, --fp16)" + (", integers bit-exact" if kinds - {"f"} else ""))
    if kinds <= set("iub"):
        return "bit-exact with the host runtime"
    if kinds == {"f"}:
        return "within 1e-5 of the host runtime (float32)"
    return "integers bit-exact, floats within 1e-5 of the host runtime"


def _failed(what: str, res: cross.HarnessResult, where: str) -> EdgeliteError:
    if res.returncode == 1:
        msg = (f"{what}: outputs on {res.target} differ from the host runtime's "
               f"({res.result}): a kernel variant is not bit-exact")
    else:
        msg = f"{what} failed on {res.target} (exit {res.returncode}, {res.result or 'no result'})"
    tail = " | ".join((res.stdout + res.stderr).strip().splitlines()[-6:])
    return EdgeliteError(f"{msg}: {tail}", code=Code.RUNTIME, where=where)


_BOARD_MEMORY = {"cortex-m4": "mps2-an386: 4 MB code + model, 4 MB RAM",
                 "cortex-m7": "mps2-an500: 4 MB code + model, 4 MB RAM",
                 "cortex-m55": "mps3-an547: 512 KB code, 8 MB model, 4 MB RAM"}


def _build_failed(target: str, exc: cross.TargetError, where: str) -> EdgeliteError:
    """A model too big for the emulated board is a one-line error; anything else carries the
    compiler's output."""
    text = str(exc)
    overflow = [ln.split("ld: ", 1)[-1].strip() for ln in text.splitlines()
                if "overflowed by" in ln or "do not fit in RAM" in ln or "will not fit" in ln]
    if overflow and target in _BOARD_MEMORY:
        return EdgeliteError(f"model + runtime do not fit the QEMU board's memory "
                             f"({_BOARD_MEMORY[target]}): {overflow[0]}", code=Code.BAD_INPUT,
                             where=where, hint="try cortex-m55 (8 MB for the model) or aarch64")
    return EdgeliteError(f"build/run on {target} failed: {text}", code=Code.RUNTIME, where=where)


def _plugin() -> Path:
    try:
        return cross.build_plugin()
    except cross.PluginUnavailable as exc:
        raise EdgeliteError(f"cannot build the QEMU instruction-counting plugin: {exc}",
                            code=Code.BAD_INPUT,
                            hint="it needs apt-get source qemu (deb-src access) and gcc") from None


def run_target_bench(config: TargetConfig) -> TargetReport:
    check_tools(config.target)
    if config.steps < 1:
        raise EdgeliteError(f"steps must be at least 1, got {config.steps}", code=Code.BAD_INPUT)
    if config.fp16 and config.target != "aarch64":
        raise EdgeliteError(f"--fp16 needs an aarch64 CPU with half-precision arithmetic, not "
                            f"{config.target}", code=Code.BAD_INPUT,
                            hint="use --target aarch64 (QEMU cortex-a76), or drop --fp16")
    if not config.model.is_file():
        raise EdgeliteError("model file not found", where=str(config.model),
                            code=Code.BAD_INPUT, hint="check the path")
    work = config.work or default_work(config.target)
    with work_lock(work):
        return _run_locked(config, work)


def target_arena(w: Workload) -> int:
    """Arena bytes for a target build: the largest of the host's need (w.arena_bytes: its
    optimized kernels keep filter sums and fold PADs into convolutions), the same without the
    fold (32-bit ARM builds keep the sums but fold nothing; an op callback turns the fold off)
    and the reference kernels' (Cortex-M builds, --reference-kernels)."""
    from edgelite.runtime import arena_sizes

    sizes = arena_sizes(w.model)
    return max(w.arena_bytes, sizes.unfolded, sizes.cortex_m)


def _run_locked(config: TargetConfig, work: Path) -> TargetReport:
    w, info, name, notes, source = export_for_target(config, work)
    # --fp16 keeps float16 weights packed in the arena (the host, without FEAT_FP16, sized it
    # for float32 DEQUANTIZE outputs): the target reports its own need, so give it room
    arena = target_arena(w) + (f16_weight_bytes(info) if config.fp16 else 0)
    plugin = _plugin()
    target, where = config.target, str(config.model)
    cpu = config.qemu_cpu if target == "aarch64" else None
    out = work / "build"
    bar = Progress(3 if config.profile else 2, f"{target}: build, run"
                   + (", profile" if config.profile else ""), config.progress)
    try:
        elf = cross.build(target, work / "export", name, out=out, arena=arena,
                          opt=config.opt, reference=config.reference_kernels, fp16=config.fp16)
        bar.step()
        res = cross.run(target, elf, qemu_cpu=cpu, plugin=plugin, each=config.steps + 1)
        bar.step()
    except cross.TargetError as exc:
        bar.close()
        raise _build_failed(target, exc, where) from None
    if res.returncode != 0 or res.result != "ok":
        raise _failed("bench", res, where)
    if res.insns_init is None or len(res.region_counts) != config.steps + 1:
        raise EdgeliteError(f"no instruction counts from the QEMU plugin on {target}",
                            code=Code.INTERNAL, where=where, hint=res.describe()[-300:])

    it = Interpreter(w.model, arena_size=w.arena_bytes, model_name=w.where)  # shapes as the runtime prepared them
    macs = op_macs(info, {k: list(it.tensor_details(k).shape) for k in range(it.tensor_count)})

    ops: list[OpCount] = []
    if config.profile:
        ops = _profile(config, work, name, arena, plugin, info, macs, where)
    bar.close()

    sizes = runtime_sections(elf.with_suffix(".map"))
    symbols = _symbol_sizes(target, elf)
    stack = (max(res.stack_init or 0, res.stack_invoke or 0)
             if res.stack_init is not None else None)
    if stack is None:
        notes = [*notes, "stack: not measured on aarch64 (Linux process stack)"]
    memory = Memory(runtime_code=sizes["text"] + sizes["rodata"],
                    model=symbols.get(f"{name}_model", len(w.model)),
                    arena=res.arena_required or w.arena_bytes, stack=stack,
                    runtime_static=sizes["data"] + sizes["bss"],
                    elf_text=_elf_text(target, elf))
    match = outputs_match_text(w.output_details, config.fp16)
    qemu = (f"qemu-system-arm -M {cross.BOARDS[target]}" if target in cross.CORTEX_M
            else f"qemu-aarch64 -cpu {config.qemu_cpu}")
    return TargetReport(model=where, target=target, qemu=qemu, input_source=source, notes=notes,
                        outputs_match=match, init_instructions=res.insns_init,
                        invoke_instructions=res.region_counts[-1],
                        first_invoke_instructions=res.region_counts[1],
                        macs=sum(v for (sg, _), v in macs.items() if sg == 0) if macs else 0,
                        ops=ops, memory=memory, toolchain=toolchain_versions(target),
                        kernels="reference" if config.reference_kernels else "optimized",
                        fp16=res.fp16 if config.fp16 else None)


def _profile(config: TargetConfig, work: Path, name: str, arena: int, plugin: Path,
             info: ModelInfo, macs: dict[tuple[int, int], int], where: str) -> list[OpCount]:
    cpu = config.qemu_cpu if config.target == "aarch64" else None
    try:
        elf = cross.build(config.target, work / "export", name, out=work / "build",
                          arena=arena, profile=True, opt=config.opt,
                          reference=config.reference_kernels, fp16=config.fp16)
        res = cross.run(config.target, elf, qemu_cpu=cpu, plugin=plugin,
                        markers=cross.OP_MARKERS, each=8192)
    except cross.TargetError as exc:
        raise EdgeliteError(f"profile build/run on {config.target} failed: {exc}",
                            code=Code.RUNTIME, where=where) from None
    if res.returncode != 0 or res.result != "ok":
        raise _failed("per-op profile", res, where)
    if len(res.region_counts) != len(res.ops):
        raise EdgeliteError(f"per-op profile: {len(res.ops)} ops ran but the counter saw "
                            f"{len(res.region_counts)} regions", code=Code.INTERNAL, where=where)
    return [OpCount(sg, idx, info.subgraphs[sg].operators[idx].op, n, macs.get((sg, idx), 0))
            for (sg, idx, _code), n in zip(res.ops, res.region_counts)]


# ------------------------------------------------------------------ text
_FP16_TEXT = {True: "float16 arithmetic (--fp16) for CONV_2D / FULLY_CONNECTED with float16 "
                    "weights",
              False: "--fp16 requested, but this CPU has no FEAT_FP16: float32 as without it"}


def render_target(r: TargetReport) -> str:
    m = r.memory
    per_mac = f"; {r.per_mac:.2f} per MAC ({r.macs:,} MACs)" if r.per_mac else ""
    lines = [
        f"model     {r.model}",
        f"target    {r.target} ({r.qemu}); {r.toolchain.get('compiler', '')}",
        f"input     {r.input_source}",
        *[f"note      {n}" for n in r.notes],
        f"outputs   {r.outputs_match}",
        f"kernels   {r.kernels}" + (" (--reference-kernels)" if r.kernels == "reference" else
                                    " (kernels/opt for this CPU: integers bit-exact with the "
                                    "reference, float within rounding of it)"),
        *([f"fp16      {_FP16_TEXT[bool(r.fp16)]}"] if r.fp16 is not None else []),
        f"el_init   {r.init_instructions:,} instructions",
        f"invoke    {r.invoke_instructions:,} instructions{per_mac}",
        *([(f"first     {r.first_invoke_instructions:,} instructions (the first invoke; "
            "the figure above is the last of several)")]
          if r.first_invoke_instructions != r.invoke_instructions else []),
        (f"flash     {m.flash:,} B = runtime code {m.runtime_code:,} B + model {m.model:,} B "
         f"(whole test ELF with harness and libc: {m.elf_text:,} B)"),
        (f"ram       {m.ram:,} B = arena {m.arena:,} B + interpreter {INTERPRETER_BYTES} B + "
         f"stack {'-' if m.stack is None else f'{m.stack:,}'} B + runtime static "
         f"{m.runtime_static} B"),
    ]
    if r.ops:
        lines += ["", ("per op (the last invoke; each count includes a few tens of "
                       "instructions of the per-op callback's call path; ops of subgraphs "
                       "an op calls count in that op):")]
        rows = [["sg", "#", "op", "instructions", "%", "MACs", "per MAC"]]
        total = sum(o.instructions for o in r.ops) or 1
        for o in r.ops:
            rows.append([str(o.subgraph), str(o.index), o.op, f"{o.instructions:,}",
                         f"{100 * o.instructions / total:.1f}", f"{o.macs:,}" if o.macs else "-",
                         f"{o.per_mac:.2f}" if o.per_mac else "-"])
        lines += _table(rows, left=2)
        lines += ["", "by op type:"]
        rows = [["op", "instructions", "%", "MACs", "per MAC"]]
        for op, n, macs in r.by_type():
            rows.append([op, f"{n:,}", f"{100 * n / total:.1f}", f"{macs:,}" if macs else "-",
                         f"{n / macs:.2f}" if macs else "-"])
        lines += _table(rows, left=0)
    return "\n".join(lines)


def _table(rows: list[list[str]], left: int) -> list[str]:
    """Columns padded to their widest cell; column `left` left-aligned, the rest right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(wd) if i == left else c.rjust(wd)
                      for i, (c, wd) in enumerate(zip(row, widths))).rstrip() for row in rows]


