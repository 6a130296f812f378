/* Elementwise binary ops with numpy/TFLite broadcasting over shapes of equal rank. */
#include <math.h>

#include "../el_nn.h"
#include "../el_quant.h"

/* Walks the output in row-major order a row of its innermost axis at a time, keeping the flat
 * offsets of both inputs at the row's start (a dimension of size 1 has stride 0). Size-1 axes
 * are dropped and neighbouring axes both inputs step through alike merged first, so an operand
 * of the output's shape against a single value or a per-channel vector is one long row or rows
 * of C: the per-element work is the op's, not the walk's. Iterative, no allocation. */
typedef struct {
    int32_t rank;
    int32_t dims[EL_NN_MAX_RANK];
    size_t st1[EL_NN_MAX_RANK], st2[EL_NN_MAX_RANK];
    int32_t idx[EL_NN_MAX_RANK];
    size_t o1, o2;
} bcast_iter;

static void bcast_init(bcast_iter *it, const el_shape *s1, const el_shape *s2, const el_shape *so)
{
    size_t a = 1, b = 1, t1, t2;
    int32_t i, j, r = 0;
    /* innermost first into slot r; reversed at the end */
    it->dims[0] = 1;
    it->st1[0] = 0;
    it->st2[0] = 0;
    for (i = so->rank - 1; i >= 0; --i) {
        t1 = s1->d[i] == 1 ? 0 : a;
        t2 = s2->d[i] == 1 ? 0 : b;
        a *= (size_t)s1->d[i];
        b *= (size_t)s2->d[i];
        if (so->d[i] == 1) {
            continue;
        }
        if (it->dims[r] == 1) {
            it->dims[r] = so->d[i];
            it->st1[r] = t1;
            it->st2[r] = t2;
        } else if (t1 == it->st1[r] * (size_t)it->dims[r] &&
                   t2 == it->st2[r] * (size_t)it->dims[r]) {
            it->dims[r] *= so->d[i];
        } else {
            ++r;
            it->dims[r] = so->d[i];
            it->st1[r] = t1;
            it->st2[r] = t2;
        }
    }
    it->rank = r + 1;
    for (i = 0, j = r; i < j; ++i, --j) {
        const int32_t d = it->dims[i];
        t1 = it->st1[i];
        t2 = it->st2[i];
        it->dims[i] = it->dims[j];
        it->st1[i] = it->st1[j];
        it->st2[i] = it->st2[j];
        it->dims[j] = d;
        it->st1[j] = t1;
        it->st2[j] = t2;
    }
    for (i = 0; i < it->rank; ++i) {
        it->idx[i] = 0;
    }
    it->o1 = 0;
    it->o2 = 0;
}

/* The next row: advances the axes outside the innermost one. */
static void bcast_next_row(bcast_iter *it)
{
    int32_t i;
    for (i = it->rank - 2; i >= 0; --i) {
        ++it->idx[i];
        it->o1 += it->st1[i];
        it->o2 += it->st2[i];
        if (it->idx[i] < it->dims[i]) {
            return;
        }
        it->o1 -= it->st1[i] * (size_t)it->dims[i];
        it->o2 -= it->st2[i] * (size_t)it->dims[i];
        it->idx[i] = 0;
    }
}

static size_t shape_size(const el_shape *s)
{
    size_t n = 1;
    int32_t i;
    for (i = 0; i < s->rank; ++i) {
        n *= (size_t)s->d[i];
    }
    return n;
}

/* out[i] = EXPR over the output in row-major order, EXPR reading in1[it.o1] and in2[it.o2]. */
#define EL_BINARY_LOOP(EXPR)                                                                       \
    do {                                                                                           \
        bcast_iter it;                                                                             \
        const size_t n = shape_size(so);                                                           \
        size_t i = 0;                                                                              \
        bcast_init(&it, s1, s2, so);                                                               \
        while (i < n) {                                                                            \
            const size_t b1_ = it.o1, b2_ = it.o2, row_ = (size_t)it.dims[it.rank - 1];            \
            const size_t d1_ = it.st1[it.rank - 1], d2_ = it.st2[it.rank - 1];                     \
            size_t k_;                                                                             \
            for (k_ = 0; k_ < row_; ++k_, ++i) {                                                   \
                it.o1 = b1_ + k_ * d1_;                                                            \
                it.o2 = b2_ + k_ * d2_;                                                            \
                out[i] = (EXPR);                                                                   \
            }                                                                                      \
            it.o1 = b1_;                                                                           \
            it.o2 = b2_;                                                                           \
            bcast_next_row(&it);                                                                   \
        }                                                                                          \
    } while (0)

static int32_t add_sub_q(const el_arith_params *p, int32_t a, int32_t b, int is_sub)
{
    const int32_t s1 = (int32_t)((uint32_t)(a + p->input1_offset) << p->left_shift);
    const int32_t s2 = (int32_t)((uint32_t)(b + p->input2_offset) << p->left_shift);
    const int32_t r1 = el_requant(s1, p->input1_multiplier, p->input1_shift);
    const int32_t r2 = el_requant(s2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = is_sub ? r1 - r2 : r1 + r2;
    const int32_t o = el_requant(raw, p->output_multiplier, p->output_shift) + p->output_offset;
    return el_clamp_i32(o, p->act_min, p->act_max);
}

/* How an operand of shape `s` repeats over the output `so` (shapes right-aligned): the size of
 * the block of the output's last axes it covers whole, when all its other axes are 1 (the
 * output's size for an operand of the output's shape, 1 for a single value, C for a
 * per-channel vector), or 0 for any other broadcast. */
static size_t bcast_period(const el_shape *s, const el_shape *so)
{
    int32_t i = s->rank - 1, j = so->rank - 1;
    size_t period = 1;
    while (i >= 0 && j >= 0 && s->d[i] == so->d[j]) {
        period *= (size_t)so->d[j];
        --i;
        --j;
    }
    for (; i >= 0; --i) {
        if (s->d[i] != 1) {
            return 0;
        }
    }
    return period;
}

static int32_t mul_q(const el_arith_params *p, int32_t a, int32_t b);

/* int8 with one single-value operand (a constant scale or offset) and enough elements: each
 * result depends on the other operand's byte alone, so the 256 results are computed once by the
 * same function F(a, b) and looked up. Otherwise EL_BINARY_LOOP. */
#define EL_S8_LOOKUP_MIN 1024
#define EL_S8_BINARY(F)                                                                            \
    do {                                                                                           \
        const size_t n_ = shape_size(so);                                                          \
        if (n_ >= EL_S8_LOOKUP_MIN) {                                                              \
            const size_t pa_ = bcast_period(s1, so), pb_ = bcast_period(s2, so);                   \
            /* the operand that varies, the other being a single value */                          \
            const int8_t *var_ = (pb_ == 1 && pa_ == n_)   ? in1                                   \
                                 : (pa_ == 1 && pb_ == n_) ? in2                                   \
                                                           : 0;                                    \
            if (var_) {                                                                            \
                int8_t t_[256];                                                                    \
                int32_t v_;                                                                        \
                size_t j_;                                                                         \
                for (v_ = -128; v_ < 128; ++v_) {                                                  \
                    t_[v_ + 128] = (int8_t)(var_ == in1 ? F(v_, in2[0]) : F(in1[0], v_));          \
                }                                                                                  \
                for (j_ = 0; j_ < n_; ++j_) {                                                      \
                    out[j_] = t_[var_[j_] + 128];                                                  \
                }                                                                                  \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
        EL_BINARY_LOOP((int8_t)F(in1[it.o1], in2[it.o2]));                                         \
    } while (0)
#define ADD_Q(a, b) add_sub_q(p, (a), (b), 0)
#define SUB_Q(a, b) add_sub_q(p, (a), (b), 1)
#define MUL_Q(a, b) mul_q(p, (a), (b))

void el_add_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out)
{
    EL_S8_BINARY(ADD_Q);
}

void el_sub_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out)
{
    EL_S8_BINARY(SUB_Q);
}

void el_add_s16(const el_arith_params *p, const el_shape *s1, const int16_t *in1,
                const el_shape *s2, const int16_t *in2, const el_shape *so, int16_t *out)
{
    EL_BINARY_LOOP((int16_t)add_sub_q(p, in1[it.o1], in2[it.o2], 0));
}

void el_sub_s16(const el_arith_params *p, const el_shape *s1, const int16_t *in1,
                const el_shape *s2, const int16_t *in2, const el_shape *so, int16_t *out)
{
    EL_BINARY_LOOP((int16_t)add_sub_q(p, in1[it.o1], in2[it.o2], 1));
}

static int32_t sqdiff_q(const el_arith_params *p, int32_t a, int32_t b)
{
    const int32_t s1 = (int32_t)((uint32_t)(a + p->input1_offset) << p->left_shift);
    const int32_t s2 = (int32_t)((uint32_t)(b + p->input2_offset) << p->left_shift);
    const int32_t d = el_requant(s1, p->input1_multiplier, p->input1_shift) -
                      el_requant(s2, p->input2_multiplier, p->input2_shift);
    const int32_t o = el_requant(d * d, p->output_multiplier, p->output_shift) + p->output_offset;
    return el_clamp_i32(o, p->act_min, p->act_max);
}

void el_squared_difference_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1,
                              const el_shape *s2, const int8_t *in2, const el_shape *so,
                              int8_t *out)
{
    EL_BINARY_LOOP((int8_t)sqdiff_q(p, in1[it.o1], in2[it.o2]));
}

void el_squared_difference_s16(const el_arith_params *p, const el_shape *s1, const int16_t *in1,
                               const el_shape *s2, const int16_t *in2, const el_shape *so,
                               int16_t *out)
{
    EL_BINARY_LOOP((int16_t)sqdiff_q(p, in1[it.o1], in2[it.o2]));
}

static int count_leading_sign_bits(int32_t x)
{
    if (x >= 0) {
        return el_clz32((uint32_t)x) - 1;
    }
    return x != INT32_MIN ? el_clz32(2u * (uint32_t)(-x) - 1u) : 0;
}

static int32_t div_q(const el_arith_params *p, int32_t a, int32_t b)
{
    int32_t x = p->input1_offset + a, y = p->input2_offset + b;
    int recip_shift, headroom, total;
    int32_t inv, unscaled, o;
    if (y < 0) {
        x = -x;
        y = -y;
    }
    inv = el_fx_reciprocal(y, 31, &recip_shift);
    headroom = count_leading_sign_bits(x);
    unscaled = el_requant_gt1(x, inv, headroom);
    total = p->output_shift - recip_shift - headroom;
    if (total >= -31) {
        o = el_requant_lt1(unscaled, p->output_multiplier, total);
    } else {
        /* TFLite's RoundingDivideByPOT is defined for exponents <= 31 only, and its DIV asks
         * for more when the numerator is tiny (0 has 31 bits of headroom). TFLite Micro then
         * computes the mask (1 << e) - 1 in 64 bits and truncates it to -1, so the threshold
         * is -1 for x >= 0 and 1 is added: 0 / y gives one output step, not 0. The shift
         * itself is x86's (count mod 32); on Arm TFLite Micro differs there for x != 0. */
        const int32_t x = el_srdhm(unscaled, p->output_multiplier);
        o = (x >> (-total & 31)) + (x >= 0 ? 1 : 0);
    }
    return el_clamp_i32(p->output_offset + o, p->act_min, p->act_max);
}

void el_div_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out)
{
    EL_BINARY_LOOP((int8_t)div_q(p, in1[it.o1], in2[it.o2]));
}

static int32_t mul_q(const el_arith_params *p, int32_t a, int32_t b)
{
    const int32_t prod = (a + p->input1_offset) * (b + p->input2_offset);
    const int32_t o = el_requant(prod, p->output_multiplier, p->output_shift) + p->output_offset;
    return el_clamp_i32(o, p->act_min, p->act_max);
}

void el_mul_s16(const el_arith_params *p, const el_shape *s1, const int16_t *in1,
                const el_shape *s2, const int16_t *in2, const el_shape *so, int16_t *out)
{
    EL_BINARY_LOOP((int16_t)mul_q(p, in1[it.o1], in2[it.o2]));
}

void el_mul_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out)
{
    EL_S8_BINARY(MUL_Q);
}

void el_maxmin_s8(int is_max, const el_shape *s1, const int8_t *in1, const el_shape *s2,
                  const int8_t *in2, const el_shape *so, int8_t *out)
{
    if (is_max) {
        EL_BINARY_LOOP(in1[it.o1] > in2[it.o2] ? in1[it.o1] : in2[it.o2]);
    } else {
        EL_BINARY_LOOP(in1[it.o1] < in2[it.o2] ? in1[it.o1] : in2[it.o2]);
    }
}

void el_maxmin_s16(int is_max, const el_shape *s1, const int16_t *in1, const el_shape *s2,
                   const int16_t *in2, const el_shape *so, int16_t *out)
{
    if (is_max) {
        EL_BINARY_LOOP(in1[it.o1] > in2[it.o2] ? in1[it.o1] : in2[it.o2]);
    } else {
        EL_BINARY_LOOP(in1[it.o1] < in2[it.o2] ? in1[it.o1] : in2[it.o2]);
    }
}

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

static float binary_f(el_binary_op op, float a, float b)
{
    switch (op) {
    case EL_BIN_ADD:
        return a + b;
    case EL_BIN_SUB:
        return a - b;
    case EL_BIN_MUL:
        return a * b;
    case EL_BIN_DIV:
        return a / b;
    case EL_BIN_POW:
        return powf(a, b);
    case EL_BIN_MAXIMUM:
        return a > b ? a : b;
    case EL_BIN_MINIMUM:
        return a < b ? a : b;
    case EL_BIN_SQUARED_DIFFERENCE:
        return (a - b) * (a - b);
    case EL_BIN_FLOOR_DIV:
        return floorf(a / b);
    case EL_BIN_FLOOR_MOD: {
        /* TFLite: trunc mod, moved to the divisor's sign */
        const float m = fmodf(a, b);
        return (m != 0.0f && ((b < 0.0f) != (m < 0.0f))) ? m + b : m;
    }
    case EL_BIN_ATAN2:
        return atan2f(a, b);
    }
    return 0.0f;
}

/* The float32 forms below pay off where the compiler has float vectors to run them on; on a
 * microcontroller the row walk (EL_BINARY_LOOP) is about as fast, and smaller. */
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || defined(__ARM_NEON)
#define EL_F32_VECTOR_FORMS 1
#else
#define EL_F32_VECTOR_FORMS 0
#endif

/* out[i] = clamp(in1[i % pa] OP in2[i % pb]) where one period is the whole output and the other
 * divides it (bcast_period): loops the compiler vectorizes, no per-element index walk; each
 * element gets the same IEEE operation and clamp as the walk in el_binary_f32. */
#define EL_F32_ROWS(OP)                                                                            \
    do {                                                                                           \
        if (pa == n && pb == 1) {                                                                  \
            const float y = in2[0];                                                                \
            for (i = 0; i < n; ++i) {                                                              \
                out[i] = clampf(in1[i] OP y, lo, hi);                                              \
            }                                                                                      \
        } else if (pa == 1 && pb == n) {                                                           \
            const float x = in1[0];                                                                \
            for (i = 0; i < n; ++i) {                                                              \
                out[i] = clampf(x OP in2[i], lo, hi);                                              \
            }                                                                                      \
        } else {                                                                                   \
            const size_t row = pa < pb ? pa : pb;                                                  \
            const size_t sa = pa == n ? row : 0, sb = pb == n ? row : 0;                           \
            const float *x = in1, *y = in2;                                                        \
            float *o = out;                                                                        \
            for (r = 0; r < n; r += row, x += sa, y += sb, o += row) {                             \
                for (i = 0; i < row; ++i) {                                                        \
                    o[i] = clampf(x[i] OP y[i], lo, hi);                                           \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* GCC's -O2 vectorizes only loops that need no remainder (its "very cheap" cost model), which
 * leaves these scalar; its cheap model vectorizes them, with the same IEEE operation and the
 * same comparisons per element, so the same bits (MediaPipe selfie segmentation's float ADDs
 * and MULs ran scalar). Clang vectorizes them at -O2 already. */
#if EL_F32_VECTOR_FORMS && defined(__GNUC__) && !defined(__clang__)
#define EL_F32_VECTORIZE __attribute__((optimize("tree-loop-vectorize", "vect-cost-model=cheap")))
/* and a comparison that selects between two values computed for every element (PRELU):
 * without trapping math GCC may compare all lanes at once; it changes no value, only which
 * floating-point exception flags an element could raise, which nothing here reads */
#define EL_F32_VECTORIZE_SELECT                                                                    \
    __attribute__((optimize("tree-loop-vectorize", "vect-cost-model=cheap", "no-trapping-math")))
#else
#define EL_F32_VECTORIZE
#define EL_F32_VECTORIZE_SELECT
#endif

/* 1 when the op ran in one of the forms above, 0 for the general broadcast walk. */
EL_F32_VECTORIZE static int binary_f32_rows(el_binary_op op, const el_arith_params *p,
                                            const el_shape *s1, const float *in1,
                                            const el_shape *s2, const float *in2,
                                            const el_shape *so, float *out)
{
    const size_t n = shape_size(so), pa = bcast_period(s1, so), pb = bcast_period(s2, so);
    const float lo = p->act_min_f, hi = p->act_max_f;
    size_t i, r;
    if (n == 0 || pa == 0 || pb == 0 || (pa != n && pb != n)) {
        return 0;
    }
    switch (op) {
    case EL_BIN_ADD:
        EL_F32_ROWS(+);
        return 1;
    case EL_BIN_SUB:
        EL_F32_ROWS(-);
        return 1;
    case EL_BIN_MUL:
        EL_F32_ROWS(*);
        return 1;
    case EL_BIN_DIV:
        EL_F32_ROWS(/);
        return 1;
    default:
        return 0;
    }
}

void el_binary_f32(el_binary_op op, const el_arith_params *p, const el_shape *s1, const float *in1,
                   const el_shape *s2, const float *in2, const el_shape *so, float *out)
{
    if (EL_F32_VECTOR_FORMS && binary_f32_rows(op, p, s1, in1, s2, in2, so, out)) {
        return;
    } else if (op == EL_BIN_ADD || op == EL_BIN_SUB || op == EL_BIN_MUL || op == EL_BIN_DIV) {
        EL_BINARY_LOOP(clampf(binary_f(op, in1[it.o1], in2[it.o2]), p->act_min_f, p->act_max_f));
    } else {
        EL_BINARY_LOOP(binary_f(op, in1[it.o1], in2[it.o2]));
    }
}

static int32_t binary_i(el_binary_op op, int32_t a, int32_t b)
{
    switch (op) {
    case EL_BIN_ADD:
        return (int32_t)((uint32_t)a + (uint32_t)b);
    case EL_BIN_SUB:
        return (int32_t)((uint32_t)a - (uint32_t)b);
    case EL_BIN_MUL:
        return (int32_t)((uint32_t)a * (uint32_t)b);
    case EL_BIN_MAXIMUM:
        return a > b ? a : b;
    case EL_BIN_MINIMUM:
        return a < b ? a : b;
    case EL_BIN_SQUARED_DIFFERENCE:
        return (int32_t)((uint32_t)(a - b) * (uint32_t)(a - b));
    case EL_BIN_FLOOR_DIV: {
        /* prepare rejects nothing data-dependent: a zero divisor yields 0 (TFLite errors) */
        int32_t q;
        if (b == 0 || (a == INT32_MIN && b == -1)) {
            return 0;
        }
        q = a / b;
        return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
    }
    case EL_BIN_FLOOR_MOD: {
        int32_t m;
        if (b == 0 || b == -1) {
            return 0;
        }
        m = a % b;
        return (m != 0 && ((b < 0) != (m < 0))) ? m + b : m;
    }
    default:
        return 0;
    }
}

void el_binary_s32(el_binary_op op, const el_arith_params *p, const el_shape *s1,
                   const int32_t *in1, const el_shape *s2, const int32_t *in2, const el_shape *so,
                   int32_t *out)
{
    EL_BINARY_LOOP(el_clamp_i32(binary_i(op, in1[it.o1], in2[it.o2]), p->act_min, p->act_max));
}

static int8_t prelu_q(const el_prelu_params *p, int32_t in, int32_t alpha)
{
    const int32_t x = p->input_offset + in;
    int32_t o;
    if (x >= 0) {
        o = el_requant(x, p->output_multiplier_1, p->output_shift_1);
    } else {
        o = el_requant(x * (p->alpha_offset + alpha), p->output_multiplier_2, p->output_shift_2);
    }
    return (int8_t)el_clamp_i32(o + p->output_offset, -128, 127);
}

void el_prelu_s8(const el_prelu_params *p, const el_shape *s_in, const int8_t *in,
                 const el_shape *s_alpha, const int8_t *alpha, const el_shape *so, int8_t *out)
{
    const el_shape *s1 = s_in, *s2 = s_alpha;
    EL_BINARY_LOOP(prelu_q(p, in[it.o1], alpha[it.o2]));
}

/* PRELU where the input is the whole output and the slopes repeat with a period that divides
 * it (one slope per channel: Keras's shared axes): rows the compiler vectorizes, the same
 * expression per element as the walk below. 1 when it ran. */
EL_F32_VECTORIZE_SELECT static int prelu_f32_rows(const el_shape *s1, const float *in,
                                                  const el_shape *s2, const float *alpha,
                                                  const el_shape *so, float *out)
{
    const size_t n = shape_size(so), pa = bcast_period(s1, so), row = bcast_period(s2, so);
    size_t i, r;
    if (n == 0 || pa != n || row == 0) {
        return 0;
    }
    for (r = 0; r < n; r += row) {
        const float *x = in + r;
        float *o = out + r;
        for (i = 0; i < row; ++i) {
            /* the product unconditionally (the same value where it is taken), so that the
             * compiler may compute it for every lane and select */
            const float v = x[i], m = v * alpha[i];
            o[i] = v >= 0.0f ? v : m;
        }
    }
    return 1;
}

void el_prelu_f32(const el_shape *s_in, const float *in, const el_shape *s_alpha,
                  const float *alpha, const el_shape *so, float *out)
{
    const el_shape *s1 = s_in, *s2 = s_alpha;
    if (EL_F32_VECTOR_FORMS && prelu_f32_rows(s1, in, s2, alpha, so, out)) {
        return;
    }
    EL_BINARY_LOOP(in[it.o1] >= 0.0f ? in[it.o1] : in[it.o1] * alpha[it.o2]);
}
