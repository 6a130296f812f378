/* Dtype-agnostic data movement: copies of element-size blocks, no arithmetic. */
#include <string.h>

#include "../el_nn.h"

void el_copy_bytes(size_t n, const void *in, void *out)
{
    if (in != out) {
        memmove(out, in, n);
    }
}

void el_concat(int32_t n_inputs, int32_t outer, const size_t *inner_bytes,
               const void *const *inputs, void *out)
{
    unsigned char *o = (unsigned char *)out;
    int32_t k, i;
    for (k = 0; k < outer; ++k) {
        for (i = 0; i < n_inputs; ++i) {
            const unsigned char *src =
                (const unsigned char *)inputs[i] + (size_t)k * inner_bytes[i];
            memcpy(o, src, inner_bytes[i]);
            o += inner_bytes[i];
        }
    }
}

void el_split(int32_t n_outputs, int32_t outer, const size_t *inner_bytes, const void *in,
              void *const *outputs)
{
    const unsigned char *s = (const unsigned char *)in;
    int32_t k, i;
    for (k = 0; k < outer; ++k) {
        for (i = 0; i < n_outputs; ++i) {
            memcpy((unsigned char *)outputs[i] + (size_t)k * inner_bytes[i], s, inner_bytes[i]);
            s += inner_bytes[i];
        }
    }
}

/* Row-major strides in elements of a shape of rank EL_NN_MAX_RANK. */
static void strides_of(const el_shape *s, size_t *st)
{
    size_t a = 1;
    int32_t i;
    for (i = s->rank - 1; i >= 0; --i) {
        st[i] = a;
        a *= (size_t)s->d[i];
    }
}

static int slice_more(int32_t i, int32_t stop, int32_t stride)
{
    return stride > 0 ? i < stop : i > stop;
}

void el_strided_slice(const el_slice_params *p, size_t elem, const el_shape *in_shape,
                      const void *in, void *out)
{
    size_t st[EL_NN_MAX_RANK];
    int32_t idx[EL_NN_MAX_RANK], last[EL_NN_MAX_RANK];
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    const int32_t r = in_shape->rank;
    int32_t d;
    strides_of(in_shape, st);
    for (d = 0; d < r; ++d) {
        const int32_t start = p->start[d], stop = p->stop[d], stride = p->stride[d];
        uint32_t span, step;
        if (!slice_more(start, stop, stride)) {
            return; /* empty */
        }
        /* The last index the slice reaches, so the walk below never forms an index past it
         * (start + stride may leave int32 for strides near INT32_MAX). In uint32: prepare
         * clamps start and stop to [-1, dim], so span and (n - 1) * step stay below 2^31. */
        span = stride > 0 ? (uint32_t)stop - (uint32_t)start : (uint32_t)start - (uint32_t)stop;
        step = stride > 0 ? (uint32_t)stride : 0u - (uint32_t)stride;
        step = (span - 1u) / step * step;
        last[d] = stride > 0 ? start + (int32_t)step : start - (int32_t)step;
        idx[d] = start;
    }
    for (;;) {
        size_t off = 0;
        for (d = 0; d < r; ++d) {
            off += (size_t)idx[d] * st[d];
        }
        memcpy(o, src + off * elem, elem);
        o += elem;
        for (d = r - 1; d >= 0; --d) {
            if (idx[d] != last[d]) {
                idx[d] += p->stride[d];
                break;
            }
            idx[d] = p->start[d];
        }
        if (d < 0) {
            return;
        }
    }
}

void el_pad(size_t elem, const el_shape *in_shape, const int32_t *pad_before,
            const int32_t *pad_after, const void *pad_value, const void *in, void *out)
{
    el_shape os;
    size_t st[EL_NN_MAX_RANK];
    int32_t idx[EL_NN_MAX_RANK];
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    const int32_t r = in_shape->rank;
    int32_t d;
    os.rank = r;
    for (d = 0; d < r; ++d) {
        os.d[d] = pad_before[d] + in_shape->d[d] + pad_after[d];
        idx[d] = 0;
    }
    strides_of(in_shape, st);
    for (;;) {
        int inside = 1;
        size_t off = 0;
        for (d = 0; d < r; ++d) {
            const int32_t i = idx[d] - pad_before[d];
            if (i < 0 || i >= in_shape->d[d]) {
                inside = 0;
                break;
            }
            off += (size_t)i * st[d];
        }
        memcpy(o, inside ? src + off * elem : (const unsigned char *)pad_value, elem);
        o += elem;
        for (d = r - 1; d >= 0; --d) {
            if (++idx[d] < os.d[d]) {
                break;
            }
            idx[d] = 0;
        }
        if (d < 0) {
            return;
        }
    }
}

void el_transpose(size_t elem, const el_shape *in_shape, const int32_t *perm, const void *in,
                  void *out)
{
    size_t st[EL_NN_MAX_RANK];
    int32_t idx[EL_NN_MAX_RANK], od[EL_NN_MAX_RANK];
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    const int32_t r = in_shape->rank;
    int32_t d;
    strides_of(in_shape, st);
    for (d = 0; d < r; ++d) {
        od[d] = in_shape->d[perm[d]];
        idx[d] = 0;
    }
    for (;;) {
        size_t off = 0;
        for (d = 0; d < r; ++d) {
            off += (size_t)idx[d] * st[perm[d]];
        }
        memcpy(o, src + off * elem, elem);
        o += elem;
        for (d = r - 1; d >= 0; --d) {
            if (++idx[d] < od[d]) {
                break;
            }
            idx[d] = 0;
        }
        if (d < 0) {
            return;
        }
    }
}

void el_gather(size_t elem, int32_t outer, int32_t axis_size, int32_t inner, const int32_t *indices,
               int32_t n_indices, const void *in, void *out)
{
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    const size_t block = (size_t)inner * elem;
    int32_t k, i;
    for (k = 0; k < outer; ++k) {
        for (i = 0; i < n_indices; ++i) {
            memcpy(o, src + ((size_t)k * axis_size + (size_t)indices[i]) * block, block);
            o += block;
        }
    }
}

void el_depth_to_space(size_t elem, int32_t block, const el_dims *in_dims, const void *in,
                       const el_dims *out_dims, void *out)
{
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    int32_t b, oy, ox;
    for (b = 0; b < out_dims->n; ++b) {
        for (oy = 0; oy < out_dims->h; ++oy) {
            for (ox = 0; ox < out_dims->w; ++ox) {
                const int32_t iy = oy / block, ix = ox / block;
                const int32_t ic0 = ((oy % block) * block + (ox % block)) * out_dims->c;
                const size_t off =
                    (((size_t)b * in_dims->h + iy) * in_dims->w + ix) * in_dims->c + ic0;
                memcpy(o, src + off * elem, (size_t)out_dims->c * elem);
                o += (size_t)out_dims->c * elem;
            }
        }
    }
}

void el_space_to_depth(size_t elem, int32_t block, const el_dims *in_dims, const void *in,
                       const el_dims *out_dims, void *out)
{
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    int32_t b, iy, ix;
    for (b = 0; b < in_dims->n; ++b) {
        for (iy = 0; iy < in_dims->h; ++iy) {
            for (ix = 0; ix < in_dims->w; ++ix) {
                const int32_t oy = iy / block, ox = ix / block;
                const int32_t oc0 = ((iy % block) * block + (ix % block)) * in_dims->c;
                const size_t off =
                    (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * out_dims->c + oc0;
                memcpy(o + off * elem, src, (size_t)in_dims->c * elem);
                src += (size_t)in_dims->c * elem;
            }
        }
    }
}

void el_space_to_batch(size_t elem, int32_t bh, int32_t bw, int32_t pad_top, int32_t pad_left,
                       const void *pad_value, const el_dims *in_dims, const void *in,
                       const el_dims *out_dims, void *out)
{
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    const size_t depth = (size_t)out_dims->c * elem;
    int32_t ob, oy, ox, c;
    for (ob = 0; ob < out_dims->n; ++ob) {
        const int32_t ib = ob % in_dims->n;
        const int32_t shift_w = (ob / in_dims->n) % bw;
        const int32_t shift_h = (ob / in_dims->n) / bw;
        for (oy = 0; oy < out_dims->h; ++oy) {
            const int32_t iy = oy * bh + shift_h - pad_top;
            for (ox = 0; ox < out_dims->w; ++ox) {
                const int32_t ix = ox * bw + shift_w - pad_left;
                if (iy < 0 || iy >= in_dims->h || ix < 0 || ix >= in_dims->w) {
                    for (c = 0; c < out_dims->c; ++c) {
                        memcpy(o + (size_t)c * elem, pad_value, elem);
                    }
                } else {
                    memcpy(o, src + (((size_t)ib * in_dims->h + iy) * in_dims->w + ix) * depth,
                           depth);
                }
                o += depth;
            }
        }
    }
}

void el_batch_to_space(size_t elem, int32_t bh, int32_t bw, int32_t crop_top, int32_t crop_left,
                       const el_dims *in_dims, const void *in, const el_dims *out_dims, void *out)
{
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    const size_t depth = (size_t)in_dims->c * elem;
    int32_t ib, iy, ix;
    for (ib = 0; ib < in_dims->n; ++ib) {
        const int32_t ob = ib % out_dims->n;
        const int32_t off = ib / out_dims->n;
        const int32_t off_h = off / bw, off_w = off % bw;
        for (iy = 0; iy < in_dims->h; ++iy) {
            const int32_t oy = iy * bh + off_h - crop_top;
            if (oy < 0 || oy >= out_dims->h) {
                continue;
            }
            for (ix = 0; ix < in_dims->w; ++ix) {
                const int32_t ox = ix * bw + off_w - crop_left;
                if (ox < 0 || ox >= out_dims->w) {
                    continue;
                }
                memcpy(o + (((size_t)ob * out_dims->h + oy) * out_dims->w + ox) * depth,
                       src + (((size_t)ib * in_dims->h + iy) * in_dims->w + ix) * depth, depth);
            }
        }
    }
}
