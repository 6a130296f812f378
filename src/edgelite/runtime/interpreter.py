"""Python binding over runtime_micro's C API (ctypes), shaped like LiteRT's Interpreter.

Two ways to drive it. By position (inputs and outputs numbered 0, 1, ...):

    interp = Interpreter("model.tflite")           # arena sized from the required-size query
    interp.set_input(0, x)                         # float x for an int8 input is quantized
    interp.invoke()
    y = interp.get_output(0)

or exactly as ``ai_edge_litert.interpreter.Interpreter`` (LiteRT) is driven, by .tflite tensor
index, so code written for LiteRT runs unchanged (see litert.py):

    interp = Interpreter(model_path="model.tflite")
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], x)             # dtype and shape must match, as in LiteRT
    interp.invoke()
    y = interp.get_tensor(interp.get_output_details()[0]["index"])

The model bytes and the arena are numpy buffers owned by the Interpreter (16-byte aligned, as
the C API requires); they live as long as the object. From 1 MB up they are mapped in memory the
kernel may back with 2 MB pages (Linux transparent huge pages, ``madvise``): see _aligned.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from edgelite.errors import Code, EdgeliteError
from edgelite.fileio import refuse_onnx_as_tflite
from edgelite.runtime import _lib
from edgelite.runtime import litert as L
from edgelite.tflite.reader import ModelInfo

PLANNERS = {"greedy": 0, "linear": 1}

# el_dtype (TFLite TensorType values) -> numpy
DTYPES: dict[int, np.dtype] = {
    0: np.dtype(np.float32), 1: np.dtype(np.float16), 2: np.dtype(np.int32),
    3: np.dtype(np.uint8), 4: np.dtype(np.int64), 6: np.dtype(np.bool_),
    7: np.dtype(np.int16), 9: np.dtype(np.int8), 10: np.dtype(np.float64),
    12: np.dtype(np.uint64), 13: np.dtype(np.int32), 15: np.dtype(np.uint32),
    16: np.dtype(np.uint16),
}

# Callback: (subgraph, op_index, builtin_code, is_after) -> None; raising stops the invoke.
OpCallback = Callable[[int, int, int, bool], None]

_FIRST_ARENA = 64 * 1024
_MAX_TRIES = 40


@dataclass(frozen=True)
class TensorDetails:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float  # 0.0 when not quantized
    zero_point: int
    quant_count: int  # 0 none, 1 per-tensor, >1 per-channel (scale/zero_point = channel 0)
    quantized_dimension: int
    is_const: bool = False  # data is in the model (weights, biases, shapes)

    @property
    def quantization(self) -> tuple[float, int]:
        """(scale, zero_point), as LiteRT's get_input_details reports it."""
        return (self.scale, self.zero_point)


# Buffers of at least _HUGE_MIN bytes start on a _HUGE_PAGE boundary of an anonymous mapping
# advised MADV_HUGEPAGE; EDGELITE_HUGE_PAGES=0 turns this off.
_HUGE_PAGE = 2 << 20
_HUGE_MIN = 1 << 20


def _aligned(nbytes: int, align: int = 16) -> np.ndarray:
    """nbytes of zeros starting on an `align` boundary.

    From 1 MB up, where the OS offers it (Linux), the bytes are a 2 MB-aligned anonymous mapping
    advised MADV_HUGEPAGE, so the kernel may back them with 2 MB pages: a MobileNetV2's weights
    and arena then need a few TLB entries instead of about two thousand 4 KB ones, and its
    invokes on x86-64 (a VM: two-level page walks) ran 2 to 7 % faster (benchmarks/README.md,
    stop 29). It costs at most one 2 MB page of memory per buffer; elsewhere, or when the
    mapping or the advice fails, the buffer is an ordinary numpy array."""
    if nbytes >= _HUGE_MIN and os.environ.get("EDGELITE_HUGE_PAGES", "1") != "0":
        huge = _huge_page_buffer(nbytes)
        if huge is not None:
            return huge
    raw = np.zeros(nbytes + align, dtype=np.uint8)
    start = (-raw.ctypes.data) % align
    return raw[start:start + nbytes]


def _huge_page_buffer(nbytes: int) -> np.ndarray | None:
    """nbytes of zeros (an anonymous mapping is zero-filled) on a 2 MB boundary of a mapping
    advised MADV_HUGEPAGE, or None. The array keeps the mapping alive."""
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is None or not hasattr(mmap, "MAP_ANONYMOUS"):
        return None
    # whole 2 MB pages, plus one for the alignment (untouched: costs address space only)
    size = -(-nbytes // _HUGE_PAGE) * _HUGE_PAGE + _HUGE_PAGE
    try:
        mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        mapping.madvise(advice)
    except (OSError, ValueError):
        return None
    raw = np.frombuffer(mapping, dtype=np.uint8)
    start = (-raw.ctypes.data) % _HUGE_PAGE
    return raw[start:start + nbytes]


def _read_model(model: str | Path | bytes | bytearray | memoryview) -> tuple[bytes, str]:
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model), "<model bytes>"
    path = Path(model)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EdgeliteError(f"cannot read model: {exc.strerror}", where=str(path),
                            code=Code.BAD_INPUT) from exc
    if data[4:8] != b"TFL3":
        refuse_onnx_as_tflite(data, str(path))
    return data, str(path)


def _status_code(status: int) -> str:
    """EdgeliteError code for a C status: the model's fault, a gap in runtime_micro, or a run."""
    return {2: Code.INVALID_MODEL, 3: Code.UNSUPPORTED}.get(status, Code.RUNTIME)


class Interpreter:
    """runtime_micro interpreter over one model.

    model: a .tflite path or its bytes (or LiteRT's model_path= / model_content=).
    planner: "greedy" (smallest arena) or "linear" (every tensor keeps its bytes: get_tensor(i)
    reads any tensor after invoke; LiteRT's experimental_preserve_all_tensors=True).
    arena_size: bytes to give the runtime; None sizes it exactly from the runtime's own query.
    callback: called before and after every op.
    disable_isa: EL_ISA_* bits (``_lib.ISA_BITS``) the optimized kernels must not use;
    ``_lib.ISA_ALL`` runs the reference kernels only. Every choice gives the same bytes.
    num_threads: threads for the layers runtime_micro splits (convolutions, FULLY_CONNECTED,
    pools, resizes, PAD, elementwise ops; runtime_micro/README.md) (1 or None: none).
    Above 1 the interpreter owns a pool of that many threads (runtime_micro/hosted/
    el_threadpool) for its life; any count gives the same bytes. Interpreters may run at once
    in different Python threads (the GIL is released during invoke); one interpreter must not
    be invoked from two threads at once.
    allow_fp16: opt in to half-precision arithmetic (LiteRT / XNNPACK's "allow fp16
    precision"): on an aarch64 CPU with FEAT_FP16 (ARMv8.2 phones, Apple arm64), float32
    CONV_2D / FULLY_CONNECTED layers whose weights the model stores as float16 (``edgelite
    quantize --mode float16``) compute in float16, about twice as fast; results move by about
    1e-3 of a layer's output scale instead of float32 rounding. Elsewhere (x86, Cortex-A53)
    nothing changes. ``kernels`` says "fp16" when it took effect.

    >>> interp = Interpreter(model_path="model_int8.tflite")      # as LiteRT's
    >>> interp.allocate_tensors()
    >>> d = interp.get_input_details()[0]
    >>> interp.set_tensor(d["index"], x_int8)
    >>> interp.invoke()
    >>> y = interp.get_tensor(interp.get_output_details()[0]["index"])
    >>> y = interp.get_signature_runner()(input=x_int8)["logits"]
    """

    def __init__(self, model: str | Path | bytes | None = None, planner: str = "greedy",
                 arena_size: int | None = None, callback: OpCallback | None = None,
                 disable_isa: int = 0, num_threads: int | None = 1, *,
                 allow_fp16: bool = False,
                 model_path: str | Path | None = None, model_content: bytes | None = None,
                 experimental_delegates: list | None = None,
                 experimental_preserve_all_tensors: bool = False,
                 experimental_op_resolver_type: object = None,
                 experimental_disable_delegate_clustering: bool = False,
                 experimental_default_delegate_latest_features: bool = False,
                 model_name: str | None = None) -> None:
        # LiteRT's keywords: model_path / model_content name the model, num_threads None
        # means its default, preserve_all_tensors keeps every tensor readable (our linear
        # planner). The op resolver and delegate clustering choose among LiteRT's own kernels
        # and mean nothing here; delegates cannot be loaded into runtime_micro.
        given = [m for m in (model, model_path, model_content) if m is not None]
        if len(given) != 1:
            raise EdgeliteError("give exactly one model: a path or bytes (model, model_path= "
                                "or model_content=)", code=Code.BAD_INPUT)
        model = given[0]
        if experimental_delegates:
            raise EdgeliteError("runtime_micro loads no LiteRT delegates", code=Code.BAD_INPUT,
                                hint="drop experimental_delegates; its own kernels run instead")
        if experimental_preserve_all_tensors:
            planner = "linear"
        if num_threads is None:  # LiteRT's default; its -1 ("runtime decides") is refused below
            num_threads = 1
        if planner not in PLANNERS:
            raise EdgeliteError(f"unknown planner {planner!r}", hint="use 'greedy' or 'linear'")
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or \
                not 1 <= num_threads <= 256:
            raise EdgeliteError(f"num_threads must be an integer from 1 to 256, not {num_threads!r}",
                                code=Code.BAD_INPUT, hint="use 1 (no threads) up to the CPU count")
        self._lib = _lib.load()
        self.num_threads = num_threads
        data, self._where = _read_model(model)
        if model_name is not None:  # what errors call a model given as bytes (its path)
            self._where = model_name
        self._model = _aligned(max(len(data), 1))
        self._model[:len(data)] = np.frombuffer(data, dtype=np.uint8)
        self._model_size = len(data)
        self.planner = planner
        self._it = _lib.ElInterpreter()
        self._callback_error: BaseException | None = None
        self._config = _lib.ElConfig()
        self._config.planner = PLANNERS[planner]
        self._config.disable_isa = int(disable_isa) & _lib.ISA_ALL
        self._user_callback = callback
        self._c_callback = _lib.CALLBACK(self._on_op) if callback else _lib.CALLBACK()
        self._config.callback = self._c_callback
        if num_threads > 1:
            pool_lib = _lib.load_threadpool()
            pool = pool_lib.el_threadpool_create(num_threads)
            if not pool:
                raise EdgeliteError(f"cannot start a pool of {num_threads} threads",
                                    code=Code.RUNTIME, hint="use fewer threads")
            # the pool outlives every invoke: it is destroyed with this object
            self._pool_finalizer = weakref.finalize(self, pool_lib.el_threadpool_destroy, pool)
            self._config.parallel_for = ctypes.cast(pool_lib.el_threadpool_parallel_for,
                                                    ctypes.c_void_p).value
            self._config.parallel_pool = pool
        self._config.num_threads = num_threads
        self._config.allow_fp16 = 1 if allow_fp16 else 0
        self.allow_fp16 = bool(allow_fp16)
        self._arena = np.zeros(0, dtype=np.uint8)
        if arena_size is not None:
            self._init(int(arena_size))
        else:
            self._init_auto()
        self.arena_bytes = int(self._lib.el_arena_required(ctypes.byref(self._it)))
        self.arena_size = int(self._arena.size)
        self.kernel_isa = int(self._lib.el_kernel_isa(ctypes.byref(self._it)))
        self.inputs = [self._details(self._lib.el_input_info, i)
                       for i in range(self._lib.el_input_count(ctypes.byref(self._it)))]
        self.outputs = [self._details(self._lib.el_output_info, i)
                        for i in range(self._lib.el_output_count(ctypes.byref(self._it)))]
        self._model_info: ModelInfo | None = None  # the file as the reader sees it, on demand
        # The greedy planner may give an input's memory to a later tensor during invoke, while
        # LiteRT keeps inputs readable: the last value set is kept, by tensor index, and read
        # back after an invoke (None: written through a tensor() view, so unknown).
        self._input_index = [d.index for d in self.inputs]
        self._kept_inputs: dict[int, np.ndarray | None] = {}
        self._invoked = False

    @property
    def kernels(self) -> str:
        """The kernel paths this interpreter runs: "reference", or "opt" plus instruction sets."""
        if not self.kernel_isa & _lib.ISA_OPT:
            return "reference"
        names = [n for n, bit in _lib.ISA_BITS.items() if self.kernel_isa & bit]
        return "+".join(["opt"] + names) if names else "opt (portable C)"

    # ------------------------------------------------------------------ setup
    def _try(self, size: int) -> int:
        self._arena = _aligned(size) if size > 0 else np.zeros(0, dtype=np.uint8)
        ptr = self._arena.ctypes.data if size > 0 else None
        return int(self._lib.el_init(ctypes.byref(self._it), self._model.ctypes.data,
                                     self._model_size, ptr, size, ctypes.byref(self._config)))

    def _init(self, size: int) -> None:
        status = self._try(size)
        if status != _lib.EL_OK:
            self._raise(status)

    def _init_auto(self) -> None:
        size = _FIRST_ARENA
        for _ in range(_MAX_TRIES):
            status = self._try(size)
            if status == _lib.EL_OK:
                need = int(self._lib.el_arena_required(ctypes.byref(self._it)))
                if need < size:  # give back the slack: the arena is exactly the required size
                    self._init(need)
                return
            if status != _lib.EL_ERROR_ARENA_TOO_SMALL:
                self._raise(status)
            need = int(self._lib.el_arena_required(ctypes.byref(self._it)))
            exact = bool(self._lib.el_arena_required_exact(ctypes.byref(self._it)))
            size = need if exact else max(need, 2 * size)
        self._raise(_lib.EL_ERROR_ARENA_TOO_SMALL)

    def _message(self) -> str:
        return self._lib.el_error_message(ctypes.byref(self._it)).decode("utf-8", "replace")

    def _raise(self, status: int) -> None:
        if self._callback_error is not None:
            err, self._callback_error = self._callback_error, None
            raise err
        name = _lib.STATUS_NAMES.get(status, f"status {status}")
        raise EdgeliteError(f"{self._message()} [{name}]", code=_status_code(status),
                            where=self._where)

    def _on_op(self, _user: int, subgraph: int, op_index: int, code: int, is_after: int) -> int:
        try:
            assert self._user_callback is not None
            self._user_callback(subgraph, op_index, code, bool(is_after))
        except BaseException as exc:  # reported after the C call returns
            self._callback_error = exc
            return 5  # EL_ERROR_INVOKE stops the invoke
        return 0

    def _info(self, fn, i: int) -> _lib.ElTensorInfo:
        info = _lib.ElTensorInfo()
        status = fn(ctypes.byref(self._it), i, ctypes.byref(info))
        if status != _lib.EL_OK:
            raise EdgeliteError(f"tensor {i} out of range", code=Code.BAD_INPUT, where=self._where)
        return info

    def _details(self, fn, i: int) -> TensorDetails:
        info = self._info(fn, i)
        if info.dtype not in DTYPES:
            raise EdgeliteError(f"tensor {i} has a dtype ({info.dtype}) Python cannot map",
                                code=Code.UNSUPPORTED, where=self._where)
        return TensorDetails(
            index=int(info.index), name=(info.name or b"").decode("utf-8", "replace"),
            shape=tuple(int(info.dims[k]) for k in range(info.rank)),
            dtype=DTYPES[info.dtype], scale=float(info.scale), zero_point=int(info.zero_point),
            quant_count=int(info.quant_count), quantized_dimension=int(info.quantized_dimension),
            is_const=bool(info.is_const))

    def _array(self, info: _lib.ElTensorInfo) -> np.ndarray:
        dtype = DTYPES[info.dtype]
        shape = tuple(int(info.dims[k]) for k in range(info.rank))
        buf = (ctypes.c_uint8 * info.bytes).from_address(info.data)
        return np.frombuffer(buf, dtype=dtype).reshape(shape).copy()

    # ------------------------------------------------------------------ API
    def set_input(self, i: int, value: np.ndarray) -> None:
        """Input ``i`` (by position) from ``value``. The dtype must be the input's, with one
        convenience LiteRT's set_tensor does not offer: float data for a quantized integer
        input is quantized with the input's scale and zero point, as ``edgelite run`` does
        (numpy's round to nearest, ties to even; saturated)."""
        info = self._info(self._lib.el_input_info, i)
        dtype = DTYPES[info.dtype]
        shape = tuple(int(info.dims[k]) for k in range(info.rank))
        arr = np.asarray(value)
        if dtype.kind in "iu" and arr.dtype.kind == "f" and info.scale > 0:
            limits = np.iinfo(dtype)
            q = np.round(arr.astype(np.float64) / float(info.scale)) + int(info.zero_point)
            arr = np.clip(q, limits.min, limits.max).astype(dtype)
        if arr.dtype != dtype:
            raise EdgeliteError(f"input {i}: got {arr.dtype}, the model expects {dtype}",
                                code=Code.BAD_INPUT, where=self._where)
        if arr.shape != shape:
            raise EdgeliteError(f"input {i}: got shape {arr.shape}, the model expects {shape}",
                                code=Code.BAD_INPUT, where=self._where)
        arr = np.ascontiguousarray(arr)
        ctypes.memmove(info.data, arr.ctypes.data, info.bytes)
        self._keep_input(int(info.index), arr)

    def _keep_input(self, index: int, arr: np.ndarray | None) -> None:
        if self.planner != "linear":
            self._kept_inputs[index] = None if arr is None else arr.copy()

    def invoke(self) -> None:
        status = int(self._lib.el_invoke(ctypes.byref(self._it)))
        self._invoked = True
        if status != _lib.EL_OK:
            self._raise(status)

    def reset(self) -> None:
        """Resource variables and CALL_ONCE back to their state after init."""
        status = int(self._lib.el_reset(ctypes.byref(self._it)))
        if status != _lib.EL_OK:
            self._raise(status)

    def get_output(self, i: int) -> np.ndarray:
        return self._array(self._info(self._lib.el_output_info, i))

    def get_input(self, i: int) -> np.ndarray:
        info = self._info(self._lib.el_input_info, i)
        return self._input_after_invoke(int(info.index)) if self._invoked else self._array(info)

    def _input_after_invoke(self, index: int) -> np.ndarray:
        """An input's value once invoke may have reused its memory (greedy planner)."""
        if self.planner == "linear":
            return self._array(self._info(self._lib.el_tensor_info_at, index))
        kept = self._kept_inputs.get(index)
        if kept is None:
            raise EdgeliteError(
                f"input tensor {index}: invoke may have reused its memory, and its value was "
                "written through a tensor() view, so it is not known any more",
                code=Code.BAD_INPUT, where=self._where,
                hint="set it with set_tensor()/set_input(), read it before invoke, or use "
                     "planner='linear' (experimental_preserve_all_tensors=True)")
        return kept.copy()

    @property
    def tensor_count(self) -> int:
        return int(self._lib.el_tensor_count(ctypes.byref(self._it)))

    def tensor_details(self, index: int) -> TensorDetails:
        return self._details(self._lib.el_tensor_info_at, index)

    def folded_ops(self) -> list[int]:
        """Indices of the main subgraph's ops this interpreter does not run at invoke
        (hosted builds, optimized kernels, no callback): PADs folded into the convolution that
        reads them (greedy planner; their output tensor has no data), RELU / RELU6 /
        RELU_N1_TO_1 folded into the float32 convolution they follow (greedy planner; their
        output shares its bytes), DEQUANTIZEs of constant float16 weights, computed once at
        init (their output is a constant), and the DENSIFY before such a DEQUANTIZE when the
        weights are sparse (computed with it; its float16 output has no data)."""
        ops = self._file().subgraphs[0].operators

        def info(t: int) -> _lib.ElTensorInfo:
            return self._info(self._lib.el_tensor_info_at, t)

        def folded(op) -> bool:
            if op.op in ("PAD", "PADV2"):
                return not info(op.outputs[0]).data
            if op.op in ("RELU", "RELU6", "RELU_N1_TO_1") and op.inputs[0] != op.outputs[0]:
                return info(op.inputs[0]).data == info(op.outputs[0]).data
            if op.op == "DENSIFY":
                return bool(info(op.outputs[0]).is_const and not info(op.outputs[0]).data)
            if op.op == "DEQUANTIZE":
                return bool(info(op.inputs[0]).is_const and info(op.outputs[0]).is_const)
            return False

        return [op.index for op in ops if folded(op)]

    def _readable(self, index: int) -> _lib.ElTensorInfo:
        info = self._info(self._lib.el_tensor_info_at, index)
        io = {d.index for d in self.inputs} | {d.index for d in self.outputs}
        if self.planner != "linear" and not info.is_const and index not in io:
            raise EdgeliteError(
                f"tensor {index}: the greedy planner reuses intermediate memory",
                code=Code.BAD_INPUT, where=self._where,
                hint="create the Interpreter with planner='linear' (LiteRT: "
                     "experimental_preserve_all_tensors=True) to read any tensor")
        if not info.data:
            raise EdgeliteError(f"tensor {index} has no data (unused by every op)",
                                code=Code.BAD_INPUT, where=self._where)
        return info

    # ------------------------------------------------------------------ LiteRT's API
    def allocate_tensors(self) -> None:
        """Nothing to do: the arena is planned once, at construction (static shapes)."""

    def _file(self) -> ModelInfo:
        if self._model_info is None:
            from edgelite.tflite.reader import read_model

            self._model_info = read_model(self._model[:self._model_size].tobytes(),
                                          self._where)
        return self._model_info

    def _tensor_dict(self, index: int) -> dict:
        info = self._info(self._lib.el_tensor_info_at, index)
        shape = tuple(int(info.dims[k]) for k in range(info.rank))
        return L.details(self._file().subgraphs[0].tensors[index], shape, DTYPES[info.dtype])

    def get_input_details(self) -> list[dict]:
        """One dict per model input, as LiteRT gives it: name, index (the .tflite tensor
        index), shape, shape_signature, dtype, quantization, quantization_parameters,
        sparsity_parameters."""
        return [self._tensor_dict(d.index) for d in self.inputs]

    def get_output_details(self) -> list[dict]:
        return [self._tensor_dict(d.index) for d in self.outputs]

    def get_tensor_details(self) -> list[dict]:
        return [self._tensor_dict(i) for i in range(self.tensor_count)]

    def set_tensor(self, tensor_index: int, value: np.ndarray) -> None:
        """Copy ``value`` into an input tensor. As in LiteRT, the dtype and shape must be the
        tensor's exactly (a ValueError otherwise; set_input quantizes floats instead)."""
        if tensor_index not in {d.index for d in self.inputs}:
            raise L.TensorValueError(
                f"tensor {tensor_index} is not a model input", code=Code.BAD_INPUT,
                where=self._where,
                hint=f"inputs: {', '.join(str(d.index) for d in self.inputs)}")
        arr = L.check_value(value, self._tensor_dict(tensor_index), self._where)
        info = self._info(self._lib.el_tensor_info_at, tensor_index)
        ctypes.memmove(info.data, arr.ctypes.data, info.bytes)
        self._keep_input(tensor_index, arr)

    def get_tensor(self, tensor_index: int, subgraph_index: int = 0) -> np.ndarray:
        """A copy of tensor ``tensor_index`` (the .tflite index): inputs, outputs and
        constants always; intermediates with the linear planner only."""
        if subgraph_index != 0:
            raise EdgeliteError("only subgraph 0 is readable from Python", code=Code.BAD_INPUT,
                                where=self._where)
        info = self._readable(tensor_index)
        if self._invoked and tensor_index in self._input_index:
            return self._input_after_invoke(tensor_index)
        return self._array(info)

    def tensor(self, tensor_index: int) -> Callable[[], np.ndarray]:
        """As LiteRT: a function returning a numpy view of the tensor's memory (no copy),
        valid until the next invoke overwrites it. Do not keep the view across invokes; an
        input's view is for writing it before invoke (get_tensor reads it back after)."""
        info = self._readable(tensor_index)
        if tensor_index in self._input_index:
            self._keep_input(tensor_index, None)  # written through the view: not known here
        dtype = DTYPES[info.dtype]
        shape = tuple(int(info.dims[k]) for k in range(info.rank))
        for owner in (self._arena, self._model):  # the view keeps its buffer alive
            start = int(info.data) - int(owner.ctypes.data) if owner.size else -1
            if 0 <= start <= owner.size - info.bytes:
                return lambda: owner[start:start + info.bytes].view(dtype).reshape(shape)
        buf = (ctypes.c_uint8 * info.bytes).from_address(info.data)  # external memory
        return lambda: np.frombuffer(buf, dtype=dtype).reshape(shape)

    def resize_tensor_input(self, input_index: int, tensor_size, strict: bool = False) -> None:
        """runtime_micro runs the shapes fixed at conversion: resizing to the same shape is
        accepted, any other shape refused (convert again with --input-shape)."""
        d = self._tensor_dict(input_index)
        want = [int(v) for v in tensor_size]
        if want != [int(v) for v in d["shape"]]:
            raise L.TensorValueError(
                f"cannot resize input {input_index} ({d['name']!r}) from "
                f"{[int(v) for v in d['shape']]} to {want}: runtime_micro runs static shapes",
                code=Code.UNSUPPORTED, where=self._where,
                hint=f"convert the model again with --input-shape {d['name']}:"
                     f"{','.join(map(str, want))}")

    def get_signature_list(self) -> dict[str, dict[str, list[str]]]:
        """{signature key: {"inputs": [names], "outputs": [names]}}, names sorted as LiteRT
        lists them; the file's SignatureDefs, or ``serving_default`` when it has none."""
        return {s.key: {"inputs": sorted(s.inputs), "outputs": sorted(s.outputs)}
                for s in self._signatures()}

    def _signatures(self) -> list:
        names = {d.index: d.name for d in (*self.inputs, *self.outputs)}
        return L.signatures(self._file(), [d.index for d in self.inputs],
                            [d.index for d in self.outputs], names)

    def get_signature_runner(self, signature_key: str | None = None) -> L.SignatureRunner:
        sigs = {s.key: s for s in self._signatures()}
        if signature_key is None:
            if len(sigs) != 1:
                raise L.TensorValueError(
                    f"the model has {len(sigs)} signatures: name one", code=Code.BAD_INPUT,
                    where=self._where, hint=f"one of: {', '.join(sorted(sigs))}")
            signature_key = next(iter(sigs))
        if signature_key not in sigs:
            raise L.TensorValueError(f"no signature {signature_key!r}", code=Code.BAD_INPUT,
                                     where=self._where,
                                     hint=f"the model has: {', '.join(sorted(sigs))}")
        return L.SignatureRunner(self, sigs[signature_key])


def required_arena_bytes(model: str | Path | bytes, planner: str = "greedy") -> int:
    """Exact arena bytes runtime_micro needs for this model (raises if it cannot run it)."""
    return Interpreter(model, planner=planner).arena_bytes


@dataclass(frozen=True)
class ArenaSizes:
    """Exact greedy-planner arena bytes of one model on the builds that lay it out differently."""

    hosted: int  # x86-64 / aarch64, optimized kernels: int8 filter sums and packed filters kept,
    # PADs folded (measured on such a host: the packed filters take the same bytes on any CPU)
    unfolded: int  # the same with an op callback: no PAD folded (other hosts, e.g. 32-bit ARM,
    # need no more: they fold no PAD and pack no filter)
    cortex_m: int  # Cortex-M builds: no filter sums, no fold (the reference kernels' layout)


def arena_sizes(model: str | Path | bytes) -> ArenaSizes:
    """The model's arena on each kind of build, measured by this host's runtime in the
    configurations that lay it out as they do (raises if it cannot run the model)."""
    return ArenaSizes(
        hosted=Interpreter(model).arena_bytes,
        unfolded=Interpreter(model, callback=lambda *_: None).arena_bytes,
        cortex_m=Interpreter(model, disable_isa=_lib.ISA_ALL).arena_bytes)
