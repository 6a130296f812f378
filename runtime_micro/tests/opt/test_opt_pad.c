/* PAD / PADV2: optimized kernel vs the reference, bit for bit, element sizes 1/2/4/8. */
#include "opt_test.h"

#define MAX_IN 4096
#define MAX_OUT 32768

static unsigned char g_in[MAX_IN], g_ref[MAX_OUT + GUARD], g_got[MAX_OUT + GUARD];

int main(void)
{
    static const int32_t elems[] = {1, 1, 1, 2, 4, 8};
    int idx, done = 0;
    for (idx = 0; done < 400 && idx < 5000; ++idx) {
        el_shape s;
        int32_t before[EL_NN_MAX_RANK], after[EL_NN_MAX_RANK];
        const size_t elem = (size_t)pick(elems, 6);
        unsigned char value[8];
        size_t n_in = elem, n_out = elem, i;
        int32_t d;
        char what[120];
        s.rank = rnd_in(1, EL_NN_MAX_RANK);
        for (d = 0; d < s.rank; ++d) {
            s.d[d] = rnd_in(0, 5) == 0 ? 1 : rnd_in(1, 6);
            before[d] = (rnd() % 3u) ? 0 : rnd_in(0, 3);
            after[d] = (rnd() % 3u) ? 0 : rnd_in(0, 3);
            n_in *= (size_t)s.d[d];
            n_out *= (size_t)(s.d[d] + before[d] + after[d]);
        }
        if (n_in > MAX_IN || n_out > MAX_OUT) {
            continue;
        }
        ++done;
        for (i = 0; i < n_in; ++i) {
            g_in[i] = (unsigned char)rnd();
        }
        for (i = 0; i < sizeof value; ++i) {
            value[i] = (unsigned char)rnd();
        }
        if (idx % 3 == 0) { /* one byte repeated (0.0f, 0 of any width): the memset fill */
            memset(value, idx % 2 ? value[0] : 0, sizeof value);
        }
        el_pad(elem, &s, before, after, value, g_in, g_ref);
        memset(g_got, GUARD_BYTE, n_out + GUARD);
        sprintf(what, "pad case %d: rank %d elem %d", idx, (int)s.rank, (int)elem);
        ++g_checked;
        if (el_opt_pad(isa_all(), elem, &s, before, after, value, g_in, g_got)) {
            ++g_fast;
            same_output((const int8_t *)g_ref, (const int8_t *)g_got, (int32_t)n_out, what, 0);
        }
    }
    return finish("test_opt_pad", 400);
}
