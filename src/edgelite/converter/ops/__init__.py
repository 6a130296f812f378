"""ONNX op lowerings. Importing this package registers every lowering in REGISTRY."""

from edgelite.converter.ops import (  # noqa: F401  (imported to register their lowerings)
    activation,
    conv,
    elementwise,
    matmul,
    norm,
    pool,
    reduce,
    resize,
    rnn,
    shape,
)
from edgelite.converter.ops.gelu import fuse_gelu, fuse_gelu_nodes
from edgelite.converter.ops.registry import REGISTRY, Lowering, LoweringContext, register

__all__ = ["REGISTRY", "Lowering", "LoweringContext", "fuse_gelu", "fuse_gelu_nodes", "register"]
