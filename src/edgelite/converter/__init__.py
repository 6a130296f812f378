"""ONNX -> TFLite conversion: read, optimise on the IR, write."""

from edgelite.converter.pipeline import ConvertOptions, convert, convert_to_bytes

__all__ = ["ConvertOptions", "convert", "convert_to_bytes"]
