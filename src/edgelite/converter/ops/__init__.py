"""ONNX op lowerings. Importing this package registers every lowering in REGISTRY."""

from edgelite.converter.ops.registry import REGISTRY, Lowering, LoweringContext, register

__all__ = ["REGISTRY", "Lowering", "LoweringContext", "register"]
