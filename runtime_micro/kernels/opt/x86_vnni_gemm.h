/* Body of the VNNI GEMM (a template: no include guard), included by x86_vnni.c once per
 * encoding with
 *   VNNI_ATTR     the target attribute,  VNNI_DPBUSD  the dot-product intrinsic,
 *   VNNI_FN(x)    the name of each function.
 *
 * B (the filter) is packed per call into panels of 16 columns x 4 bytes of k, so one
 * vpdpbusd adds four products into each of 8 columns; every A byte quadruple is broadcast.
 * Outputs come out as vectors across channels (no horizontal sums), and a panel packed once
 * serves all the rows of the call. Long k runs in segments so a panel fits the stack. */

/* 4 rows x 16 columns over one packed segment of `ks` bytes of k starting at k0. */
VNNI_ATTR static void VNNI_FN(tile)(const int8_t *const *rows, int32_t k0, int32_t ks,
                                    const int8_t *panel, __m256i *acc)
{
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    const int8_t *a0 = rows[0] + k0, *a1 = rows[1] + k0, *a2 = rows[2] + k0;
    const int8_t *a3 = rows[3] + k0;
    __m256i s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    __m256i s4 = acc[4], s5 = acc[5], s6 = acc[6], s7 = acc[7];
    const int32_t full = ks & ~3;
    int32_t kk;
    for (kk = 0; kk < ks; kk += 4) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)panel);
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(panel + 32));
        int32_t q0, q1, q2, q3;
        __m256i x;
        if (kk < full) {
            memcpy(&q0, a0 + kk, 4);
            memcpy(&q1, a1 + kk, 4);
            memcpy(&q2, a2 + kk, 4);
            memcpy(&q3, a3 + kk, 4);
        } else {
            /* the last, partial quad: its missing bytes meet zero weights in the panel */
            q0 = q1 = q2 = q3 = 0;
            memcpy(&q0, a0 + kk, (size_t)(ks - kk));
            memcpy(&q1, a1 + kk, (size_t)(ks - kk));
            memcpy(&q2, a2 + kk, (size_t)(ks - kk));
            memcpy(&q3, a3 + kk, (size_t)(ks - kk));
        }
        panel += 64;
        x = _mm256_xor_si256(_mm256_set1_epi32(q0), flip);
        s0 = VNNI_DPBUSD(s0, x, w0);
        s1 = VNNI_DPBUSD(s1, x, w1);
        x = _mm256_xor_si256(_mm256_set1_epi32(q1), flip);
        s2 = VNNI_DPBUSD(s2, x, w0);
        s3 = VNNI_DPBUSD(s3, x, w1);
        x = _mm256_xor_si256(_mm256_set1_epi32(q2), flip);
        s4 = VNNI_DPBUSD(s4, x, w0);
        s5 = VNNI_DPBUSD(s5, x, w1);
        x = _mm256_xor_si256(_mm256_set1_epi32(q3), flip);
        s6 = VNNI_DPBUSD(s6, x, w0);
        s7 = VNNI_DPBUSD(s7, x, w1);
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
    acc[4] = s4;
    acc[5] = s5;
    acc[6] = s6;
    acc[7] = s7;
}

VNNI_ATTR void VNNI_FN(el_opt_gemm)(int32_t m, int32_t n, int32_t k, const int8_t *const *a,
                                    const int8_t *b, int32_t ldb, const int32_t *bsum, int32_t *c,
                                    int32_t ldc)
{
    int8_t panel[VNNI_KSEG * 16];
    int32_t j0, k0, i0, i, j, kk;
    if (ldb > 0x7FFFFFF || m < VNNI_MMIN) {
        /* gather offsets are int32; few rows (batch-1 FULLY_CONNECTED): packing a panel per
         * call costs more than the AVX2 dot products */
        el_opt_gemm_avx2(m, n, k, a, b, ldb, bsum, c, ldc);
        return;
    }
    for (j0 = 0; j0 < n; j0 += 16) {
        const int32_t nr = n - j0 < 16 ? n - j0 : 16;
        const __m256i zero = _mm256_setzero_si256();
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i vldb = _mm256_set1_epi32(ldb), eight = _mm256_set1_epi32(8);
        const __m256i idx0 = _mm256_mullo_epi32(lane, vldb);
        const __m256i idx1 = _mm256_mullo_epi32(_mm256_add_epi32(lane, eight), vldb);
        const __m256i mask0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
        const __m256i mask1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
        int32_t corr[16];
        for (j = 0; j < 16; ++j) {
            /* (a + 128) * b over all of k: 128 * sum(b) too many, wrapped like the sums */
            corr[j] = j < nr ? (int32_t)(128u * (uint32_t)bsum[j0 + j]) : 0;
        }
        for (k0 = 0; k0 < k; k0 += VNNI_KSEG) {
            const int32_t ks = k - k0 < VNNI_KSEG ? k - k0 : VNNI_KSEG;
            const int32_t kq = (ks + 3) / 4;
            const int32_t kfull = ks >> 2;
            /* Full quads: one masked gather of 4 bytes from each of 8 columns per vector. */
            for (kk = 0; kk < kfull; ++kk) {
                const int *src = (const int *)(const void *)(b + (size_t)j0 * ldb + k0 + kk * 4);
                _mm256_storeu_si256((__m256i *)(void *)(panel + kk * 64),
                                    _mm256_mask_i32gather_epi32(zero, src, idx0, mask0, 1));
                _mm256_storeu_si256((__m256i *)(void *)(panel + kk * 64 + 32),
                                    _mm256_mask_i32gather_epi32(zero, src, idx1, mask1, 1));
            }
            if (kq > kfull) { /* the partial last quad, zero padded */
                memset(panel + kfull * 64, 0, 64);
                for (j = 0; j < nr; ++j) {
                    const int8_t *src = b + (size_t)(j0 + j) * ldb + k0;
                    for (kk = kfull * 4; kk < ks; ++kk) {
                        panel[kfull * 64 + j * 4 + (kk & 3)] = src[kk];
                    }
                }
            }
            for (i0 = 0; i0 < m; i0 += 4) {
                const int32_t mr = m - i0 < 4 ? m - i0 : 4;
                const int8_t *rows[4];
                __m256i acc[8];
                int32_t out[4][16];
                for (i = 0; i < 4; ++i) {
                    rows[i] = a[i0 + (i < mr ? i : mr - 1)];
                    if (k0 == 0) {
                        acc[i * 2] = acc[i * 2 + 1] = _mm256_setzero_si256();
                    } else {
                        /* continue the sums of the previous segment */
                        for (j = 0; j < 16; ++j) {
                            out[i][j] = (i < mr && j < nr) ? c[(size_t)(i0 + i) * ldc + j0 + j] : 0;
                        }
                        acc[i * 2] = _mm256_loadu_si256((const __m256i *)(void *)out[i]);
                        acc[i * 2 + 1] = _mm256_loadu_si256((const __m256i *)(void *)(out[i] + 8));
                    }
                }
                VNNI_FN(tile)(rows, k0, ks, panel, acc);
                if (k0 + ks >= k) {
                    const __m256i c0 = _mm256_loadu_si256((const __m256i *)(void *)corr);
                    const __m256i c1 = _mm256_loadu_si256((const __m256i *)(void *)(corr + 8));
                    for (i = 0; i < 4; ++i) {
                        acc[i * 2] = _mm256_sub_epi32(acc[i * 2], c0);
                        acc[i * 2 + 1] = _mm256_sub_epi32(acc[i * 2 + 1], c1);
                    }
                }
                if (nr == 16) {
                    for (i = 0; i < mr; ++i) {
                        int32_t *dst = c + (size_t)(i0 + i) * ldc + j0;
                        _mm256_storeu_si256((__m256i *)(void *)dst, acc[i * 2]);
                        _mm256_storeu_si256((__m256i *)(void *)(dst + 8), acc[i * 2 + 1]);
                    }
                } else {
                    for (i = 0; i < mr; ++i) {
                        _mm256_storeu_si256((__m256i *)(void *)out[i], acc[i * 2]);
                        _mm256_storeu_si256((__m256i *)(void *)(out[i] + 8), acc[i * 2 + 1]);
                        memcpy(c + (size_t)(i0 + i) * ldc + j0, out[i], (size_t)nr * 4);
                    }
                }
            }
        }
    }
}
