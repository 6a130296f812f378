/* x86-64 AVX-512F: float32 DEPTHWISE_CONV_2D (f32_body.h's depthwise, F_DW_ONLY) on 512-bit
 * vectors of 16 channels, compiled for AVX-512 function by function and called only when the
 * CPU has it and the layer has at least 16 channels (conv_f32.c); every output's sequence is
 * the AVX2 path's (bias, the taps in the reference's order, the clamp), so are the bytes.
 * MobileNetV2-1.0/224's 17 layers 0.89 to 0.90 of AVX2's time (paired per-op profile, Zen 5).
 * The 3x3 rows four pixels at a time (F_DW_QUAD, NEON's: 32 registers hold the nine filter
 * vectors, four sums and six columns) measured 1.04 to 1.35 of AVX2's time per layer here, so
 * the rows go pixel by pixel as on AVX2. */
#include <string.h>

#include "opt_internal.h"

#if defined(EL_OPT_HAVE_AVX512F)
#include <immintrin.h>
#include <math.h>

#define F_DW_ONLY 1
#define F_ATTR __attribute__((target("avx2,fma,avx512f")))
#define F_FN(x) x##_avx512f
#define F_V __m512
#define F_L 16
#define F_ZERO _mm512_setzero_ps()
#define F_LOAD(p) _mm512_loadu_ps(p)
#define F_STORE(p, v) _mm512_storeu_ps(p, v)
#define F_BCAST(x) _mm512_set1_ps(x)
#define F_FMA(acc, a, b) _mm512_fmadd_ps(a, b, acc)
/* AVX2's clamp8 operand order: a NaN passes through */
#define F_CLAMP(v, lo, hi) _mm512_min_ps(hi, _mm512_max_ps(lo, v))
#include "f32_body.h"

#else
/* ISO C forbids an empty translation unit. */
typedef int el_opt_x86_avx512f_dw_unused;
#endif
