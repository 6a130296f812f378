/*
 * corpus_main.c: runs every model of the malformed-model corpus on the target (32-bit
 * size_t and pointers on Cortex-M, where overflow checks matter most). For each model: el_init
 * with the greedy and with the linear planner, and when init succeeds, zeroed inputs and three
 * invokes. Prints one line per model:
 *   corpus <name> <greedy status> <linear status> <message of the greedy run>
 * then "corpus_done <count>". The host side compares the statuses with MANIFEST.txt; reaching
 * corpus_done at all shows no model crashed the runtime.
 */
#include <stdio.h>
#include <string.h>

#include "corpus.h"
#include "edgelite_micro.h"

#define ARENA_SIZE (256u * 1024u)
static unsigned char arena[ARENA_SIZE] __attribute__((aligned(EL_ARENA_ALIGN)));
static el_interpreter interp;

static el_status run_one(const el_corpus_entry *e, el_planner planner)
{
    el_config cfg;
    el_status st;
    int32_t i;
    int k;
    memset(&cfg, 0, sizeof cfg);
    cfg.planner = planner;
    st = el_init(&interp, e->data, e->size, arena, sizeof arena, &cfg);
    if (st != EL_OK)
        return st;
    for (i = 0; i < el_input_count(&interp); ++i) {
        el_tensor_info info;
        if ((st = el_input_info(&interp, i, &info)) != EL_OK)
            return st;
        if (info.data)
            memset(info.data, 0, info.bytes);
    }
    for (k = 0; k < 3; ++k)
        if ((st = el_invoke(&interp)) != EL_OK)
            return st;
    return EL_OK;
}

int main(void)
{
    size_t n;
    for (n = 0; n < el_corpus_count; ++n) {
        const el_corpus_entry *e = &el_corpus[n];
        el_status linear = run_one(e, EL_PLANNER_LINEAR);
        el_status greedy = run_one(e, EL_PLANNER_GREEDY); /* last, so its message is current */
        printf("corpus %s %s %s %s\n", e->name, el_status_name(greedy), el_status_name(linear),
               el_error_message(&interp));
    }
    printf("corpus_done %lu\n", (unsigned long)el_corpus_count);
    return 0;
}
