/* Requantization of the optimized kernels (every instruction set's el_opt_kernels.requant) vs
 * the reference el_requant, on the values where rounding code goes wrong: exact ties and
 * one-off-ties of every right shift, both signs, INT32_MIN / INT32_MAX accumulators, biases
 * that wrap, left shifts, the extreme multipliers, and clamps at both ends. */
#include "opt_test.h"
#include "opt/opt_internal.h"

#define N 40 /* channels: two 16-lane blocks, an 8-lane block and a scalar tail */
#define ROWS 7
#define GROUP 8 /* rows per fused GEMM call */

static int32_t g_acc[ROWS * N], g_bias[N], g_mult[N], g_shift[N];
static int8_t g_ref[ROWS * N + GUARD], g_ref2[ROWS * N + GUARD], g_got[ROWS * N + GUARD];

static int32_t special(int32_t shift, int32_t r)
{
    /* around multiples of 2^right (wrapping in 32 bits, as accumulators do) */
    const int32_t right = shift < 0 ? -shift : 0;
    const uint32_t unit = (uint32_t)1 << (right < 30 ? right : 29);
    const uint32_t tie = unit * (uint32_t)r + unit / 2;
    const uint32_t neg = rnd() % 2u;
    uint32_t v;
    switch (rnd() % 10u) {
    case 0:
        return INT32_MIN;
    case 1:
        return INT32_MAX;
    case 2:
        v = tie;
        break;
    case 3:
        v = tie + 1u;
        break;
    case 4:
        v = 2u * tie;
        break;
    default:
        return (int32_t)rnd();
    }
    return (int32_t)(neg ? 0u - v : v);
}

int main(void)
{
    unsigned isas[8];
    const int n_isas = isa_levels(isas);
    int it, i;
    char what[96];
    for (it = 0; it < 300; ++it) {
        el_opt_rq rq;
        int32_t c, r;
        const int32_t out_zp = rnd_in(-128, 127);
        for (c = 0; c < N; ++c) {
            const uint32_t kind = rnd() % 8u;
            /* multipliers in [2^30, 2^31): what el_quantize_multiplier gives; shifts -31..+8 */
            g_mult[c] = kind == 0   ? INT32_MAX
                        : kind == 1 ? (1 << 30)
                                    : (int32_t)(0x40000000u + rnd() % 0x40000000u);
            /* odd iterations: right shifts only (the AVX2 fused kernels' short form) */
            g_shift[c] = kind == 2   ? (it % 2 ? rnd_in(-2, -1) : rnd_in(1, 8))
                         : kind == 3 ? -31
                                     : rnd_in(-20, it % 2 ? -1 : 0);
            g_bias[c] = rnd() % 4u == 0 ? (int32_t)rnd() : rnd_in(-5000, 5000);
        }
        for (r = 0; r < ROWS; ++r) {
            for (c = 0; c < N; ++c) {
                int32_t a = special(g_shift[c], rnd_in(0, 40)), q;
                /* adding the output zero point must not overflow (a real layer's sums are
                 * far from that): halve until the requantized value leaves room */
                for (;;) {
                    q = el_requant((int32_t)((uint32_t)a + (uint32_t)g_bias[c]), g_mult[c],
                                   g_shift[c]);
                    if (q > INT32_MIN + 256 && q < INT32_MAX - 256) {
                        break;
                    }
                    a /= 2;
                    g_bias[c] /= 2;
                }
                g_acc[r * N + c] = a;
            }
        }
        memset(&rq, 0, sizeof rq); /* no packed filter, no depthwise state */
        rq.bias = g_bias;
        rq.mult = g_mult;
        rq.shift = g_shift;
        rq.out_offset = out_zp;
        rq.act_min = it % 3 == 0 ? -128 : rnd_in(-128, 0);
        rq.act_max = it % 3 == 0 ? 127 : rnd_in(rq.act_min, 127);
        rq.a_padded = 0;
        rq.colsum = NULL;
        for (r = 0; r < ROWS; ++r) {
            for (c = 0; c < N; ++c) {
                const int32_t v = (int32_t)((uint32_t)g_acc[r * N + c] + (uint32_t)g_bias[c]);
                const int32_t o = el_requant(v, g_mult[c], g_shift[c]) + out_zp;
                g_ref[r * N + c] = (int8_t)el_clamp_i32(o, rq.act_min, rq.act_max);
            }
        }
        for (i = 0; i < n_isas; ++i) {
            const el_opt_kernels *kr = el_opt_kernels_for(isas[i]);
            memset(g_got, GUARD_BYTE, sizeof g_got);
            kr->requant(&rq, ROWS, N, g_acc, N, g_got, N);
            snprintf(what, sizeof what, "requant case %d", it);
            ++g_checked;
            ++g_fast;
            same_output(g_ref, g_got, ROWS * N, what, isas[i]);
            if (kr->gemm_rq != NULL) {
                /* the fused GEMM + requantization: k = 1, x * 1 + bias' = the accumulator.
                 * Calls of GROUP rows (AVX2 declines fewer than 8) whose first 4 are kept. */
                static int8_t xs[ROWS][1], w1[N], tmp[GROUP * N];
                static int32_t bias2[N], ones[N];
                const int8_t *rows[GROUP];
                el_opt_rq rq2 = rq;
                int32_t r0, cc, handled = 1;
                for (cc = 0; cc < N; ++cc) {
                    w1[cc] = 1;
                    ones[cc] = 1; /* the column sums of w1 */
                }
                rq2.colsum = ones;
                memset(g_got, GUARD_BYTE, sizeof g_got);
                for (r0 = 0; r0 < ROWS && handled; r0 += 4) {
                    const int32_t mr = ROWS - r0 < 4 ? ROWS - r0 : 4;
                    for (r = 0; r < mr; ++r) {
                        xs[r0 + r][0] = (int8_t)rnd_in(-128, 127);
                    }
                    /* one bias per column serves all rows only if the rows' x are equal */
                    for (r = 0; r < GROUP; ++r) {
                        rows[r] = xs[r0];
                    }
                    for (r = 1; r < mr; ++r) {
                        xs[r0 + r][0] = xs[r0][0];
                    }
                    for (cc = 0; cc < N; ++cc) {
                        bias2[cc] = (int32_t)((uint32_t)g_acc[r0 * N + cc] + (uint32_t)g_bias[cc] -
                                              (uint32_t)xs[r0][0]);
                    }
                    rq2.bias = bias2;
                    handled = kr->gemm_rq(GROUP, N, 1, rows, w1, 1, &rq2, tmp, N);
                    memcpy(g_got + r0 * N, tmp, (size_t)(mr * N));
                    /* the reference for these rows: every row's sum is row r0's */
                    for (r = 0; r < mr; ++r) {
                        for (cc = 0; cc < N; ++cc) {
                            const int32_t v =
                                (int32_t)((uint32_t)g_acc[r0 * N + cc] + (uint32_t)g_bias[cc]);
                            const int32_t o = el_requant(v, g_mult[cc], g_shift[cc]) + out_zp;
                            g_ref2[(r0 + r) * N + cc] =
                                (int8_t)el_clamp_i32(o, rq.act_min, rq.act_max);
                        }
                    }
                }
                snprintf(what, sizeof what, "gemm_rq case %d", it);
                ++g_checked;
                if (handled) {
                    ++g_fast;
                    same_output(g_ref2, g_got, ROWS * N, what, isas[i]);
                }
            }
        }
    }
    /* every requant call, and every fused GEMM call where the kernel table has one */
    for (i = 0, it = 0; i < n_isas; ++i) {
        it += el_opt_kernels_for(isas[i])->gemm_rq != NULL ? 600 : 300;
    }
    return finish("test_opt_requant", it);
}
