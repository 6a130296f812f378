"""The TFLite flatbuffer format: our schema subset, a writer, a bounds-checked reader, operator
versions, sparse tensors and edgelite's metadata entry. Depends only on `edgelite.ir` and
`edgelite.errors`; the converter, quantize, prune, runtime, bench and inspect stand on it."""

from edgelite.tflite.reader import ModelInfo, read_file, read_model, to_ir
from edgelite.tflite.writer import SchemaError, write_model

__all__ = ["ModelInfo", "SchemaError", "read_file", "read_model", "to_ir", "write_model"]
