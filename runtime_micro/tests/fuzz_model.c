/* libFuzzer target over load + invoke (clang -fsanitize=fuzzer,address,undefined):
 *
 *   make -C runtime_micro fuzz
 *   runtime_micro/build/fuzz/fuzz_model -max_total_time=60 runtime_micro/corpus
 *
 * Any input must give a status (never a crash, leak or out-of-bounds access). The model sits
 * in a heap block of exactly its size so AddressSanitizer sees reads past its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgelite_micro.h"

#define ARENA_SIZE (256u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *arena;
    uint8_t *model;
    el_interpreter it;
    el_config cfg;
    int planner, k, small;
    int32_t i;
    if (arena == NULL)
        arena = (uint8_t *)malloc(ARENA_SIZE); /* malloc: 16-aligned on glibc */
    model = (uint8_t *)malloc(size ? size : 1);
    if (size)
        memcpy(model, data, size);
    for (planner = 0; planner < 2; ++planner) {
        memset(&cfg, 0, sizeof(cfg));
        cfg.planner = (el_planner)planner;
        /* a small arena exercises the measuring path (prepares after the arena ran out) */
        for (small = 0; small < 2; ++small)
            if (el_init(&it, model, size, arena, small ? 4096u : 1024u, &cfg) == EL_OK)
                (void)el_invoke(&it);
        if (el_init(&it, model, size, arena, ARENA_SIZE, &cfg) != EL_OK)
            continue;
        for (k = 0; k < 2; ++k) {
            for (i = 0; i < el_input_count(&it); ++i) {
                el_tensor_info info;
                if (el_input_info(&it, i, &info) == EL_OK)
                    memset(info.data, k ? 0x7f : 0, info.bytes);
            }
            (void)el_invoke(&it);
        }
    }
    free(model);
    return 0;
}
