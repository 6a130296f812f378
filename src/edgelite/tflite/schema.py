"""Our description of the subset of the TFLite flatbuffer schema (version 3, "TFL3") we use.

Written from the published schema: enum values, union member numbers and table field order
(field index = vtable slot) are facts of the format. Nothing here is generated code; the writer
and reader interpret these tables generically.

A union occupies two slots in its table: ``<name>_type`` (ubyte) then ``<name>`` (offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgelite.tflite.ops import OPS

FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3

# ---- enums ---------------------------------------------------------------------------------

TENSOR_TYPES: dict[str, int] = {
    "FLOAT32": 0, "FLOAT16": 1, "INT32": 2, "UINT8": 3, "INT64": 4, "STRING": 5, "BOOL": 6,
    "INT16": 7, "COMPLEX64": 8, "INT8": 9, "FLOAT64": 10, "COMPLEX128": 11, "UINT64": 12,
    "RESOURCE": 13, "VARIANT": 14, "UINT32": 15, "UINT16": 16, "INT4": 17,
}

# IR dtype (numpy name) <-> TensorType name.
DTYPE_TO_TENSOR_TYPE: dict[str, str] = {
    "float32": "FLOAT32", "float16": "FLOAT16", "int32": "INT32", "uint8": "UINT8",
    "int64": "INT64", "bool": "BOOL", "int16": "INT16", "int8": "INT8", "float64": "FLOAT64",
    "uint64": "UINT64", "uint32": "UINT32", "uint16": "UINT16",
}
TENSOR_TYPE_TO_DTYPE: dict[str, str] = {v: k for k, v in DTYPE_TO_TENSOR_TYPE.items()}

PADDING = {"SAME": 0, "VALID": 1}
ACTIVATION = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4, "SIGN_BIT": 5}
MIRROR_PAD_MODE = {"REFLECT": 0, "SYMMETRIC": 1}
FC_WEIGHTS_FORMAT = {"DEFAULT": 0, "SHUFFLED4x16INT8": 1}
LSTM_KERNEL_TYPE = {"FULL": 0, "BASIC": 1}
COMBINER_TYPE = {"SUM": 0, "MEAN": 1, "SQRTN": 2}

# Byte-sized enums usable as option field kinds, by their schema name.
ENUMS: dict[str, dict[str, int]] = {
    "TensorType": TENSOR_TYPES,
    "Padding": PADDING,
    "ActivationFunctionType": ACTIVATION,
    "MirrorPadMode": MIRROR_PAD_MODE,
    "FullyConnectedOptionsWeightsFormat": FC_WEIGHTS_FORMAT,
    "LSTMKernelType": LSTM_KERNEL_TYPE,
    "CombinerType": COMBINER_TYPE,
}

BUILTIN_OPERATORS: dict[str, int] = {
    "ADD": 0, "AVERAGE_POOL_2D": 1, "CONCATENATION": 2, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4,
    "DEPTH_TO_SPACE": 5, "DEQUANTIZE": 6, "EMBEDDING_LOOKUP": 7, "FLOOR": 8,
    "FULLY_CONNECTED": 9, "HASHTABLE_LOOKUP": 10, "L2_NORMALIZATION": 11, "L2_POOL_2D": 12,
    "LOCAL_RESPONSE_NORMALIZATION": 13, "LOGISTIC": 14, "LSH_PROJECTION": 15, "LSTM": 16,
    "MAX_POOL_2D": 17, "MUL": 18, "RELU": 19, "RELU_N1_TO_1": 20, "RELU6": 21, "RESHAPE": 22,
    "RESIZE_BILINEAR": 23, "RNN": 24, "SOFTMAX": 25, "SPACE_TO_DEPTH": 26, "SVDF": 27,
    "TANH": 28, "CONCAT_EMBEDDINGS": 29, "SKIP_GRAM": 30, "CALL": 31, "CUSTOM": 32,
    "EMBEDDING_LOOKUP_SPARSE": 33, "PAD": 34, "UNIDIRECTIONAL_SEQUENCE_RNN": 35, "GATHER": 36,
    "BATCH_TO_SPACE_ND": 37, "SPACE_TO_BATCH_ND": 38, "TRANSPOSE": 39, "MEAN": 40, "SUB": 41,
    "DIV": 42, "SQUEEZE": 43, "UNIDIRECTIONAL_SEQUENCE_LSTM": 44, "STRIDED_SLICE": 45,
    "BIDIRECTIONAL_SEQUENCE_RNN": 46, "EXP": 47, "TOPK_V2": 48, "SPLIT": 49,
    "LOG_SOFTMAX": 50, "DELEGATE": 51, "BIDIRECTIONAL_SEQUENCE_LSTM": 52, "CAST": 53,
    "PRELU": 54, "MAXIMUM": 55, "ARG_MAX": 56, "MINIMUM": 57, "LESS": 58, "NEG": 59,
    "PADV2": 60, "GREATER": 61, "GREATER_EQUAL": 62, "LESS_EQUAL": 63, "SELECT": 64,
    "SLICE": 65, "SIN": 66, "TRANSPOSE_CONV": 67, "SPARSE_TO_DENSE": 68, "TILE": 69,
    "EXPAND_DIMS": 70, "EQUAL": 71, "NOT_EQUAL": 72, "LOG": 73, "SUM": 74, "SQRT": 75,
    "RSQRT": 76, "SHAPE": 77, "POW": 78, "ARG_MIN": 79, "FAKE_QUANT": 80, "REDUCE_PROD": 81,
    "REDUCE_MAX": 82, "PACK": 83, "LOGICAL_OR": 84, "ONE_HOT": 85, "LOGICAL_AND": 86,
    "LOGICAL_NOT": 87, "UNPACK": 88, "REDUCE_MIN": 89, "FLOOR_DIV": 90, "REDUCE_ANY": 91,
    "SQUARE": 92, "ZEROS_LIKE": 93, "FILL": 94, "FLOOR_MOD": 95, "RANGE": 96,
    "RESIZE_NEAREST_NEIGHBOR": 97, "LEAKY_RELU": 98, "SQUARED_DIFFERENCE": 99,
    "MIRROR_PAD": 100, "ABS": 101, "SPLIT_V": 102, "UNIQUE": 103, "CEIL": 104,
    "REVERSE_V2": 105, "ADD_N": 106, "GATHER_ND": 107, "COS": 108, "WHERE": 109, "RANK": 110,
    "ELU": 111, "REVERSE_SEQUENCE": 112, "MATRIX_DIAG": 113, "QUANTIZE": 114,
    "MATRIX_SET_DIAG": 115, "ROUND": 116, "HARD_SWISH": 117, "IF": 118, "WHILE": 119,
    "NON_MAX_SUPPRESSION_V4": 120, "NON_MAX_SUPPRESSION_V5": 121, "SCATTER_ND": 122,
    "SELECT_V2": 123, "DENSIFY": 124, "SEGMENT_SUM": 125, "BATCH_MATMUL": 126,
    "PLACEHOLDER_FOR_GREATER_OP_CODES": 127, "CUMSUM": 128, "CALL_ONCE": 129,
    "BROADCAST_TO": 130, "RFFT2D": 131, "CONV_3D": 132, "IMAG": 133, "REAL": 134,
    "COMPLEX_ABS": 135, "HASHTABLE": 136, "HASHTABLE_FIND": 137, "HASHTABLE_IMPORT": 138,
    "HASHTABLE_SIZE": 139, "REDUCE_ALL": 140, "CONV_3D_TRANSPOSE": 141, "VAR_HANDLE": 142,
    "READ_VARIABLE": 143, "ASSIGN_VARIABLE": 144, "BROADCAST_ARGS": 145,
    "RANDOM_STANDARD_NORMAL": 146, "BUCKETIZE": 147, "RANDOM_UNIFORM": 148, "MULTINOMIAL": 149,
    "GELU": 150, "DYNAMIC_UPDATE_SLICE": 151, "RELU_0_TO_1": 152,
    "UNSORTED_SEGMENT_PROD": 153, "UNSORTED_SEGMENT_MAX": 154, "UNSORTED_SEGMENT_SUM": 155,
    "ATAN2": 156, "UNSORTED_SEGMENT_MIN": 157, "SIGN": 158, "BITCAST": 159,
    "BITWISE_XOR": 160, "RIGHT_SHIFT": 161,
}
BUILTIN_OPERATOR_NAMES: dict[int, str] = {v: k for k, v in BUILTIN_OPERATORS.items()}
# OperatorCode.deprecated_builtin_code is a byte: codes above 126 are stored as this value
# there, and the real code goes in the int32 builtin_code field.
PLACEHOLDER_FOR_GREATER_OP_CODES = 127

# Members of the BuiltinOptions union in schema order; the union type number is index + 1
# (0 is NONE).
BUILTIN_OPTIONS_UNION: tuple[str, ...] = (
    "Conv2DOptions", "DepthwiseConv2DOptions", "ConcatEmbeddingsOptions",
    "LSHProjectionOptions", "Pool2DOptions", "SVDFOptions", "RNNOptions",
    "FullyConnectedOptions", "SoftmaxOptions", "ConcatenationOptions", "AddOptions",
    "L2NormOptions", "LocalResponseNormalizationOptions", "LSTMOptions",
    "ResizeBilinearOptions", "CallOptions", "ReshapeOptions", "SkipGramOptions",
    "SpaceToDepthOptions", "EmbeddingLookupSparseOptions", "MulOptions", "PadOptions",
    "GatherOptions", "BatchToSpaceNDOptions", "SpaceToBatchNDOptions", "TransposeOptions",
    "ReducerOptions", "SubOptions", "DivOptions", "SqueezeOptions", "SequenceRNNOptions",
    "StridedSliceOptions", "ExpOptions", "TopKV2Options", "SplitOptions", "LogSoftmaxOptions",
    "CastOptions", "DequantizeOptions", "MaximumMinimumOptions", "ArgMaxOptions",
    "LessOptions", "NegOptions", "PadV2Options", "GreaterOptions", "GreaterEqualOptions",
    "LessEqualOptions", "SelectOptions", "SliceOptions", "TransposeConvOptions",
    "SparseToDenseOptions", "TileOptions", "ExpandDimsOptions", "EqualOptions",
    "NotEqualOptions", "ShapeOptions", "PowOptions", "ArgMinOptions", "FakeQuantOptions",
    "PackOptions", "LogicalOrOptions", "OneHotOptions", "LogicalAndOptions",
    "LogicalNotOptions", "UnpackOptions", "FloorDivOptions", "SquareOptions",
    "ZerosLikeOptions", "FillOptions", "BidirectionalSequenceLSTMOptions",
    "BidirectionalSequenceRNNOptions", "UnidirectionalSequenceLSTMOptions", "FloorModOptions",
    "RangeOptions", "ResizeNearestNeighborOptions", "LeakyReluOptions",
    "SquaredDifferenceOptions", "MirrorPadOptions", "AbsOptions", "SplitVOptions",
    "UniqueOptions", "ReverseV2Options", "AddNOptions", "GatherNdOptions", "CosOptions",
    "WhereOptions", "RankOptions", "ReverseSequenceOptions", "MatrixDiagOptions",
    "QuantizeOptions", "MatrixSetDiagOptions", "HardSwishOptions", "IfOptions",
    "WhileOptions", "DepthToSpaceOptions", "NonMaxSuppressionV4Options",
    "NonMaxSuppressionV5Options", "ScatterNdOptions", "SelectV2Options", "DensifyOptions",
    "SegmentSumOptions", "BatchMatMulOptions", "CumsumOptions", "CallOnceOptions",
    "BroadcastToOptions", "Rfft2dOptions", "Conv3DOptions", "HashtableOptions",
    "HashtableFindOptions", "HashtableImportOptions", "HashtableSizeOptions",
    "VarHandleOptions", "ReadVariableOptions", "AssignVariableOptions", "RandomOptions",
    "BucketizeOptions", "GeluOptions", "DynamicUpdateSliceOptions",
    "UnsortedSegmentProdOptions", "UnsortedSegmentMaxOptions", "UnsortedSegmentMinOptions",
    "UnsortedSegmentSumOptions", "ATan2Options", "SignOptions", "BitcastOptions",
    "BitwiseXorOptions", "RightShiftOptions",
)
OPTIONS_TYPE: dict[str, int] = {name: i + 1 for i, name in enumerate(BUILTIN_OPTIONS_UNION)}


# ---- options tables ------------------------------------------------------------------------

# Field kinds: scalar "bool" | "int32" | "uint32" | "int64" | "float32"; "string";
# vectors "[int32]" | "[int64]" | "[float32]"; or the name of a byte enum in ENUMS.
SCALAR_KINDS = ("bool", "int32", "uint32", "int64", "float32")
VECTOR_KINDS = ("[int32]", "[int64]", "[float32]")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    default: Any = None  # None for vectors/strings (absent); scalar default otherwise
    deprecated: bool = False  # keeps its slot; never written, never offered to the IR


def _f(name: str, kind: str, default: Any = None, deprecated: bool = False) -> Field:
    if default is None and kind in SCALAR_KINDS:
        default = {"bool": False, "float32": 0.0}.get(kind, 0)
    if default is None and kind in ENUMS:
        default = next(iter(ENUMS[kind]))  # the enum member with value 0
    return Field(name, kind, default, deprecated)


_ACT = ("fused_activation_function", "ActivationFunctionType")

OPTIONS_TABLES: dict[str, tuple[Field, ...]] = {
    "Conv2DOptions": (
        _f("padding", "Padding"), _f("stride_w", "int32"), _f("stride_h", "int32"), _f(*_ACT),
        _f("dilation_w_factor", "int32", 1), _f("dilation_h_factor", "int32", 1),
        _f("quantized_bias_type", "TensorType"),
    ),
    "DepthwiseConv2DOptions": (
        _f("padding", "Padding"), _f("stride_w", "int32"), _f("stride_h", "int32"),
        _f("depth_multiplier", "int32"), _f(*_ACT),
        _f("dilation_w_factor", "int32", 1), _f("dilation_h_factor", "int32", 1),
    ),
    "Pool2DOptions": (
        _f("padding", "Padding"), _f("stride_w", "int32"), _f("stride_h", "int32"),
        _f("filter_width", "int32"), _f("filter_height", "int32"), _f(*_ACT),
    ),
    "SVDFOptions": (
        _f("rank", "int32"), _f(*_ACT), _f("asymmetric_quantize_inputs", "bool"),
    ),
    "FullyConnectedOptions": (
        _f(*_ACT), _f("weights_format", "FullyConnectedOptionsWeightsFormat"),
        _f("keep_num_dims", "bool"), _f("asymmetric_quantize_inputs", "bool"),
        _f("quantized_bias_type", "TensorType"),
    ),
    "SoftmaxOptions": (_f("beta", "float32"),),
    "ConcatenationOptions": (_f("axis", "int32"), _f(*_ACT)),
    "AddOptions": (_f(*_ACT), _f("pot_scale_int16", "bool", True)),
    "SubOptions": (_f(*_ACT), _f("pot_scale_int16", "bool", True)),
    "MulOptions": (_f(*_ACT),),
    "DivOptions": (_f(*_ACT),),
    "L2NormOptions": (_f(*_ACT),),
    "LocalResponseNormalizationOptions": (
        _f("radius", "int32"), _f("bias", "float32"), _f("alpha", "float32"),
        _f("beta", "float32"),
    ),
    "UnidirectionalSequenceLSTMOptions": (
        _f(*_ACT), _f("cell_clip", "float32"), _f("proj_clip", "float32"),
        _f("time_major", "bool"), _f("asymmetric_quantize_inputs", "bool"),
        _f("diagonal_recurrent_tensors", "bool"),
    ),
    "ResizeBilinearOptions": (
        _f("new_height", "int32", deprecated=True), _f("new_width", "int32", deprecated=True),
        _f("align_corners", "bool"), _f("half_pixel_centers", "bool"),
    ),
    "ResizeNearestNeighborOptions": (_f("align_corners", "bool"), _f("half_pixel_centers", "bool")),
    "ReshapeOptions": (_f("new_shape", "[int32]"),),
    "SpaceToDepthOptions": (_f("block_size", "int32"),),
    "DepthToSpaceOptions": (_f("block_size", "int32"),),
    "GatherOptions": (_f("axis", "int32"), _f("batch_dims", "int32", 0)),
    "ReducerOptions": (_f("keep_dims", "bool"),),
    "SqueezeOptions": (_f("squeeze_dims", "[int32]"),),
    "SplitOptions": (_f("num_splits", "int32"),),
    "SplitVOptions": (_f("num_splits", "int32"),),
    "StridedSliceOptions": (
        _f("begin_mask", "int32"), _f("end_mask", "int32"), _f("ellipsis_mask", "int32"),
        _f("new_axis_mask", "int32"), _f("shrink_axis_mask", "int32"), _f("offset", "bool"),
    ),
    "CastOptions": (_f("in_data_type", "TensorType"), _f("out_data_type", "TensorType")),
    "ArgMaxOptions": (_f("output_type", "TensorType"),),
    "ArgMinOptions": (_f("output_type", "TensorType"),),
    "TransposeConvOptions": (
        _f("padding", "Padding"), _f("stride_w", "int32"), _f("stride_h", "int32"), _f(*_ACT),
        _f("quantized_bias_type", "TensorType"),
    ),
    "ShapeOptions": (_f("out_type", "TensorType"),),
    "PackOptions": (_f("values_count", "int32"), _f("axis", "int32")),
    "UnpackOptions": (_f("num", "int32"), _f("axis", "int32")),
    "OneHotOptions": (_f("axis", "int32"),),
    "LeakyReluOptions": (_f("alpha", "float32"),),
    "MirrorPadOptions": (_f("mode", "MirrorPadMode"),),
    "UniqueOptions": (_f("idx_out_type", "TensorType", "INT32"),),
    "ReverseSequenceOptions": (_f("seq_dim", "int32"), _f("batch_dim", "int32", 0)),
    "IfOptions": (_f("then_subgraph_index", "int32"), _f("else_subgraph_index", "int32")),
    "WhileOptions": (_f("cond_subgraph_index", "int32"), _f("body_subgraph_index", "int32")),
    "CallOnceOptions": (_f("init_subgraph_index", "int32"),),
    "BatchMatMulOptions": (
        _f("adj_x", "bool"), _f("adj_y", "bool"), _f("asymmetric_quantize_inputs", "bool"),
    ),
    "CumsumOptions": (_f("exclusive", "bool"), _f("reverse", "bool")),
    "VarHandleOptions": (_f("container", "string"), _f("shared_name", "string")),
    "RandomOptions": (_f("seed", "int64"), _f("seed2", "int64")),
    "BucketizeOptions": (_f("boundaries", "[float32]"),),
    "GeluOptions": (_f("approximate", "bool"),),
}
# Options tables without fields.
for _name in (
    "PadOptions", "PadV2Options", "TransposeOptions", "ExpOptions", "CosOptions",
    "LogSoftmaxOptions", "DequantizeOptions", "QuantizeOptions", "MaximumMinimumOptions",
    "TileOptions", "LessOptions", "LessEqualOptions", "GreaterOptions", "GreaterEqualOptions",
    "EqualOptions", "NotEqualOptions", "NegOptions", "SelectOptions", "SelectV2Options",
    "SliceOptions", "ExpandDimsOptions", "PowOptions", "LogicalOrOptions", "LogicalAndOptions",
    "LogicalNotOptions", "AbsOptions", "HardSwishOptions", "FloorDivOptions", "FloorModOptions",
    "SquareOptions", "ZerosLikeOptions", "FillOptions", "RangeOptions",
    "SquaredDifferenceOptions", "ReverseV2Options", "AddNOptions", "GatherNdOptions",
    "WhereOptions", "RankOptions", "ScatterNdOptions", "BroadcastToOptions",
    "ReadVariableOptions", "AssignVariableOptions", "SpaceToBatchNDOptions",
    "BatchToSpaceNDOptions", "TopKV2Options", "DynamicUpdateSliceOptions", "SignOptions",
    "ATan2Options", "Rfft2dOptions", "DensifyOptions",
):
    OPTIONS_TABLES[_name] = ()
del _name

# The options table each builtin operator we support uses (None: the op has no options), from
# the op table.
OP_OPTIONS: dict[str, str | None] = {name: op.options for name, op in OPS.items()}

# ---- structural tables: field name -> vtable slot -------------------------------------------

class Model:
    VERSION, OPERATOR_CODES, SUBGRAPHS, DESCRIPTION, BUFFERS = 0, 1, 2, 3, 4
    METADATA_BUFFER, METADATA, SIGNATURE_DEFS = 5, 6, 7
    NUM_FIELDS = 8


class OperatorCode:
    DEPRECATED_BUILTIN_CODE, CUSTOM_CODE, VERSION, BUILTIN_CODE = 0, 1, 2, 3
    NUM_FIELDS = 4


class SubGraph:
    TENSORS, INPUTS, OUTPUTS, OPERATORS, NAME = 0, 1, 2, 3, 4
    NUM_FIELDS = 5


class Tensor:
    SHAPE, TYPE, BUFFER, NAME, QUANTIZATION, IS_VARIABLE = 0, 1, 2, 3, 4, 5
    SPARSITY, SHAPE_SIGNATURE, HAS_RANK, VARIANT_TENSORS = 6, 7, 8, 9
    NUM_FIELDS = 10


class SparsityParameters:
    TRAVERSAL_ORDER, BLOCK_MAP, DIM_METADATA = 0, 1, 2
    NUM_FIELDS = 3


class DimensionMetadata:
    # array_segments / array_indices are SparseIndexVector unions (type slot, then value).
    FORMAT, DENSE_SIZE, ARRAY_SEGMENTS_TYPE, ARRAY_SEGMENTS = 0, 1, 2, 3
    ARRAY_INDICES_TYPE, ARRAY_INDICES = 4, 5
    NUM_FIELDS = 6


class SparseIndexVectorTable:  # Int32Vector, Uint16Vector, Uint8Vector
    VALUES = 0
    NUM_FIELDS = 1


class QuantizationParameters:
    MIN, MAX, SCALE, ZERO_POINT, DETAILS_TYPE, DETAILS, QUANTIZED_DIMENSION = 0, 1, 2, 3, 4, 5, 6
    NUM_FIELDS = 7


class Operator:
    OPCODE_INDEX, INPUTS, OUTPUTS, BUILTIN_OPTIONS_TYPE, BUILTIN_OPTIONS = 0, 1, 2, 3, 4
    CUSTOM_OPTIONS, CUSTOM_OPTIONS_FORMAT, MUTATING_VARIABLE_INPUTS, INTERMEDIATES = 5, 6, 7, 8
    LARGE_CUSTOM_OPTIONS_OFFSET, LARGE_CUSTOM_OPTIONS_SIZE = 9, 10
    BUILTIN_OPTIONS_2_TYPE, BUILTIN_OPTIONS_2 = 11, 12
    NUM_FIELDS = 13


class Buffer:
    DATA, OFFSET, SIZE = 0, 1, 2
    NUM_FIELDS = 3
    DATA_ALIGNMENT = 16  # schema: data:[ubyte] (force_align: 16)


class Metadata:
    NAME, BUFFER = 0, 1
    NUM_FIELDS = 2


class TensorMap:
    NAME, TENSOR_INDEX = 0, 1
    NUM_FIELDS = 2


class SignatureDef:
    INPUTS, OUTPUTS, SIGNATURE_KEY, DEPRECATED_TAG, SUBGRAPH_INDEX = 0, 1, 2, 3, 4
    NUM_FIELDS = 5


def options_fields(op_type: str) -> tuple[Field, ...]:
    """The non-deprecated option fields an IR op of ``op_type`` may carry."""
    table = OP_OPTIONS.get(op_type)
    if table is None:
        return ()
    return tuple(f for f in OPTIONS_TABLES[table] if not f.deprecated)
