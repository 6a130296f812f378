/* Body of the float32 activation loops of unary_f32.c (a template: no include guard), included
 * once per instruction set with
 *   U_ATTR            function attribute (target) or empty,  U_FN(x)  the functions' names,
 *   V, N              vector type and lanes,  LD / ST / SET1  load, store, broadcast,
 *   MAXV(a, b)        a > b ? a : b lane by lane,  MINV(a, b)  a < b ? a : b,
 *   SELGT(x, t, a, b) x > t ? a : b,  ADD / MUL / DIV,  NEGV / ABSV  flip / clear the sign bit,
 *   COPYSIGNV(m, x)   m (sign bit clear) with the sign bit of x,
 *   D                 vector of N / 2 doubles: DSET1, DADD, DSUB, DMUL, DDIV (one IEEE
 *                     operation per lane), DFMA(a, b, c)  a * b + c, fused or not (the
 *                     transcendental ops only), DMAXN(a, b) / DMINN(a, b)  max / min that return a
 *                     NaN b, DSELLT(a, t, p, q)  a < t ? p : q, DLO(x) / DHI(x)  the low / high
 *                     half of x widened, DPACK(lo, hi)  both narrowed back (rounded to nearest),
 *                     DPOW2(k)  2^n for k = n + 0x1.8p52 (n an integer, -1022 <= n <= 1023);
 * it undefines them all at its end. Each returns the elements done; the caller finishes the
 * tail. */
U_ATTR static int32_t U_FN(unary)(el_unary_op op, float alpha, int32_t n, const float *in,
                                  float *out)
{
    const V zero = SET1(0.0f), one = SET1(1.0f), six = SET1(6.0f), va = SET1(alpha);
    const V mone = SET1(-1.0f), three = SET1(3.0f);
    int32_t i;
    for (i = 0; i + N <= n; i += N) {
        const V x = LD(in + i);
        V y;
        switch (op) {
        case EL_UN_RELU:
            y = MAXV(x, zero);
            break;
        case EL_UN_RELU6:
            y = MINV(six, MAXV(zero, x));
            break;
        case EL_UN_RELU_N1_TO_1:
            y = MINV(one, MAXV(mone, x));
            break;
        case EL_UN_RELU_0_TO_1:
            y = MINV(one, MAXV(zero, x));
            break;
        case EL_UN_LEAKY_RELU:
            y = SELGT(x, zero, x, MUL(x, va));
            break;
        case EL_UN_HARD_SWISH:
            y = DIV(MUL(x, MINV(MAXV(ADD(x, three), zero), six)), six);
            break;
        case EL_UN_NEG:
            y = NEGV(x);
            break;
        case EL_UN_ABS:
            y = ABSV(x);
            break;
        default:
            y = MUL(x, x);
            break;
        }
        ST(out + i, y);
    }
    return i;
}

/* e^t in double lanes for -1022 * ln 2 < t < 1023 * ln 2 (or NaN, which comes out): t = n ln 2
 * + r with n = round(t / ln 2) (the 0x1.8p52 trick: the sum's low mantissa bits are n), r in
 * [-ln 2 / 2, ln 2 / 2] from ln 2 in two parts (n * hi exact), e^r by its Taylor polynomial to
 * r^11 (truncation below 1e-14 relative), times 2^n exactly. The polynomial in Estrin's form:
 * 8 dependent operations instead of Horner's 22, which bound the loop by their latency. */
U_ATTR static inline D U_FN(exp_d)(D t)
{
    const D k = DFMA(t, DSET1(1.4426950408889634), DSET1(0x1.8p52));
    const D nd = DSUB(k, DSET1(0x1.8p52));
    const D r = DFMA(nd, DSET1(-0x1.a39ef35793c76p-33), DFMA(nd, DSET1(-0x1.62e42fee00000p-1), t));
    const D r2 = DMUL(r, r);
    const D r4 = DMUL(r2, r2);
    const D q0 = DADD(DSET1(1.0), r); /* c0 + c1 r, ... (c_k = 1 / k!) */
    const D q2 = DFMA(r, DSET1(1.0 / 6.0), DSET1(0.5));
    const D q4 = DFMA(r, DSET1(1.0 / 120.0), DSET1(1.0 / 24.0));
    const D q6 = DFMA(r, DSET1(1.0 / 5040.0), DSET1(1.0 / 720.0));
    const D q8 = DFMA(r, DSET1(1.0 / 362880.0), DSET1(1.0 / 40320.0));
    const D q10 = DFMA(r, DSET1(1.0 / 39916800.0), DSET1(1.0 / 3628800.0));
    const D s0 = DFMA(q2, r2, q0), s4 = DFMA(q6, r2, q4), s8 = DFMA(q10, r2, q8);
    return DMUL(DFMA(s8, DMUL(r4, r4), DFMA(s4, r4, s0)), DPOW2(k));
}

/* expf lane by lane: e^x in double, rounded once to float (subnormal and infinite results
 * included); x clamped to [-150, 100] first (e^-150 and e^100 round to 0 and inf as e^-inf and
 * e^inf do), a NaN passing through. */
U_ATTR static inline V U_FN(expf)(V x)
{
    const D lo = DSET1(-150.0), hi = DSET1(100.0);
    return DPACK(U_FN(exp_d)(DMINN(hi, DMAXN(lo, DLO(x)))),
                 U_FN(exp_d)(DMINN(hi, DMAXN(lo, DHI(x)))));
}

/* tanh of a >= 0 (or NaN) in double: 1 - 2 / (e^2a + 1), a clamped to 20 (tanh is 1 in double
 * there); below 1/16 its Taylor series to a^9 instead (no cancellation; the next term is
 * below 1e-14 relative), which keeps a subnormal a and zero. */
U_ATTR static inline D U_FN(tanh_d)(D a)
{
    const D a2 = DMUL(a, a), one = DSET1(1.0);
    const D ac = DMINN(DSET1(20.0), a);
    const D e = U_FN(exp_d)(DADD(ac, ac));
    const D big = DSUB(one, DDIV(DSET1(2.0), DADD(e, one)));
    D s = DSET1(62.0 / 2835.0);
    s = DADD(DMUL(s, a2), DSET1(-17.0 / 315.0));
    s = DADD(DMUL(s, a2), DSET1(2.0 / 15.0));
    s = DADD(DMUL(s, a2), DSET1(-1.0 / 3.0));
    return DSELLT(a, DSET1(0.0625), DADD(a, DMUL(DMUL(a, a2), s)), big);
}

/* LOGISTIC (the reference's branches: 1 above 16.619..., e^x below -9, else 1 / (1 + e^-x),
 * the last two in float as there, e^ from expf above), TANH and EXP; the values come out
 * within an ulp or two of the reference's libm ones (tests/opt/test_opt_unary.c measures
 * them). Every element, the tail too (through a vector on the stack), so an element's value
 * does not depend on its place. */
U_ATTR static inline V U_FN(transcendental)(el_unary_op op, V x)
{
    switch (op) {
    case EL_UN_LOGISTIC: {
        const V mnine = SET1(-9.0f), one = SET1(1.0f);
        const V e = U_FN(expf)(SELGT(mnine, x, x, NEGV(x)));
        return SELGT(x, SET1(16.619047164916992188f), one,
                     SELGT(mnine, x, e, DIV(one, ADD(one, e))));
    }
    case EL_UN_TANH: {
        const V a = ABSV(x);
        return COPYSIGNV(DPACK(U_FN(tanh_d)(DLO(a)), U_FN(tanh_d)(DHI(a))), x);
    }
    default: /* EL_UN_EXP */
        return U_FN(expf)(x);
    }
}

U_ATTR static int32_t U_FN(unary_t)(el_unary_op op, int32_t n, const float *in, float *out)
{
    int32_t i;
    for (i = 0; i + N <= n; i += N) {
        ST(out + i, U_FN(transcendental)(op, LD(in + i)));
    }
    if (i < n) {
        float buf[N];
        memset(buf, 0, sizeof buf);
        memcpy(buf, in + i, (size_t)(n - i) * sizeof(float));
        ST(buf, U_FN(transcendental)(op, LD(buf)));
        memcpy(out + i, buf, (size_t)(n - i) * sizeof(float));
    }
    return n;
}

#undef U_ATTR
#undef U_FN
#undef V
#undef N
#undef LD
#undef ST
#undef SET1
#undef MAXV
#undef MINV
#undef ADD
#undef MUL
#undef DIV
#undef SELGT
#undef NEGV
#undef ABSV
#undef COPYSIGNV
#undef D
#undef DSET1
#undef DADD
#undef DSUB
#undef DMUL
#undef DFMA
#undef DDIV
#undef DMAXN
#undef DMINN
#undef DSELLT
#undef DLO
#undef DHI
#undef DPACK
#undef DPOW2
