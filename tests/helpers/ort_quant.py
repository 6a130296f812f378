"""ONNX Runtime's own int8 quantizer as a peer in tests: what a user gets from
``quantize_static`` (QDQ, per-channel, MinMax) on the same calibration data."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnxruntime as ort


def sqnr(ref: np.ndarray, got: np.ndarray) -> float:
    ref = ref.astype(np.float64)
    return float(10 * np.log10(np.sum(ref ** 2) / np.sum((ref - got) ** 2)))


def ort_qdq(path: Path, out: Path, cal: Iterable[np.ndarray], name: str,
            method: str = "MinMax") -> Path:
    """ORT's QDQ model of ``path`` (per-channel int8 weights, int8 activations) calibrated
    with its ``method`` (MinMax, Percentile, Entropy) on the inputs ``cal`` (each an array of
    the model input's shape), written to ``out``. Also what the benchmarks run."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(cal)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.it, None)
            return None if x is None else {name: x}

    quantize_static(str(path), str(out), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8,
                    calibrate_method=getattr(CalibrationMethod, method))
    return out


def ort_qdq_sqnr(path: Path, out_dir: Path, cal: list[np.ndarray], ev: list[np.ndarray],
                 name: str = "x") -> float:
    """Output SQNR on the inputs ``ev`` of ORT's QDQ model calibrated on the inputs ``cal``
    (each an array of the model input's shape), against float ORT on ``path``."""
    out = ort_qdq(path, out_dir / f"{path.stem}_ort_qdq.onnx", cal, name)
    providers = ["CPUExecutionProvider"]
    ref_sess = ort.InferenceSession(str(path), providers=providers)
    q_sess = ort.InferenceSession(str(out), providers=providers)
    ref = np.concatenate([ref_sess.run(None, {name: x})[0] for x in ev])
    got = np.concatenate([q_sess.run(None, {name: x})[0] for x in ev])
    return sqnr(ref, got)
