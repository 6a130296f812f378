/* hosted/el_threadpool: every task index runs exactly once and parallel_for returns only after
 * all have finished; two threads sharing one pool, and two pools at once; create/destroy
 * repeatedly; a thread stuck in its first task has the rest of its range taken by the others;
 * workers and caller that fell asleep are woken. Built under ASan+UBSan and under
 * ThreadSanitizer (make check). Results of models with 1/2/4 threads are compared from Python
 * (tests/test_threads.py).
 *
 *   test_threads <corpus dir> */
#define _POSIX_C_SOURCE 200112L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "el_threadpool.h"

static int failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                 \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)

#define N_TASKS 97

typedef struct {
    int32_t hits[N_TASKS]; /* each written by its own task only */
    int32_t value;
} job;

static void count_task(void *arg, int32_t i)
{
    job *j = (job *)arg;
    j->hits[i] += 1 + j->value;
}

/* whether count_task ran exactly once for every task of j */
static int each_ran_once(const job *j)
{
    int i;
    for (i = 0; i < N_TASKS; i++) {
        if (j->hits[i] != 1 + j->value)
            return 0;
    }
    return 1;
}

typedef struct {
    el_threadpool *pool;
    int ok;
} runner;

/* 200 parallel_for calls, checking after each that every task ran exactly once */
static void *run_many(void *arg)
{
    runner *r = (runner *)arg;
    job j;
    int k;
    r->ok = 1;
    for (k = 0; k < 200; k++) {
        memset(&j, 0, sizeof(j));
        j.value = k;
        el_threadpool_parallel_for(r->pool, N_TASKS, count_task, &j);
        r->ok &= each_ran_once(&j);
    }
    return NULL;
}

/* Stealing: the caller's first task (0: its range comes first) waits until some other task
 * of the caller's range has run on another thread, which only stealing from that range can
 * do; the thief takes the range's next task (1), the largest left when a split deals a range
 * largest first. A worker that finishes its own half before the caller has claimed task 0
 * (seen under ThreadSanitizer, stop 33) takes 0, and the caller's first is then 1. Gives up
 * after about 10 s (a failure, not a hang). */
typedef struct {
    pthread_t caller;
    int32_t n, stolen, first_stolen, caller_first;
} steal_job;

static void steal_task(void *arg, int32_t i)
{
    steal_job *j = (steal_job *)arg;
    if (pthread_equal(pthread_self(), j->caller)) {
        /* The caller's first task (0, or 1 when the worker was quicker to claim 0) holds it
         * until the worker has stolen a task. */
        if (j->caller_first < 0) {
            long spins;
            j->caller_first = i;
            for (spins = 0; spins < 100000000L && !__atomic_load_n(&j->stolen, __ATOMIC_ACQUIRE);
                 spins++) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            }
        }
    } else if (i < j->n / 2) {
        if (!__atomic_load_n(&j->stolen, __ATOMIC_ACQUIRE))
            j->first_stolen = i;
        __atomic_store_n(&j->stolen, 1, __ATOMIC_RELEASE);
    }
}

/* The sleeping paths: a pause between calls long enough for the workers to stop polling and
 * sleep (they must be woken for the next job: the caller's task 0 waits until a task has run
 * on another thread, 0.5 s at most), and a task long enough for the caller to stop polling for
 * the last one and sleep (the first task a worker runs takes 3 ms; that worker must wake the
 * caller, or this hangs until main's alarm ends the test). */
static void sleep_us(long us)
{
    struct timespec t;
    t.tv_sec = 0;
    t.tv_nsec = us * 1000L;
    nanosleep(&t, NULL);
}

typedef struct {
    job j;
    pthread_t caller;
    int32_t on_worker, slept, slow;
} sleepy_job;

static void sleepy_task(void *arg, int32_t i)
{
    sleepy_job *s = (sleepy_job *)arg;
    if (!pthread_equal(pthread_self(), s->caller)) {
        int32_t no = 0;
        __atomic_store_n(&s->on_worker, 1, __ATOMIC_RELEASE);
        if (s->slow &&
            __atomic_compare_exchange_n(&s->slept, &no, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            sleep_us(3000);
    } else if (i == 0) {
        int32_t waits;
        for (waits = 0; waits < 5000 && !__atomic_load_n(&s->on_worker, __ATOMIC_ACQUIRE); waits++)
            sleep_us(100);
    }
    count_task(&s->j, i);
}

static int sleepy_calls(el_threadpool *p)
{
    sleepy_job s;
    int k, ok = 1;
    for (k = 0; k < 12; k++) {
        memset(&s, 0, sizeof(s));
        s.j.value = k;
        s.caller = pthread_self();
        s.slow = k % 2;
        sleep_us(2000); /* 20 times the workers' polling */
        el_threadpool_parallel_for(p, N_TASKS, sleepy_task, &s);
        ok &= s.on_worker && (s.slept || !s.slow) && each_ran_once(&s.j);
    }
    return ok;
}

int main(int argc, char **argv)
{
    int32_t n;
    pthread_t t1, t2;
    runner a, b;
    el_threadpool *p, *q;
    (void)argv;
    if (argc != 2)
        return 2;
    /* A lost wake-up would hang a parallel_for: SIGALRM ends the test (a failure) instead.
     * The whole test takes well under a second (ThreadSanitizer included). */
    alarm(120);
    CHECK(el_threadpool_create(0) == NULL);
    CHECK(el_threadpool_create(257) == NULL);
    el_threadpool_destroy(NULL);
    for (n = 1; n <= 4; n++) {
        p = el_threadpool_create(n);
        CHECK(p != NULL && el_threadpool_threads(p) == n);
        a.pool = p;
        run_many(&a);
        CHECK(a.ok);
        el_threadpool_destroy(p);
    }
    /* two callers on one pool: the calls take turns */
    p = el_threadpool_create(3);
    a.pool = p;
    b.pool = p;
    CHECK(pthread_create(&t1, NULL, run_many, &a) == 0);
    CHECK(pthread_create(&t2, NULL, run_many, &b) == 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK(a.ok && b.ok);
    /* two pools at once */
    q = el_threadpool_create(2);
    b.pool = q;
    CHECK(pthread_create(&t1, NULL, run_many, &a) == 0);
    CHECK(pthread_create(&t2, NULL, run_many, &b) == 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK(a.ok && b.ok);
    el_threadpool_destroy(q);
    el_threadpool_destroy(p);
    /* work stealing: the worker finishes its half, then takes the caller's next task */
    {
        steal_job sj;
        p = el_threadpool_create(2);
        sj.caller = pthread_self();
        sj.n = 16;
        sj.stolen = 0;
        sj.first_stolen = -1;
        sj.caller_first = -1;
        el_threadpool_parallel_for(p, sj.n, steal_task, &sj);
        CHECK(sj.stolen == 1);
        /* the caller's lowest unclaimed task: the largest left in a guided split (a worker
         * quick enough to finish its half before the caller claimed task 0 takes task 0) */
        CHECK(sj.first_stolen == (sj.caller_first == 0 ? 1 : 0));
        el_threadpool_destroy(p);
    }
    for (n = 2; n <= 3; n++) {
        p = el_threadpool_create(n);
        CHECK(sleepy_calls(p));
        el_threadpool_destroy(p);
    }
    /* a NULL pool runs inline */
    a.pool = NULL;
    run_many(&a);
    CHECK(a.ok);
    printf("test_threads: %s\n", failures ? "FAILED" : "OK");
    return failures ? 1 : 0;
}
