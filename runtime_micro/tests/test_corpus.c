/* Malformed-model corpus driver (build with ASan + UBSan: `make -C runtime_micro check`).
 *
 *   test_corpus <corpus dir>
 *
 * Reads <dir>/MANIFEST.txt. valid_base must init and invoke; every other model must fail (at
 * init or invoke) with an error status and a non-empty message, and with the status the
 * manifest names (EL_ERROR_* accepts any error). valid_base is also truncated at every length
 * (each truncation must fail at init), and every model is also tried with no arena, a tiny
 * arena and the linear planner. Each model sits in a heap block of exactly its size, so any
 * read past its end is caught by AddressSanitizer. Exit code 0 when all pass. */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelite_micro.h"

#define ARENA_SIZE (1u << 20)

static int failures;
static void *arena;

static unsigned char *load(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (unsigned char *)malloc(n > 0 ? (size_t)n : 1);
    if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* n bytes at a 16-aligned address (malloc aligns to 8 only on 32-bit targets). */
static void *alloc16(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 16, n ? n : 1) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* An exactly-sized, 16-aligned copy (ASan catches a read past its end). */
static unsigned char *exact_copy(const unsigned char *src, size_t n)
{
    unsigned char *p = (unsigned char *)alloc16(n);
    if (n)
        memcpy(p, src, n);
    return p;
}

/* Runs init (+ zero inputs + 3 invokes). Returns the first error status or EL_OK. */
static el_status run(const unsigned char *model, size_t n, void *a, size_t a_size, el_planner pl,
                     char *msg, size_t msg_cap)
{
    el_interpreter it;
    el_config cfg;
    el_status st;
    int32_t i, k;
    memset(&cfg, 0, sizeof(cfg));
    cfg.planner = pl;
    st = el_init(&it, model, n, a, a_size, &cfg);
    for (k = 0; st == EL_OK && k < 3; ++k) {
        for (i = 0; i < el_input_count(&it); ++i) {
            el_tensor_info info;
            if (el_input_info(&it, i, &info) == EL_OK)
                memset(info.data, 0, info.bytes);
        }
        st = el_invoke(&it);
    }
    if (msg) {
        strncpy(msg, el_error_message(&it), msg_cap - 1);
        msg[msg_cap - 1] = '\0';
    }
    return st;
}

static void check_bad(const char *name, const unsigned char *model, size_t n, const char *expect)
{
    char msg[EL_MESSAGE_SIZE];
    el_status st = run(model, n, arena, ARENA_SIZE, EL_PLANNER_GREEDY, msg, sizeof(msg));
    int ok = st != EL_OK && msg[0] != '\0';
    if (ok && strcmp(expect, "EL_ERROR_*") != 0 && strcmp(expect, el_status_name(st)) != 0)
        ok = 0;
    printf("%-45s %-26s %s\n", name, el_status_name(st), msg);
    if (!ok) {
        printf("  FAIL: expected %s with a message\n", expect);
        ++failures;
    }
    /* robustness of the other paths: must not crash, must not succeed */
    if (run(model, n, NULL, 0, EL_PLANNER_GREEDY, NULL, 0) == EL_OK ||
        run(model, n, arena, 256, EL_PLANNER_GREEDY, NULL, 0) == EL_OK ||
        run(model, n, arena, ARENA_SIZE, EL_PLANNER_LINEAR, NULL, 0) == EL_OK) {
        printf("  FAIL: %s succeeded on another path\n", name);
        ++failures;
    }
}

int main(int argc, char **argv)
{
    char path[1024], line[1024];
    FILE *manifest;
    unsigned char *valid = NULL;
    size_t valid_n = 0, n, len;
    int models = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    arena = alloc16(ARENA_SIZE);
    snprintf(path, sizeof(path), "%s/MANIFEST.txt", argv[1]);
    manifest = fopen(path, "r");
    if (!manifest) {
        fprintf(stderr, "cannot open %s\n", path);
        return 2;
    }
    while (fgets(line, sizeof(line), manifest)) {
        char name[256], expect[64];
        unsigned char *raw, *model;
        if (line[0] == '#' || sscanf(line, "%255s %63s", name, expect) != 2)
            continue;
        snprintf(path, sizeof(path), "%s/%s.tflite", argv[1], name);
        raw = load(path, &n);
        if (!raw) {
            printf("FAIL: cannot read %s\n", path);
            ++failures;
            continue;
        }
        model = exact_copy(raw, n);
        ++models;
        if (strcmp(expect, "EL_OK") == 0) {
            char msg[EL_MESSAGE_SIZE];
            el_status st = run(model, n, arena, ARENA_SIZE, EL_PLANNER_GREEDY, msg, sizeof(msg));
            el_status st2 = run(model, n, arena, ARENA_SIZE, EL_PLANNER_LINEAR, NULL, 0);
            printf("%-45s %-26s %s\n", name, el_status_name(st), msg);
            if (st != EL_OK || st2 != EL_OK) {
                printf("  FAIL: the valid model must run\n");
                ++failures;
            }
            if (strcmp(name, "valid_base") == 0) {
                valid = exact_copy(raw, n);
                valid_n = n;
            }
        } else {
            check_bad(name, model, n, expect);
        }
        free(model);
        free(raw);
    }
    fclose(manifest);
    if (valid == NULL) {
        printf("FAIL: valid_base missing from the manifest\n");
        ++failures;
    } else {
        int trunc_fail = 0;
        for (len = 0; len < valid_n; ++len) {
            unsigned char *cut = exact_copy(valid, len);
            char msg[EL_MESSAGE_SIZE];
            el_status st = run(cut, len, arena, ARENA_SIZE, EL_PLANNER_GREEDY, msg, sizeof(msg));
            if (st == EL_OK || msg[0] == '\0') {
                printf("FAIL: valid_base truncated to %lu bytes: %s '%s'\n", (unsigned long)len,
                       el_status_name(st), msg);
                ++trunc_fail;
            }
            free(cut);
        }
        failures += trunc_fail;
        printf("truncations: %lu lengths (0..%lu), %d did not fail\n", (unsigned long)valid_n,
               (unsigned long)valid_n - 1, trunc_fail);
        free(valid);
    }
    free(arena);
    printf("corpus: %d models, %d failures\n", models, failures);
    return failures ? 1 : 0;
}
