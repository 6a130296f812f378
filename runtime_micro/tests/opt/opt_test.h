/* Shared helpers of the optimized-kernel tests: each test runs the reference kernel and the
 * optimized one under every instruction set this CPU offers, on a seeded edge-case matrix, and
 * requires identical bytes (plus untouched guard bytes after the output). Static buffers only,
 * so the same file runs on the host, qemu-aarch64 and the Cortex-M boards. */
#ifndef EL_OPT_TEST_H
#define EL_OPT_TEST_H

#include <stdio.h>
#include <string.h>

#include "el_nn.h"
#include "el_quant.h"
#include "opt/el_opt.h"

#define GUARD 16
#define GUARD_BYTE 0x5A

static uint32_t g_rng = 0x12345678u;
static int g_failures = 0;
static int g_checked = 0; /* (case, isa) pairs compared */
static int g_fast = 0;    /* of which the optimized kernel handled */

static inline uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

/* Uniform in [lo, hi]. */
static inline int32_t rnd_in(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static inline int32_t pick(const int32_t *v, int32_t n)
{
    return v[rnd() % (uint32_t)n];
}

/* int8 data with the extremes over-represented. */
static inline void fill_s8(int8_t *p, int32_t n, int32_t lo, int32_t hi)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const uint32_t r = rnd() % 16u;
        p[i] = (int8_t)(r == 0 ? lo : r == 1 ? hi : rnd_in(lo, hi));
    }
}

/* A requantization multiplier near `real` (sometimes far above or below). */
static inline void rnd_multiplier(double real, int32_t *m, int32_t *s)
{
    int sh;
    const uint32_t r = rnd() % 8u;
    const double factor = r == 0 ? 64.0 : r == 1 ? 1.0 / 64.0 : 0.5 + (rnd() % 1000u) / 1000.0;
    el_quantize_multiplier(real * factor, m, &sh);
    *s = sh;
}

/* int16 data with the extremes over-represented. */
static inline void fill_s16(int16_t *p, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const uint32_t r = rnd() % 8u;
        p[i] = (int16_t)(r == 0 ? -32768 : r == 1 ? 32767 : rnd_in(-32768, 32767));
    }
}

/* A convolution's output size along one axis (SAME or VALID) and its SAME padding before. */
static inline int32_t out_size(int same, int32_t in, int32_t f, int32_t stride, int32_t dil)
{
    const int32_t eff = (f - 1) * dil + 1;
    return same ? (in + stride - 1) / stride : (in - eff) / stride + 1;
}

static inline int32_t padding(int32_t in, int32_t f, int32_t stride, int32_t dil, int32_t out)
{
    const int32_t total = (out - 1) * stride + (f - 1) * dil + 1 - in;
    return total > 0 ? total / 2 : 0;
}

/* Every optimized path this CPU has (what an interpreter with the default config uses). */
static inline uint32_t isa_all(void)
{
    return EL_OPT_ON | el_opt_isa_detected();
}

/* Instruction-set masks to try: portable, then each feature level this CPU has. */
static inline int isa_levels(unsigned *masks) /* up to 8 entries */
{
    const unsigned d = el_opt_isa_detected();
    int n = 0;
    masks[n++] = EL_OPT_ON;
    if (d & EL_OPT_ISA_SSE41) {
        masks[n++] = EL_OPT_ON | EL_OPT_ISA_SSE41;
    }
    if (d & EL_OPT_ISA_AVX2) {
        masks[n++] = EL_OPT_ON | EL_OPT_ISA_AVX2;
    }
    if ((d & EL_OPT_ISA_AVX2) && (d & EL_OPT_ISA_AVXVNNI)) {
        masks[n++] = EL_OPT_ON | EL_OPT_ISA_AVX2 | EL_OPT_ISA_AVXVNNI;
    }
    if ((d & EL_OPT_ISA_AVX2) && (d & EL_OPT_ISA_AVX512VNNI)) {
        masks[n++] = EL_OPT_ON | EL_OPT_ISA_AVX2 | EL_OPT_ISA_AVX512VNNI;
    }
    if ((d & EL_OPT_ISA_AVX2) && (d & EL_OPT_ISA_AVX512F)) {
        masks[n++] = EL_OPT_ON | EL_OPT_ISA_AVX2 | EL_OPT_ISA_AVX512F;
    }
    if (d & EL_OPT_ISA_NEON) {
        masks[n++] = EL_OPT_ON | EL_OPT_ISA_NEON;
    }
    if (d & EL_OPT_ISA_SDOT) {
        masks[n++] = EL_OPT_ON | EL_OPT_ISA_NEON | EL_OPT_ISA_SDOT;
    }
    return n;
}

static inline const char *isa_name(unsigned mask)
{
    if (mask & EL_OPT_ISA_SDOT) {
        return "sdot";
    }
    if (mask & EL_OPT_ISA_NEON) {
        return "neon";
    }
    if (mask & EL_OPT_ISA_AVX512VNNI) {
        return "avx512vnni";
    }
    if (mask & EL_OPT_ISA_AVX512F) {
        return "avx512f";
    }
    if (mask & EL_OPT_ISA_AVXVNNI) {
        return "avxvnni";
    }
    if (mask & EL_OPT_ISA_AVX2) {
        return "avx2";
    }
    if (mask & EL_OPT_ISA_SSE41) {
        return "sse4.1";
    }
#if defined(__ARM_FEATURE_MVE)
    return "mve";
#elif defined(__ARM_FEATURE_DSP)
    return "dsp";
#else
    return "c";
#endif
}

/* Compares `n` output bytes and the guard after them; prints the first difference. */
static inline int same_output(const int8_t *ref, const int8_t *got, int32_t n, const char *what,
                              unsigned isa)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        if (ref[i] != got[i]) {
            printf("FAIL %s [%s]: output[%d] = %d, reference %d\n", what, isa_name(isa), (int)i,
                   (int)got[i], (int)ref[i]);
            ++g_failures;
            return 0;
        }
    }
    for (i = 0; i < GUARD; ++i) {
        if ((unsigned char)got[n + i] != GUARD_BYTE) {
            printf("FAIL %s [%s]: wrote past the output (guard byte %d)\n", what, isa_name(isa),
                   (int)i);
            ++g_failures;
            return 0;
        }
    }
    return 1;
}

/* same_output for n floats, except that any NaN matches any NaN: when an operation meets two
 * NaNs (or makes one from inf - inf next to another), IEEE 754 leaves which one comes out, and
 * x86 returns its first operand's, so the sign and payload follow the compiler's choice of
 * operand order for a commutative add or multiply (which differs between builds of the
 * reference itself: -O1 tests, -O2 library). Every other output must have the same bits. */
static inline int same_output_f32(const float *ref, const float *got, int32_t n, const char *what,
                                  unsigned isa)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        if (ref[i] != ref[i] && got[i] != got[i]) {
            continue;
        }
        if (memcmp(ref + i, got + i, sizeof(float)) != 0) {
            printf("FAIL %s [%s]: output[%d] = %.9g, reference %.9g\n", what, isa_name(isa), (int)i,
                   (double)got[i], (double)ref[i]);
            ++g_failures;
            return 0;
        }
    }
    /* the guard bytes after the output */
    return same_output((const int8_t *)(ref + n), (const int8_t *)(got + n), 0, what, isa);
}

/* A hosted-only float path's answer for one ISA level: `handled` (its return) must be 1 on
 * hosted CPUs, with the reference's bits (same_output_f32), and 0 on microcontrollers. */
static inline void hosted_f32_result(int handled, const float *ref, const float *got, int32_t n,
                                     const char *what, unsigned isa)
{
    ++g_checked;
    if (handled) {
        ++g_fast;
        if (!EL_HOSTED_CPU) {
            printf("FAIL %s: taken on a microcontroller\n", what);
            ++g_failures;
        }
        same_output_f32(ref, got, n, what, isa);
    } else if (EL_HOSTED_CPU) {
        printf("FAIL %s [%s]: declined\n", what, isa_name(isa));
        ++g_failures;
    }
}

static inline int finish(const char *name, int min_fast)
{
    printf("%s: %d comparisons (%d on the optimized path), %d failures, isa detected 0x%x\n", name,
           g_checked, g_fast, g_failures, (unsigned)el_opt_isa_detected());
    if (g_fast < min_fast) {
        printf("FAIL %s: the optimized path ran %d times, expected at least %d\n", name, g_fast,
               min_fast);
        return 1;
    }
    return g_failures != 0;
}

#endif
