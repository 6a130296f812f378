/*
 * The smallest complete use of runtime_micro: read a .tflite file, size the arena, run the
 * model once, print the outputs.
 *
 *   edgelite_run MODEL.tflite [INPUT0.bin [INPUT1.bin ...]]
 *
 * Each INPUTk.bin holds the raw bytes of input k (exactly its size: dtype and shape as the model
 * says, little-endian, NHWC); inputs without a file are zeros. Prints one line per output
 * ("output k: dtype [dims]") and then one value per line (floats with 9 significant digits,
 * enough to tell every float32 apart).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelite_micro.h"

/* malloc only guarantees alignment for the largest standard type: round up by hand. */
static void *align16(void *p)
{
    return (void *)(((uintptr_t)p + 15u) & ~(uintptr_t)15u);
}

static void *read_file(const char *path, size_t *size, void **block)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    *block = malloc((size_t)n + 16);
    if (*block == NULL) {
        fclose(f);
        return NULL;
    }
    void *data = align16(*block);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*block);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

static void print_values(const el_tensor_info *t)
{
    size_t i, n;
    switch (t->dtype) {
    case EL_FLOAT32:
        n = t->bytes / 4;
        for (i = 0; i < n; i++)
            printf("%.9g\n", (double)((const float *)t->data)[i]);
        break;
    case EL_INT8:
        for (i = 0; i < t->bytes; i++)
            printf("%d\n", ((const int8_t *)t->data)[i]);
        break;
    case EL_UINT8:
        for (i = 0; i < t->bytes; i++)
            printf("%u\n", ((const uint8_t *)t->data)[i]);
        break;
    case EL_INT16:
        for (i = 0; i < t->bytes / 2; i++)
            printf("%d\n", ((const int16_t *)t->data)[i]);
        break;
    case EL_INT32:
        for (i = 0; i < t->bytes / 4; i++)
            printf("%ld\n", (long)((const int32_t *)t->data)[i]);
        break;
    default:
        printf("(%lu bytes of dtype %d)\n", (unsigned long)t->bytes, (int)t->dtype);
    }
}

int main(int argc, char **argv)
{
    size_t model_size = 0, arena_size = 0;
    void *model_block = NULL, *arena_block = NULL;
    el_interpreter it;
    el_status st;
    int32_t i, k;

    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.tflite [INPUT0.bin ...]\n", argv[0]);
        return 2;
    }
    const void *model = read_file(argv[1], &model_size, &model_block);
    if (model == NULL) {
        fprintf(stderr, "%s: cannot read the file\n", argv[1]);
        return 2;
    }
    /* The size query (see el_init in edgelite_micro.h): start with no arena, grow to the size
   * the interpreter reports until it fits; the last call leaves a ready interpreter. */
    for (;;) {
        void *arena = arena_size ? align16(arena_block) : NULL;
        st = el_init(&it, model, model_size, arena, arena_size, NULL);
        if (st != EL_ERROR_ARENA_TOO_SMALL)
            break;
        arena_size = el_arena_required(&it);
        free(arena_block);
        arena_block = malloc(arena_size + 16);
        if (arena_block == NULL) {
            fprintf(stderr, "out of memory (%lu arena bytes)\n", (unsigned long)arena_size);
            return 1;
        }
    }
    if (st != EL_OK) {
        fprintf(stderr, "%s: %s: %s\n", argv[1], el_status_name(st), el_error_message(&it));
        return 1;
    }
    printf("arena: %lu bytes\n", (unsigned long)el_arena_required(&it));

    for (i = 0; i < el_input_count(&it); i++) {
        el_tensor_info in;
        el_input_info(&it, i, &in);
        memset(in.data, 0, in.bytes);
        if (i + 2 < argc) {
            size_t n = 0;
            void *block = NULL;
            const void *bytes = read_file(argv[i + 2], &n, &block);
            if (bytes == NULL || n != in.bytes) {
                fprintf(stderr, "%s: input %ld needs %lu bytes\n", argv[i + 2], (long)i,
                        (unsigned long)in.bytes);
                return 2;
            }
            memcpy(in.data, bytes, n);
            free(block);
        }
    }
    st = el_invoke(&it);
    if (st != EL_OK) {
        fprintf(stderr, "%s: %s\n", el_status_name(st), el_error_message(&it));
        return 1;
    }
    for (i = 0; i < el_output_count(&it); i++) {
        el_tensor_info out;
        el_output_info(&it, i, &out);
        printf("output %ld: dtype %d [", (long)i, (int)out.dtype);
        for (k = 0; k < out.rank; k++)
            printf(k ? " %ld" : "%ld", (long)out.dims[k]);
        printf("]\n");
        print_values(&out);
    }
    free(arena_block);
    free(model_block);
    return 0;
}
