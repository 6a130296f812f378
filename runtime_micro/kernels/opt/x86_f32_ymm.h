/* f32_body.h's vector operations on 256-bit vectors with FMA and AVX2's 16-column filter
 * panels: the parameters the AVX2 (x86_avx2.c) and AVX-512F conv (x86_avx512f.c) instances
 * share. Include after x86_avx2_f32.h and before f32_body.h; the instance sets F_ATTR, F_FN,
 * F_MR and its own options. */
#define F_PACK_FULL(w, ldw, ks, panel) pack16_f32(w, ldw, ks, panel)
#define F_V __m256
#define F_L 8
#define F_ZERO _mm256_setzero_ps()
#define F_LOAD(p) _mm256_loadu_ps(p)
#define F_STORE(p, v) _mm256_storeu_ps(p, v)
#define F_BCAST(x) _mm256_set1_ps(x)
#define F_FMA(acc, a, b) _mm256_fmadd_ps(a, b, acc)
#define F_CLAMP(v, lo, hi) clamp8(v, lo, hi)
#define F_SMALL_CONV 1
