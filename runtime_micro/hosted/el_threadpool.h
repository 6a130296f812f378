/* el_threadpool: a small POSIX-threads pool that implements el_config.parallel_for for hosted
 * builds (Linux, Android, Apple). It is a separate library (libedgelite_threadpool, CMake
 * target edgelite::threadpool): the interpreter itself never creates threads or allocates,
 * and Cortex-M builds never link this.
 *
 *   el_threadpool *pool = el_threadpool_create(4);      // caller owns it
 *   el_config cfg = {0};
 *   cfg.parallel_for = el_threadpool_parallel_for;
 *   cfg.parallel_pool = pool;
 *   cfg.num_threads = el_threadpool_threads(pool);
 *   el_init(&it, model, len, arena, arena_size, &cfg);
 *   ... el_invoke(&it) ...
 *   el_threadpool_destroy(pool);                          // after the last el_invoke returned
 *
 * A pool of N threads runs tasks on N-1 workers plus the thread calling parallel_for. There is
 * no global state: every pool is independent. parallel_for may be called from several threads
 * at once on one pool; the calls then take turns (use one pool per interpreter to run
 * interpreters truly in parallel). Tasks must not call parallel_for on their own pool. */
#ifndef EL_THREADPOOL_H
#define EL_THREADPOOL_H

#include <stdint.h>

#include "edgelite_micro.h" /* EL_API */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct el_threadpool el_threadpool;

/* A pool running tasks on num_threads threads (the caller's included; 1 = no worker thread,
 * tasks run inline). NULL when num_threads < 1 or > 256, or memory / threads ran out. */
EL_API el_threadpool *el_threadpool_create(int32_t num_threads);

/* Stops and joins the workers, frees the pool. NULL is accepted. No parallel_for may be
 * running on the pool. */
EL_API void el_threadpool_destroy(el_threadpool *pool);

EL_API int32_t el_threadpool_threads(const el_threadpool *pool);

/* el_config.parallel_for: runs task(arg, i) for every i in 0..n_tasks-1 and returns when all
 * have finished. pool is an el_threadpool * (as void * to match el_config). */
EL_API void el_threadpool_parallel_for(void *pool, int32_t n_tasks,
                                       void (*task)(void *arg, int32_t i), void *arg);

#ifdef __cplusplus
}
#endif

#endif /* EL_THREADPOOL_H */
