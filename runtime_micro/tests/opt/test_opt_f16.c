/* float32 CONV_2D / FULLY_CONNECTED with float16 weights in half-precision arithmetic
 * (kernels/opt/arm_fp16.c, el_config.allow_fp16) against the float32 reference kernels given
 * the same weights widened to float32.
 *
 * Tolerance, per output, justified from how the kernel computes (and not looser): with
 * u = 2^-11 (float16's unit roundoff), each activation x is rounded to float16 (error <= u|x|,
 * or 2^-25 absolutely below float16's normal range), so the products carry <= u * sum|x*w|;
 * each fused multiply-add rounds its running sum S_t once (<= u|S_t|, or 2^-25), and the sums
 * restart at every k segment (EL_OPT_F16_KC; FULLY_CONNECTED: in each of 8 lanes, k = lane mod
 * 8), so the sums carry <= u * sum_t |S_t| over those chains. The float32 steps after them
 * (segment sums added, bias, lane sums) add float32 roundings (2^-24 relative). The bound is
 * the sum of these, times 1.1 for second-order terms; padded taps count as zero products in
 * their chain. A wrong tap, weight, channel or a missing k step shows up far above it on the
 * short sums of the matrix (k = 1 .. 27) and as a systematic error on the long ones.
 *
 * Also: activations beyond float16's range (|x| > 65504) must give the float32 result where
 * they overflow (the kernel recomputes every output not finite in float32: within 1e-5 of the
 * output scale; outputs that stayed in range keep their bound); thread splits (row bands,
 * unit ranges, as the interpreter makes them) must give the whole call's bytes;
 * infinities in the input land where the reference puts them; no byte past the output is
 * written. On CPUs without FEAT_FP16 (and builds other than aarch64) nothing runs here: the
 * interpreter never calls these kernels there. */
#include <math.h>

#include "opt_test.h"

#if EL_OPT_F16W
#define MAX_IN 16000
#define MAX_F 60000
#define MAX_OUT 12000
#define U16 (1.0 / 2048.0)
#define U32 (1.0 / 16777216.0)
#define TINY (1.0 / 33554432.0) /* 2^-25: half a float16 subnormal step */

static float g_in[MAX_IN], g_f[MAX_F], g_bias[1300];
static uint16_t g_h[MAX_F], g_packed[MAX_F + 16 * 1500];
static float g_ref[MAX_OUT + GUARD], g_got[MAX_OUT + GUARD], g_raw[MAX_OUT];
static double g_bound[MAX_OUT];
static double g_worst; /* largest |got - ref| / bound seen */

/* A float16 value (as float) and its bits. */
static float to_half(float v, uint16_t *bits)
{
    const __fp16 h = (__fp16)v;
    memcpy(bits, &h, 2);
    return (float)h;
}

static void fill_f(float *p, int32_t n, int with_inf, float scale)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const uint32_t r = rnd() % 64u;
        p[i] = with_inf && r == 0 ? (rnd() % 2u ? 1.0f : -1.0f) / 0.0f
               : r == 1           ? 0.0f
               : r == 2           ? -0.0f
                                  : scale * ((float)(int32_t)(rnd() % 20001u) - 10000.0f) / 3000.0f;
    }
}

/* Weights: float16 values (bits in g_h, widened in g_f). */
static void fill_w(int32_t n)
{
    int32_t i;
    fill_f(g_f, n, 0, 1.0f);
    for (i = 0; i < n; ++i) {
        g_f[i] = to_half(g_f[i], &g_h[i]);
    }
}

/* none, RELU, RELU6, RELU_N1_TO_1 */
static void act(float *lo, float *hi)
{
    switch (rnd() % 4u) {
    case 0:
        *lo = -INFINITY;
        *hi = INFINITY;
        break;
    case 1:
        *lo = 0.0f;
        *hi = INFINITY;
        break;
    case 2:
        *lo = 0.0f;
        *hi = 6.0f;
        break;
    default:
        *lo = -1.0f;
        *hi = 1.0f;
        break;
    }
}

/* One chain of float16 fused multiply-adds: the bound's terms. */
typedef struct {
    double abs_products, abs_sums, sum, f32_terms;
    int32_t steps;
} chain;

static void chain_add(chain *c, double prod, double w)
{
    c->sum += prod;
    c->abs_products += fabs(prod) * U16 + fabs(w) * TINY;
    c->abs_sums += fabs(c->sum) * U16 + TINY;
    ++c->steps;
}

static double scale_of(int32_t n)
{
    double lo = INFINITY, hi = -INFINITY, mag = 0.0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const double v = g_raw[i];
        if (isfinite(v)) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            mag = fabs(v) > mag ? fabs(v) : mag;
        }
    }
    return hi - lo > mag ? hi - lo : mag;
}

/* overflow: the float32 recomputation ran: 1e-5 of the output scale instead of the bound */
static void check(const char *what, int32_t n, int overflow)
{
    const unsigned char *guard = (const unsigned char *)(g_got + n);
    const double tol32 = 1e-5 * scale_of(n);
    int32_t i;
    ++g_checked;
    ++g_fast;
    for (i = 0; i < n; ++i) {
        const float r = g_ref[i], g = g_got[i];
        int bad;
        if (isnan(r) || isinf(r)) {
            bad = isnan(r) ? !isnan(g) : g != r;
        } else {
            const double d = fabs((double)g - (double)r);
            /* overflow cases: outputs that stayed in range keep their float16 bound */
            const double tol = overflow && tol32 > g_bound[i] ? tol32 : g_bound[i];
            bad = !(d <= tol);
            if (!bad && !overflow && tol > 0.0 && d / tol > g_worst) {
                g_worst = d / tol;
            }
        }
        if (bad) {
            printf("FAIL %s: output[%d] = %.9g, reference %.9g (tolerance %.3g)\n", what, (int)i,
                   (double)g, (double)r, overflow && tol32 > g_bound[i] ? tol32 : g_bound[i]);
            ++g_failures;
            return;
        }
    }
    for (i = 0; i < GUARD; ++i) {
        if (guard[i] != GUARD_BYTE) {
            printf("FAIL %s: wrote past the output (guard byte %d)\n", what, (int)i);
            ++g_failures;
            return;
        }
    }
}

/* The bound of every conv output, in the kernel's order: k index t = (ky * fw + kx) * ic + c,
 * chains restarting at multiples of EL_OPT_F16_KC; the chains' float32 partials then the bias
 * in float32. */
static void conv_bounds(const el_conv_params *p, const el_dims *in_d, const el_dims *f_d,
                        const el_dims *out_d, const float *bias)
{
    const int32_t k = f_d->h * f_d->w * in_d->c;
    int32_t b, oy, ox, oc, t;
    for (b = 0; b < out_d->n; ++b) {
        for (oy = 0; oy < out_d->h; ++oy) {
            for (ox = 0; ox < out_d->w; ++ox) {
                for (oc = 0; oc < out_d->c; ++oc) {
                    double bound = 0.0, total = 0.0;
                    chain c;
                    memset(&c, 0, sizeof c);
                    for (t = 0; t < k; ++t) {
                        const int32_t tap = t / in_d->c, ic = t % in_d->c;
                        const int32_t iy =
                            oy * p->stride_h - p->pad_h + tap / f_d->w * p->dilation_h;
                        const int32_t ix =
                            ox * p->stride_w - p->pad_w + tap % f_d->w * p->dilation_w;
                        double x = 0.0, w = 0.0;
                        if (t % EL_OPT_F16_KC == 0 && t > 0) {
                            total += c.sum;
                            bound += c.abs_products + c.abs_sums + fabs(total) * U32;
                            memset(&c, 0, sizeof c);
                        }
                        if (iy >= 0 && iy < in_d->h && ix >= 0 && ix < in_d->w) {
                            x = g_in[(((size_t)b * in_d->h + iy) * in_d->w + ix) * in_d->c + ic];
                            w = g_f[(size_t)oc * k + t];
                        }
                        chain_add(&c, x * w, w);
                    }
                    total += c.sum;
                    bound += c.abs_products + c.abs_sums + fabs(total) * U32;
                    if (bias) {
                        bound += fabs(total + bias[oc]) * U32;
                    }
                    g_bound[((b * out_d->h + oy) * out_d->w + ox) * out_d->c + oc] =
                        1.1 * bound + 1e-30;
                }
            }
        }
    }
}

/* Threads: the interpreter splits a layer into bands of output rows per image, each a conv of
 * its own (conv_common.c conv_task: the input from the band's first row, less top padding).
 * The bands' bytes must equal the whole call's (g_got). */
static void conv_bands(const el_conv_params *p, const el_dims *in_d, const el_dims *f_d,
                       const el_dims *out_d, const float *bias, const char *what)
{
    static float band_out[MAX_OUT];
    const int32_t rows = (out_d->h + 2) / 3; /* three bands (fewer for short outputs) */
    int32_t b, r0;
    for (b = 0; b < out_d->n; ++b) {
        for (r0 = 0; r0 < out_d->h; r0 += rows) {
            const int32_t r1 = r0 + rows < out_d->h ? r0 + rows : out_d->h;
            const int32_t top = r0 * p->stride_h - p->pad_h, skip = top > 0 ? top : 0;
            el_conv_params q = *p;
            el_dims ind = *in_d, outd = *out_d;
            const size_t at = ((size_t)b * out_d->h + r0) * out_d->w * out_d->c;
            if (skip >= in_d->h) {
                continue; /* the interpreter does not split such a layer */
            }
            q.pad_h = skip > 0 ? 0 : -top;
            ind.n = outd.n = 1;
            ind.h = in_d->h - skip;
            outd.h = r1 - r0;
            el_opt_conv2d_f16w(&q, &ind, g_in + ((size_t)b * in_d->h + skip) * in_d->w * in_d->c,
                               f_d, g_packed, bias, &outd, band_out + at);
        }
    }
    ++g_checked;
    if (memcmp(band_out, g_got, (size_t)out_d->n * out_d->h * out_d->w * out_d->c * 4) != 0) {
        printf("FAIL %s: row bands (threads) differ from the whole call\n", what);
        ++g_failures;
    }
}

static int conv_case(int idx, int big, int overflow)
{
    static const int32_t chans[] = {1, 3, 7, 8, 9, 15, 16, 17, 33};
    static const int32_t ochans[] = {1, 7, 8, 15, 16, 17, 31, 32, 33, 40};
    static const int32_t ksz[] = {1, 1, 1, 3, 3, 3, 2, 5};
    el_conv_params p, raw;
    el_dims in_d, f_d, out_d;
    const int32_t n = rnd_in(1, 2), h = rnd_in(1, big ? 6 : 12), w = rnd_in(1, big ? 6 : 14);
    const int32_t ic = big ? rnd_in(100, 140) : pick(chans, 9);
    const int32_t oc = pick(ochans, 10);
    const int32_t fh = big ? 3 : pick(ksz, 8), fw = big ? 3 : pick(ksz, 8);
    const int32_t stride = rnd_in(1, 2), dil = (rnd() % 5u) ? 1 : 2, same = (int)(rnd() % 2u);
    const int use_bias = (int)(rnd() % 4u != 0);
    int32_t oh, ow, out_n, fn, k;
    char what[180];
    memset(&p, 0, sizeof p);
    oh = out_size(same, h, fh, stride, dil);
    ow = out_size(same, w, fw, stride, dil);
    k = fh * fw * ic;
    fn = oc * k;
    out_n = n * oh * ow * oc;
    if (oh < 1 || ow < 1 || n * h * w * ic > MAX_IN || fn > MAX_F || out_n > MAX_OUT ||
        el_opt_f16_packed_bytes(oc, k) > sizeof g_packed) {
        return 0;
    }
    in_d.n = n;
    in_d.h = h;
    in_d.w = w;
    in_d.c = ic;
    f_d.n = oc;
    f_d.h = fh;
    f_d.w = fw;
    f_d.c = ic;
    out_d.n = n;
    out_d.h = oh;
    out_d.w = ow;
    out_d.c = oc;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = dil;
    p.pad_h = padding(h, fh, stride, dil, oh);
    p.pad_w = padding(w, fw, stride, dil, ow);
    p.depth_multiplier = 1;
    act(&p.act_min_f, &p.act_max_f);
    raw = p;
    raw.act_min_f = -INFINITY;
    raw.act_max_f = INFINITY;
    /* overflow: activations up to 1.1e5, past float16's 65504 */
    fill_f(g_in, n * h * w * ic, !overflow && idx % 3 == 0, overflow ? 33000.0f : 1.0f);
    fill_w(fn);
    fill_f(g_bias, oc, 0, 1.0f);
    el_conv2d_f32(&p, &in_d, g_in, &f_d, g_f, use_bias ? g_bias : NULL, &out_d, g_ref);
    el_conv2d_f32(&raw, &in_d, g_in, &f_d, g_f, use_bias ? g_bias : NULL, &out_d, g_raw);
    conv_bounds(&p, &in_d, &f_d, &out_d, use_bias ? g_bias : NULL);
    memset(g_packed, 0xEE, sizeof g_packed);
    el_opt_f16_pack(oc, k, g_h, g_packed);
    sprintf(what, "conv f16 case %d%s: n%d %dx%dx%d -> %d f %dx%d s%d d%d %s act [%g, %g]", idx,
            overflow ? " (overflow)" : "", (int)n, (int)h, (int)w, (int)ic, (int)oc, (int)fh,
            (int)fw, (int)stride, (int)dil, same ? "SAME" : "VALID", (double)p.act_min_f,
            (double)p.act_max_f);
    memset(g_got, GUARD_BYTE, ((size_t)out_n + GUARD) * 4);
    el_opt_conv2d_f16w(&p, &in_d, g_in, &f_d, g_packed, use_bias ? g_bias : NULL, &out_d, g_got);
    check(what, out_n, overflow);
    conv_bands(&p, &in_d, &f_d, &out_d, use_bias ? g_bias : NULL, what);
    return 1;
}

static void fc_case(int idx, int overflow)
{
    static const int32_t depths[] = {1, 3, 8, 9, 17, 64, 100, 600, 1280, 1500};
    el_fc_params p;
    const int32_t batches = rnd_in(1, 3), depth = pick(depths, 10), units = rnd_in(1, 40);
    const int use_bias = (int)(rnd() % 4u != 0);
    int32_t bt, u, d, l;
    char what[120];
    memset(&p, 0, sizeof p);
    act(&p.act_min_f, &p.act_max_f);
    fill_f(g_in, batches * depth, !overflow && idx % 3 == 0, overflow ? 33000.0f : 1.0f);
    fill_w(units * depth);
    fill_f(g_bias, units, 0, 1.0f);
    el_fully_connected_f32(&p, batches, depth, g_in, units, g_f, use_bias ? g_bias : NULL, g_ref);
    {
        el_fc_params r = p;
        r.act_min_f = -INFINITY;
        r.act_max_f = INFINITY;
        el_fully_connected_f32(&r, batches, depth, g_in, units, g_f, use_bias ? g_bias : NULL,
                               g_raw);
    }
    /* chains: (segment, lane = k mod 8); their float32 sums, then the bias */
    for (bt = 0; bt < batches; ++bt) {
        for (u = 0; u < units; ++u) {
            double bound = 0.0, total = 0.0;
            int32_t k0;
            for (k0 = 0; k0 < depth; k0 += EL_OPT_F16_KC) {
                const int32_t ks = depth - k0 < EL_OPT_F16_KC ? depth - k0 : EL_OPT_F16_KC;
                double seg = 0.0;
                for (l = 0; l < 8; ++l) {
                    chain c;
                    memset(&c, 0, sizeof c);
                    for (d = k0 + l; d < k0 + ks; d += 8) {
                        const double w = g_f[(size_t)u * depth + d];
                        chain_add(&c, (double)g_in[(size_t)bt * depth + d] * w, w);
                    }
                    seg += c.sum;
                    bound += c.abs_products + c.abs_sums + 3.0 * fabs(seg) * U32;
                }
                total += seg;
                bound += fabs(total) * U32;
            }
            if (use_bias) {
                bound += fabs(total + g_bias[u]) * U32;
            }
            g_bound[bt * units + u] = 1.1 * bound + 1e-30;
        }
    }
    sprintf(what, "fc f16 case %d%s: %d x %d -> %d", idx, overflow ? " (overflow)" : "",
            (int)batches, (int)depth, (int)units);
    memset(g_got, GUARD_BYTE, ((size_t)batches * units + GUARD) * 4);
    el_opt_fully_connected_f16w(&p, batches, depth, g_in, units, g_h, use_bias ? g_bias : NULL,
                                g_got);
    check(what, batches * units, overflow);
    if (batches == 1 && units > 4) { /* threads split one batch by units, 4 at a time */
        static float part[MAX_OUT];
        const int32_t a = units / 8 * 4 > 0 ? units / 8 * 4 : 4;
        el_opt_fully_connected_f16w(&p, 1, depth, g_in, a, g_h, use_bias ? g_bias : NULL, part);
        el_opt_fully_connected_f16w(&p, 1, depth, g_in, units - a, g_h + (size_t)a * depth,
                                    use_bias ? g_bias + a : NULL, part + a);
        ++g_checked;
        if (memcmp(part, g_got, (size_t)units * 4) != 0) {
            printf("FAIL %s: a split by units (threads) differs from the whole call\n", what);
            ++g_failures;
        }
    }
}

/* DEQUANTIZE float16 -> float32 (no flag needed, every aarch64 CPU): all 65536 values,
 * including subnormals, infinities and NaNs with any payload, the reference's bits. */
static void dequantize_all(void)
{
    static uint16_t h[65536 + 3];
    static float want[65536 + 3], got[65536 + 3];
    int32_t i;
    for (i = 0; i < 65536 + 3; ++i) {
        h[i] = (uint16_t)(i * 40503u); /* every value once (40503 is odd), then 3 more: a tail */
    }
    el_dequantize_f16_f32(65536 + 3, h, want);
    ++g_checked;
    if (el_opt_dequantize_f16(EL_OPT_ON | el_opt_isa_detected(), 65536 + 3, h, got)) {
        ++g_fast;
        for (i = 0; i < 65536 + 3; ++i) {
            uint32_t wb, gb;
            memcpy(&wb, &want[i], 4);
            memcpy(&gb, &got[i], 4);
            if (wb != gb) {
                printf("FAIL dequantize float16 0x%04x: 0x%08x, reference 0x%08x\n", h[i],
                       (unsigned)gb, (unsigned)wb);
                ++g_failures;
                break;
            }
        }
    }
}

int main(void)
{
    int idx, done = 0;
    dequantize_all();
    if (!(el_opt_isa_detected() & EL_OPT_ISA_FP16)) {
        printf("test_opt_f16: this CPU has no FEAT_FP16 (the interpreter never calls the "
               "kernels)\n");
        return finish("test_opt_f16", 1); /* the dequantization */
    }
    for (idx = 0; done < 240 && idx < 5000; ++idx) {
        done += conv_case(idx, 0, 0);
    }
    for (done = 0; done < 12 && idx < 6000; ++idx) {
        done += conv_case(idx, 1, 0);
    }
    for (done = 0; done < 8 && idx < 7000; ++idx) {
        done += conv_case(idx, 0, 1);
    }
    for (idx = 0; idx < 80; ++idx) {
        fc_case(idx, 0);
    }
    for (idx = 0; idx < 8; ++idx) {
        fc_case(100 + idx, 1);
    }
    printf("test_opt_f16: largest difference %.3g of the per-output bound\n", g_worst);
    return finish("test_opt_f16", 341);
}
#else
int main(void)
{
    printf("test_opt_f16: no half-precision kernels in this build (aarch64 only)\n");
    return finish("test_opt_f16", 0);
}
#endif
