/* Sparse weights (TFLite SparsityParameters, see el_sparsity in src/el_kernel.h): a walker
 * over the stored values, DENSIFY, and FULLY_CONNECTED / CONV_2D / DEPTHWISE_CONV_2D reading
 * sparse int8 or float weights straight from the model (no dense copy anywhere).
 *
 * The sparse kernels take the weights one output channel ("row") at a time, so the row
 * dimension (0 for FULLY_CONNECTED and CONV_2D, 3 for DEPTHWISE_CONV_2D) must be the
 * outermost level, DENSE and not blocked; the other levels may be anything the format allows.
 * Integer results equal the dense kernels' bit for bit (integer sums do not depend on the
 * order); float sums follow the stored order, which is the dense kernels' order whenever the
 * remaining dimensions are stored in their natural order (as edgelite writes them). */
#ifndef EL_SPARSE_H
#define EL_SPARSE_H

#include "el_kcommon.h"

typedef struct el_sparse_iter {
    const el_sparsity *sp;
    int32_t top;                         /* deepest fixed level (-1: none) */
    uint32_t pos[EL_SPARSE_MAX_LEVELS];  /* per level: current position */
    uint32_t end[EL_SPARSE_MAX_LEVELS];  /* per level: end of its range */
    int32_t coord[EL_SPARSE_MAX_LEVELS]; /* per expanded dimension */
} el_sparse_iter;

/* First stored value of row `row` (level 0 fixed); 0 when the row stores nothing. */
int el_sparse_row_begin(el_sparse_iter *it, const el_sparsity *sp, int32_t row);
/* First stored value of the whole tensor; 0 when it stores nothing. */
int el_sparse_begin(el_sparse_iter *it, const el_sparsity *sp);
/* Next stored value; 0 at the end (of the row, or of the tensor). */
int el_sparse_next(el_sparse_iter *it);

/* Index of the current value in the stored values. */
static inline uint32_t el_sparse_value(const el_sparse_iter *it)
{
    return it->pos[it->sp->n_levels - 1];
}
/* Coordinate of the current value along original dimension d. */
static inline int32_t el_sparse_coord(const el_sparse_iter *it, int32_t d)
{
    const el_sparsity *sp = it->sp;
    int32_t c = it->coord[d] * sp->block_size[d];
    if (sp->block_level[d] >= 0) {
        c += it->coord[sp->block_level[d]];
    }
    return c;
}

/* The sparse invokes (the op's own prepare has run: same op data as the dense kernel). */
el_status el_sparse_fully_connected(el_context *ctx, el_node *node, const el_fc_params *p,
                                    const el_pc_quant *q, int per_channel, int32_t batches,
                                    int32_t depth, int32_t units);
el_status el_sparse_conv(el_context *ctx, el_node *node, const el_conv_params *p,
                         const el_pc_quant *q, const el_dims *in_dims, const el_dims *f_dims,
                         const el_dims *out_dims, int depthwise);

#endif
