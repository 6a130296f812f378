/* x86-64 VNNI GEMM: vpdpbusd multiplies unsigned by signed bytes and adds groups of four
 * products into int32 lanes without saturation (the non-"s" form), so it is exact. The
 * activations become unsigned by flipping their sign bit (a + 128); the extra 128 * sum(b)
 * is subtracted at the end with the column sums the driver already has.
 * Two encodings of the same kernel (x86_vnni_gemm.h), each compiled for its extension only
 * (target attribute) and called when the CPU has it: AVX-512 VNNI + VL on 256-bit vectors
 * (servers since Cascade Lake, Zen 4) and AVX-VNNI (Alder Lake and later clients). */
#include <string.h>

#include "opt_internal.h"

#if defined(EL_OPT_HAVE_VNNI)
#include <immintrin.h>

#define VNNI_KSEG 1024 /* bytes of k per packed panel segment (16 KB panel on the stack) */
#define VNNI_MMIN 4    /* fewer rows: the AVX2 dot-product tiles */

#define VNNI_ATTR __attribute__((target("avx2,avx512f,avx512vl,avx512vnni")))
#define VNNI_DPBUSD _mm256_dpbusd_epi32
#define VNNI_FN(x) x##_vnni512
#include "x86_vnni_gemm.h"
#undef VNNI_ATTR
#undef VNNI_DPBUSD
#undef VNNI_FN

#define VNNI_ATTR __attribute__((target("avx2,avxvnni")))
#define VNNI_DPBUSD _mm256_dpbusd_avx_epi32
#define VNNI_FN(x) x##_avxvnni
#include "x86_vnni_gemm.h"

#else
typedef int el_opt_x86_vnni_unused;
#endif
