/* The region markers of tools/qemu_insn_plugin.c for the bench programs (bench_opt.c,
 * bench_f32.c): the plugin counts the instructions between a call of el_bench_begin and one of
 * el_bench_end, found by name in the binary (`make ... insns`). Included by one file per
 * program. */
#ifndef BENCH_MARKS_H
#define BENCH_MARKS_H

__attribute__((noinline)) void el_bench_begin(void);
__attribute__((noinline)) void el_bench_end(void);
static volatile int g_marks;
__attribute__((noinline)) void el_bench_begin(void)
{
    g_marks++;
}
__attribute__((noinline)) void el_bench_end(void)
{
    g_marks++;
}

#endif
