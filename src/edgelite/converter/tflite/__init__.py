"""The TFLite flatbuffer format: our schema subset, a writer and a reader."""

from edgelite.converter.tflite.reader import ModelInfo, read_file, read_model, to_ir
from edgelite.converter.tflite.writer import SchemaError, write_model

__all__ = ["ModelInfo", "SchemaError", "read_file", "read_model", "to_ir", "write_model"]
