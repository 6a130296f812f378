/* Reference reductions (MEAN, SUM, REDUCE_MAX) over any set of axes. int8 MEAN/SUM follow
 * TFLite's QuantizedMeanOrSum: integer sum, then one requantize with the element count
 * folded into the multiplier. */
#include "../el_nn.h"
#include "../el_quant.h"

/* Output offset of the input element at flat position i: walks the input row-major and
 * keeps the offset in the (kept-dims) output. */
typedef struct {
    int32_t rank;
    int32_t dims[EL_NN_MAX_RANK];
    size_t ost[EL_NN_MAX_RANK];
    int32_t idx[EL_NN_MAX_RANK];
    size_t off;
} red_iter;

static size_t red_init(red_iter *it, const el_shape *s, int32_t mask)
{
    size_t a = 1, n = 1;
    int32_t i;
    it->rank = s->rank;
    for (i = s->rank - 1; i >= 0; --i) {
        it->dims[i] = s->d[i];
        it->idx[i] = 0;
        if (mask & (1 << i)) {
            it->ost[i] = 0;
        } else {
            it->ost[i] = a;
            a *= (size_t)s->d[i];
        }
        n *= (size_t)s->d[i];
    }
    it->off = 0;
    return n;
}

static void red_next(red_iter *it)
{
    int32_t i;
    for (i = it->rank - 1; i >= 0; --i) {
        it->off += it->ost[i];
        if (++it->idx[i] < it->dims[i]) {
            return;
        }
        it->off -= it->ost[i] * (size_t)it->dims[i];
        it->idx[i] = 0;
    }
}

static size_t out_count(const el_shape *s, int32_t mask, int32_t *reduced)
{
    size_t n = 1;
    int32_t i, r = 1;
    for (i = 0; i < s->rank; ++i) {
        if (mask & (1 << i)) {
            r *= s->d[i];
        } else {
            n *= (size_t)s->d[i];
        }
    }
    *reduced = r;
    return n;
}

/* The reductions that keep their running value in the output itself: INIT fills
 * every output, EXPR combines it (acc) with one input element (x). */
#define EL_REDUCE_BODY(T, INIT, EXPR)                                                              \
    red_iter it;                                                                                   \
    int32_t r;                                                                                     \
    size_t n = out_count(s, p->axes_mask, &r), i, total;                                           \
    for (i = 0; i < n; ++i) {                                                                      \
        out[i] = (INIT);                                                                           \
    }                                                                                              \
    total = red_init(&it, s, p->axes_mask);                                                        \
    for (i = 0; i < total; ++i) {                                                                  \
        const T x = in[i], acc = out[it.off];                                                      \
        out[it.off] = (EXPR);                                                                      \
        red_next(&it);                                                                             \
    }

/* When the reduced axes are one contiguous run (MEAN over H, W of NHWC): outer x reduced x
 * inner, so every output sums its inputs in the same order as EL_REDUCE_BODY (input order),
 * with the inner loop running along contiguous outputs. Returns 0 for other masks. */
static int sum_run_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out)
{
    size_t outer = 1, red = 1, inner = 1, o, r, j;
    int32_t i, first = -1, last = -1;
    for (i = 0; i < s->rank; ++i) {
        if (p->axes_mask & (1 << i)) {
            first = first < 0 ? i : first;
            last = i;
        }
    }
    if (first < 0 || (p->axes_mask >> s->rank) != 0) {
        return 0;
    }
    for (i = 0; i < s->rank; ++i) {
        const int in_run = i >= first && i <= last;
        if (in_run != ((p->axes_mask >> i) & 1)) {
            return 0; /* a kept axis inside the run */
        }
        if (i < first) {
            outer *= (size_t)s->d[i];
        } else if (in_run) {
            red *= (size_t)s->d[i];
        } else {
            inner *= (size_t)s->d[i];
        }
    }
    for (o = 0; o < outer; ++o) {
        float *dst = out + o * inner;
        for (j = 0; j < inner; ++j) {
            dst[j] = 0.0f;
        }
        for (r = 0; r < red; ++r) {
            const float *src = in + (o * red + r) * inner;
            for (j = 0; j < inner; ++j) {
                dst[j] = dst[j] + src[j];
            }
        }
    }
    return 1;
}

void el_reduce_sum_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out)
{
    if (sum_run_f32(p, s, in, out)) {
        return;
    }
    {
        EL_REDUCE_BODY(float, 0.0f, acc + x)
    }
}

void el_reduce_mean_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out)
{
    int32_t r;
    size_t n = out_count(s, p->axes_mask, &r), i;
    el_reduce_sum_f32(p, s, in, out);
    for (i = 0; i < n; ++i) {
        out[i] = out[i] / (float)r;
    }
}

void el_reduce_max_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out)
{
    EL_REDUCE_BODY(float, -3.402823466e+38f, x > acc ? x : acc)
}

void el_reduce_max_s8(const el_reduce_params *p, const el_shape *s, const int8_t *in, int8_t *out)
{
    EL_REDUCE_BODY(int8_t, -128, x > acc ? x : acc)
}

/* Sum into int32 accumulators (TFLite's QuantizedMeanOrSum accumulates int8 and int16 in
 * int32 too); `in16` is used when non-null. */
static void reduce_sum_any(const el_reduce_params *p, const el_shape *s, const int8_t *in,
                           const int16_t *in16, int32_t *acc, size_t n)
{
    red_iter it;
    size_t i, total;
    for (i = 0; i < n; ++i) {
        acc[i] = 0;
    }
    total = red_init(&it, s, p->axes_mask);
    for (i = 0; i < total; ++i) {
        acc[it.off] += in16 != NULL ? in16[i] : in[i];
        red_next(&it);
    }
}

/* QuantizedMeanOrSum's mean step: the count is folded into the multiplier. */
static int32_t mean_value(const el_reduce_params *p, int32_t sum, int32_t r)
{
    /* Divide by the count inside the multiplier: shift = floor(log2(r)) bounded so the
     * 64-bit product and MultiplyByQuantizedMultiplier's range stay valid. */
    int32_t sh = 31 - el_clz32((uint32_t)r);
    int32_t m;
    const int32_t shifted = sum - p->input_zero_point * r;
    sh = sh < 32 ? sh : 32;
    sh = sh < 31 + p->shift ? sh : 31 + p->shift;
    m = (int32_t)(((int64_t)p->multiplier << sh) / r);
    return el_requant(shifted, m, p->shift - sh) + p->output_zero_point;
}

/* SUM's step: the input zero point taken out of the sum, then the output scale. */
static int32_t sum_value(const el_reduce_params *p, int32_t sum, int32_t r)
{
    const int32_t shifted = sum - p->input_zero_point * r;
    return el_requant(shifted, p->multiplier, p->shift) + p->output_zero_point;
}

/* int8 / int16 MEAN and SUM: the int32 sums in scratch, then VALUE per output, stored as T
 * within [LO, HI]. */
#define EL_QUANT_REDUCE(IN8, IN16, T, LO, HI, VALUE)                                               \
    int32_t r;                                                                                     \
    size_t n = out_count(s, p->axes_mask, &r), i;                                                  \
    reduce_sum_any(p, s, IN8, IN16, scratch, n);                                                   \
    for (i = 0; i < n; ++i) {                                                                      \
        out[i] = (T)el_clamp_i32(VALUE(p, scratch[i], r), LO, HI);                                 \
    }

void el_reduce_mean_s8(const el_reduce_params *p, const el_shape *s, const int8_t *in,
                       int32_t *scratch, int8_t *out)
{
    EL_QUANT_REDUCE(in, NULL, int8_t, -128, 127, mean_value)
}

void el_reduce_mean_s16(const el_reduce_params *p, const el_shape *s, const int16_t *in,
                        int32_t *scratch, int16_t *out)
{
    EL_QUANT_REDUCE(NULL, in, int16_t, -32768, 32767, mean_value)
}

void el_reduce_sum_s8(const el_reduce_params *p, const el_shape *s, const int8_t *in,
                      int32_t *scratch, int8_t *out)
{
    EL_QUANT_REDUCE(in, NULL, int8_t, -128, 127, sum_value)
}

void el_reduce_sum_s16(const el_reduce_params *p, const el_shape *s, const int16_t *in,
                       int32_t *scratch, int16_t *out)
{
    EL_QUANT_REDUCE(NULL, in, int16_t, -32768, 32767, sum_value)
}

void el_reduce_min_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out)
{
    EL_REDUCE_BODY(float, 3.402823466e+38f, x < acc ? x : acc)
}

void el_reduce_min_s8(const el_reduce_params *p, const el_shape *s, const int8_t *in, int8_t *out)
{
    EL_REDUCE_BODY(int8_t, 127, x < acc ? x : acc)
}

void el_reduce_prod_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out)
{
    EL_REDUCE_BODY(float, 1.0f, acc *x)
}

void el_reduce_any_all(int is_all, const el_reduce_params *p, const el_shape *s, const uint8_t *in,
                       uint8_t *out)
{
    EL_REDUCE_BODY(uint8_t, (uint8_t)(is_all ? 1 : 0), (uint8_t)(is_all ? (acc && x) : (acc || x)))
}
