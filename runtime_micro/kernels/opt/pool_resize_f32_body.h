/* Channel loops of pool_resize_f32.c (a template: no include guard), included once per
 * instruction set with
 *   P_ATTR            function attribute (target) or empty,  P_FN(x)  the functions' names,
 *   V, N              vector type and lanes,  LD / ST / SET1  load, store, broadcast,
 *   ADD / MUL / DIV   one IEEE operation per lane (never fused),
 *   MAXV(a, b)        a > b ? a : b lane by lane,  MINV(a, b)  a < b ? a : b;
 * it undefines them all at its end. */

/* A run of RESIZE_BILINEAR output pixels of one row (n columns of `cols`, from source rows r0
 * = y0 and r1 = y1): per channel the reference's expression, ((a * wy0 * wx0 + b * wy1 * wx0)
 * + c * wy0 * wx1) + d * wy1 * wx1 left to right, a..d the pixels (y0, x0), (y1, x0),
 * (y0, x1), (y1, x1), wy0 = 1 - dy, wy1 = dy, wx0 = 1 - dx, wx1 = dx: the same products and
 * sums, so the same bits (the channels past the last whole vector in scalar). */
P_ATTR static void P_FN(bilinear_row)(const float *r0, const float *r1, const rs_col *cols,
                                      int32_t n, int32_t ch, float wy0, float wy1, float *o)
{
    const V vy0 = SET1(wy0), vy1 = SET1(wy1);
    int32_t x, i;
    for (x = 0; x < n; ++x, o += ch) {
        const float *a = r0 + cols[x].x0, *b = r1 + cols[x].x0;
        const float *c = r0 + cols[x].x1, *d = r1 + cols[x].x1;
        const float wx0 = cols[x].wx0, wx1 = cols[x].dx;
        const V vx0 = SET1(wx0), vx1 = SET1(wx1);
        for (i = 0; i + N <= ch; i += N) {
            const V s = ADD(ADD(MUL(MUL(LD(a + i), vy0), vx0), MUL(MUL(LD(b + i), vy1), vx0)),
                            MUL(MUL(LD(c + i), vy0), vx1));
            ST(o + i, ADD(s, MUL(MUL(LD(d + i), vy1), vx1)));
        }
        for (; i < ch; ++i) {
            o[i] = a[i] * wy0 * wx0 + b[i] * wy1 * wx0 + c[i] * wy0 * wx1 + d[i] * wy1 * wx1;
        }
    }
}

/* One AVERAGE_POOL_2D output pixel over a window of rows x cols taps (the first at x, rows
 * `ld` floats apart, taps ch apart): per channel acc = 0, acc += x over the taps row by row,
 * acc / count, the reference's clamp (x < lo ? lo : (x > hi ? hi : x), which is
 * MAX(lo, MIN(hi, x)) in the ordered forms above, NaN and signed zeros included). Up to four
 * vectors of channels at a time: each lane's sum is one chain of dependent adds, so
 * independent chains keep the adder busy (a global pool has one output pixel). */
#define P_AVG_BLOCK(K)                                                                             \
    for (; i + (K) * N <= ch; i += (K) * N) {                                                      \
        V acc[K];                                                                                  \
        int32_t r, t, k;                                                                           \
        for (k = 0; k < (K); ++k) {                                                                \
            acc[k] = SET1(0.0f);                                                                   \
        }                                                                                          \
        for (r = 0; r < rows; ++r) {                                                               \
            const float *px = x + (size_t)r * ld + i;                                              \
            for (t = 0; t < cols; ++t, px += ch) {                                                 \
                for (k = 0; k < (K); ++k) {                                                        \
                    acc[k] = ADD(acc[k], LD(px + k * N));                                          \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (k = 0; k < (K); ++k) {                                                                \
            ST(o + i + k * N, MAXV(vlo, MINV(vhi, DIV(acc[k], vcount))));                          \
        }                                                                                          \
    }

/* Returns the channels done (whole vectors from 0); the caller finishes the others. */
P_ATTR static int32_t P_FN(avg_px)(const float *x, size_t ld, int32_t rows, int32_t cols,
                                   int32_t ch, float count, float lo, float hi, float *o)
{
    const V vcount = SET1(count), vlo = SET1(lo), vhi = SET1(hi);
    int32_t i = 0;
    P_AVG_BLOCK(4)
    P_AVG_BLOCK(2)
    P_AVG_BLOCK(1)
    return i;
}
#undef P_AVG_BLOCK

#undef P_ATTR
#undef P_FN
#undef V
#undef N
#undef LD
#undef ST
#undef SET1
#undef ADD
#undef MUL
#undef DIV
#undef MAXV
#undef MINV
