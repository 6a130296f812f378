/* Optimized PAD / PADV2 (any element type): whole runs of bytes instead of one element at a
 * time. Trailing dimensions without padding merge into one contiguous block. */
#include <string.h>

#include "el_opt.h"

typedef struct {
    int32_t last; /* innermost padded dimension */
    size_t elem;
    size_t inner; /* bytes of one element of dimension `last` (merged trailing dims) */
    const int32_t *dims, *before, *after;
    size_t out_block[EL_NN_MAX_RANK]; /* output bytes of one index of each dimension */
    size_t in_block[EL_NN_MAX_RANK];
    const unsigned char *value;
    int bytewise; /* the value is one byte repeated (int8, or 0.0f): memset fills */
} pad_plan;

static unsigned char *fill(const pad_plan *pl, unsigned char *o, size_t bytes)
{
    size_t i;
    if (pl->bytewise) {
        memset(o, pl->value[0], bytes);
        return o + bytes;
    }
    for (i = 0; i < bytes; i += pl->elem) {
        memcpy(o + i, pl->value, pl->elem);
    }
    return o + bytes;
}

static unsigned char *pad_dim(const pad_plan *pl, int32_t d, const unsigned char *src,
                              unsigned char *o)
{
    int32_t i;
    o = fill(pl, o, (size_t)pl->before[d] * pl->out_block[d]);
    if (d == pl->last) {
        const size_t n = (size_t)pl->dims[d] * pl->inner;
        memcpy(o, src, n);
        o += n;
    } else {
        for (i = 0; i < pl->dims[d]; ++i) {
            o = pad_dim(pl, d + 1, src + (size_t)i * pl->in_block[d], o);
        }
    }
    return fill(pl, o, (size_t)pl->after[d] * pl->out_block[d]);
}

int el_opt_pad(uint32_t isa, size_t elem, const el_shape *in_shape, const int32_t *pad_before,
               const int32_t *pad_after, const void *pad_value, const void *in, void *out)
{
    pad_plan pl;
    int32_t d;
    size_t inner = elem, in_b, out_b;
    if (!(isa & EL_OPT_ON) || elem == 0 || in_shape->rank < 1 || in_shape->rank > EL_NN_MAX_RANK) {
        return 0;
    }
    for (d = 0; d < in_shape->rank; ++d) {
        if (pad_before[d] < 0 || pad_after[d] < 0 || in_shape->d[d] < 0) {
            return 0;
        }
    }
    d = in_shape->rank - 1;
    while (d >= 0 && pad_before[d] == 0 && pad_after[d] == 0) {
        inner *= (size_t)in_shape->d[d];
        --d;
    }
    if (d < 0) {
        memcpy(out, in, inner);
        return 1;
    }
    pl.last = d;
    pl.elem = elem;
    pl.inner = inner;
    pl.dims = in_shape->d;
    pl.before = pad_before;
    pl.after = pad_after;
    pl.value = (const unsigned char *)pad_value;
    /* channel padding (MediaPipe's 8 -> 16 channels) fills a few elements per pixel: one
     * memset instead of a copy per element (64x64 pixels took 196 us, now a tenth of it) */
    pl.bytewise = 1;
    for (in_b = 1; in_b < elem; ++in_b) {
        pl.bytewise &= pl.value[in_b] == pl.value[0];
    }
    in_b = inner;
    out_b = inner;
    for (; d >= 0; --d) {
        pl.in_block[d] = in_b;
        pl.out_block[d] = out_b;
        in_b *= (size_t)in_shape->d[d];
        out_b *= (size_t)(pad_before[d] + in_shape->d[d] + pad_after[d]);
    }
    if (in_b == 0) {
        return 0; /* an empty input: let the reference handle the degenerate shape */
    }
    pad_dim(&pl, 0, (const unsigned char *)in, (unsigned char *)out);
    return 1;
}
