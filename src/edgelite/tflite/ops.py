"""What edgelite knows about each TFLite builtin operator it reads or writes, in one table.

One row per operator: its BuiltinOperator code and options table (format facts, from the
published schema), the rule for the version to write (`version_rules`), how the layout pass
sees it, how int8 parameters are chosen for it, and whether an int16 kernel exists. The schema
(`schema.OP_OPTIONS`), `versions.op_version`, the layout pass (`converter/passes/sinking.py`)
and the quantizer (`quantize/annotate.py`) all read this table; adding an op to the converter
starts here (see "Adding an op" in the README).

Columns:
  code          BuiltinOperator value
  options       the options table the op carries (schema.OPTIONS_TABLES), None: no options
  version       rule giving OperatorCode.version; None: always 1
  layout        how the NCHW -> NHWC pass treats it: UNARY / BINARY (elementwise: any layout,
                constants re-laid), REDUCE (axes remapped), PAD (paddings remapped), LAST_AXIS
                (acts on the last axis only); None: not moved through
  quant         int8 parameters: WEIGHTS (weights per channel, inputs/outputs calibrated; the
                `weights` triple: weights input, channel axis, bias input), SAME (output
                parameters equal to the input's: the kernel does not rescale), FREE (the kernel
                rescales: output calibrated), FIXED (`fixed_output`: the (scale, zero point)
                TFLite's kernels require per storage type); None: stays float. FREE holds only
                ops whose int8 kernels exist in both LiteRT and TFLite Micro and agree there,
                plus GELU (a 256-entry table in LiteRT; TFLite Micro has none). EXP, LOG, SQRT
                and SQUARE stay float (TFLite Micro has float kernels only), and so does SUM
                (LiteRT 2.x's reference int8 SUM returns a constant where TFLite Micro is
                right). RELU6 and RELU_N1_TO_1 are SAME: TFLite Micro clamps without rescaling
                where LiteRT rescales, so only equal parameters give the same bytes in both.
                BATCH_MATMUL takes two activations, or a constant operand quantized per tensor.
  int16         False: no int16 kernel in LiteRT or TFLite Micro (int16x8 mode runs it in int8)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgelite import ir
from edgelite.tflite import version_rules as V

UNARY, BINARY, REDUCE, PAD, LAST_AXIS = "unary", "binary", "reduce", "pad", "last_axis"
WEIGHTS, SAME, FREE, FIXED = "weights", "same", "free", "fixed"


@dataclass(frozen=True)
class Op:
    code: int
    options: str | None
    version: Callable[[ir.Op], int] | None = None
    layout: str | None = None
    quant: str | None = None
    weights: tuple[int, int, int] | None = None
    fixed_output: dict[str, tuple[float, int]] | None = None
    int16: bool = True


OPS: dict[str, Op] = {
    "ADD": Op(0, "AddOptions", version=V.add, layout=BINARY, quant=FREE),
    "SUB": Op(41, "SubOptions", version=V.sub, layout=BINARY, quant=FREE),
    "MUL": Op(18, "MulOptions", version=V.mul, layout=BINARY, quant=FREE),
    "DIV": Op(42, "DivOptions", version=V.div, layout=BINARY, quant=FREE, int16=False),
    "POW": Op(78, "PowOptions", layout=BINARY),
    "SQRT": Op(75, None, layout=UNARY),
    "RSQRT": Op(76, None, version=V.by_type(2, int16=3), layout=UNARY, quant=FREE),
    "NEG": Op(59, "NegOptions", layout=UNARY),
    "ABS": Op(101, "AbsOptions", version=V.abs_, layout=UNARY, quant=FREE),
    "EXP": Op(47, "ExpOptions", version=V.by_type(2, int16=2), layout=UNARY),
    "LOG": Op(73, None, version=V.by_type(2, int16=2), layout=UNARY),
    "MAXIMUM": Op(55, "MaximumMinimumOptions", version=V.max_min, layout=BINARY, quant=SAME),
    "MINIMUM": Op(57, "MaximumMinimumOptions", version=V.max_min, layout=BINARY, quant=SAME),
    "SQUARED_DIFFERENCE": Op(99, "SquaredDifferenceOptions", version=V.by_type(2), layout=BINARY,
                             quant=FREE, int16=False),
    "FLOOR_DIV": Op(90, "FloorDivOptions", version=V.floor_div, layout=BINARY),
    "FLOOR_MOD": Op(95, "FloorModOptions", version=V.by_input({"int8": 2, "int16": 2}),
                    layout=BINARY),
    "ADD_N": Op(106, "AddNOptions"),
    "RELU": Op(19, None, version=V.by_type(2, int16=3, uint8=2), layout=UNARY, quant=FREE),
    "RELU6": Op(21, None, version=V.by_type(2, int16=3), layout=UNARY, quant=SAME),
    "RELU_N1_TO_1": Op(20, None, layout=UNARY, quant=SAME),
    "RELU_0_TO_1": Op(152, None, layout=UNARY),
    "LEAKY_RELU": Op(98, "LeakyReluOptions", version=V.by_input({"int16": 2}), layout=UNARY,
                     quant=FREE),
    "PRELU": Op(54, None, layout=BINARY, quant=FREE, int16=False),
    "LOGISTIC": Op(14, None, version=V.sigmoid_tanh, layout=UNARY, quant=FIXED,
                   fixed_output={"int8": (1 / 256, -128), "int16": (1 / 32768, 0)}),
    "TANH": Op(28, None, version=V.sigmoid_tanh, layout=UNARY, quant=FIXED,
               fixed_output={"int8": (1 / 128, 0), "int16": (1 / 32768, 0)}),
    "HARD_SWISH": Op(117, "HardSwishOptions", layout=UNARY, quant=FREE, int16=False),
    "ELU": Op(111, None, layout=UNARY),
    "GELU": Op(150, "GeluOptions", version=V.by_type(2, uint8=2), layout=UNARY, quant=FREE),
    "SOFTMAX": Op(25, "SoftmaxOptions", version=V.by_type(2, int16=3), layout=LAST_AXIS,
                  quant=FIXED, fixed_output={"int8": (1 / 256, -128), "int16": (1 / 32768, 0)}),
    "LOG_SOFTMAX": Op(50, "LogSoftmaxOptions", version=V.by_type(2), layout=LAST_AXIS, quant=FIXED,
                      fixed_output={"int8": (16 / 256, 127)}, int16=False),
    "CONV_2D": Op(3, "Conv2DOptions", version=V.conv, quant=WEIGHTS, weights=(1, 0, 2)),
    "DEPTHWISE_CONV_2D": Op(4, "DepthwiseConv2DOptions", version=V.depthwise, quant=WEIGHTS,
                            weights=(1, 3, 2)),
    "TRANSPOSE_CONV": Op(67, "TransposeConvOptions", version=V.transpose_conv, quant=WEIGHTS,
                         weights=(1, 0, 3)),
    "FULLY_CONNECTED": Op(9, "FullyConnectedOptions", version=V.fully_connected, quant=WEIGHTS,
                          weights=(1, 0, 2)),
    "BATCH_MATMUL": Op(126, "BatchMatMulOptions", version=V.batch_matmul, quant=FREE),
    "AVERAGE_POOL_2D": Op(1, "Pool2DOptions", version=V.by_type(2, int16=3), quant=SAME),
    "MAX_POOL_2D": Op(17, "Pool2DOptions", version=V.by_type(2, int16=3), quant=SAME),
    "L2_POOL_2D": Op(12, "Pool2DOptions"),
    "MEAN": Op(40, "ReducerOptions", version=V.by_type(2, int16=3), layout=REDUCE, quant=FREE),
    "SUM": Op(74, "ReducerOptions", version=V.by_type(2), layout=REDUCE),
    "REDUCE_MAX": Op(82, "ReducerOptions", version=V.by_type(2, int16=3), layout=REDUCE, quant=SAME,
                     int16=False),
    "REDUCE_MIN": Op(89, "ReducerOptions", version=V.by_type(2, int16=3), layout=REDUCE, quant=SAME,
                     int16=False),
    "REDUCE_PROD": Op(81, "ReducerOptions", version=V.by_type(2, int16=2), layout=REDUCE),
    "REDUCE_ANY": Op(91, "ReducerOptions", layout=REDUCE),
    "REDUCE_ALL": Op(140, "ReducerOptions"),
    "CONCATENATION": Op(2, "ConcatenationOptions", version=V.concatenation, quant=SAME),
    "RESHAPE": Op(22, "ReshapeOptions", quant=SAME),
    "SQUEEZE": Op(43, "SqueezeOptions", quant=SAME),
    "EXPAND_DIMS": Op(70, "ExpandDimsOptions", quant=SAME),
    "TRANSPOSE": Op(39, "TransposeOptions", version=V.transpose, quant=SAME),
    "PAD": Op(34, "PadOptions", version=V.pad, layout=PAD, quant=SAME),
    "PADV2": Op(60, "PadV2Options", version=V.pad, layout=PAD, quant=SAME),
    "MIRROR_PAD": Op(100, "MirrorPadOptions", version=V.by_type(2, int16=3), layout=PAD),
    "RESIZE_BILINEAR": Op(23, "ResizeBilinearOptions", version=V.resize_bilinear, quant=SAME,
                          int16=False),
    "RESIZE_NEAREST_NEIGHBOR": Op(97, "ResizeNearestNeighborOptions", version=V.resize_nearest,
                                  quant=SAME),
    "SLICE": Op(65, "SliceOptions", version=V.slice_, quant=SAME),
    "STRIDED_SLICE": Op(45, "StridedSliceOptions", version=V.strided_slice, quant=SAME),
    "SPLIT": Op(49, "SplitOptions", version=V.split, quant=SAME),
    "SPLIT_V": Op(102, "SplitVOptions", version=V.by_type(2), quant=SAME),
    "GATHER": Op(36, "GatherOptions", version=V.gather, quant=SAME, int16=False),
    "GATHER_ND": Op(107, "GatherNdOptions", version=V.gather_nd),
    "DEPTH_TO_SPACE": Op(5, "DepthToSpaceOptions", version=V.by_type(2), quant=SAME),
    "SPACE_TO_DEPTH": Op(26, "SpaceToDepthOptions", version=V.by_type(2), quant=SAME),
    "SPACE_TO_BATCH_ND": Op(38, "SpaceToBatchNDOptions", version=V.space_batch, quant=SAME),
    "BATCH_TO_SPACE_ND": Op(37, "BatchToSpaceNDOptions", version=V.space_batch, quant=SAME),
    "CAST": Op(53, "CastOptions", version=V.cast, layout=UNARY),
    "QUANTIZE": Op(114, "QuantizeOptions", version=V.quantize),
    "DEQUANTIZE": Op(6, "DequantizeOptions", version=V.dequantize),
    "FLOOR": Op(8, None, layout=UNARY),
    "CEIL": Op(104, None, layout=UNARY),
    "ROUND": Op(116, None, layout=UNARY),
    "SIN": Op(66, None, layout=UNARY),
    "COS": Op(108, "CosOptions", layout=UNARY),
    "SQUARE": Op(92, "SquareOptions", layout=UNARY),
    "SIGN": Op(158, "SignOptions", version=V.by_input({"int32": 2}), layout=UNARY),
    "ATAN2": Op(156, "ATan2Options"),
    "TILE": Op(69, "TileOptions", version=V.by_input({"int8": 3}), quant=SAME),
    "BROADCAST_TO": Op(130, "BroadcastToOptions",
                       version=V.by_input({"int8": 3, "int16": 3}, default=2), quant=SAME),
    "ARG_MAX": Op(56, "ArgMaxOptions", version=V.arg_max_min, quant=FREE, int16=False),
    "ARG_MIN": Op(79, "ArgMinOptions", version=V.arg_max_min, quant=FREE, int16=False),
    "PACK": Op(83, "PackOptions", version=V.pack, quant=SAME),
    "UNPACK": Op(88, "UnpackOptions", version=V.unpack, quant=SAME),
    "L2_NORMALIZATION": Op(11, "L2NormOptions", version=V.by_output({"int8": 2})),
    "LOCAL_RESPONSE_NORMALIZATION": Op(13, "LocalResponseNormalizationOptions"),
    "VAR_HANDLE": Op(142, "VarHandleOptions"),
    "READ_VARIABLE": Op(143, "ReadVariableOptions"),
    "ASSIGN_VARIABLE": Op(144, "AssignVariableOptions"),
    "CALL_ONCE": Op(129, "CallOnceOptions"),
    "SELECT": Op(64, "SelectOptions", version=V.select),
    "SELECT_V2": Op(123, "SelectV2Options", version=V.by_input({"uint32": 2}), layout=BINARY),
    "EQUAL": Op(71, "EqualOptions", version=V.by_type(2, int16=4), layout=BINARY),
    "NOT_EQUAL": Op(72, "NotEqualOptions", version=V.by_type(2), layout=BINARY),
    "LESS": Op(58, "LessOptions", version=V.by_type(2, int16=3), layout=BINARY),
    "LESS_EQUAL": Op(63, "LessEqualOptions", version=V.by_type(2), layout=BINARY),
    "GREATER": Op(61, "GreaterOptions", version=V.by_type(2), layout=BINARY),
    "GREATER_EQUAL": Op(62, "GreaterEqualOptions", version=V.by_type(2, int16=3), layout=BINARY),
    "WHERE": Op(109, "WhereOptions", version=V.by_input({"bool": 1}, default=2)),
    "ZEROS_LIKE": Op(93, "ZerosLikeOptions", layout=UNARY),
    "FILL": Op(94, "FillOptions", version=V.fill),
    "SHAPE": Op(77, "ShapeOptions"),
    "RANK": Op(110, "RankOptions"),
    "RANGE": Op(96, "RangeOptions", version=V.by_input({"int64": 2})),
    "LOGICAL_AND": Op(86, "LogicalAndOptions", layout=BINARY),
    "LOGICAL_OR": Op(84, "LogicalOrOptions", layout=BINARY),
    "LOGICAL_NOT": Op(87, "LogicalNotOptions", layout=UNARY),
    "ONE_HOT": Op(85, "OneHotOptions"),
    "CUMSUM": Op(128, "CumsumOptions"),
    "REVERSE_V2": Op(105, "ReverseV2Options", version=V.by_input({"int8": 3, "bool": 2})),
    "TOPK_V2": Op(48, "TopKV2Options"),
    "SCATTER_ND": Op(122, "ScatterNdOptions"),
    "DYNAMIC_UPDATE_SLICE": Op(151, "DynamicUpdateSliceOptions"),
    "UNIQUE": Op(103, "UniqueOptions"),
    "REVERSE_SEQUENCE": Op(112, "ReverseSequenceOptions"),
    "BUCKETIZE": Op(147, "BucketizeOptions"),
    "RFFT2D": Op(131, "Rfft2dOptions"),
    "SVDF": Op(27, "SVDFOptions"),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": Op(44, "UnidirectionalSequenceLSTMOptions"),
    "IF": Op(118, "IfOptions"),
    "WHILE": Op(119, "WhileOptions"),
    "EMBEDDING_LOOKUP": Op(7, None),
    "BROADCAST_ARGS": Op(145, None),
    "DENSIFY": Op(124, "DensifyOptions"),
}


def with_layout(family: str) -> frozenset[str]:
    """The ops the layout pass treats as ``family`` (UNARY, BINARY, REDUCE, PAD, LAST_AXIS)."""
    return frozenset(n for n, o in OPS.items() if o.layout == family)


def with_quant(kind: str) -> frozenset[str]:
    """The ops whose int8 parameters are chosen as ``kind`` (WEIGHTS, SAME, FREE, FIXED)."""
    return frozenset(n for n, o in OPS.items() if o.quant == kind)
