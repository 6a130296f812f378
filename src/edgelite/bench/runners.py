"""One runner per runtime: create it (timed), feed the shared input once, invoke, read outputs.

Every runner takes the same `Workload`: the .tflite bytes and the input arrays as the .tflite
model wants them. ONNX Runtime runs the ONNX source instead, so its runner derives real-valued,
channels-first inputs from the same arrays (see `OnnxRuntimeRunner`).

Peers are imported only when asked for. One of the `[peers]` extra (LiteRT, TFLite Micro, ONNX
Runtime) that is not installed is an error naming the extra (edgelite.peers); tflite-runtime,
which needs a venv of its own, becomes an `Unavailable` row that says how to install it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgelite import peers
from edgelite.bench.inputs import ModelLayout
from edgelite.errors import Code, EdgeliteError
from edgelite.runtime.interpreter import Interpreter, TensorDetails


@dataclass(frozen=True)
class Workload:
    model: bytes
    where: str  # the model's path, for messages
    inputs: list[np.ndarray]  # typed and laid out for the .tflite inputs
    input_details: list[TensorDetails]
    output_details: list[TensorDetails]
    layout: ModelLayout
    arena_bytes: int  # runtime_micro's exact need (greedy planner)
    onnx: Path | None = None


@dataclass(frozen=True)
class Unavailable:
    key: str
    label: str
    reason: str  # "not installed: ..." or "failed: ..."


class Runner:
    key: str = ""
    label: str = ""
    # ONNX Runtime's outputs are real values in the ONNX model's layout; the others give the
    # .tflite output tensors as they are.
    real_outputs: bool = False
    init_ms: float = 0.0
    arena_bytes: int | None = None
    note: str = ""

    def set_inputs(self) -> None:
        """Write the shared input again: runtime_micro and TFLM reuse input memory for later
        tensors once the input has been read, so every invoke needs it rewritten (untimed)."""
        raise NotImplementedError

    def invoke(self) -> None:
        raise NotImplementedError

    def outputs(self) -> list[np.ndarray]:
        raise NotImplementedError


# ---- edgelite -------------------------------------------------------------------------------

class HostRunner(Runner):
    """runtime_micro through the Python binding, greedy planner, arena of the exact size."""

    key = "edgelite"
    label = "edgelite (runtime_micro)"

    def __init__(self, w: Workload, disable_isa: int = 0, threads: int = 1,
                 fp16: bool = False) -> None:
        start = time.perf_counter_ns()
        # allow_fp16 changes the arena (float16 weights packed, DEQUANTIZE outputs gone), and so
        # do disabled instruction sets (the reference kernels keep no filter sums and fold no
        # PAD): sized by the runtime's own query then
        self._it = Interpreter(w.model, arena_size=None if fp16 or disable_isa else w.arena_bytes,
                               disable_isa=disable_isa, num_threads=threads, allow_fp16=fp16,
                               model_name=w.where)
        self.init_ms = (time.perf_counter_ns() - start) / 1e6
        self.arena_bytes = self._it.arena_bytes
        self.kernels = self._it.kernels
        self._inputs = w.inputs

    def set_inputs(self) -> None:
        for i, x in enumerate(self._inputs):
            self._it.set_input(i, x)

    def folded_ops(self) -> list[int]:
        """Ops the timed interpreter does not run at invoke (Interpreter.folded_ops)."""
        return self._it.folded_ops()

    def invoke(self) -> None:
        self._it.invoke()

    def outputs(self) -> list[np.ndarray]:
        return [self._it.get_output(i) for i in range(len(self._it.outputs))]


# ---- LiteRT and tflite-runtime ---------------------------------------------------------------

class _TfliteInterpreterRunner(Runner):
    """LiteRT's (or tflite-runtime's) Python Interpreter, one thread unless told."""

    def __init__(self, w: Workload, interpreter_cls: type, threads: int = 1,
                 **kwargs: object) -> None:
        start = time.perf_counter_ns()
        it = interpreter_cls(model_content=w.model, num_threads=threads, **kwargs)
        it.allocate_tensors()
        self.init_ms = (time.perf_counter_ns() - start) / 1e6
        self._feeds = [(d["index"], x) for d, x in zip(it.get_input_details(), w.inputs)]
        self._out = [d["index"] for d in it.get_output_details()]
        self._it = it

    def set_inputs(self) -> None:
        for index, x in self._feeds:
            self._it.set_tensor(index, x)

    def invoke(self) -> None:
        self._it.invoke()

    def outputs(self) -> list[np.ndarray]:
        return [self._it.get_tensor(i).copy() for i in self._out]


_LITERT = {
    # key: (label, OpResolverType member)
    "litert-ref": ("LiteRT reference kernels", "BUILTIN_REF"),
    "litert-builtin": ("LiteRT built-in kernels (no XNNPACK)", "BUILTIN_WITHOUT_DEFAULT_DELEGATES"),
    "litert-xnnpack": ("LiteRT default (XNNPACK)", "AUTO"),
}


def _litert(key: str, w: Workload, threads: int = 1) -> Runner:
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    label, resolver = _LITERT[key]
    runner = _TfliteInterpreterRunner(
        w, LiteRT, threads, experimental_op_resolver_type=getattr(OpResolverType, resolver))
    runner.key, runner.label = key, label
    return runner


def _tflite_runtime(w: Workload, threads: int = 1) -> Runner:
    from tflite_runtime.interpreter import Interpreter as TfliteRuntime

    runner = _TfliteInterpreterRunner(w, TfliteRuntime, threads)
    runner.key, runner.label = "tflite-runtime", "tflite-runtime"
    return runner


# ---- TFLite Micro ---------------------------------------------------------------------------

@contextlib.contextmanager
def _captured_fds() -> Iterator[list[str]]:
    """Collect what C++ code writes to file descriptors 1 and 2 (TFLM reports there)."""
    text: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        try:
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            yield text
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            tmp.seek(0)
            text.append(tmp.read().decode("utf-8", "replace"))


class TflmRunner(Runner):
    """tflite-micro's Python interpreter (reference kernels on x86).

    TFLM needs its arena size up front and says nothing useful when it is too small, so we start
    above runtime_micro's exact need and double until allocation succeeds; the arena it really
    used is read from its allocation report.
    """

    key = "tflm"
    label = "TFLite Micro"
    _MAX_TRIES = 16

    def __init__(self, w: Workload) -> None:
        from tflite_micro.python.tflite_micro import runtime

        size = max(2 * w.arena_bytes + 64 * 1024, 128 * 1024)
        last = ""
        for _ in range(self._MAX_TRIES):
            start = time.perf_counter_ns()
            try:
                with _captured_fds() as log:
                    it = runtime.Interpreter.from_bytes(w.model, arena_size=size)
            except RuntimeError as e:
                last = f"{e}: {' '.join(log[0].split())[:200] if log else ''}"
                if "allocate" not in str(e).lower():  # e.g. an op TFLM lacks: say which
                    raise RuntimeError(last) from e
                size *= 2
                continue
            self.init_ms = (time.perf_counter_ns() - start) / 1e6
            break
        else:
            raise RuntimeError(f"no arena up to {size // 2:,} bytes was enough ({last})")
        with _captured_fds() as log:
            it.print_allocations()
        found = re.search(r"Arena allocation total (\d+) bytes", log[0])
        self.arena_bytes = int(found.group(1)) if found else None
        self._n_out = len(w.output_details)
        self._inputs = w.inputs
        self._it = it

    def set_inputs(self) -> None:
        for i, x in enumerate(self._inputs):
            self._it.set_input(x, i)

    def invoke(self) -> None:
        self._it.invoke()

    def outputs(self) -> list[np.ndarray]:
        return [np.array(self._it.get_output(i)) for i in range(self._n_out)]


# ---- ONNX Runtime ---------------------------------------------------------------------------

def _real(x: np.ndarray, d: TensorDetails) -> np.ndarray:
    if d.dtype.kind in "iu" and d.scale > 0:
        return ((x.astype(np.float64) - d.zero_point) * d.scale).astype(np.float32)
    return x


_ORT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64,
               "tensor(float16)": np.float16, "tensor(int64)": np.int64,
               "tensor(int32)": np.int32, "tensor(int8)": np.int8, "tensor(uint8)": np.uint8,
               "tensor(bool)": np.bool_}


class OnnxRuntimeRunner(Runner):
    """ONNX Runtime on the ONNX source, one thread, all graph optimizations.

    Its inputs are the shared arrays seen as ONNX sees them: dequantized when the .tflite input
    is quantized, and moved back to channels-first when the converter made that input NHWC.
    Inputs are matched by name, else by position.
    """

    key = "onnxruntime"
    label = "ONNX Runtime"
    real_outputs = True

    def __init__(self, w: Workload, threads: int = 1) -> None:
        import onnxruntime as ort

        if w.onnx is None:
            raise EdgeliteError("--compare onnxruntime needs the ONNX source model",
                                code=Code.BAD_INPUT, hint="add --onnx SOURCE.onnx")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        start = time.perf_counter_ns()
        sess = ort.InferenceSession(str(w.onnx), opts, providers=["CPUExecutionProvider"])
        self.init_ms = (time.perf_counter_ns() - start) / 1e6
        ort_inputs = sess.get_inputs()
        if len(ort_inputs) != len(w.inputs):
            raise ValueError(f"the ONNX model has {len(ort_inputs)} input(s), the .tflite "
                             f"model {len(w.inputs)}")
        by_name = {d.name: (x, d) for x, d in zip(w.inputs, w.input_details)}
        self._feeds = {}
        for pos, oi in enumerate(ort_inputs):
            x, d = by_name.get(oi.name, (w.inputs[pos], w.input_details[pos]))
            x = _real(x, d)
            if d.name in w.layout.inputs and x.ndim >= 3:
                x = np.moveaxis(x, -1, 1)
            self._feeds[oi.name] = np.ascontiguousarray(x.astype(_ORT_DTYPES.get(oi.type,
                                                                                 x.dtype)))
        names = [o.name for o in sess.get_outputs()]
        tfl = [d.name for d in w.output_details]
        # Report outputs in the .tflite model's order so they line up with edgelite's.
        self._order = [names.index(n) if n in names else i for i, n in enumerate(tfl)
                       if i < len(names)]
        self._sess = sess
        self._last: list[np.ndarray] = []

    def set_inputs(self) -> None:
        pass  # run() takes the feeds each time and never writes into them

    def invoke(self) -> None:
        self._last = self._sess.run(None, self._feeds)

    def outputs(self) -> list[np.ndarray]:
        return [np.asarray(self._last[i]) for i in self._order]


# ---- the catalogue --------------------------------------------------------------------------

PEERS: dict[str, str] = {  # key -> label, in table order
    **{k: v[0] for k, v in _LITERT.items()},
    "tflite-runtime": "tflite-runtime",
    "tflm": "TFLite Micro",
    "onnxruntime": "ONNX Runtime",
}
ALIASES: dict[str, tuple[str, ...]] = {
    "litert": tuple(_LITERT),
    "ort": ("onnxruntime",),
    "all": tuple(PEERS),
}
INSTALL = {
    "litert": peers.INSTALL,
    # It fails with numpy 2 (LiteRT and our other peers' numpy): a venv of its own.
    "tflite-runtime": 'pip install tflite-runtime==2.14.0 "numpy<2" in its own venv',
    "tflm": peers.INSTALL,
    "onnxruntime": peers.INSTALL,
}
_MODULES = {"litert": "ai_edge_litert", "tflite-runtime": "tflite_runtime",
            "tflm": "tflite_micro", "onnxruntime": "onnxruntime"}


def expand(names: tuple[str, ...]) -> tuple[str, ...]:
    """Peer keys for --compare values (aliases expanded, duplicates dropped, table order)."""
    wanted: set[str] = set()
    for name in names:
        key = name.strip().lower()
        if key in ALIASES:
            wanted.update(ALIASES[key])
        elif key in PEERS:
            wanted.add(key)
        else:
            raise EdgeliteError(
                f"--compare: unknown runtime {name!r}", code=Code.BAD_INPUT,
                hint=f"choose from {', '.join([*ALIASES, *PEERS])}")
    return tuple(k for k in PEERS if k in wanted)


def make_peer(key: str, w: Workload, threads: int = 1) -> Runner | Unavailable:
    """The peer `key` on `threads` threads (TFLite Micro has none: always one)."""
    family = "litert" if key.startswith("litert") else key
    try:
        if family == "litert":
            return _litert(key, w, threads)
        if key == "tflite-runtime":
            return _tflite_runtime(w, threads)
        if key == "tflm":
            return TflmRunner(w)
        return OnnxRuntimeRunner(w, threads)
    except ImportError as e:
        module = _MODULES[family]
        if peers.is_missing(e, module):
            if module in peers.PEERS:
                raise peers.missing(module, f"--compare {key}") from None
            return Unavailable(key, PEERS[key], f"not installed: {INSTALL[family]}")
        return Unavailable(key, PEERS[key], f"failed to import: {e}")
    except EdgeliteError:
        raise
    except Exception as e:  # noqa: BLE001 - a peer that cannot run the model is a row
        return Unavailable(key, PEERS[key], f"failed: {' '.join(str(e).split())[:300]}")
