/* Float32 building blocks shared by the AVX2 (x86_avx2.c) and AVX-512 (x86_avx512f.c)
 * instances of f32_body.h: the clamp both use, and the packing of 16-column filter panels,
 * whose layout the two share (prepare packs once; either tile reads the panels). Functions of
 * the AVX2 + FMA target, inlined into the AVX-512 functions too (a subset of their target). */
#ifndef EL_X86_AVX2_F32_H
#define EL_X86_AVX2_F32_H

#include <immintrin.h>
#include <stdint.h>

/* AVX2 + FMA (opt_dispatch.c reports AVX2 only when the CPU has both) */
#define EL_AVX2F __attribute__((target("avx2,fma")))

/* vmaxps / vminps return their second operand when either is NaN: x passes through as NaN.
 * (A -0 below a +0 bound becomes +0: equal values, within the float contract.) */
EL_AVX2F static inline __m256 clamp8(__m256 x, __m256 lo, __m256 hi)
{
    return _mm256_min_ps(hi, _mm256_max_ps(lo, x));
}

/* 8x8 transpose: r[t] = column t of the rows r[0..7]. */
EL_AVX2F static inline void transpose8(__m256 *r)
{
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* panel[kk * 16 + j] = w[j * ldw + kk]: 8x8 transposes, the last k one by one */
EL_AVX2F static void pack16_f32(const float *w, int32_t ldw, int32_t ks, float *panel)
{
    int32_t kk, h, t, j;
    for (kk = 0; kk + 8 <= ks; kk += 8) {
        for (h = 0; h < 2; ++h) {
            __m256 r[8];
            for (t = 0; t < 8; ++t) {
                r[t] = _mm256_loadu_ps(w + (size_t)(h * 8 + t) * ldw + kk);
            }
            transpose8(r);
            for (t = 0; t < 8; ++t) {
                _mm256_storeu_ps(panel + (size_t)(kk + t) * 16 + h * 8, r[t]);
            }
        }
    }
    for (; kk < ks; ++kk) {
        for (j = 0; j < 16; ++j) {
            panel[(size_t)kk * 16 + j] = w[(size_t)j * ldw + kk];
        }
    }
}

#endif
