/*
 * main.c: bare-metal / Linux test harness for runtime_micro on a target (built by Makefile).
 *
 * Links one model exported by edgelite.export.export_c (NAME.h, NAME_model.c, NAME_data.c)
 * and runs it: el_init with a static arena, then for each of NAME_STEPS steps copy the step's
 * input bytes into the inputs, invoke, print the outputs as hex and compare them with the
 * linked-in expected outputs (exact for integer types, within EL_HARNESS_FLOAT_TOL for
 * float32). The whole step sequence runs EL_HARNESS_REPEAT times with el_reset() between
 * runs; outputs are printed for the first run only, all runs are compared.
 *
 * Compile-time settings (the Makefile passes them):
 *   EL_HARNESS_NAME / EL_HARNESS_UPPER / EL_HARNESS_HEADER  the export name, e.g. digits /
 *                                     DIGITS / "digits.h"
 *   EL_HARNESS_ARENA   arena bytes (static, 16-byte aligned)
 *   EL_HARNESS_REPEAT  runs of the step sequence (default 1)
 *   EL_HARNESS_FLOAT_TOL float32 tolerance, relative to 1 + |expected| (default 1e-5)
 *   EL_HARNESS_TRACE   define to use the linear planner and print, after every invoke of the
 *                      first run, an FNV-1a 64-bit hash of every non-constant tensor (compared
 *                      with the host runtime: checks every intermediate, not just outputs)
 *   EL_HARNESS_STACK   define (Cortex-M builds do) to measure the stack el_init / el_invoke use
 *   EL_HARNESS_REFERENCE define to run the reference kernels only (el_config.disable_isa)
 *   EL_HARNESS_FP16    define to set el_config.allow_fp16 (float16 arithmetic on CPUs with
 *                      FEAT_FP16); float32 outputs are then compared within EL_HARNESS_FP16_TOL
 *                      (default 0.1) relative to 1 + the largest |expected| of that output:
 *                      a sanity bound (float16 rounds every activation to 11 bits and the
 *                      error compounds over layers: a random-weight MobileNetV2 0.35/96
 *                      moves by 3.6 % of its largest logit, cosine 0.9995), and the line
 *                      "fp16 <el_kernel_isa has EL_ISA_FP16: 0 or 1>" is printed
 *   EL_HARNESS_THREADS N: el_config.num_threads = N with a parallel_for that runs the tasks on
 *                      the calling thread in reverse order (the interpreter's layer splits,
 *                      whose bytes must equal one task's, without a thread library)
 *   EL_HARNESS_POOL    N: el_config.num_threads = N on the hosted pool (hosted/el_threadpool.c,
 *                      POSIX threads; Linux targets): N threads, as an app runs them
 *   EL_HARNESS_SYSTICK define to count SysTick ticks around each invoke (Cortex-M, QEMU
 *                      -icount shift=0: one tick = 40 instructions on the mps2 boards)
 *   EL_HARNESS_PROFILE define to bracket each top-level op of the last step's invoke (first
 *                      run) with el_bench_op_begin / el_bench_op_end (per-op callback) for the
 *                      instruction counter, and print those ops in run order; ops of nested
 *                      subgraphs (CALL_ONCE, WHILE, IF) count inside their caller
 *   EL_HARNESS_TIMED   N: after the checked runs, N more invokes (inputs of step k % STEPS)
 *                      timed with clock_gettime(CLOCK_MONOTONIC) (Linux targets), after
 *                      EL_HARNESS_WARMUP untimed ones (default 5)
 *
 * Output lines (parsed by tools/arm_targets.py):
 *   arena_required <bytes>
 *   out <step> <output> <dtype> <hex bytes>
 *   tensor <step> <tensor index> <dtype> <bytes> <fnv1a-64 hex>     (EL_HARNESS_TRACE)
 *   mismatch <run> <step> <output> <element> got <v> want <v>  (integers: ... byte <i> ...)
 *   systick <ticks>
 *   stack <el_init bytes> <el_invoke bytes>          (EL_HARNESS_STACK: stack high-water marks)
 *   op <k> <subgraph> <op index> <builtin code>     (EL_HARNESS_PROFILE: k-th top-level op)
 *   pool <threads> <tasks workers ran>     (EL_HARNESS_POOL: checked and warm-up invokes)
 *   time_ns <ns>                                     (EL_HARNESS_TIMED: one line per invoke)
 *   result ok | result FAIL <mismatches>
 * Exit status: 0 all outputs match, 1 mismatch, 2 runtime error (message printed).
 *
 * el_bench_begin()/el_bench_end() bracket el_init, then each invoke; the instruction-counting
 * QEMU plugin (tools/qemu_insn_plugin.c) counts only between them and reports the first
 * region (el_init) separately.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "edgelite_micro.h"
#include EL_HARNESS_HEADER

#define EL_CAT2(a, b) a##b
#define EL_CAT(a, b) EL_CAT2(a, b)
#define SYM(suffix) EL_CAT(EL_HARNESS_NAME, suffix)
#define UPPER(suffix) EL_CAT(EL_HARNESS_UPPER, suffix)

#define STEPS UPPER(_STEPS)
#define INPUT_COUNT UPPER(_INPUT_COUNT)
#define OUTPUT_COUNT UPPER(_OUTPUT_COUNT)

#ifndef EL_HARNESS_ARENA
#define EL_HARNESS_ARENA (512u * 1024u)
#endif
#ifndef EL_HARNESS_REPEAT
#define EL_HARNESS_REPEAT 1
#endif
#ifndef EL_HARNESS_FLOAT_TOL
#define EL_HARNESS_FLOAT_TOL 1e-5f
#endif
#ifndef EL_HARNESS_FP16_TOL
#define EL_HARNESS_FP16_TOL 1e-1f
#endif
#define MAX_REPORTED_MISMATCHES 8

#if INPUT_COUNT < 1
#error "the harness needs exported inputs: call export_c(..., inputs=[...])"
#endif

#ifdef EL_HARNESS_POOL
#include <pthread.h>

#include "el_threadpool.h"

/* The hosted pool's parallel_for, counting the tasks a worker thread ran while `counting` (the
 * checked and the warm-up invokes), printed as "pool <threads> <worker tasks>": proof that the
 * device's threads took part, without touching the timed invokes beyond one test per call. */
static el_threadpool *pool;
static pthread_t main_thread;
static int counting;
static long worker_tasks;
typedef struct {
    void (*task)(void *arg, int32_t i);
    void *arg;
} counted_job;

static void counted_task(void *arg, int32_t i)
{
    const counted_job *j = (const counted_job *)arg;
    if (!pthread_equal(pthread_self(), main_thread))
        __atomic_add_fetch(&worker_tasks, 1, __ATOMIC_RELAXED);
    j->task(j->arg, i);
}

static void pool_parallel_for(void *p, int32_t n_tasks, void (*task)(void *arg, int32_t i),
                              void *arg)
{
    counted_job j;
    if (!counting) {
        el_threadpool_parallel_for(p, n_tasks, task, arg);
        return;
    }
    j.task = task;
    j.arg = arg;
    el_threadpool_parallel_for(p, n_tasks, counted_task, &j);
}

/* Ends the counting (before the timed invokes) and prints the pool line. */
static void pool_report(void)
{
    if (!counting)
        return;
    counting = 0;
    printf("pool %d %ld\n", (int)el_threadpool_threads(pool),
           __atomic_load_n(&worker_tasks, __ATOMIC_RELAXED));
}
#endif

#ifdef EL_HARNESS_THREADS
static void reverse_parallel_for(void *pool, int32_t n_tasks, void (*task)(void *arg, int32_t i),
                                 void *arg)
{
    int32_t i;
    (void)pool;
    for (i = n_tasks - 1; i >= 0; --i)
        task(arg, i);
}
#endif

static unsigned char arena[EL_HARNESS_ARENA] __attribute__((aligned(EL_ARENA_ALIGN)));
static el_interpreter interp;

/* Markers for the instruction-counting plugin; noinline and with a side effect so each call
 * stays a real call at a symbol address. */
volatile uint32_t el_bench_marks;
__attribute__((noinline)) void el_bench_begin(void)
{
    el_bench_marks++;
}
__attribute__((noinline)) void el_bench_end(void)
{
    el_bench_marks++;
}

#ifdef EL_HARNESS_PROFILE
/* Per-op markers, called from the op callback around each top-level op of one invoke (the
 * bookkeeping happens outside the bracket, so a region is the op plus the callback's return
 * and call path, a few tens of instructions). */
__attribute__((noinline)) void el_bench_op_begin(void)
{
    el_bench_marks++;
}
__attribute__((noinline)) void el_bench_op_end(void)
{
    el_bench_marks++;
}
#define PROFILE_MAX_OPS 4096
static int32_t profile_ops[PROFILE_MAX_OPS][3];
static long profile_count;
static int profile_on, profile_depth;

static el_status profile_callback(void *user, int32_t subgraph, int32_t op_index,
                                  int32_t builtin_code, int is_after)
{
    (void)user;
    if (!profile_on)
        return EL_OK;
    if (is_after) {
        if (--profile_depth == 0)
            el_bench_op_end();
        return EL_OK;
    }
    if (profile_depth++ > 0)
        return EL_OK; /* an op of a subgraph the current op calls */
    if (profile_count < PROFILE_MAX_OPS) {
        profile_ops[profile_count][0] = subgraph;
        profile_ops[profile_count][1] = op_index;
        profile_ops[profile_count][2] = builtin_code;
    }
    profile_count++;
    el_bench_op_begin();
    return EL_OK;
}
#endif

#ifdef EL_HARNESS_TIMED
#include <time.h>
#ifndef EL_HARNESS_WARMUP
#define EL_HARNESS_WARMUP 5
#endif
static unsigned long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}
#endif

#ifdef EL_HARNESS_SYSTICK
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
extern volatile uint32_t el_systick_wraps;
static uint64_t systick_total;

static uint64_t systick_now(void)
{
    uint32_t wraps, value;
    do { /* re-read when the counter wrapped between the two reads */
        wraps = el_systick_wraps;
        value = SYST_CVR;
    } while (wraps != el_systick_wraps);
    return (uint64_t)wraps * 0x1000000u + (0xFFFFFFu - value);
}
static void systick_start(void)
{
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0u;
    SYST_CSR = 7u; /* processor clock, interrupt on wrap, enable */
}
#endif

#ifdef EL_HARNESS_TRACE
static void trace_tensors(int step)
{
    el_tensor_info t;
    int32_t i, n = el_tensor_count(&interp);
    for (i = 0; i < n; ++i) {
        uint64_t h = 0xcbf29ce484222325u; /* FNV-1a 64 */
        size_t k;
        if (el_tensor_info_at(&interp, i, &t) != EL_OK || t.is_const || t.data == NULL)
            continue;
        for (k = 0; k < t.bytes; ++k)
            h = (h ^ ((const unsigned char *)t.data)[k]) * 0x100000001b3u;
        printf("tensor %d %ld %d %lu %08lx%08lx\n", step, (long)i, (int)t.dtype,
               (unsigned long)t.bytes, (unsigned long)(h >> 32), (unsigned long)(h & 0xFFFFFFFFu));
    }
}
#endif

#ifdef EL_HARNESS_STACK
/* Stack high-water marks (Cortex-M): paint the unused stack below the caller's SP with a
 * pattern, run, then find the lowest word that changed. __stack_limit comes from the linker
 * script. Painting happens outside the el_bench_begin/end window, so it is not counted. */
#define STACK_PATTERN 0xA5A5A5A5u
extern uint32_t __stack_limit;
static uint32_t stack_sp;
static unsigned long stack_init_bytes, stack_invoke_bytes;

#define STACK_PAINT()                                                                              \
    do {                                                                                           \
        uint32_t *p_ = &__stack_limit, *end_;                                                      \
        __asm__ volatile("mov %0, sp" : "=r"(stack_sp));                                           \
        end_ = (uint32_t *)(stack_sp - 64u); /* leave this frame's neighbourhood */                \
        while (p_ < end_)                                                                          \
            *(volatile uint32_t *)p_++ = STACK_PATTERN;                                            \
    } while (0)

static unsigned long stack_used(void)
{
    const volatile uint32_t *p = &__stack_limit;
    while ((uint32_t)(uintptr_t)p < stack_sp && *p == STACK_PATTERN)
        ++p;
    return (unsigned long)(stack_sp - (uint32_t)(uintptr_t)p);
}
#else
#define STACK_PAINT() ((void)0)
#endif

static int fail(el_status status, const char *what)
{
    printf("error %s: %s: %s\n", what, el_status_name(status), el_error_message(&interp));
    printf("result ERROR\n");
    return 2;
}

static void print_hex(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[65];
    size_t i, k = 0;
    for (i = 0; i < n; ++i) {
        buf[k++] = digits[p[i] >> 4];
        buf[k++] = digits[p[i] & 15u];
        if (k == 64) {
            buf[k] = '\0';
            fputs(buf, stdout);
            k = 0;
        }
    }
    buf[k] = '\0';
    fputs(buf, stdout);
}

#if OUTPUT_COUNT > 0
static float load_f32(const unsigned char *p)
{
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}
#endif

#if OUTPUT_COUNT > 0
/* Returns the number of mismatching elements of one output for one step. */
static long compare_output(int run, int step, int o, const el_tensor_info *info,
                           const unsigned char *want)
{
    long bad = 0;
    size_t i;
    const unsigned char *got = (const unsigned char *)info->data;
    if (info->dtype == EL_FLOAT32) {
#ifdef EL_HARNESS_FP16
        float top = 0.0f; /* float16: relative to the output's largest magnitude */
        for (i = 0; i + 4 <= info->bytes; i += 4) {
            const float w = load_f32(want + i), mag = w < 0 ? -w : w;
            top = mag > top ? mag : top;
        }
#endif
        for (i = 0; i + 4 <= info->bytes; i += 4) {
            float g = load_f32(got + i), w = load_f32(want + i);
            float diff = g > w ? g - w : w - g;
            float mag = w < 0 ? -w : w;
#ifdef EL_HARNESS_FP16
            const float tol = EL_HARNESS_FP16_TOL * (1.0f + top);
            (void)mag;
#else
            const float tol = EL_HARNESS_FLOAT_TOL * (1.0f + mag);
#endif
            /* g != g: NaN never matches, not even NaN. */
            if (g != g || w != w || diff > tol) {
                if (bad++ < MAX_REPORTED_MISMATCHES)
                    printf("mismatch %d %d %d %lu got %.9g want %.9g\n", run, step, o,
                           (unsigned long)(i / 4), (double)g, (double)w);
            }
        }
    } else {
        for (i = 0; i < info->bytes; ++i) {
            if (got[i] != want[i] && bad++ < MAX_REPORTED_MISMATCHES)
                printf("mismatch %d %d %d byte %lu got 0x%02x want 0x%02x\n", run, step, o,
                       (unsigned long)i, got[i], want[i]);
        }
    }
    return bad;
}
#endif

int main(void)
{
    el_status st;
    int run, step, i, n_out;
    long mismatches = 0;
    el_tensor_info info;

    STACK_PAINT();
    el_bench_begin(); /* region 1 for the instruction counter: el_init */
    el_config cfg;
    memset(&cfg, 0, sizeof cfg);
#ifdef EL_HARNESS_TRACE
    cfg.planner = EL_PLANNER_LINEAR; /* every tensor keeps its bytes after invoke */
#endif
#ifdef EL_HARNESS_PROFILE
    cfg.callback = profile_callback;
#endif
#ifdef EL_HARNESS_REFERENCE
    cfg.disable_isa = EL_ISA_ALL; /* the reference kernels only: what the optimized ones save */
#endif
#ifdef EL_HARNESS_FP16
    cfg.allow_fp16 = 1;
#endif
#ifdef EL_HARNESS_THREADS
    cfg.parallel_for = reverse_parallel_for;
    cfg.num_threads = EL_HARNESS_THREADS;
#endif
#ifdef EL_HARNESS_POOL
    main_thread = pthread_self();
    pool = el_threadpool_create(EL_HARNESS_POOL); /* never destroyed: ends with the process */
    if (pool == NULL) {
        printf("error el_threadpool_create(%d) failed\n", EL_HARNESS_POOL);
        printf("result ERROR\n");
        return 2;
    }
    cfg.parallel_pool = pool;
    cfg.parallel_for = pool_parallel_for;
    cfg.num_threads = EL_HARNESS_POOL;
    counting = 1;
#endif
    st = el_init(&interp, SYM(_model), sizeof(SYM(_model)), arena, sizeof arena, &cfg);
    el_bench_end();
#ifdef EL_HARNESS_STACK
    stack_init_bytes = stack_used();
#endif
    printf("arena_required %lu\n", (unsigned long)el_arena_required(&interp));
    if (st != EL_OK)
        return fail(st, "el_init");
#ifdef EL_HARNESS_FP16
    printf("fp16 %d\n", (el_kernel_isa(&interp) & EL_ISA_FP16) ? 1 : 0);
#endif
    n_out = el_output_count(&interp);
    /* Without exported expected outputs the harness only prints the outputs. */
    if (el_input_count(&interp) != INPUT_COUNT || (OUTPUT_COUNT > 0 && n_out != OUTPUT_COUNT)) {
        printf("error model has %d inputs / %d outputs, the exported data %d / %d\n",
               (int)el_input_count(&interp), (int)el_output_count(&interp), INPUT_COUNT,
               OUTPUT_COUNT);
        printf("result ERROR\n");
        return 2;
    }
#ifdef EL_HARNESS_SYSTICK
    systick_start();
#endif

    for (run = 0; run < EL_HARNESS_REPEAT; ++run) {
        if (run > 0 && (st = el_reset(&interp)) != EL_OK)
            return fail(st, "el_reset");
        for (step = 0; step < STEPS; ++step) {
            for (i = 0; i < INPUT_COUNT; ++i) {
                if ((st = el_input_info(&interp, i, &info)) != EL_OK)
                    return fail(st, "el_input_info");
                if (info.bytes != SYM(_input_sizes)[i]) {
                    printf("error input %d: the model wants %lu bytes per invoke, the export has "
                           "%lu\n",
                           i, (unsigned long)info.bytes, (unsigned long)SYM(_input_sizes)[i]);
                    printf("result ERROR\n");
                    return 2;
                }
                memcpy(info.data, SYM(_inputs)[i] + (size_t)step * info.bytes, info.bytes);
            }
            STACK_PAINT();
#ifdef EL_HARNESS_SYSTICK
            {
                uint64_t t0 = systick_now();
#endif
#ifdef EL_HARNESS_PROFILE
                profile_on = run == 0 && step == STEPS - 1;
#endif
                el_bench_begin();
                st = el_invoke(&interp);
                el_bench_end();
#ifdef EL_HARNESS_PROFILE
                profile_on = 0;
#endif
#ifdef EL_HARNESS_SYSTICK
                systick_total += systick_now() - t0;
            }
#endif
#ifdef EL_HARNESS_STACK
            {
                unsigned long used = stack_used();
                if (used > stack_invoke_bytes)
                    stack_invoke_bytes = used;
            }
#endif
            if (st != EL_OK)
                return fail(st, "el_invoke");
#ifdef EL_HARNESS_TRACE
            if (run == 0)
                trace_tensors(step);
#endif
            for (i = 0; i < n_out; ++i) {
                if ((st = el_output_info(&interp, i, &info)) != EL_OK)
                    return fail(st, "el_output_info");
                if (run == 0) {
                    printf("out %d %d %d ", step, i, (int)info.dtype);
                    print_hex((const unsigned char *)info.data, info.bytes);
                    printf("\n");
                }
#if OUTPUT_COUNT > 0
                if (info.bytes != SYM(_expected_sizes)[i]) {
                    printf("error output %d: the model gives %lu bytes, the export expects %lu\n",
                           i, (unsigned long)info.bytes, (unsigned long)SYM(_expected_sizes)[i]);
                    printf("result ERROR\n");
                    return 2;
                }
                mismatches += compare_output(run, step, i, &info,
                                             SYM(_expected)[i] + (size_t)step * info.bytes);
#endif
            }
        }
    }
#ifdef EL_HARNESS_TIMED
    {
        long k;
        for (k = 0; k < EL_HARNESS_WARMUP + (long)(EL_HARNESS_TIMED); ++k) {
            unsigned long long t0;
            for (i = 0; i < INPUT_COUNT; ++i) {
                if ((st = el_input_info(&interp, i, &info)) != EL_OK)
                    return fail(st, "el_input_info");
                memcpy(info.data, SYM(_inputs)[i] + (size_t)(k % STEPS) * info.bytes, info.bytes);
            }
#ifdef EL_HARNESS_POOL
            if (k == EL_HARNESS_WARMUP)
                pool_report(); /* counted: the checked and the warm-up invokes */
#endif
            t0 = now_ns();
            st = el_invoke(&interp);
            t0 = now_ns() - t0;
            if (st != EL_OK)
                return fail(st, "el_invoke");
            if (k >= EL_HARNESS_WARMUP)
                printf("time_ns %llu\n", t0);
        }
    }
#endif
#ifdef EL_HARNESS_POOL
    pool_report();
#endif
#ifdef EL_HARNESS_PROFILE
    for (i = 0; i < profile_count && i < PROFILE_MAX_OPS; ++i)
        printf("op %d %ld %ld %ld\n", i, (long)profile_ops[i][0], (long)profile_ops[i][1],
               (long)profile_ops[i][2]);
    if (profile_count > PROFILE_MAX_OPS)
        printf("ops_truncated %ld\n", profile_count);
#endif
#ifdef EL_HARNESS_SYSTICK
    printf("systick %lu\n", (unsigned long)systick_total);
#endif
#ifdef EL_HARNESS_STACK
    printf("stack %lu %lu\n", stack_init_bytes, stack_invoke_bytes);
#endif
    if (mismatches) {
        printf("result FAIL %ld\n", mismatches);
        return 1;
    }
    printf("result ok\n");
    return 0;
}
