/* Portable building blocks of the optimized kernels (any C99 compiler). */
#include "opt_internal.h"
#include "../el_quant.h"

void el_opt_gemm_c(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                   int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc)
{
    int32_t i, j, kk;
    (void)bsum;
    /* Two output channels per pass: each input byte loaded once feeds two products. */
    for (i = 0; i < m; ++i) {
        const int8_t *x = a[i];
        for (j = 0; j + 1 < n; j += 2) {
            const int8_t *w0 = b + (size_t)j * ldb;
            const int8_t *w1 = w0 + ldb;
            int32_t acc0 = 0, acc1 = 0;
            for (kk = 0; kk < k; ++kk) {
                const int32_t xv = x[kk];
                acc0 += xv * w0[kk];
                acc1 += xv * w1[kk];
            }
            c[(size_t)i * ldc + j] = acc0;
            c[(size_t)i * ldc + j + 1] = acc1;
        }
        if (j < n) {
            const int8_t *w0 = b + (size_t)j * ldb;
            int32_t acc0 = 0;
            for (kk = 0; kk < k; ++kk) {
                acc0 += (int32_t)x[kk] * w0[kk];
            }
            c[(size_t)i * ldc + j] = acc0;
        }
    }
}

void el_opt_dw_c(int32_t taps, const int8_t *const *x, const int8_t *f, int32_t fstride,
                 int32_t n, int32_t *acc)
{
    int32_t t, c;
    for (c = 0; c < n; ++c) {
        acc[c] = 0;
    }
    for (t = 0; t < taps; ++t) {
        const int8_t *xt = x[t];
        const int8_t *ft = f + (size_t)t * fstride;
        for (c = 0; c < n; ++c) {
            acc[c] += (int32_t)xt[c] * ft[c];
        }
    }
}

void el_opt_requant_c(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc,
                      int32_t ldacc, int8_t *out, int32_t ldout)
{
    int32_t i, c;
    for (i = 0; i < m; ++i) {
        const int32_t *a = acc + (size_t)i * ldacc;
        int8_t *o = out + (size_t)i * ldout;
        for (c = 0; c < n; ++c) {
            const int32_t v = (int32_t)((uint32_t)a[c] + (uint32_t)rq->bias[c]);
            const int32_t r = el_requant(v, rq->mult[c], rq->shift[c]) + rq->out_offset;
            o[c] = (int8_t)el_clamp_i32(r, rq->act_min, rq->act_max);
        }
    }
}

void el_opt_rowsum_c(int32_t n, int32_t k, const int8_t *b, int32_t ldb, int32_t *out)
{
    int32_t j, kk;
    for (j = 0; j < n; ++j) {
        const int8_t *w = b + (size_t)j * ldb;
        uint32_t s = 0;
        for (kk = 0; kk < k; ++kk) {
            s += (uint32_t)(int32_t)w[kk];
        }
        out[j] = (int32_t)s;
    }
}
