/* float32 RESIZE_BILINEAR and AVERAGE_POOL_2D with the channels in vectors (hosted CPUs). The
 * reference kernels run the channel loop innermost around per-channel work: RESIZE_BILINEAR
 * recomputes the source coordinates and weights for every channel, AVERAGE_POOL_2D walks the
 * whole window once per channel (a global pool: one dependent add per tap). MediaPipe's
 * selfie segmentation spent ~0.95 ms in its three resizes and ~0.6 ms in its ten pools.
 *
 * The same bits as the reference: every output is the reference's sequence of IEEE operations
 * (the products and sums of the bilinear blend left to right, a window's sum from 0 in (fy, fx)
 * order, then the division and the clamp), only the channels run side by side; the build
 * compiles C99 without FP contraction (-std=c99), and the vector bodies use separate multiply
 * and add instructions. Hosted CPUs only: on a microcontroller this would be the reference's
 * loops again (shape_common.c and pooling_common.c do not call it there). */
#include "el_opt.h"

#include <math.h>

#include "../el_resize_rules.h"
#include "opt_internal.h"

/* the scalar channels' blend as reference/resize.c's: no fused multiply-add (clang's default) */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__x86_64__) || defined(__aarch64__)

#if defined(__x86_64__)
#include <immintrin.h>
#else
#include <arm_neon.h>
#endif

/* A RESIZE_BILINEAR output column: its source columns' offsets (floats) and weights */
typedef struct {
    size_t x0, x1;
    float dx, wx0; /* wx0 = 1 - dx */
} rs_col;

#if defined(__x86_64__)
/* SSE2: every x86-64 CPU */
#define P_ATTR
#define P_FN(x) x##_sse2
#define V __m128
#define N 4
#define LD _mm_loadu_ps
#define ST _mm_storeu_ps
#define SET1 _mm_set1_ps
#define ADD _mm_add_ps
#define MUL _mm_mul_ps
#define DIV _mm_div_ps
#define MAXV _mm_max_ps /* (a > b ? a : b) */
#define MINV _mm_min_ps /* (a < b ? a : b) */
#include "pool_resize_f32_body.h"

#if defined(EL_OPT_HAVE_AVX2)
/* AVX without FMA: nothing here to fuse */
#define P_ATTR __attribute__((target("avx2")))
#define P_FN(x) x##_avx2
#define V __m256
#define N 8
#define LD _mm256_loadu_ps
#define ST _mm256_storeu_ps
#define SET1 _mm256_set1_ps
#define ADD _mm256_add_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps
#define MAXV _mm256_max_ps
#define MINV _mm256_min_ps
#include "pool_resize_f32_body.h"
#endif

#else /* aarch64 */
#define P_ATTR
#define P_FN(x) x##_neon
#define V float32x4_t
#define N 4
#define LD vld1q_f32
#define ST vst1q_f32
#define SET1 vdupq_n_f32
#define ADD vaddq_f32
#define MUL vmulq_f32
#define DIV vdivq_f32
/* FMAX / FMIN differ from the comparisons on NaN and signed zeros: the comparisons select */
#define MAXV(a, b) vbslq_f32(vcgtq_f32(a, b), a, b)
#define MINV(a, b) vbslq_f32(vcltq_f32(a, b), a, b)
#include "pool_resize_f32_body.h"
#endif

typedef void (*bilinear_row_fn)(const float *, const float *, const rs_col *, int32_t, int32_t,
                                float, float, float *);
typedef int32_t (*avg_px_fn)(const float *, size_t, int32_t, int32_t, int32_t, float, float, float,
                             float *);

/* This interpreter's instance of the bodies: AVX2 where it may use it, else SSE2 (every
 * x86-64), NEON on aarch64. */
static void pick(uint32_t isa, bilinear_row_fn *row, avg_px_fn *px)
{
#if defined(__x86_64__)
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        *row = bilinear_row_avx2;
        *px = avg_px_avx2;
        return;
    }
#endif
    *row = bilinear_row_sse2;
    *px = avg_px_sse2;
#else
    *row = bilinear_row_neon;
    *px = avg_px_neon;
#endif
    (void)isa;
}

/* output columns whose source columns and weights are computed once per call (a wider image:
 * once per row of each chunk of this many) */
#define RS_COLS 256

int el_opt_resize_bilinear_f32(uint32_t isa, const el_resize_params *p, const el_dims *in_dims,
                               const float *in, const el_dims *out_dims, float *out)
{
    if (!(isa & EL_OPT_ON)) { /* (before out_dims is read) */
        return 0;
    }
    return el_opt_resize_bilinear_f32_rows(isa, p, in_dims, in, out_dims, out, 0, out_dims->h);
}

int el_opt_resize_bilinear_f32_rows(uint32_t isa, const el_resize_params *p, const el_dims *in_dims,
                                    const float *in, const el_dims *out_dims, float *out,
                                    int32_t r0, int32_t r1)
{
    rs_col cols[RS_COLS];
    float hs, ws;
    int32_t ch, b, y, x, xa, n;
    size_t in_row;
    bilinear_row_fn row;
    avg_px_fn px;
    if (!(isa & EL_OPT_ON) || in_dims->c != out_dims->c) {
        return 0;
    }
    if (r1 <= r0) { /* an empty band: the answer to whether it takes the layer */
        return 1;
    }
    hs = el_resize_scale(p->align_corners, in_dims->h, out_dims->h);
    ws = el_resize_scale(p->align_corners, in_dims->w, out_dims->w);
    ch = out_dims->c;
    in_row = (size_t)in_dims->w * ch;
    pick(isa, &row, &px);
    for (xa = 0; xa < out_dims->w; xa += n) {
        n = out_dims->w - xa < RS_COLS ? out_dims->w - xa : RS_COLS;
        for (x = 0; x < n; ++x) {
            float ix;
            int32_t x0, x1;
            el_resize_interp((float)(xa + x), ws, p->half_pixel_centers, in_dims->w, &ix, &x0, &x1);
            cols[x].x0 = (size_t)x0 * ch;
            cols[x].x1 = (size_t)x1 * ch;
            cols[x].dx = ix - (float)x0;
            cols[x].wx0 = 1 - cols[x].dx;
        }
        for (b = 0; b < out_dims->n; ++b) {
            const float *img = in + (size_t)b * in_dims->h * in_row;
            for (y = r0; y < r1; ++y) {
                float iy, dy;
                int32_t y0, y1;
                el_resize_interp((float)y, hs, p->half_pixel_centers, in_dims->h, &iy, &y0, &y1);
                dy = iy - (float)y0;
                row(img + (size_t)y0 * in_row, img + (size_t)y1 * in_row, cols, n, ch, 1 - dy, dy,
                    out + (((size_t)b * out_dims->h + y) * out_dims->w + xa) * ch);
            }
        }
    }
    return 1;
}

int el_opt_avgpool_f32(uint32_t isa, const el_pool_params *p, const el_dims *in_dims,
                       const float *in, const el_dims *out_dims, float *out)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, ch = in_dims->c;
    const float lo = p->act_min_f, hi = p->act_max_f;
    bilinear_row_fn row;
    avg_px_fn px;
    int32_t b, oy, ox, c, fy, fx;
    if (!(isa & EL_OPT_ON) || out_dims->c != ch) {
        return 0;
    }
    pick(isa, &row, &px);
    for (b = 0; b < in_dims->n; ++b) {
        const float *img = in + (size_t)b * in_h * in_w * ch;
        for (oy = 0; oy < out_dims->h; ++oy) {
            /* the reference's window clipped to the input (pool_window) */
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = y0 < 0 ? -y0 : 0;
            const int32_t fy1 = in_h - y0 < p->filter_h ? in_h - y0 : p->filter_h;
            for (ox = 0; ox < out_dims->w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = x0 < 0 ? -x0 : 0;
                const int32_t fx1 = in_w - x0 < p->filter_w ? in_w - x0 : p->filter_w;
                /* prepare guarantees every window overlaps the input, so count > 0 */
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                const float *x = img + ((size_t)(y0 + fy0) * in_w + (x0 + fx0)) * ch;
                float *o = out + (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * ch;
                for (c = px(x, (size_t)in_w * ch, fy1 - fy0, fx1 - fx0, ch, (float)count, lo, hi,
                            o);
                     c < ch; ++c) {
                    float acc = 0.0f, v;
                    for (fy = 0; fy < fy1 - fy0; ++fy) {
                        for (fx = 0; fx < fx1 - fx0; ++fx) {
                            acc += x[((size_t)fy * in_w + fx) * ch + c];
                        }
                    }
                    v = acc / (float)count;
                    o[c] = v < lo ? lo : (v > hi ? hi : v);
                }
            }
        }
    }
    return 1;
}

#else
/* Microcontrollers run the reference's loops (the glue does not call these there). */
int el_opt_resize_bilinear_f32(uint32_t isa, const el_resize_params *p, const el_dims *in_dims,
                               const float *in, const el_dims *out_dims, float *out)
{
    (void)isa, (void)p, (void)in_dims, (void)in, (void)out_dims, (void)out;
    return 0;
}

int el_opt_resize_bilinear_f32_rows(uint32_t isa, const el_resize_params *p, const el_dims *in_dims,
                                    const float *in, const el_dims *out_dims, float *out,
                                    int32_t r0, int32_t r1)
{
    (void)isa, (void)p, (void)in_dims, (void)in, (void)out_dims, (void)out, (void)r0, (void)r1;
    return 0;
}

int el_opt_avgpool_f32(uint32_t isa, const el_pool_params *p, const el_dims *in_dims,
                       const float *in, const el_dims *out_dims, float *out)
{
    (void)isa, (void)p, (void)in_dims, (void)in, (void)out_dims, (void)out;
    return 0;
}
#endif
