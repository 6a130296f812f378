/* Body of the float32 activation loop of unary_f32.c (a template: no include guard), included
 * once per instruction set with
 *   U_ATTR            function attribute (target) or empty,  U_FN  the function's name,
 *   V, N              vector type and lanes,  LD / ST / SET1  load, store, broadcast,
 *   MAXV(a, b)        a > b ? a : b lane by lane,  MINV(a, b)  a < b ? a : b,
 *   SELGT(x, t, a, b) x > t ? a : b,  ADD / MUL / DIV,  NEGV / ABSV  flip / clear the sign bit;
 * it undefines them all at its end. Returns the elements done (whole vectors); the caller
 * finishes the tail. */
U_ATTR static int32_t U_FN(el_unary_op op, float alpha, int32_t n, const float *in, float *out)
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
