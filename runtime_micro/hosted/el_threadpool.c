/* el_threadpool: see el_threadpool.h. One job at a time per pool. The tasks are dealt out in
 * contiguous ranges, one per thread (the caller's first); a thread whose range is done takes
 * the next unclaimed tasks of the others' (work stealing), so a thread that started late or
 * runs slower (a busy sibling core of a shared machine) holds nobody up. Owner and thief alike
 * take a range's tasks in order: the splits deal each thread's share largest task first
 * (el_kernel.h, el_guided_range), so a thief takes the largest task left, a layer ends on the
 * smallest ones, and a worker that wakes late into a job finds small tasks
 * (longest-processing-time order).
 * Stop 32: stealing from the other end (the smallest first) left the slower thread's
 * mid-sized tasks for last; taking from the front, in ten paired runs (MobileNetV2 1.0/224
 * and 0.35/96, int8 and float), two threads took 0.964 to 1.005 of their time (median
 * 0.989). Which thread computes which rows does not matter here: swapping the halves at every
 * layer cost nothing. The caller waits until the last task has finished, so nothing of the
 * job is touched after parallel_for returns.
 *
 * No lock on the way of a job: a worker polling for work, or a caller polling for the last
 * task, never takes the mutex, which is only for threads that go to sleep. (When jobs were
 * handed over under it, the two threads met on it at every layer: 46 futex system calls per
 * MobileNetV2 invoke on two threads; none now.) The job is published like a sequence lock:
 * the caller makes generation odd, waits until no worker is still inside the previous job
 * (`active`), writes the job and makes generation even again; a worker counts itself active,
 * then checks that generation has not moved before it reads the job. Sleepers and a sleeping
 * caller are found through counters both sides read after writing their own (sequentially
 * consistent), so a wake-up is never lost and nobody signals when nobody sleeps. */
#define _POSIX_C_SOURCE 200809L
#include "el_threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* One thread's share of the current job: the next task `start`, and `left` tasks unclaimed
 * from it on. Every claim (its owner's or a thief's) first takes one from `left`, then the
 * next index, so no task is claimed twice and none past the range. Padded to its own cache
 * line. */
typedef struct {
    int32_t start, left;
    char pad[64 - 2 * sizeof(int32_t)];
} el_pool_range;

typedef struct {
    struct el_threadpool *pool;
    int32_t index; /* its range: 1 + the worker's number */
} el_pool_worker;

struct el_threadpool {
    pthread_mutex_t lock;   /* only for sleeping and waking */
    pthread_cond_t work;    /* sleeping workers: a new generation or shutdown */
    pthread_cond_t done;    /* a sleeping caller: the last task finished */
    pthread_mutex_t submit; /* one parallel_for at a time */
    pthread_t *workers;
    el_pool_worker *worker_args;
    int32_t n_workers;
    int32_t started; /* workers actually created */
    int shutdown;
    int32_t sleepers;       /* workers asleep (or going to sleep) on `work` */
    int32_t caller_waiting; /* the caller asleep (or going to sleep) on `done` */
    /* odd while the caller writes a job, even once it is published (written by the caller
     * only, under submit) */
    uint64_t generation;
    /* the current job */
    void (*task)(void *arg, int32_t i);
    void *arg;
    int32_t unfinished;    /* tasks not yet finished */
    int32_t active;        /* workers inside a job (they may still be claiming) */
    el_pool_range *ranges; /* one per thread: [0] the caller's, [1 + w] worker w's */
};

/* Waking a sleeping thread takes tens of microseconds (futex, scheduler; more in a VM),
 * about what a whole layer of a small model costs: workers, and the caller waiting for the
 * last task, first poll for a while (EL_POOL_SPINS pause instructions, ~0.1 ms) and only then
 * sleep on a condition variable. */
#define EL_POOL_SPINS 4000

/* Every EL_POOL_YIELD_EVERY polls a polling thread yields its CPU. When the scheduler has put
 * the caller and a worker on one CPU (the other busy), a thread polling for the other's task
 * would otherwise keep it off that CPU for the whole poll: MobileNetV2-1.0/224 int8 on two
 * threads pinned to one CPU took 1.15 to 1.5 times one thread's time (XNNPACK 1.1 to 1.4),
 * with the yield 1.0 to 1.08. With a CPU each, a yield returns at once (same speed). */
#define EL_POOL_YIELD_EVERY 64

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

#define LOAD(v) __atomic_load_n(&(v), __ATOMIC_SEQ_CST)

/* One step of a poll: a pause, or every EL_POOL_YIELD_EVERY steps a yield. */
static void poll_step(int32_t i)
{
    if (i % EL_POOL_YIELD_EVERY == EL_POOL_YIELD_EVERY - 1)
        sched_yield();
    else
        cpu_relax();
}

/* Whether generation g is a job a worker that last ran `seen` has yet to take. */
static int is_new_job(uint64_t g, uint64_t seen)
{
    return g != seen && (g & 1u) == 0;
}

/* Polls until a new job is published or the pool shuts down, or the spins run out; returns
 * whether one of those happened. */
static int spin_for_job(el_threadpool *p, uint64_t seen)
{
    int32_t i;
    for (i = 0; i < EL_POOL_SPINS; i++) {
        if (is_new_job(LOAD(p->generation), seen) || LOAD(p->shutdown))
            return 1;
        poll_step(i);
    }
    return 0;
}

static int spin_until_zero(const int32_t *v)
{
    int32_t i;
    for (i = 0; i < EL_POOL_SPINS; i++) {
        if (__atomic_load_n(v, __ATOMIC_ACQUIRE) == 0)
            return 1;
        poll_step(i);
    }
    return 0;
}

/* Takes the next unclaimed task of range r. */
static int claim(el_pool_range *r, int32_t *i)
{
    int32_t left = __atomic_load_n(&r->left, __ATOMIC_RELAXED);
    while (left > 0) {
        if (__atomic_compare_exchange_n(&r->left, &left, left - 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            *i = __atomic_fetch_add(&r->start, 1, __ATOMIC_RELAXED);
            return 1;
        }
    }
    return 0;
}

/* Runs the tasks of range `self`, then steals from the others' until no task is unclaimed.
 * The thread that finishes the last task wakes the caller if it sleeps. */
static void run_tasks(el_threadpool *p, int32_t self, void (*task)(void *, int32_t), void *arg)
{
    const int32_t n = p->n_workers + 1;
    int32_t v, i, done = 0;
    for (v = 0; v < n; v++) {
        el_pool_range *r = &p->ranges[(self + v) % n];
        while (claim(r, &i)) {
            task(arg, i);
            done++;
        }
    }
    if (done > 0 && __atomic_sub_fetch(&p->unfinished, done, __ATOMIC_SEQ_CST) == 0 &&
        LOAD(p->caller_waiting)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->lock);
    }
}

static void *worker_main(void *arg)
{
    el_threadpool *p = ((el_pool_worker *)arg)->pool;
    const int32_t self = ((el_pool_worker *)arg)->index;
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        if (!spin_for_job(p, seen)) {
            pthread_mutex_lock(&p->lock);
            __atomic_add_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
            while (!LOAD(p->shutdown) && !is_new_job(LOAD(p->generation), seen))
                pthread_cond_wait(&p->work, &p->lock);
            __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&p->lock);
        }
        if (LOAD(p->shutdown))
            break;
        g = LOAD(p->generation);
        if (!is_new_job(g, seen))
            continue;
        /* Counted active before reading the job: the caller publishes no other job until
         * this worker leaves, unless it had already begun to (generation moved). */
        __atomic_add_fetch(&p->active, 1, __ATOMIC_SEQ_CST);
        if (LOAD(p->generation) == g) {
            seen = g;
            run_tasks(p, self, p->task, p->arg);
        }
        __atomic_sub_fetch(&p->active, 1, __ATOMIC_SEQ_CST);
    }
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
        void *ranges = NULL;
        p->workers = (pthread_t *)calloc((size_t)p->n_workers, sizeof(pthread_t));
        p->worker_args = (el_pool_worker *)calloc((size_t)p->n_workers, sizeof(el_pool_worker));
        if (posix_memalign(&ranges, 64, (size_t)num_threads * sizeof(el_pool_range)) != 0)
            ranges = NULL;
        p->ranges = (el_pool_range *)ranges;
        if (p->workers == NULL || p->worker_args == NULL || p->ranges == NULL) {
            free(p->workers);
            free(p->worker_args);
            free(p->ranges);
            free(p);
            return NULL;
        }
        memset(p->ranges, 0, (size_t)num_threads * sizeof(el_pool_range));
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->submit, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    /* The hosted optimized kernels keep up to ~115 KB of tiles on the stack per call (AVX-512F
     * float conv: 64 KB of filter panels + 48 KB of im2col rows): ask for 1 MB so workers do
     * not depend on the C library's default (128 KB on musl). */
    if (pthread_attr_init(&attr) != 0) {
        el_threadpool_destroy(p);
        return NULL;
    }
    (void)pthread_attr_setstacksize(&attr, (size_t)1 << 20);
    for (i = 0; i < p->n_workers; i++) {
        p->worker_args[i].pool = p;
        p->worker_args[i].index = i + 1;
        if (pthread_create(&p->workers[i], &attr, worker_main, &p->worker_args[i]) != 0) {
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
    free(p->worker_args);
    free(p->ranges);
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
    uint64_t g;
    int32_t i;
    if (n_tasks <= 0)
        return;
    if (p == NULL || p->n_workers == 0 || n_tasks == 1) {
        for (i = 0; i < n_tasks; i++)
            task(arg, i);
        return;
    }
    pthread_mutex_lock(&p->submit);
    g = p->generation;
    __atomic_store_n(&p->generation, g + 1, __ATOMIC_SEQ_CST); /* writing */
    /* A worker that took the last job after it was done may still be looking for tasks:
     * the job changes only once it has left (it has no task left to run). */
    for (i = 0; LOAD(p->active) != 0; i++)
        poll_step(i);
    {
        const int32_t n = p->n_workers + 1;
        for (i = 0; i < n; i++) {
            const int32_t a = (int32_t)((int64_t)n_tasks * i / n);
            const int32_t b = (int32_t)((int64_t)n_tasks * (i + 1) / n);
            p->ranges[i].start = a;
            __atomic_store_n(&p->ranges[i].left, b - a, __ATOMIC_RELAXED);
        }
    }
    p->task = task;
    p->arg = arg;
    __atomic_store_n(&p->unfinished, n_tasks, __ATOMIC_RELAXED);
    __atomic_store_n(&p->generation, g + 2, __ATOMIC_SEQ_CST); /* published */
    if (LOAD(p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
    }
    run_tasks(p, 0, task, arg);
    if (LOAD(p->unfinished) > 0 && !spin_until_zero(&p->unfinished)) {
        pthread_mutex_lock(&p->lock);
        __atomic_store_n(&p->caller_waiting, 1, __ATOMIC_SEQ_CST);
        while (LOAD(p->unfinished) > 0)
            pthread_cond_wait(&p->done, &p->lock);
        __atomic_store_n(&p->caller_waiting, 0, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&p->submit);
}
