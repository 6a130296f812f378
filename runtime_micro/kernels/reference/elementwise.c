/* Elementwise binary ops with numpy/TFLite broadcasting over shapes of equal rank. */
#include <math.h>

#include "../el_nn.h"
#include "../el_quant.h"

/* Walks the output in row-major order, keeping the flat offsets of both inputs (a
 * dimension of size 1 has stride 0). Iterative: no recursion, no allocation. */
typedef struct {
    int32_t rank;
    int32_t dims[EL_NN_MAX_RANK];
    size_t st1[EL_NN_MAX_RANK], st2[EL_NN_MAX_RANK];
    int32_t idx[EL_NN_MAX_RANK];
    size_t o1, o2;
} bcast_iter;

static void bcast_init(bcast_iter *it, const el_shape *s1, const el_shape *s2, const el_shape *so)
{
    size_t a = 1, b = 1;
    int32_t i;
    it->rank = so->rank;
    for (i = so->rank - 1; i >= 0; --i) {
        it->dims[i] = so->d[i];
        it->st1[i] = s1->d[i] == 1 ? 0 : a;
        it->st2[i] = s2->d[i] == 1 ? 0 : b;
        a *= (size_t)s1->d[i];
        b *= (size_t)s2->d[i];
        it->idx[i] = 0;
    }
    it->o1 = 0;
    it->o2 = 0;
}

static void bcast_next(bcast_iter *it)
{
    int32_t i;
    for (i = it->rank - 1; i >= 0; --i) {
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

static int same_shape(const el_shape *a, const el_shape *b)
{
    int32_t i;
    if (a->rank != b->rank) {
        return 0;
    }
    for (i = 0; i < a->rank; ++i) {
        if (a->d[i] != b->d[i]) {
            return 0;
        }
    }
    return 1;
}

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

#define EL_BINARY_LOOP(EXPR)                                                                       \
    do {                                                                                           \
        bcast_iter it;                                                                             \
        size_t n = shape_size(so), i;                                                              \
        bcast_init(&it, s1, s2, so);                                                               \
        for (i = 0; i < n; ++i) {                                                                  \
            out[i] = (EXPR);                                                                       \
            bcast_next(&it);                                                                       \
        }                                                                                          \
    } while (0)

void el_add_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out)
{
    EL_BINARY_LOOP((int8_t)add_sub_q(p, in1[it.o1], in2[it.o2], 0));
}

void el_sub_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out)
{
    EL_BINARY_LOOP((int8_t)add_sub_q(p, in1[it.o1], in2[it.o2], 1));
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
    EL_BINARY_LOOP((int8_t)mul_q(p, in1[it.o1], in2[it.o2]));
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

void el_binary_f32(el_binary_op op, const el_arith_params *p, const el_shape *s1, const float *in1,
                   const el_shape *s2, const float *in2, const el_shape *so, float *out)
{
    if ((op == EL_BIN_ADD || op == EL_BIN_SUB || op == EL_BIN_MUL) && same_shape(s1, so) &&
        same_shape(s2, so)) {
        /* no broadcasting (residual ADDs): one loop per op the compiler vectorizes, the same
         * IEEE operation and clamp per element as below */
        const size_t n = shape_size(so);
        const float lo = p->act_min_f, hi = p->act_max_f;
        size_t i;
        if (op == EL_BIN_ADD) {
            for (i = 0; i < n; ++i) {
                out[i] = clampf(in1[i] + in2[i], lo, hi);
            }
        } else if (op == EL_BIN_SUB) {
            for (i = 0; i < n; ++i) {
                out[i] = clampf(in1[i] - in2[i], lo, hi);
            }
        } else {
            for (i = 0; i < n; ++i) {
                out[i] = clampf(in1[i] * in2[i], lo, hi);
            }
        }
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

void el_prelu_s8(const el_prelu_params *p, const el_shape *s_in, const int8_t *in,
                 const el_shape *s_alpha, const int8_t *alpha, const el_shape *so, int8_t *out)
{
    const el_shape *s1 = s_in, *s2 = s_alpha;
    bcast_iter it;
    size_t n = shape_size(so), i;
    bcast_init(&it, s1, s2, so);
    for (i = 0; i < n; ++i) {
        const int32_t x = p->input_offset + in[it.o1];
        int32_t o;
        if (x >= 0) {
            o = el_requant(x, p->output_multiplier_1, p->output_shift_1);
        } else {
            const int32_t a = p->alpha_offset + alpha[it.o2];
            o = el_requant(x * a, p->output_multiplier_2, p->output_shift_2);
        }
        out[i] = (int8_t)el_clamp_i32(o + p->output_offset, -128, 127);
        bcast_next(&it);
    }
}

void el_prelu_f32(const el_shape *s_in, const float *in, const el_shape *s_alpha,
                  const float *alpha, const el_shape *so, float *out)
{
    const el_shape *s1 = s_in, *s2 = s_alpha;
    EL_BINARY_LOOP(in[it.o1] >= 0.0f ? in[it.o1] : in[it.o1] * alpha[it.o2]);
}
