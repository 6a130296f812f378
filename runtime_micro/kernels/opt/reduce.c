/* Optimized MEAN when the reduced axes are one contiguous run of dims (global average pooling:
 * [N, H, W, C] over H and W): each reduced slice adds whole rows of the kept inner dims into
 * the sums, in vectors across those dims.
 * int8 (TFLite's QuantizedMeanOrSum, as el_reduce_mean_s8): the same int32 sums (modulo 2^32,
 * in any order) and the same per-output arithmetic, so the same bytes.
 * float32 (el_reduce_mean_f32): every output's sum starts at 0.0f and adds its inputs in input
 * order, one rounding per add, as the reference does (its lanes are independent outputs), then
 * the same division: the same bits. The reference's loop is scalar: MobileNetV2-1.0/224's
 * global pool took 45 us, 9 us in vectors (AVX2), on two threads as on one (it does not
 * split). Hosted CPUs only: on a microcontroller this would be the reference's loop. */
#include "el_opt.h"

#include "../el_quant.h"
#include "opt_internal.h"

#if defined(__aarch64__) && defined(__GNUC__)
#include <arm_neon.h>
#endif

/* acc[c] += sum_j x[j * inner + c] for c < inner, j < r (modulo 2^32). */
static void sum_rows(uint32_t isa, const int8_t *x, size_t r, size_t inner, uint32_t *acc)
{
    size_t c = 0, j;
    (void)isa;
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        c = el_opt_sum_rows_avx2(x, r, inner, acc);
    }
#endif
#if defined(__aarch64__) && defined(__GNUC__)
    /* 16 channels at a time, their sums in registers over all r rows */
    for (; c + 16 <= inner; c += 16) {
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
        for (j = 0; j < r; ++j) {
            const int8x16_t v = vld1q_s8(x + j * inner + c);
            const int16x8_t lo = vmovl_s8(vget_low_s8(v)), hi = vmovl_high_s8(v);
            s0 = vaddw_s16(s0, vget_low_s16(lo));
            s1 = vaddw_high_s16(s1, lo);
            s2 = vaddw_s16(s2, vget_low_s16(hi));
            s3 = vaddw_high_s16(s3, hi);
        }
        vst1q_u32(acc + c, vaddq_u32(vld1q_u32(acc + c), vreinterpretq_u32_s32(s0)));
        vst1q_u32(acc + c + 4, vaddq_u32(vld1q_u32(acc + c + 4), vreinterpretq_u32_s32(s1)));
        vst1q_u32(acc + c + 8, vaddq_u32(vld1q_u32(acc + c + 8), vreinterpretq_u32_s32(s2)));
        vst1q_u32(acc + c + 12, vaddq_u32(vld1q_u32(acc + c + 12), vreinterpretq_u32_s32(s3)));
    }
#endif
    for (j = 0; j < r; ++j) {
        size_t i;
        for (i = c; i < inner; ++i) {
            acc[i] += (uint32_t)(int32_t)x[j * inner + i];
        }
    }
}

/* Splits shape s into outer x r x inner around the reduced axes when they are one run of
 * dims; 0 otherwise (and for r beyond int32). */
static int reduce_run(const el_reduce_params *p, const el_shape *s, size_t *outer, size_t *r,
                      size_t *inner)
{
    int32_t lo = -1, hi = -1, d;
    if (p->axes_mask == 0) {
        return 0;
    }
    for (d = 0; d < s->rank; ++d) {
        if (p->axes_mask & (1 << d)) {
            if (hi >= 0 && hi != d - 1) {
                return 0; /* reduced axes not one run of dims: the reference */
            }
            lo = lo < 0 ? d : lo;
            hi = d;
        }
    }
    if (lo < 0 || (p->axes_mask >> s->rank) != 0) {
        return 0;
    }
    *outer = *r = *inner = 1;
    for (d = 0; d < s->rank; ++d) {
        const size_t n = (size_t)s->d[d];
        if (d < lo) {
            *outer *= n;
        } else if (d <= hi) {
            *r *= n;
        } else {
            *inner *= n;
        }
    }
    return *r >= 1 && *r <= 0x7fffffff;
}

int el_opt_mean_s8(uint32_t isa, const el_reduce_params *p, const el_shape *s, const int8_t *in,
                   int32_t *scratch, int8_t *out)
{
    int32_t sh, m;
    size_t outer, r, inner, o, c;
    if (!(isa & EL_OPT_ON) || !reduce_run(p, s, &outer, &r, &inner)) {
        return 0;
    }
    for (o = 0; o < outer; ++o) {
        uint32_t *acc = (uint32_t *)scratch + o * inner;
        const int8_t *x = in + o * r * inner;
        for (c = 0; c < inner; ++c) {
            acc[c] = 0;
        }
        sum_rows(isa, x, r, inner, acc);
    }
    /* mean_value of the reference: the count divided into the multiplier, once */
    sh = 31 - el_clz32((uint32_t)r);
    sh = sh < 32 ? sh : 32;
    sh = sh < 31 + p->shift ? sh : 31 + p->shift;
    m = (int32_t)(((int64_t)p->multiplier << sh) / (int64_t)r);
    o = 0;
#if defined(EL_OPT_HAVE_AVX2)
    if ((isa & EL_OPT_ISA_AVX2) && m >= 0 && p->shift - sh >= -31 && p->shift - sh <= 30) {
        o = el_opt_mean_out_avx2(scratch, outer * inner,
                                 (int32_t)((uint32_t)p->input_zero_point * (uint32_t)r), m,
                                 p->shift - sh, p->output_zero_point, out);
    }
#endif
    for (; o < outer * inner; ++o) {
        const int32_t shifted =
            (int32_t)((uint32_t)scratch[o] - (uint32_t)p->input_zero_point * (uint32_t)r);
        const int32_t v = el_requant(shifted, m, p->shift - sh) + p->output_zero_point;
        out[o] = (int8_t)el_clamp_i32(v, -128, 127);
    }
    return 1;
}

#if EL_HOSTED_CPU
/* acc[c] = acc[c] + x[j * inner + c] for j < r in turn, c < inner (the reference's order). */
static void sum_rows_f32(uint32_t isa, const float *x, size_t r, size_t inner, float *acc)
{
    size_t c = 0, j;
    (void)isa;
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        c = el_opt_sum_rows_f32_avx2(x, r, inner, acc);
    }
#endif
#if defined(__aarch64__) && defined(__GNUC__)
    for (; c + 16 <= inner; c += 16) {
        float32x4_t s0 = vld1q_f32(acc + c), s1 = vld1q_f32(acc + c + 4);
        float32x4_t s2 = vld1q_f32(acc + c + 8), s3 = vld1q_f32(acc + c + 12);
        const float *p = x + c;
        for (j = 0; j < r; ++j, p += inner) {
            s0 = vaddq_f32(s0, vld1q_f32(p));
            s1 = vaddq_f32(s1, vld1q_f32(p + 4));
            s2 = vaddq_f32(s2, vld1q_f32(p + 8));
            s3 = vaddq_f32(s3, vld1q_f32(p + 12));
        }
        vst1q_f32(acc + c, s0);
        vst1q_f32(acc + c + 4, s1);
        vst1q_f32(acc + c + 8, s2);
        vst1q_f32(acc + c + 12, s3);
    }
#endif
    for (j = 0; j < r; ++j) {
        size_t i;
        for (i = c; i < inner; ++i) {
            acc[i] = acc[i] + x[j * inner + i];
        }
    }
}

int el_opt_mean_f32(uint32_t isa, const el_reduce_params *p, const el_shape *s, const float *in,
                    float *out)
{
    size_t outer, r, inner, o, c;
    if (!(isa & EL_OPT_ON) || !reduce_run(p, s, &outer, &r, &inner)) {
        return 0;
    }
    for (o = 0; o < outer; ++o) {
        float *acc = out + o * inner;
        for (c = 0; c < inner; ++c) {
            acc[c] = 0.0f;
        }
        sum_rows_f32(isa, in + o * r * inner, r, inner, acc);
        for (c = 0; c < inner; ++c) {
            acc[c] = acc[c] / (float)r;
        }
    }
    return 1;
}
#else
/* Microcontrollers run the reference's loop (reduce_common.c does not call this): no second
 * caller of reduce_run, which stays inlined in el_opt_mean_s8. */
int el_opt_mean_f32(uint32_t isa, const el_reduce_params *p, const el_shape *s, const float *in,
                    float *out)
{
    (void)isa;
    (void)p;
    (void)s;
    (void)in;
    (void)out;
    return 0;
}
#endif
