/* Run-time choice of the optimized kernels' instruction set. */
#include "opt_internal.h"

/* aarch64 dot product (SDOT): asked of the OS, which knows what every core of this CPU does.
 *   Linux and Android: getauxval(AT_HWCAP) & HWCAP_ASIMDDP (bionic has getauxval since API 18);
 *   Apple: sysctlbyname("hw.optional.arm.FEAT_DotProd") (macOS 12 / iOS 15; older systems
 *          answer "no such name" and get plain NEON);
 *   elsewhere: what the compiler was told (-march=...+dotprod defines __ARM_FEATURE_DOTPROD),
 *          else plain NEON, which every aarch64 CPU has. */
#if defined(EL_OPT_HAVE_NEON) && (defined(__linux__) || defined(__ANDROID__))
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20) /* Linux arm64 uapi hwcap bit */
#endif
#ifndef HWCAP_FPHP
#define HWCAP_FPHP (1UL << 9) /* half-precision scalar arithmetic */
#endif
#ifndef HWCAP_ASIMDHP
#define HWCAP_ASIMDHP (1UL << 10) /* half-precision vector arithmetic */
#endif
#define EL_OPT_SDOT_AUXV 1
#elif defined(EL_OPT_HAVE_NEON) && defined(__APPLE__)
#include <sys/sysctl.h>
#define EL_OPT_SDOT_SYSCTL 1
#endif

#if defined(EL_OPT_HAVE_NEON)
static int el_opt_has_sdot(void)
{
#if defined(EL_OPT_SDOT_AUXV)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(EL_OPT_SDOT_SYSCTL)
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname("hw.optional.arm.FEAT_DotProd", &value, &size, NULL, 0) == 0 && value != 0;
#elif defined(__ARM_FEATURE_DOTPROD)
    return 1;
#else
    return 0;
#endif
}
#endif

/* aarch64 half-precision arithmetic (FEAT_FP16, scalar and vector), for EL_ISA_FP16 (used only
 * with el_config.allow_fp16): HWCAP_FPHP and HWCAP_ASIMDHP on Linux and Android;
 * "hw.optional.arm.FEAT_FP16" on Apple (every Apple arm64 CPU has it); else what the compiler
 * was told (__ARM_FEATURE_FP16_VECTOR_ARITHMETIC). */
#if EL_OPT_F16W
static int el_opt_has_fp16(void)
{
#if defined(EL_OPT_SDOT_AUXV)
    const unsigned long need = HWCAP_FPHP | HWCAP_ASIMDHP;
    return (getauxval(AT_HWCAP) & need) == need;
#elif defined(EL_OPT_SDOT_SYSCTL)
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname("hw.optional.arm.FEAT_FP16", &value, &size, NULL, 0) == 0 && value != 0;
#elif defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
    return 1;
#else
    return 0;
#endif
}
#endif

uint32_t el_opt_isa_detected(void)
{
    uint32_t isa = 0;
#if defined(EL_OPT_HAVE_SSE41)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.1")) {
        isa |= EL_OPT_ISA_SSE41;
    }
#endif
#if defined(EL_OPT_HAVE_AVX2)
    __builtin_cpu_init();
    /* the float kernels use FMA with AVX2: every AVX2 CPU of Intel and AMD has both */
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        isa |= EL_OPT_ISA_AVX2;
#if defined(EL_OPT_HAVE_AVX512F)
        if (__builtin_cpu_supports("avx512f")) {
            isa |= EL_OPT_ISA_AVX512F;
        }
#endif
#if defined(EL_OPT_HAVE_VNNI)
        if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512bw")) {
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
    if (el_opt_has_sdot()) {
        isa |= EL_OPT_ISA_SDOT;
    }
#if EL_OPT_F16W
    if (el_opt_has_fp16()) {
        isa |= EL_OPT_ISA_FP16;
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

/* dw_run and gemm_rq only where they pay (Cortex-M; DSP; aarch64 below) */
#if defined(__ARM_FEATURE_DSP) && !(defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1))
#define EL_OPT_GEMM_RQ el_opt_gemm_rq_dsp
#else
#define EL_OPT_GEMM_RQ NULL
#endif
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define EL_OPT_DW_RUN el_opt_dw_run_c /* Cortex-M: runs of pixels without per-pixel calls */
#else
#define EL_OPT_DW_RUN NULL
#endif
/* One table per instruction set; members left out are NULL (optional kernels, opt_internal.h). */
static const el_opt_kernels k_portable = {
    .gemm = el_opt_gemm_c,
    .dw = el_opt_dw_c,
    .requant = el_opt_requant_c,
    .rowsum = el_opt_rowsum_c,
    .add = el_opt_add_c,
    .dw_run = EL_OPT_DW_RUN,
    .gemm_rq = EL_OPT_GEMM_RQ,
};
#if defined(EL_OPT_HAVE_AVX2)
static const el_opt_kernels k_avx2 = {
    .gemm = el_opt_gemm_avx2,
    .dw = el_opt_dw_avx2,
    .requant = el_opt_requant_avx2,
    .rowsum = el_opt_rowsum_avx2,
    .add = el_opt_add_avx2,
    .gemm_rq = el_opt_gemm_rq_avx2,
    .dw_rq_ok = el_opt_dw_rq_ok_avx2,
    .dw_rq = el_opt_dw_rq_avx2,
    .dw_sums = el_opt_dw_sums_avx2,
    .gemm_pack = el_opt_gemm_pack_avx2,
    .pack_stride = el_opt_gemm_pack_stride_avx2,
};
#endif
#if defined(EL_OPT_HAVE_SSE41)
/* rowsum and ADD stay portable: they are a small share of a model's work */
static const el_opt_kernels k_sse41 = {
    .gemm = el_opt_gemm_sse41,
    .dw = el_opt_dw_sse41,
    .requant = el_opt_requant_sse41,
    .rowsum = el_opt_rowsum_c,
    .add = el_opt_add_c,
};
#endif
#if defined(EL_OPT_HAVE_VNNI)
/* The VNNI tile GEMM for what gemm_rq declines; AVX2's fused paths */
static const el_opt_kernels k_vnni512 = {
    .gemm = el_opt_gemm_vnni512,
    .dw = el_opt_dw_avx2,
    .requant = el_opt_requant_avx2,
    .rowsum = el_opt_rowsum_avx2,
    .add = el_opt_add_vnni512,
    .gemm_rq = el_opt_gemm_rq_vnni512,
    .dw_rq_ok = el_opt_dw_rq_ok_avx2,
    .dw_rq = el_opt_dw_rq_vnni512,
    .dw_sums = el_opt_dw_sums_avx2,
    .gemm_pack = el_opt_gemm_pack_vnni512,
    .pack_stride = el_opt_gemm_pack_stride_vnni512,
};
static const el_opt_kernels k_avxvnni = {
    .gemm = el_opt_gemm_avxvnni,
    .dw = el_opt_dw_avx2,
    .requant = el_opt_requant_avx2,
    .rowsum = el_opt_rowsum_avx2,
    .add = el_opt_add_avx2,
    .gemm_rq = el_opt_gemm_rq_avx2,
    .dw_rq_ok = el_opt_dw_rq_ok_avx2,
    .dw_rq = el_opt_dw_rq_avx2,
    .dw_sums = el_opt_dw_sums_avx2,
    .gemm_pack = el_opt_gemm_pack_avx2,
    .pack_stride = el_opt_gemm_pack_stride_avx2,
};
#endif
#if defined(EL_OPT_HAVE_NEON)
static const el_opt_kernels k_neon = {
    .gemm = el_opt_gemm_neon,
    .dw = el_opt_dw_neon,
    .requant = el_opt_requant_neon,
    .rowsum = el_opt_rowsum_neon,
    .add = el_opt_add_neon,
    .dw_run = el_opt_dw_run_neon,
    .dw_rq_ok = el_opt_dw_rq_ok_neon,
    .dw_rq = el_opt_dw_rq_neon,
    .dw_sums = el_opt_dw_sums_neon,
};
static const el_opt_kernels k_sdot = {
    .gemm = el_opt_gemm_sdot,
    .dw = el_opt_dw_neon,
    .requant = el_opt_requant_neon,
    .rowsum = el_opt_rowsum_neon,
    .add = el_opt_add_neon,
    .dw_run = el_opt_dw_run_neon,
    .gemm_rq = el_opt_gemm_rq_sdot,
    .dw_rq_ok = el_opt_dw_rq_ok_sdot,
    .dw_rq = el_opt_dw_rq_sdot,
    .dw_sums = el_opt_dw_sums_neon,
    .gemm_pack = el_opt_gemm_pack_sdot,
    .pack_stride = el_opt_gemm_pack_stride_sdot,
};
#endif

/* Detection happens once per interpreter (el_init); each call here only picks a table, so
 * interpreters with different settings can run side by side. */
const el_opt_kernels *el_opt_kernels_for(uint32_t isa)
{
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
#if defined(EL_OPT_HAVE_SSE41)
    if (isa & EL_OPT_ISA_SSE41) {
        return &k_sse41;
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
