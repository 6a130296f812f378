/* MEAN int8: the optimized kernel (reduced axes one run of dims) vs the reference, bit for
 * bit, over ranks 1..5, every axes mask (the others must be declined), counts from 1 to a few
 * thousand, extreme zero points and multipliers. */
#include "opt_test.h"

#define MAX_N 8192

static int8_t g_in[MAX_N], g_ref[MAX_N + GUARD], g_got[MAX_N + GUARD];
static int32_t g_scratch[MAX_N];

static void run_case(int idx, const el_shape *s, int32_t mask, int32_t izp, int32_t ozp,
                     double scale, int *done)
{
    el_reduce_params p;
    int32_t d, n_out = 1, total = 1, shift;
    char what[160];
    int run = 0;
    for (d = 0; d < s->rank; ++d) {
        total *= s->d[d];
        n_out *= (mask & (1 << d)) ? 1 : s->d[d];
    }
    if (total > MAX_N) {
        return;
    }
    p.axes_mask = mask;
    p.input_zero_point = izp;
    p.output_zero_point = ozp;
    {
        int sh;
        el_quantize_multiplier(scale, &p.multiplier, &sh);
        shift = sh;
    }
    p.shift = shift;
    fill_s8(g_in, total, -128, 127);
    el_reduce_mean_s8(&p, s, g_in, g_scratch, g_ref);
    memset(g_got, GUARD_BYTE, (size_t)n_out + GUARD);
    snprintf(what, sizeof what, "mean case %d: rank %d mask 0x%x zp %d/%d scale %g", idx,
             (int)s->rank, (unsigned)mask, (int)izp, (int)ozp, scale);
    ++g_checked;
    if (el_opt_mean_s8(isa_all(), &p, s, g_in, g_scratch, g_got)) {
        ++g_fast;
        run = 1;
        same_output(g_ref, g_got, n_out, what, 0);
    }
    {
        /* declined exactly when the reduced axes are not one run of dims */
        int32_t lo = -1, hi = -1, contiguous = 1;
        for (d = 0; d < s->rank; ++d) {
            if (mask & (1 << d)) {
                contiguous &= hi < 0 || hi == d - 1;
                lo = lo < 0 ? d : lo;
                hi = d;
            }
        }
        if (run != (contiguous && lo >= 0)) {
            printf("FAIL %s: optimized path %s\n", what, run ? "taken" : "declined");
            ++g_failures;
        }
    }
    *done += run;
}

int main(void)
{
    static const int32_t zps[] = {-128, -128, 127, 127, 0, -5, 3};
    int idx, done = 0;
    /* MobileNet's head: [1, 7, 7, 1280] over H and W (kept dims: 1280 channels) */
    {
        const el_shape s = {4, {1, 7, 7, 320}};
        run_case(-1, &s, 0x6, -128, 5, 0.5, &done);
        run_case(-2, &s, 0x6, 127, -128, 3.0, &done);
    }
    for (idx = 0; idx < 600; ++idx) {
        el_shape s;
        int32_t d, mask, izp, ozp;
        double scale;
        static const double scales[] = {1.0, 0.25, 0.013, 2.0, 40.0, 1e-4};
        s.rank = rnd_in(1, 5);
        for (d = 0; d < s.rank; ++d) {
            s.d[d] = rnd_in(1, d == s.rank - 1 ? 40 : 9);
        }
        mask = rnd_in(1, (1 << s.rank) - 1); /* one draw per line: the same cases everywhere */
        izp = pick(zps, 7);
        ozp = pick(zps, 7);
        scale = scales[rnd() % 6u];
        run_case(idx, &s, mask, izp, ozp, scale, &done);
    }
    /* a long reduced run: sums of thousands of bytes */
    {
        const el_shape s = {3, {2, 2000, 2}};
        run_case(-3, &s, 0x2, -128, 0, 0.7, &done);
        run_case(-4, &s, 0x2, 127, 0, 0.7, &done);
    }
    return finish("test_opt_mean", 250);
}
