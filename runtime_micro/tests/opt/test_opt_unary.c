/* float32 elementwise activations (RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1, LEAKY_RELU,
 * HARD_SWISH, NEG, ABS, SQUARE): the optimized kernels vs the reference's loop, bit for bit,
 * under every instruction set this CPU offers, over lengths 0 to 80 (vector tails of every
 * size) and a long run, with values around the clamp points, signed zeros, infinities, NaNs
 * and subnormals; the other ops (LOGISTIC, TANH, EXP, ...) must be declined. */
#include <math.h>

#include "opt_test.h"

#define MAX_N 5000

static float g_in[MAX_N], g_ref[MAX_N], g_got[MAX_N + GUARD];

static const el_unary_op k_taken[] = {EL_UN_RELU,        EL_UN_RELU6,      EL_UN_RELU_N1_TO_1,
                                      EL_UN_RELU_0_TO_1, EL_UN_LEAKY_RELU, EL_UN_HARD_SWISH,
                                      EL_UN_NEG,         EL_UN_ABS,        EL_UN_SQUARE};
static const el_unary_op k_declined[] = {EL_UN_LOGISTIC, EL_UN_TANH, EL_UN_EXP,
                                         EL_UN_GELU,     EL_UN_SQRT, EL_UN_ROUND};

/* Values near every clamp point (-3, -1, 0, 1, 3, 6), ordinary ones, and the special ones. */
static void fill(float *x, int32_t n)
{
    static const float edges[] = {-3.0f, -1.0f, 0.0f, 1.0f, 3.0f, 6.0f};
    int32_t i;
    for (i = 0; i < n; ++i) {
        const uint32_t r = rnd() % 32u;
        if (r < 6) {
            x[i] = edges[r] + (float)((int32_t)(rnd() % 5u) - 2) * 1e-7f * (1.0f + fabsf(edges[r]));
        } else if (r == 6) {
            x[i] = -0.0f;
        } else if (r == 7) {
            x[i] = (rnd() & 1u) ? INFINITY : -INFINITY;
        } else if (r == 8) {
            x[i] = (rnd() & 1u) ? NAN : -NAN;
        } else if (r == 9) {
            x[i] = 1e-40f * (float)((int32_t)(rnd() % 200u) - 100); /* subnormal */
        } else {
            x[i] = ((float)(int32_t)(rnd() % 200001u) - 100000.0f) / 8000.0f;
        }
    }
}

static void run_case(el_unary_op op, float alpha, int32_t n, unsigned isa)
{
    char what[96];
    ++g_checked;
    snprintf(what, sizeof what, "unary op %d alpha %g n %d", (int)op, (double)alpha, (int)n);
    el_unary_f32(op, alpha, n, g_in, g_ref);
    memset(g_got, GUARD_BYTE, sizeof g_got);
    if (!el_opt_unary_f32(isa, op, alpha, n, g_in, g_got)) {
        if (EL_HOSTED_CPU) {
            printf("FAIL %s [%s]: declined\n", what, isa_name(isa));
            ++g_failures;
        }
        return;
    }
    ++g_fast;
    if (!EL_HOSTED_CPU) {
        printf("FAIL %s: taken on a microcontroller\n", what);
        ++g_failures;
    }
    same_output((const int8_t *)g_ref, (const int8_t *)g_got, n * 4, what, isa);
}

int main(void)
{
    static const float alphas[] = {0.2f, -0.5f, 0.0f, 3.0f};
    unsigned masks[8];
    const int levels = isa_levels(masks);
    int lv;
    size_t k;
    int32_t n;
    fill(g_in, MAX_N);
    for (lv = 0; lv < levels; ++lv) {
        for (k = 0; k < sizeof k_taken / sizeof k_taken[0]; ++k) {
            for (n = 0; n <= 80; ++n) {
                run_case(k_taken[k], alphas[(size_t)n % 4u], n, masks[lv]);
            }
            run_case(k_taken[k], 0.1f, MAX_N, masks[lv]);
        }
        for (k = 0; k < sizeof k_declined / sizeof k_declined[0]; ++k) {
            ++g_checked;
            if (el_opt_unary_f32(masks[lv], k_declined[k], 0.0f, 64, g_in, g_got)) {
                printf("FAIL unary op %d taken (it stays in the reference's loop)\n",
                       (int)k_declined[k]);
                ++g_failures;
            }
        }
    }
    return finish("test_opt_unary", EL_HOSTED_CPU ? 700 : 0);
}
