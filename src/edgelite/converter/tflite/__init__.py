"""The TFLite flatbuffer format: our schema subset, a writer and a reader."""

from edgelite.converter.tflite.writer import SchemaError, write_model

__all__ = ["SchemaError", "write_model"]
