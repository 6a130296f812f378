/* corpus.h: the table of models corpus_main.c runs; corpus_data.c is generated from
 * runtime_micro/corpus by tools/arm_targets.py (write_corpus_sources). */
#ifndef EL_TARGETS_CORPUS_H
#define EL_TARGETS_CORPUS_H
#include <stddef.h>

typedef struct el_corpus_entry {
    const char *name;
    const unsigned char *data; /* 16-byte aligned */
    size_t size;
} el_corpus_entry;

extern const el_corpus_entry el_corpus[];
extern const size_t el_corpus_count;

#endif
