/* Run-time choice of the optimized kernels' instruction set. */
#include "opt_internal.h"

#if defined(EL_OPT_HAVE_NEON) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20) /* Linux arm64 uapi hwcap bit */
#endif
#endif

#if defined(EL_OPT_HAVE_AVX2) || defined(EL_OPT_HAVE_NEON)
/* Hosted builds choose the instruction set at run time; these two switches (tests and
 * benchmarks) are the only static state of runtime_micro there. Cortex-M builds, which choose
 * at compile time, keep none (the library's rule), and the switches do nothing. */
#define EL_OPT_SWITCHES 1
static unsigned g_limit = ~0u;
static int g_enabled = 1;
#endif

unsigned el_opt_isa_detected(void)
{
    unsigned isa = 0;
#if defined(EL_OPT_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        isa |= EL_OPT_ISA_AVX2;
#if defined(EL_OPT_HAVE_VNNI)
        if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")) {
            isa |= EL_OPT_ISA_AVX512VNNI;
        }
#if !defined(__clang__) || __clang_major__ >= 16 /* older Clang: no "avxvnni" feature name */
        if (__builtin_cpu_supports("avxvnni")) {
            isa |= EL_OPT_ISA_AVXVNNI;
        }
#endif
#endif
    }
#endif
#if defined(EL_OPT_HAVE_NEON)
    isa |= EL_OPT_ISA_NEON;
#if defined(__linux__)
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) {
        isa |= EL_OPT_ISA_SDOT;
    }
#endif
#endif
#if defined(__ARM_FEATURE_MVE)
    isa |= EL_OPT_ISA_MVE;
#endif
#if defined(__ARM_FEATURE_DSP)
    isa |= EL_OPT_ISA_DSP;
#endif
    return isa;
}

#if defined(EL_OPT_SWITCHES)
/* Detection per call costs a few loads (libgcc / the kernel keep the CPU bits), little next to
 * a layer, and keeps runtime_micro free of caches. */
unsigned el_opt_isa_active(void) { return el_opt_isa_detected() & g_limit; }

void el_opt_limit_isa(unsigned mask) { g_limit = mask; }

void el_opt_enable(int on) { g_enabled = on != 0; }

int el_opt_enabled(void) { return g_enabled; }
#else
unsigned el_opt_isa_active(void) { return el_opt_isa_detected(); }

void el_opt_limit_isa(unsigned mask) { (void)mask; }

void el_opt_enable(int on) { (void)on; }

int el_opt_enabled(void) { return 1; }
#endif

static const el_opt_kernels k_portable = {el_opt_gemm_c, el_opt_dw_c, el_opt_requant_c,
                                         el_opt_rowsum_c, el_opt_add_c};
#if defined(EL_OPT_HAVE_AVX2)
static const el_opt_kernels k_avx2 = {el_opt_gemm_avx2, el_opt_dw_avx2, el_opt_requant_avx2,
                                     el_opt_rowsum_avx2, el_opt_add_avx2};
#endif
#if defined(EL_OPT_HAVE_VNNI)
static const el_opt_kernels k_vnni512 = {el_opt_gemm_vnni512, el_opt_dw_avx2,
                                         el_opt_requant_avx2, el_opt_rowsum_avx2,
                                         el_opt_add_avx2};
static const el_opt_kernels k_avxvnni = {el_opt_gemm_avxvnni, el_opt_dw_avx2,
                                         el_opt_requant_avx2, el_opt_rowsum_avx2,
                                         el_opt_add_avx2};
#endif
#if defined(EL_OPT_HAVE_NEON)
static const el_opt_kernels k_neon = {el_opt_gemm_neon, el_opt_dw_neon, el_opt_requant_neon,
                                     el_opt_rowsum_neon, el_opt_add_neon};
static const el_opt_kernels k_sdot = {el_opt_gemm_sdot, el_opt_dw_neon, el_opt_requant_neon,
                                     el_opt_rowsum_neon, el_opt_add_neon};
#endif

const el_opt_kernels *el_opt_kernels_active(void)
{
    const unsigned isa = el_opt_isa_active();
    (void)isa;
#if defined(EL_OPT_HAVE_VNNI)
    if ((isa & EL_OPT_ISA_AVX2) && (isa & EL_OPT_ISA_AVX512VNNI)) {
        return &k_vnni512;
    }
    if ((isa & EL_OPT_ISA_AVX2) && (isa & EL_OPT_ISA_AVXVNNI)) {
        return &k_avxvnni;
    }
#endif
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        return &k_avx2;
    }
#endif
#if defined(EL_OPT_HAVE_NEON)
    if (isa & EL_OPT_ISA_SDOT) {
        return &k_sdot;
    }
    if (isa & EL_OPT_ISA_NEON) {
        return &k_neon;
    }
#endif
    return &k_portable;
}
