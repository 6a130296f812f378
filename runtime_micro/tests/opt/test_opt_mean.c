/* MEAN int8 and float32: the optimized kernels (reduced axes one run of dims) vs the
 * reference, bit for bit, over ranks 1..5, every axes mask (the others must be declined),
 * counts from 1 to a few thousand; int8 with extreme zero points and multipliers, float32 with
 * values of mixed magnitude (the sums round differently in any other order), signed zeros,
 * infinities and NaNs. */
#include <math.h>

#include "opt_test.h"

#define MAX_N 8192

static int8_t g_in[MAX_N], g_ref[MAX_N + GUARD], g_got[MAX_N + GUARD];
static int32_t g_scratch[MAX_N];
static float g_fin[MAX_N], g_fref[MAX_N], g_fgot[MAX_N + GUARD];

/* Whether the reduced axes of mask form one run of dims (what the optimized kernels take). */
static int one_run(const el_shape *s, int32_t mask)
{
    int32_t d, lo = -1, hi = -1, contiguous = 1;
    for (d = 0; d < s->rank; ++d) {
        if (mask & (1 << d)) {
            contiguous &= hi < 0 || hi == d - 1;
            lo = lo < 0 ? d : lo;
            hi = d;
        }
    }
    return contiguous && lo >= 0;
}

/* Elements of shape s; *n_out: of the output that reduces mask's axes. */
static int32_t elements(const el_shape *s, int32_t mask, int32_t *n_out)
{
    int32_t d, total = 1;
    *n_out = 1;
    for (d = 0; d < s->rank; ++d) {
        total *= s->d[d];
        *n_out *= (mask & (1 << d)) ? 1 : s->d[d];
    }
    return total;
}

static void run_case(int idx, const el_shape *s, int32_t mask, int32_t izp, int32_t ozp,
                     double scale, int *done)
{
    el_reduce_params p;
    int32_t n_out, total, shift;
    char what[160];
    int run = 0;
    total = elements(s, mask, &n_out);
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
    /* declined exactly when the reduced axes are not one run of dims */
    if (run != one_run(s, mask)) {
        printf("FAIL %s: optimized path %s\n", what, run ? "taken" : "declined");
        ++g_failures;
    }
    *done += run;
}

/* Floats of mixed magnitude; special values (-0.0, +-inf, NaN) when `special`. */
static void fill_mixed(float *x, int32_t n, int special)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const uint32_t r = rnd() % 64u;
        const float mag = r < 8 ? 1e6f : (r < 16 ? 1e-6f : 1.0f);
        x[i] = mag * ((float)(int32_t)(rnd() % 200001u) - 100000.0f) / 30000.0f;
        if (special && r == 60) {
            x[i] = -0.0f;
        } else if (special && r == 61) {
            x[i] = (rnd() & 1u) ? INFINITY : -INFINITY;
        } else if (special && r == 62 && rnd() % 4u == 0) {
            x[i] = NAN;
        }
    }
}

static void run_case_f32(int idx, const el_shape *s, int32_t mask, int special)
{
    el_reduce_params p;
    int32_t n_out, total;
    char what[160];
    int run;
    memset(&p, 0, sizeof p);
    total = elements(s, mask, &n_out);
    if (total > MAX_N) {
        return;
    }
    p.axes_mask = mask;
    fill_mixed(g_fin, total, special);
    el_reduce_mean_f32(&p, s, g_fin, g_fref);
    memset(g_fgot, GUARD_BYTE, sizeof g_fgot);
    snprintf(what, sizeof what, "mean float32 case %d: rank %d mask 0x%x", idx, (int)s->rank,
             (unsigned)mask);
    ++g_checked;
    run = el_opt_mean_f32(isa_all(), &p, s, g_fin, g_fgot);
    if (run) {
        ++g_fast;
        /* bits, guard included */
        same_output((const int8_t *)g_fref, (const int8_t *)g_fgot, n_out * 4, what, 0);
    }
    /* microcontrollers always decline (they keep the reference's loop) */
    if (run != (EL_HOSTED_CPU && one_run(s, mask))) {
        printf("FAIL %s: optimized path %s\n", what, run ? "taken" : "declined");
        ++g_failures;
    }
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
    /* float32: MobileNetV2-1.0/224's head (7x7x1280 over H and W: 32-channel blocks on AVX2,
     * 16 on NEON), channel counts that leave a tail, then the random matrix */
    {
        const el_shape head = {4, {1, 7, 7, 160}}, tail = {4, {2, 5, 3, 45}};
        const el_shape rows = {3, {1, 3000, 2}};
        run_case_f32(-1, &head, 0x6, 0);
        run_case_f32(-2, &head, 0x6, 1);
        run_case_f32(-3, &tail, 0x6, 1);
        run_case_f32(-4, &tail, 0x2, 0);
        run_case_f32(-5, &rows, 0x2, 0);
    }
    for (idx = 0; idx < 600; ++idx) {
        el_shape s;
        int32_t d, mask;
        s.rank = rnd_in(1, 5);
        for (d = 0; d < s.rank; ++d) {
            s.d[d] = rnd_in(1, d == s.rank - 1 ? 70 : 9);
        }
        mask = rnd_in(1, (1 << s.rank) - 1);
        run_case_f32(idx, &s, mask, (int)(rnd() % 2u));
    }
    return finish("test_opt_mean", EL_HOSTED_CPU ? 500 : 250);
}
