/* Sparse weights end to end in runtime_micro, on every target: each CNN of sparse_models.h
 * (CONV_2D, DEPTHWISE_CONV_2D, CONV_2D 1x1, FULLY_CONNECTED; 75 % of the weights pruned) runs
 * dense, sparse behind DENSIFY (skipped by the interpreter) and sparse wired into the ops.
 * int8: every output byte equals LiteRT's reference kernels; float: within 1e-5 of the output
 * range of LiteRT, and the sparse models within 1e-6 of the range of the dense one (the sparse
 * sums follow the reference order; an optimized dense float kernel may sum in another).
 * Arena: the sparse model with its weights wired in needs no more than the dense one, the
 * DENSIFY form at most the bookkeeping of its extra ops and tensors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "edgelite_micro.h"
#include "sparse_models.h"

#define ARENA_BYTES (96 * 1024)
static unsigned char arena[ARENA_BYTES] __attribute__((aligned(16)));
static unsigned char out_dense[256], out_got[256];
static int failures, comparisons;

/* Runs one model; returns the arena it needs (0 on failure). */
static size_t run(const char *what, const unsigned char *model, size_t n, const void *in,
                  size_t in_bytes, unsigned char *out, size_t out_bytes)
{
    el_interpreter it;
    el_tensor_info info;
    el_status st = el_init(&it, model, n, arena, sizeof(arena), NULL);
    if (st != EL_OK || el_input_info(&it, 0, &info) != EL_OK || info.bytes != in_bytes) {
        printf("FAIL %s: init: %s %s\n", what, el_status_name(st), el_error_message(&it));
        ++failures;
        return 0;
    }
    memcpy(info.data, in, in_bytes);
    st = el_invoke(&it);
    if (st != EL_OK || el_output_info(&it, 0, &info) != EL_OK || info.bytes != out_bytes) {
        printf("FAIL %s: invoke: %s %s\n", what, el_status_name(st), el_error_message(&it));
        ++failures;
        return 0;
    }
    memcpy(out, info.data, out_bytes);
    return el_arena_required(&it);
}

static float range_of(const float *v, size_t n)
{
    float lo = v[0], hi = v[0];
    size_t i;
    for (i = 1; i < n; ++i) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    return hi - lo;
}

static void compare(const char *what, const unsigned char *got, const unsigned char *want,
                    size_t bytes, int is_float, double rel)
{
    ++comparisons;
    if (!is_float) {
        if (memcmp(got, want, bytes) != 0) {
            printf("FAIL %s: int8 output differs\n", what);
            ++failures;
        }
    } else {
        const float *g = (const float *)(const void *)got, *w = (const float *)(const void *)want;
        const size_t n = bytes / 4;
        const double tol = rel * (double)range_of(w, n);
        size_t i;
        for (i = 0; i < n; ++i) {
            if (fabs((double)g[i] - (double)w[i]) > tol) {
                printf("FAIL %s: output %lu differs by %g (tolerance %g)\n", what, (unsigned long)i,
                       fabs((double)g[i] - (double)w[i]), tol);
                ++failures;
                return;
            }
        }
    }
}

static void one_case(const char *name, const unsigned char *dense, size_t dense_n,
                     const unsigned char *densify, size_t densify_n, const unsigned char *direct,
                     size_t direct_n, const void *in, size_t in_bytes, const unsigned char *want,
                     size_t out_bytes, int is_float)
{
    char what[64];
    size_t a_dense, a_densify, a_direct;
    snprintf(what, sizeof(what), "%s dense", name);
    a_dense = run(what, dense, dense_n, in, in_bytes, out_dense, out_bytes);
    compare(what, out_dense, want, out_bytes, is_float, 1e-5);
    snprintf(what, sizeof(what), "%s sparse+DENSIFY", name);
    a_densify = run(what, densify, densify_n, in, in_bytes, out_got, out_bytes);
    compare(what, out_got, out_dense, out_bytes, is_float, 1e-6);
    snprintf(what, sizeof(what), "%s sparse direct", name);
    a_direct = run(what, direct, direct_n, in, in_bytes, out_got, out_bytes);
    compare(what, out_got, out_dense, out_bytes, is_float, 1e-6);
    printf("%s: arena dense %lu, sparse+DENSIFY %lu, sparse direct %lu bytes\n", name,
           (unsigned long)a_dense, (unsigned long)a_densify, (unsigned long)a_direct);
    ++comparisons;
    /* 4 skipped DENSIFY ops and their 4 extra tensors: well under the 1.5 kB (int8) / 6 kB
   * (float) of the smallest dense copy a DENSIFY output would take */
    if (a_direct == 0 || a_direct > a_dense || a_densify > a_dense + 4 * 96) {
        printf("FAIL %s: sparse arena larger than allowed\n", name);
        ++failures;
    }
}

int main(void)
{
    one_case("int8", k_s8_dense, sizeof(k_s8_dense), k_s8_densify, sizeof(k_s8_densify),
             k_s8_direct, sizeof(k_s8_direct), k_s8_input, sizeof(k_s8_input), k_s8_expected,
             sizeof(k_s8_expected), 0);
    one_case("float32", k_f32_dense, sizeof(k_f32_dense), k_f32_densify, sizeof(k_f32_densify),
             k_f32_direct, sizeof(k_f32_direct), k_f32_input, sizeof(k_f32_input), k_f32_expected,
             sizeof(k_f32_expected), 1);
    printf("test_sparse_models: %d comparisons, %d failures\n", comparisons, failures);
    return failures ? 1 : 0;
}
