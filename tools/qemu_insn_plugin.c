/*
 * qemu_insn_plugin.c: a QEMU TCG plugin counting executed guest instructions, in total and
 * between two marker addresses (edgelite's harness brackets each el_invoke with calls to
 * el_bench_begin / el_bench_end).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 * This file is built against QEMU's GPL plugin API header (qemu-plugin.h, taken at test time
 * from the Debian source package of the installed QEMU). It is a separate test tool: it is
 * never compiled into, linked with or shipped in edgelite or runtime_micro.
 *
 * Arguments:  begin=0xADDR,end=0xADDR  marker function addresses (Thumb bit ignored)
 *             out=PATH                 write the result line there (default: QEMU's log)
 *             each=N                   also list the first N regions one by one (per-op
 *                                      profiles: the harness brackets each op)
 * Result:     "insns total=T region=R regions=K first=F"  where R counts instructions executed
 *             from each arrival at begin up to the next arrival at end, summed over K such
 *             regions, and F is the count of the first region alone (the harness brackets
 *             el_init first, then each invoke); with each=N, then one "region I COUNT" line
 *             per region for the first N regions.
 * Single vCPU guests only (the counters are plain, as the inline-op API provides).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* The executed-instruction counter, incremented inline before every instruction. API v1
 * (QEMU <= 8) adds to a plain variable; v2+ (QEMU 9+) only offers per-vCPU scoreboards. */
#if QEMU_PLUGIN_VERSION >= 2
static struct qemu_plugin_scoreboard *board;
static qemu_plugin_u64 counter;
#define TOTAL() qemu_plugin_u64_sum(counter)
#else
static uint64_t counter;
#define TOTAL() counter
#endif
static uint64_t region_start, region_sum, regions, first_region;
static int in_region;
static uint64_t begin_addr = UINT64_MAX, end_addr = UINT64_MAX;
static char out_path[4096];
static uint64_t *each_counts; /* the first each_max regions, one by one */
static uint64_t each_max;

static void on_begin(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    region_start = TOTAL();
    in_region = 1;
}

static void on_end(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    if (in_region) {
        uint64_t now = TOTAL();
        region_sum += now - region_start;
        if (regions == 0)
            first_region = now - region_start;
        if (regions < each_max)
            each_counts[regions] = now - region_start;
        regions++;
        in_region = 0;
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t i, n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
#if QEMU_PLUGIN_VERSION >= 2
        qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                            counter, 1);
#else
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counter, 1);
#endif
        if (vaddr == begin_addr)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
        if (vaddr == end_addr)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *udata)
{
    char line[160];
    uint64_t i, listed = regions < each_max ? regions : each_max;
    FILE *f = out_path[0] ? fopen(out_path, "w") : NULL;
    (void)id;
    (void)udata;
    snprintf(line, sizeof line,
             "insns total=%" PRIu64 " region=%" PRIu64 " regions=%" PRIu64 " first=%" PRIu64 "\n",
             TOTAL(), region_sum, regions, first_region);
    if (f)
        fputs(line, f);
    else
        qemu_plugin_outs(line);
    for (i = 0; i < listed; i++) {
        snprintf(line, sizeof line, "region %" PRIu64 " %" PRIu64 "\n", i, each_counts[i]);
        if (f)
            fputs(line, f);
        else
            qemu_plugin_outs(line);
    }
    if (f)
        fclose(f);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv)
{
    int i;
    (void)info;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "begin=", 6) == 0) {
            begin_addr = strtoull(arg + 6, NULL, 0) & ~(uint64_t)1;
        } else if (strncmp(arg, "end=", 4) == 0) {
            end_addr = strtoull(arg + 4, NULL, 0) & ~(uint64_t)1;
        } else if (strncmp(arg, "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", arg + 4);
        } else if (strncmp(arg, "each=", 5) == 0) {
            each_max = strtoull(arg + 5, NULL, 0);
            each_counts = calloc(each_max ? each_max : 1, sizeof *each_counts);
            if (each_counts == NULL)
                return -1;
        } else {
            fprintf(stderr, "qemu_insn_plugin: unknown argument '%s' (begin=, end=, out=, each=)\n",
                    arg);
            return -1;
        }
    }
#if QEMU_PLUGIN_VERSION >= 2
    board = qemu_plugin_scoreboard_new(sizeof(uint64_t));
    counter = qemu_plugin_scoreboard_u64(board);
#endif
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
