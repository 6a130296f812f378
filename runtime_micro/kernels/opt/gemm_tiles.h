/* The int8 GEMM tile driver shared by the instruction-set files (x86_avx2.c, x86_sse41.c,
 * arm_neon.c): each supplies its micro-kernels, a 4-row x 2-column tile and, optionally, a
 * 1-row x 4-column row kernel; this walks C = A * B^T over them. static inline so every file's
 * driver is specialized for its kernels (the calls through the pointers become direct calls the
 * compiler can inline).
 *
 * A: m row pointers of k int8; B: n rows of k int8, ldb apart; C: m x n int32, ldc apart.
 * Rows past the last whole 4-row tile go one by one through `row` when there is one, else into a
 * tile that repeats the last row; a short column tile repeats the last column; repeated
 * results are dropped, so every stored value is one exact dot product. */
#ifndef EL_OPT_GEMM_TILES_H
#define EL_OPT_GEMM_TILES_H

#include <stddef.h>
#include <stdint.h>

/* r[i * 2 + j] = dot(a[i], b_j) for i < 4, j < 2 */
typedef void (*el_tile4x2_fn)(const int8_t *const *a, const int8_t *b0, const int8_t *b1, int32_t k,
                              int32_t *r);
/* c[j] = dot(x, b + j * ldb) for j < 4 */
typedef void (*el_row1x4_fn)(const int8_t *x, const int8_t *b, int32_t ldb, int32_t k, int32_t *c);

/* The scalar end of a 4x2 tile: products kk..k-1 added to r. */
static inline void el_tile4x2_tail(const int8_t *const *a, const int8_t *b0, const int8_t *b1,
                                   int32_t kk, int32_t k, int32_t *r)
{
    for (; kk < k; ++kk) {
        const int32_t w0 = b0[kk], w1 = b1[kk];
        r[0] += a[0][kk] * w0;
        r[1] += a[0][kk] * w1;
        r[2] += a[1][kk] * w0;
        r[3] += a[1][kk] * w1;
        r[4] += a[2][kk] * w0;
        r[5] += a[2][kk] * w1;
        r[6] += a[3][kk] * w0;
        r[7] += a[3][kk] * w1;
    }
}

static inline void el_gemm_tiles(el_tile4x2_fn tile, el_row1x4_fn row, int32_t m, int32_t n,
                                 int32_t k, const int8_t *const *a, const int8_t *b, int32_t ldb,
                                 int32_t *c, int32_t ldc)
{
    const int32_t m_tiles = row != NULL ? (m & ~3) : m;
    int32_t i0, i, j;
    for (i0 = m_tiles; i0 < m; ++i0) {
        for (j = 0; j + 4 <= n; j += 4) {
            row(a[i0], b + (size_t)j * ldb, ldb, k, c + (size_t)i0 * ldc + j);
        }
        for (; j < n; ++j) { /* fewer than 4 columns left */
            const int8_t *x = a[i0], *w = b + (size_t)j * ldb;
            int32_t kk, sum = 0;
            for (kk = 0; kk < k; ++kk) {
                sum += (int32_t)x[kk] * w[kk];
            }
            c[(size_t)i0 * ldc + j] = sum;
        }
    }
    for (i0 = 0; i0 < m_tiles; i0 += 4) {
        const int32_t mr = m_tiles - i0 < 4 ? m_tiles - i0 : 4;
        const int8_t *rows[4];
        for (i = 0; i < 4; ++i) {
            rows[i] = a[i0 + (i < mr ? i : mr - 1)];
        }
        for (j = 0; j < n; j += 2) {
            const int8_t *b0 = b + (size_t)j * ldb;
            const int8_t *b1 = j + 1 < n ? b0 + ldb : b0;
            int32_t r[8];
            tile(rows, b0, b1, k, r);
            for (i = 0; i < mr; ++i) {
                c[(size_t)(i0 + i) * ldc + j] = r[i * 2];
                if (j + 1 < n) {
                    c[(size_t)(i0 + i) * ldc + j + 1] = r[i * 2 + 1];
                }
            }
        }
    }
}

#endif
