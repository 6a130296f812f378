"""Post-training quantization on the IR: calibrate, annotate, report.

``quantize(graph_or_path, QuantizeOptions(...))`` is the entry point; ``evaluate`` compares a
quantized model with its float original.
"""

from edgelite.quantize.annotate import MODES, AnnotateConfig, annotate
from edgelite.quantize.api import (
    EvalResult,
    QuantizeOptions,
    QuantizeResult,
    auto_precision,
    evaluate,
    quantize,
)
from edgelite.quantize.data import ImageFolder, load_samples
from edgelite.quantize.observers import METHODS

__all__ = [
    "METHODS", "MODES", "AnnotateConfig", "EvalResult", "ImageFolder", "QuantizeOptions",
    "QuantizeResult", "annotate", "auto_precision", "evaluate", "load_samples", "quantize",
]
