/* C API behaviour on the corpus's valid model: argument checks, exact arena sizing, planners,
 * callback order, reset. Numerical results are tested from Python against LiteRT/TFLM.
 *
 *   test_api <corpus dir> */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelite_micro.h"

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                 \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)

static int events[64][3];
static int n_events;

static el_status record(void *user, int32_t sg, int32_t op, int32_t code, int is_after)
{
    (void)user;
    (void)sg;
    if (n_events < 64) {
        events[n_events][0] = op;
        events[n_events][1] = code;
        events[n_events][2] = is_after;
    }
    ++n_events;
    return EL_OK;
}

static el_status stop_at_op1(void *user, int32_t sg, int32_t op, int32_t code, int is_after)
{
    (void)user;
    (void)sg;
    (void)code;
    return (op == 1 && !is_after) ? EL_ERROR_INVOKE : EL_OK;
}

int main(int argc, char **argv)
{
    char path[1024];
    FILE *f;
    long n;
    unsigned char *model;
    unsigned char *arena;
    el_interpreter it;
    el_config cfg;
    el_tensor_info info;
    size_t need, need_linear;
    el_status st;
    float *x;
    int32_t *idx;
    int i;
    if (argc != 2)
        return 2;
    snprintf(path, sizeof(path), "%s/valid_base.tflite", argv[1]);
    f = fopen(path, "rb");
    if (!f)
        return 2;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* 16-aligned (malloc aligns to 8 only on 32-bit targets) */
    if (posix_memalign((void **)&model, 16, (size_t)n + 16) != 0)
        return 2;
    if (posix_memalign((void **)&arena, 16, 1 << 16) != 0)
        return 2;
    if (fread(model, 1, (size_t)n, f) != (size_t)n)
        return 2;
    fclose(f);

    /* argument checks */
    CHECK(el_init(NULL, model, (size_t)n, arena, 1 << 16, NULL) == EL_ERROR_BAD_ARGUMENT);
    CHECK(el_init(&it, NULL, 0, arena, 1 << 16, NULL) == EL_ERROR_BAD_ARGUMENT);
    CHECK(strstr(el_error_message(&it), "NULL") != NULL);
    memmove(model + 1, model, (size_t)n);
    CHECK(el_init(&it, model + 1, (size_t)n, arena, 1 << 16, NULL) == EL_ERROR_BAD_ARGUMENT);
    CHECK(strstr(el_error_message(&it), "aligned") != NULL);
    memmove(model, model + 1, (size_t)n);
    CHECK(el_init(&it, model, (size_t)n, arena + 8, 1 << 15, NULL) == EL_ERROR_BAD_ARGUMENT);
    CHECK(el_invoke(&it) == EL_ERROR_STATE);
    CHECK(el_input_count(&it) == 0);

    /* exact arena size: the reported size works, one 16-byte step less does not */
    CHECK(el_init(&it, model, (size_t)n, arena, 1 << 16, NULL) == EL_OK);
    need = el_arena_required(&it);
    CHECK(el_arena_required_exact(&it) == 1);
    CHECK(need > 0 && need % 16 == 0);
    CHECK(el_init(&it, model, (size_t)n, arena, need, NULL) == EL_OK);
    st = el_init(&it, model, (size_t)n, arena, need - 1, NULL);
    CHECK(st == EL_ERROR_ARENA_TOO_SMALL);
    CHECK(el_arena_required(&it) == need);
    {
        char want[32];
        snprintf(want, sizeof(want), "%lu bytes", (unsigned long)need);
        CHECK(strstr(el_error_message(&it), want) != NULL);
    }
    st = el_init(&it, model, (size_t)n, NULL, 0, NULL);
    CHECK(st == EL_ERROR_ARENA_TOO_SMALL && el_arena_required(&it) > 0);
    CHECK(el_arena_required(&it) <= need);
    printf("valid_base: greedy arena %lu bytes\n", (unsigned long)need);

    /* linear planner needs at least as much, and keeps intermediates readable */
    memset(&cfg, 0, sizeof(cfg));
    cfg.planner = EL_PLANNER_LINEAR;
    CHECK(el_init(&it, model, (size_t)n, arena, 1 << 16, &cfg) == EL_OK);
    need_linear = el_arena_required(&it);
    CHECK(need_linear >= need);
    printf("valid_base: linear arena %lu bytes\n", (unsigned long)need_linear);
    /* the kernel choice is per interpreter: default = optimized kernels, EL_ISA_ALL = reference */
    CHECK((el_kernel_isa(&it) & EL_ISA_OPT) != 0);
    {
        el_interpreter ref;
        el_config ref_cfg = cfg;
        ref_cfg.disable_isa = EL_ISA_ALL;
        CHECK(el_init(&ref, model, (size_t)n, arena + (1 << 15), 1 << 15, &ref_cfg) == EL_OK);
        CHECK(el_kernel_isa(&ref) == 0);
        ref_cfg.disable_isa = EL_ISA_ALL & ~EL_ISA_OPT;
        CHECK(el_init(&ref, model, (size_t)n, arena + (1 << 15), 1 << 15, &ref_cfg) == EL_OK);
        CHECK(el_kernel_isa(&ref) == EL_ISA_OPT);
    }
    CHECK(el_init(&it, model, (size_t)n, arena, 1 << 15, &cfg) == EL_OK);

    /* run: out = reshape(gather(x + c, idx)) */
    CHECK(el_input_count(&it) == 2 && el_output_count(&it) == 1);
    CHECK(el_input_info(&it, 0, &info) == EL_OK && info.dtype == EL_FLOAT32 && info.rank == 2 &&
          info.dims[0] == 2 && info.dims[1] == 3 && info.bytes == 24 &&
          strcmp(info.name, "x") == 0);
    x = (float *)info.data;
    for (i = 0; i < 6; ++i)
        x[i] = (float)i;
    CHECK(el_input_info(&it, 1, &info) == EL_OK && info.dtype == EL_INT32);
    idx = (int32_t *)info.data;
    idx[0] = 1;
    idx[1] = 0;
    CHECK(el_invoke(&it) == EL_OK);
    CHECK(el_output_info(&it, 0, &info) == EL_OK && info.rank == 2 && info.dims[0] == 3);
    {
        /* c = 0.5 * arange(6); x + c = 1.5 * arange(6); rows swapped */
        const float want[6] = {4.5f, 6.0f, 7.5f, 0.0f, 1.5f, 3.0f};
        const float *y = (const float *)info.data;
        for (i = 0; i < 6; ++i)
            CHECK(y[i] == want[i]);
    }
    CHECK(el_tensor_info_at(&it, 3, &info) == EL_OK && strcmp(info.name, "sum") == 0);
    CHECK(((const float *)info.data)[5] == 7.5f);
    CHECK(el_tensor_info_at(&it, 99, &info) == EL_ERROR_BAD_ARGUMENT);
    CHECK(el_input_info(&it, 2, &info) == EL_ERROR_BAD_ARGUMENT);

    /* gather index out of range at run time: error, message names the op */
    idx[0] = 5;
    st = el_invoke(&it);
    CHECK(st != EL_OK);
    CHECK(strstr(el_error_message(&it), "op #1 GATHER") != NULL);
    printf("gather out of range: %s: %s\n", el_status_name(st), el_error_message(&it));
    idx[0] = -1;
    CHECK(el_invoke(&it) != EL_OK);
    idx[0] = 0;
    CHECK(el_invoke(&it) == EL_OK);

    /* callback order: before/after per op, in order */
    cfg.planner = EL_PLANNER_GREEDY;
    cfg.callback = record;
    CHECK(el_init(&it, model, (size_t)n, arena, 1 << 16, &cfg) == EL_OK);
    CHECK(el_input_info(&it, 1, &info) == EL_OK);
    memset(info.data, 0, info.bytes);
    n_events = 0;
    CHECK(el_invoke(&it) == EL_OK);
    CHECK(n_events == 6);
    for (i = 0; i < 6 && i < n_events; ++i)
        CHECK(events[i][0] == i / 2 && events[i][2] == i % 2);
    CHECK(events[0][1] == 0 && events[2][1] == 36 && events[4][1] == 22);
    cfg.callback = stop_at_op1;
    CHECK(el_init(&it, model, (size_t)n, arena, 1 << 16, &cfg) == EL_OK);
    CHECK(el_input_info(&it, 1, &info) == EL_OK);
    memset(info.data, 0, info.bytes);
    CHECK(el_invoke(&it) == EL_ERROR_INVOKE);
    CHECK(strstr(el_error_message(&it), "callback") != NULL);
    CHECK(el_reset(&it) == EL_OK);

    free(arena);
    free(model);
    printf("test_api: %d failures\n", failures);
    return failures ? 1 : 0;
}
