/* Comparisons, SELECT_V2, index remapping (TILE, BROADCAST_TO, MIRROR_PAD, REVERSE_V2) and
 * ARG_MAX/ARG_MIN. No arithmetic on the data beyond comparisons. */
#include <string.h>

#include "../el_nn.h"

/* Multi-index walker over an output shape with per-input strides (0 on broadcast dims). */
typedef struct {
    int32_t rank;
    int32_t dims[EL_NN_MAX_RANK];
    int32_t idx[EL_NN_MAX_RANK];
    size_t st[3][EL_NN_MAX_RANK];
    size_t off[3];
} walk3;

static void walk_init(walk3 *w, const el_shape *so, const el_shape *const *ins, int32_t n)
{
    int32_t d, k;
    w->rank = so->rank;
    for (k = 0; k < 3; ++k) {
        size_t a = 1;
        w->off[k] = 0;
        for (d = so->rank - 1; d >= 0; --d) {
            if (k < n) {
                w->st[k][d] = ins[k]->d[d] == 1 ? 0 : a;
                a *= (size_t)ins[k]->d[d];
            } else {
                w->st[k][d] = 0;
            }
        }
    }
    for (d = 0; d < so->rank; ++d) {
        w->dims[d] = so->d[d];
        w->idx[d] = 0;
    }
}

static void walk_next(walk3 *w)
{
    int32_t d, k;
    for (d = w->rank - 1; d >= 0; --d) {
        for (k = 0; k < 3; ++k) {
            w->off[k] += w->st[k][d];
        }
        if (++w->idx[d] < w->dims[d]) {
            return;
        }
        for (k = 0; k < 3; ++k) {
            w->off[k] -= w->st[k][d] * (size_t)w->dims[d];
        }
        w->idx[d] = 0;
    }
}

static size_t count(const el_shape *s)
{
    size_t n = 1;
    int32_t d;
    for (d = 0; d < s->rank; ++d) {
        n *= (size_t)s->d[d];
    }
    return n;
}

/* Exact for every kind: integers compare as int64, floats as double. */
static int is_float(el_kind k)
{
    return k == EL_K_F32;
}

static int64_t get_i(el_kind k, const void *p, size_t i)
{
    switch (k) {
    case EL_K_S32:
        return ((const int32_t *)p)[i];
    case EL_K_S64:
        return ((const int64_t *)p)[i];
    case EL_K_S8:
        return ((const int8_t *)p)[i];
    case EL_K_S16:
        return ((const int16_t *)p)[i];
    default:
        return ((const uint8_t *)p)[i];
    }
}

static int cmp_result(el_compare_op op, int lt, int eq)
{
    switch (op) {
    case EL_CMP_LESS:
        return lt;
    case EL_CMP_LESS_EQUAL:
        return lt || eq;
    case EL_CMP_GREATER:
        return !lt && !eq;
    case EL_CMP_GREATER_EQUAL:
        return !lt;
    case EL_CMP_EQUAL:
        return eq;
    default:
        return !eq;
    }
}

void el_compare(el_compare_op op, el_kind kind, const el_shape *s1, const void *in1,
                const el_shape *s2, const void *in2, const el_shape *so, uint8_t *out)
{
    const el_shape *ins[2];
    walk3 w;
    size_t n = count(so), i;
    ins[0] = s1;
    ins[1] = s2;
    walk_init(&w, so, ins, 2);
    for (i = 0; i < n; ++i) {
        int r;
        if (op == EL_LOGIC_AND || op == EL_LOGIC_OR) {
            const int a = ((const uint8_t *)in1)[w.off[0]] != 0;
            const int b = ((const uint8_t *)in2)[w.off[1]] != 0;
            r = op == EL_LOGIC_AND ? (a && b) : (a || b);
        } else if (is_float(kind)) {
            const float a = ((const float *)in1)[w.off[0]], b = ((const float *)in2)[w.off[1]];
            /* NaN: every ordered comparison false, NOT_EQUAL true (IEEE, as C++) */
            if (a != a || b != b) {
                r = op == EL_CMP_NOT_EQUAL;
            } else {
                r = cmp_result(op, a < b, a == b);
            }
        } else {
            const int64_t a = get_i(kind, in1, w.off[0]), b = get_i(kind, in2, w.off[1]);
            r = cmp_result(op, a < b, a == b);
        }
        out[i] = (uint8_t)r;
        walk_next(&w);
    }
}

void el_select(size_t elem, const el_shape *sc, const uint8_t *cond, const el_shape *s1,
               const void *in1, const el_shape *s2, const void *in2, const el_shape *so, void *out)
{
    const el_shape *ins[3];
    walk3 w;
    size_t n = count(so), i;
    unsigned char *o = (unsigned char *)out;
    ins[0] = sc;
    ins[1] = s1;
    ins[2] = s2;
    walk_init(&w, so, ins, 3);
    for (i = 0; i < n; ++i) {
        const unsigned char *src = cond[w.off[0]] ? (const unsigned char *)in1 + w.off[1] * elem
                                                  : (const unsigned char *)in2 + w.off[2] * elem;
        memcpy(o + i * elem, src, elem);
        walk_next(&w);
    }
}

static int32_t map_index(const el_map_dim *m, int32_t o, int32_t n)
{
    int32_t i;
    switch (m->kind) {
    case EL_MAP_REVERSE:
        return n - 1 - o;
    case EL_MAP_REFLECT:
        i = o - m->before;
        return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i);
    case EL_MAP_SYMMETRIC:
        i = o - m->before;
        return i < 0 ? -i - 1 : (i >= n ? 2 * n - 1 - i : i);
    default:
        return o % n;
    }
}

void el_remap(size_t elem, const el_shape *in_shape, const el_shape *out_shape,
              const el_map_dim *map, const void *in, void *out)
{
    size_t st[EL_NN_MAX_RANK], a = 1, n = count(out_shape), i;
    int32_t idx[EL_NN_MAX_RANK], d;
    const int32_t r = out_shape->rank;
    unsigned char *o = (unsigned char *)out;
    for (d = r - 1; d >= 0; --d) {
        st[d] = a;
        a *= (size_t)in_shape->d[d];
        idx[d] = 0;
    }
    for (i = 0; i < n; ++i) {
        size_t off = 0;
        for (d = 0; d < r; ++d) {
            off += (size_t)map_index(&map[d], idx[d], in_shape->d[d]) * st[d];
        }
        memcpy(o + i * elem, (const unsigned char *)in + off * elem, elem);
        for (d = r - 1; d >= 0; --d) {
            if (++idx[d] < out_shape->d[d]) {
                break;
            }
            idx[d] = 0;
        }
    }
}

void el_arg_minmax(int is_max, el_kind kind, int32_t outer, int32_t axis_size, int32_t inner,
                   const void *in, int out_is_64, void *out)
{
    int32_t o, k, j;
    for (o = 0; o < outer; ++o) {
        for (j = 0; j < inner; ++j) {
            const size_t base = (size_t)o * axis_size * inner + (size_t)j;
            int32_t best = 0;
            for (k = 1; k < axis_size; ++k) {
                const size_t a = base + (size_t)k * inner, b = base + (size_t)best * inner;
                int better;
                if (is_float(kind)) {
                    const float x = ((const float *)in)[a], y = ((const float *)in)[b];
                    better = is_max ? x > y : x < y;
                } else {
                    const int64_t x = get_i(kind, in, a), y = get_i(kind, in, b);
                    better = is_max ? x > y : x < y;
                }
                if (better) {
                    best = k;
                }
            }
            if (out_is_64) {
                ((int64_t *)out)[(size_t)o * inner + j] = best;
            } else {
                ((int32_t *)out)[(size_t)o * inner + j] = best;
            }
        }
    }
}
