/* el_threadpool: see el_threadpool.h. One job at a time per pool: the caller publishes it
 * under the mutex, bumps the generation and wakes the workers; everyone (caller included)
 * takes task indices from a shared counter until none are left; the caller waits until the
 * last running task has finished, so nothing of the job is touched after parallel_for returns. */
#define _POSIX_C_SOURCE 200809L
#include "el_threadpool.h"

#include <pthread.h>
#include <stdlib.h>

struct el_threadpool {
    pthread_mutex_t lock;
    pthread_cond_t work;    /* workers: a new generation or shutdown */
    pthread_cond_t done;    /* caller: the last task finished */
    pthread_mutex_t submit; /* one parallel_for at a time */
    pthread_t *workers;
    int32_t n_workers;
    int32_t started; /* workers actually created */
    int shutdown;
    uint64_t generation;
    /* the current job */
    void (*task)(void *arg, int32_t i);
    void *arg;
    int32_t n_tasks, next, unfinished;
};

/* Waking a sleeping thread takes tens of microseconds (futex, scheduler; more in a VM),
 * about what a whole layer of a small model costs: workers, and the caller waiting for the
 * last task, first poll for a while (EL_POOL_SPINS pause instructions, ~0.1 ms) and only then
 * sleep on the condition variable. generation and unfinished are written under the lock and
 * read by the polls with atomic loads. */
#define EL_POOL_SPINS 4000

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

/* Polls (lock not held) until `*v != old` or the spins run out; returns whether it changed. */
static int spin_until_changed(const uint64_t *v, uint64_t old, const int *stop)
{
    int32_t i;
    for (i = 0; i < EL_POOL_SPINS; i++) {
        if (__atomic_load_n(v, __ATOMIC_ACQUIRE) != old || __atomic_load_n(stop, __ATOMIC_ACQUIRE))
            return 1;
        cpu_relax();
    }
    return 0;
}

static int spin_until_zero(const int32_t *v)
{
    int32_t i;
    for (i = 0; i < EL_POOL_SPINS; i++) {
        if (__atomic_load_n(v, __ATOMIC_ACQUIRE) == 0)
            return 1;
        cpu_relax();
    }
    return 0;
}

/* Runs tasks of the current job until none are left; called and returns with lock held. */
static void run_tasks(el_threadpool *p)
{
    while (p->next < p->n_tasks) {
        const int32_t i = p->next++;
        void (*task)(void *, int32_t) = p->task;
        void *arg = p->arg;
        pthread_mutex_unlock(&p->lock);
        task(arg, i);
        pthread_mutex_lock(&p->lock);
        if (__atomic_sub_fetch(&p->unfinished, 1, __ATOMIC_RELEASE) == 0)
            pthread_cond_signal(&p->done);
    }
}

static void *worker_main(void *arg)
{
    el_threadpool *p = (el_threadpool *)arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (!p->shutdown && p->generation == seen) {
            pthread_mutex_unlock(&p->lock);
            (void)spin_until_changed(&p->generation, seen, &p->shutdown);
            pthread_mutex_lock(&p->lock);
        }
        while (!p->shutdown && p->generation == seen)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->shutdown)
            break;
        seen = p->generation;
        run_tasks(p);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

el_threadpool *el_threadpool_create(int32_t num_threads)
{
    pthread_attr_t attr;
    el_threadpool *p;
    int32_t i;
    if (num_threads < 1 || num_threads > 256)
        return NULL;
    p = (el_threadpool *)calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->n_workers = num_threads - 1;
    if (p->n_workers > 0) {
        p->workers = (pthread_t *)calloc((size_t)p->n_workers, sizeof(pthread_t));
        if (p->workers == NULL) {
            free(p);
            return NULL;
        }
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->submit, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    /* The hosted optimized kernels keep up to ~100 KB of tiles on the stack per call (float
     * conv: 64 KB of filter panels + 32 KB of im2col rows): ask for 1 MB so workers do not
     * depend on the C library's default (128 KB on musl). */
    if (pthread_attr_init(&attr) != 0) {
        el_threadpool_destroy(p);
        return NULL;
    }
    (void)pthread_attr_setstacksize(&attr, (size_t)1 << 20);
    for (i = 0; i < p->n_workers; i++) {
        if (pthread_create(&p->workers[i], &attr, worker_main, p) != 0) {
            pthread_attr_destroy(&attr);
            el_threadpool_destroy(p);
            return NULL;
        }
        p->started++;
    }
    pthread_attr_destroy(&attr);
    return p;
}

void el_threadpool_destroy(el_threadpool *p)
{
    int32_t i;
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    __atomic_store_n(&p->shutdown, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < p->started; i++)
        pthread_join(p->workers[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->submit);
    pthread_mutex_destroy(&p->lock);
    free(p->workers);
    free(p);
}

int32_t el_threadpool_threads(const el_threadpool *p)
{
    return p ? p->n_workers + 1 : 0;
}

void el_threadpool_parallel_for(void *pool, int32_t n_tasks, void (*task)(void *arg, int32_t i),
                                void *arg)
{
    el_threadpool *p = (el_threadpool *)pool;
    int32_t i;
    if (n_tasks <= 0)
        return;
    if (p == NULL || p->n_workers == 0 || n_tasks == 1) {
        for (i = 0; i < n_tasks; i++)
            task(arg, i);
        return;
    }
    pthread_mutex_lock(&p->submit);
    pthread_mutex_lock(&p->lock);
    p->task = task;
    p->arg = arg;
    p->n_tasks = n_tasks;
    p->next = 0;
    __atomic_store_n(&p->unfinished, n_tasks, __ATOMIC_RELAXED);
    __atomic_store_n(&p->generation, p->generation + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->work);
    run_tasks(p);
    if (p->unfinished > 0) {
        pthread_mutex_unlock(&p->lock);
        (void)spin_until_zero(&p->unfinished);
        pthread_mutex_lock(&p->lock);
    }
    while (p->unfinished > 0)
        pthread_cond_wait(&p->done, &p->lock);
    p->task = NULL;
    p->arg = NULL;
    p->n_tasks = 0;
    p->next = 0;
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&p->submit);
}
