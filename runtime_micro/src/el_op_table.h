/* Every TFLite builtin operator runtime_micro knows, one X-macro row each: the op enum
 * (el_ops.h), its name (el_ops.c), its options parser entry (el_options.c) and its kernel
 * registration (kernels/el_kernels.c) all expand this one table, so adding an op is one row
 * here plus its kernel and, if it has options, its field specs in el_options.c.
 *
 * Row kinds (the consumer defines all four macros):
 *   KOPT(NAME, code, kernel, options_type, options_struct, field_specs)
 *        a kernel in the kernel table (el_kernel_<kernel>) and options read into a struct
 *   KOP(NAME, code, kernel)   a kernel, no options used
 *   OPT(NAME, code, options_type, options_struct, field_specs)
 *        options read, the kernel is the interpreter's own (el_control.c) or absent
 *   OP(NAME, code)            known by name only (refused as unsupported, named in messages)
 * code: the BuiltinOperator value; options_type: the BuiltinOptions union member number (both
 * TFLite schema facts). Codes run from 0 without gaps (el_op_name indexes by code). */
#ifndef EL_OP_TABLE_H
#define EL_OP_TABLE_H

#define EL_OP_TABLE(KOPT, KOP, OPT, OP)                                                            \
    KOPT(ADD, 0, add, 11, el_arith_options, k_addsub)                                              \
    KOPT(AVERAGE_POOL_2D, 1, average_pool_2d, 5, el_pool_options, k_pool)                          \
    KOPT(CONCATENATION, 2, concatenation, 10, el_concat_options, k_concat)                         \
    KOPT(CONV_2D, 3, conv_2d, 1, el_conv_options, k_conv)                                          \
    KOPT(DEPTHWISE_CONV_2D, 4, depthwise_conv_2d, 2, el_depthwise_options, k_dw)                   \
    KOPT(DEPTH_TO_SPACE, 5, depth_to_space, 94, el_block_options, k_block)                         \
    KOP(DEQUANTIZE, 6, dequantize)                                                                 \
    OP(EMBEDDING_LOOKUP, 7)                                                                        \
    KOP(FLOOR, 8, floor)                                                                           \
    KOPT(FULLY_CONNECTED, 9, fully_connected, 8, el_fc_options, k_fc)                              \
    OP(HASHTABLE_LOOKUP, 10)                                                                       \
    KOPT(L2_NORMALIZATION, 11, l2_normalization, 12, el_arith_options, k_l2norm)                   \
    KOPT(L2_POOL_2D, 12, l2_pool_2d, 5, el_pool_options, k_pool)                                   \
    KOPT(LOCAL_RESPONSE_NORMALIZATION, 13, local_response_normalization, 13, el_lrn_options,       \
         k_lrn)                                                                                    \
    KOP(LOGISTIC, 14, logistic)                                                                    \
    OP(LSH_PROJECTION, 15)                                                                         \
    OP(LSTM, 16)                                                                                   \
    KOPT(MAX_POOL_2D, 17, max_pool_2d, 5, el_pool_options, k_pool)                                 \
    KOPT(MUL, 18, mul, 21, el_arith_options, k_muldiv)                                             \
    KOP(RELU, 19, relu)                                                                            \
    KOP(RELU_N1_TO_1, 20, relu_n1_to_1)                                                            \
    KOP(RELU6, 21, relu6)                                                                          \
    KOPT(RESHAPE, 22, reshape, 17, el_reshape_options, k_reshape)                                  \
    KOPT(RESIZE_BILINEAR, 23, resize_bilinear, 15, el_resize_options, k_bilinear)                  \
    OP(RNN, 24)                                                                                    \
    KOPT(SOFTMAX, 25, softmax, 9, el_softmax_options, k_softmax)                                   \
    KOPT(SPACE_TO_DEPTH, 26, space_to_depth, 19, el_block_options, k_block)                        \
    OPT(SVDF, 27, 6, el_svdf_options, k_svdf)                                                      \
    KOP(TANH, 28, tanh)                                                                            \
    OP(CONCAT_EMBEDDINGS, 29)                                                                      \
    OP(SKIP_GRAM, 30)                                                                              \
    OP(CALL, 31)                                                                                   \
    OP(CUSTOM, 32)                                                                                 \
    OP(EMBEDDING_LOOKUP_SPARSE, 33)                                                                \
    KOP(PAD, 34, pad)                                                                              \
    OP(UNIDIRECTIONAL_SEQUENCE_RNN, 35)                                                            \
    KOPT(GATHER, 36, gather, 23, el_gather_options, k_gather)                                      \
    KOP(BATCH_TO_SPACE_ND, 37, batch_to_space_nd)                                                  \
    KOP(SPACE_TO_BATCH_ND, 38, space_to_batch_nd)                                                  \
    KOP(TRANSPOSE, 39, transpose)                                                                  \
    KOPT(MEAN, 40, mean, 27, el_reducer_options, k_reducer)                                        \
    KOPT(SUB, 41, sub, 28, el_arith_options, k_addsub)                                             \
    KOPT(DIV, 42, div, 29, el_arith_options, k_muldiv)                                             \
    KOPT(SQUEEZE, 43, squeeze, 30, el_squeeze_options, k_squeeze)                                  \
    OP(UNIDIRECTIONAL_SEQUENCE_LSTM, 44)                                                           \
    KOPT(STRIDED_SLICE, 45, strided_slice, 32, el_strided_slice_options, k_sslice)                 \
    OP(BIDIRECTIONAL_SEQUENCE_RNN, 46)                                                             \
    KOP(EXP, 47, exp)                                                                              \
    KOP(TOPK_V2, 48, topk_v2)                                                                      \
    KOPT(SPLIT, 49, split, 35, el_split_options, k_split)                                          \
    KOP(LOG_SOFTMAX, 50, log_softmax)                                                              \
    OP(DELEGATE, 51)                                                                               \
    OP(BIDIRECTIONAL_SEQUENCE_LSTM, 52)                                                            \
    KOPT(CAST, 53, cast, 37, el_cast_options, k_cast)                                              \
    KOP(PRELU, 54, prelu)                                                                          \
    KOP(MAXIMUM, 55, maximum)                                                                      \
    KOPT(ARG_MAX, 56, arg_max, 40, el_type_options, k_type)                                        \
    KOP(MINIMUM, 57, minimum)                                                                      \
    KOP(LESS, 58, less)                                                                            \
    KOP(NEG, 59, neg)                                                                              \
    KOP(PADV2, 60, padv2)                                                                          \
    KOP(GREATER, 61, greater)                                                                      \
    KOP(GREATER_EQUAL, 62, greater_equal)                                                          \
    KOP(LESS_EQUAL, 63, less_equal)                                                                \
    KOP(SELECT, 64, select)                                                                        \
    KOP(SLICE, 65, slice)                                                                          \
    KOP(SIN, 66, sin)                                                                              \
    KOPT(TRANSPOSE_CONV, 67, transpose_conv, 49, el_transpose_conv_options, k_tconv)               \
    OP(SPARSE_TO_DENSE, 68)                                                                        \
    KOP(TILE, 69, tile)                                                                            \
    KOP(EXPAND_DIMS, 70, expand_dims)                                                              \
    KOP(EQUAL, 71, equal)                                                                          \
    KOP(NOT_EQUAL, 72, not_equal)                                                                  \
    KOP(LOG, 73, log)                                                                              \
    KOPT(SUM, 74, sum, 27, el_reducer_options, k_reducer)                                          \
    KOP(SQRT, 75, sqrt)                                                                            \
    KOP(RSQRT, 76, rsqrt)                                                                          \
    KOPT(SHAPE, 77, shape, 55, el_type_options, k_type)                                            \
    KOP(POW, 78, pow)                                                                              \
    KOPT(ARG_MIN, 79, arg_min, 57, el_type_options, k_type)                                        \
    OP(FAKE_QUANT, 80)                                                                             \
    KOPT(REDUCE_PROD, 81, reduce_prod, 27, el_reducer_options, k_reducer)                          \
    KOPT(REDUCE_MAX, 82, reduce_max, 27, el_reducer_options, k_reducer)                            \
    KOPT(PACK, 83, pack, 59, el_pack_options, k_pack)                                              \
    KOP(LOGICAL_OR, 84, logical_or)                                                                \
    KOPT(ONE_HOT, 85, one_hot, 61, el_one_hot_options, k_one_hot)                                  \
    KOP(LOGICAL_AND, 86, logical_and)                                                              \
    KOP(LOGICAL_NOT, 87, logical_not)                                                              \
    KOPT(UNPACK, 88, unpack, 64, el_pack_options, k_pack)                                          \
    KOPT(REDUCE_MIN, 89, reduce_min, 27, el_reducer_options, k_reducer)                            \
    KOP(FLOOR_DIV, 90, floor_div)                                                                  \
    KOPT(REDUCE_ANY, 91, reduce_any, 27, el_reducer_options, k_reducer)                            \
    KOP(SQUARE, 92, square)                                                                        \
    KOP(ZEROS_LIKE, 93, zeros_like)                                                                \
    OP(FILL, 94)                                                                                   \
    KOP(FLOOR_MOD, 95, floor_mod)                                                                  \
    OP(RANGE, 96)                                                                                  \
    KOPT(RESIZE_NEAREST_NEIGHBOR, 97, resize_nearest_neighbor, 74, el_resize_options, k_nearest)   \
    KOPT(LEAKY_RELU, 98, leaky_relu, 75, el_leaky_relu_options, k_leaky)                           \
    KOP(SQUARED_DIFFERENCE, 99, squared_difference)                                                \
    KOPT(MIRROR_PAD, 100, mirror_pad, 77, el_mirror_pad_options, k_mirror)                         \
    KOP(ABS, 101, abs)                                                                             \
    KOPT(SPLIT_V, 102, split_v, 79, el_split_options, k_split)                                     \
    OP(UNIQUE, 103)                                                                                \
    KOP(CEIL, 104, ceil)                                                                           \
    KOP(REVERSE_V2, 105, reverse_v2)                                                               \
    OP(ADD_N, 106)                                                                                 \
    KOP(GATHER_ND, 107, gather_nd)                                                                 \
    KOP(COS, 108, cos)                                                                             \
    OP(WHERE, 109)                                                                                 \
    OP(RANK, 110)                                                                                  \
    KOP(ELU, 111, elu)                                                                             \
    OP(REVERSE_SEQUENCE, 112)                                                                      \
    OP(MATRIX_DIAG, 113)                                                                           \
    KOP(QUANTIZE, 114, quantize)                                                                   \
    OP(MATRIX_SET_DIAG, 115)                                                                       \
    KOP(ROUND, 116, round)                                                                         \
    KOP(HARD_SWISH, 117, hard_swish)                                                               \
    OPT(IF, 118, 92, el_if_options, k_if)                                                          \
    OPT(WHILE, 119, 93, el_while_options, k_while)                                                 \
    OP(NON_MAX_SUPPRESSION_V4, 120)                                                                \
    OP(NON_MAX_SUPPRESSION_V5, 121)                                                                \
    OP(SCATTER_ND, 122)                                                                            \
    KOP(SELECT_V2, 123, select_v2)                                                                 \
    KOP(DENSIFY, 124, densify)                                                                     \
    OP(SEGMENT_SUM, 125)                                                                           \
    KOPT(BATCH_MATMUL, 126, batch_matmul, 101, el_batch_matmul_options, k_bmm)                     \
    OP(PLACEHOLDER_FOR_GREATER_OP_CODES, 127)                                                      \
    KOPT(CUMSUM, 128, cumsum, 102, el_cumsum_options, k_cumsum)                                    \
    OPT(CALL_ONCE, 129, 103, el_call_once_options, k_call_once)                                    \
    KOP(BROADCAST_TO, 130, broadcast_to)                                                           \
    OP(RFFT2D, 131)                                                                                \
    OP(CONV_3D, 132)                                                                               \
    OP(IMAG, 133)                                                                                  \
    OP(REAL, 134)                                                                                  \
    OP(COMPLEX_ABS, 135)                                                                           \
    OP(HASHTABLE, 136)                                                                             \
    OP(HASHTABLE_FIND, 137)                                                                        \
    OP(HASHTABLE_IMPORT, 138)                                                                      \
    OP(HASHTABLE_SIZE, 139)                                                                        \
    KOPT(REDUCE_ALL, 140, reduce_all, 27, el_reducer_options, k_reducer)                           \
    OP(CONV_3D_TRANSPOSE, 141)                                                                     \
    OPT(VAR_HANDLE, 142, 111, el_var_handle_options, k_var_handle)                                 \
    OP(READ_VARIABLE, 143)                                                                         \
    OP(ASSIGN_VARIABLE, 144)                                                                       \
    OP(BROADCAST_ARGS, 145)                                                                        \
    OP(RANDOM_STANDARD_NORMAL, 146)                                                                \
    OP(BUCKETIZE, 147)                                                                             \
    OP(RANDOM_UNIFORM, 148)                                                                        \
    OP(MULTINOMIAL, 149)                                                                           \
    KOPT(GELU, 150, gelu, 116, el_gelu_options, k_gelu)                                            \
    OP(DYNAMIC_UPDATE_SLICE, 151)                                                                  \
    KOP(RELU_0_TO_1, 152, relu_0_to_1)                                                             \
    OP(UNSORTED_SEGMENT_PROD, 153)                                                                 \
    OP(UNSORTED_SEGMENT_MAX, 154)                                                                  \
    OP(UNSORTED_SEGMENT_SUM, 155)                                                                  \
    KOP(ATAN2, 156, atan2)                                                                         \
    OP(UNSORTED_SEGMENT_MIN, 157)                                                                  \
    KOP(SIGN, 158, sign)                                                                           \
    OP(BITCAST, 159)                                                                               \
    OP(BITWISE_XOR, 160)                                                                           \
    OP(RIGHT_SHIFT, 161)

#endif /* EL_OP_TABLE_H */
