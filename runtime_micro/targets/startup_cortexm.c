/*
 * startup_cortexm.c: reset and fault handling for the bare-metal test harness on Cortex-M
 * (QEMU mps2-an386 / mps2-an500 / mps3-an547), linked with newlib + semihosting (rdimon).
 *
 * Reset: enable the FPU (and MVE on Cortex-M55, same CP10/CP11 bits) through CPACR, copy
 * .data from its load address, zero .bss, open the semihosting handles, run constructors,
 * then exit(main()). The exit status reaches the host as QEMU's exit code.
 * Faults: print the faulting PC through raw semihosting calls (no libc: the libc state may be
 * what broke) and stop QEMU with a non-zero exit code.
 */
#include <stdint.h>
#include <stdlib.h>

extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);

/* Defined by the linker script. */
extern uint32_t __stack_top;
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;

#define CPACR (*(volatile uint32_t *)0xE000ED88u)

/* -nostartfiles drops crti/crtn; __libc_init_array still calls these. */
void _init(void)
{
}
void _fini(void)
{
}

static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

__attribute__((noreturn)) static void fault_report(const char *what, const uint32_t *frame)
{
    static const char hex[] = "0123456789abcdef";
    char line[64];
    unsigned n = 0;
    const char *p;
    int shift;
    for (p = "harness: fault: "; *p; ++p)
        line[n++] = *p;
    for (p = what; *p && n < 40; ++p)
        line[n++] = *p;
    for (p = " pc=0x"; *p; ++p)
        line[n++] = *p;
    for (shift = 28; shift >= 0; shift -= 4)
        line[n++] = hex[(frame[6] >> shift) & 0xFu];
    line[n++] = '\n';
    line[n] = '\0';
    semihost(0x04u /* SYS_WRITE0 */, line);
    /* SYS_EXIT with ADP_Stopped_RunTimeErrorUnknown: QEMU exits with status 1. */
    semihost(0x18u, (const void *)0x20023u);
    for (;;) {
    }
}

/* Exception entry stacked r0-r3, r12, lr, pc, xpsr on the active stack: hand that frame to C. */
#define FAULT_HANDLER(fn, entry)                                                                   \
    __attribute__((naked)) void fn(void)                                                           \
    {                                                                                              \
        __asm__ volatile("tst lr, #4\n ite eq\n mrseq r0, msp\n mrsne r0, psp\n"                   \
                         "b " #entry "\n");                                                        \
    }

__attribute__((used)) void el_fault_hard(const uint32_t *frame)
{
    fault_report("HardFault", frame);
}
__attribute__((used)) void el_fault_mem(const uint32_t *frame)
{
    fault_report("MemManage", frame);
}
__attribute__((used)) void el_fault_bus(const uint32_t *frame)
{
    fault_report("BusFault", frame);
}
__attribute__((used)) void el_fault_usage(const uint32_t *frame)
{
    fault_report("UsageFault", frame);
}
__attribute__((used)) void el_fault_other(const uint32_t *frame)
{
    fault_report("unexpected exception", frame);
}

FAULT_HANDLER(HardFault_Handler, el_fault_hard)
FAULT_HANDLER(MemManage_Handler, el_fault_mem)
FAULT_HANDLER(BusFault_Handler, el_fault_bus)
FAULT_HANDLER(UsageFault_Handler, el_fault_usage)
FAULT_HANDLER(Default_Handler, el_fault_other)

/* SysTick is used only by the optional tick counter in main.c (EL_HARNESS_SYSTICK). */
volatile uint32_t el_systick_wraps;
void SysTick_Handler(void)
{
    el_systick_wraps++;
}

__attribute__((noreturn)) void Reset_Handler(void)
{
    uint32_t *src, *dst;
    CPACR |= 0xFu << 20; /* CP10 + CP11 full access: FPU, and MVE on v8.1-M */
    __asm__ volatile("dsb\n isb" ::: "memory");
    for (src = &__data_load, dst = &__data_start; dst < &__data_end;)
        *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end;)
        *dst++ = 0u;
    initialise_monitor_handles();
    __libc_init_array();
    exit(main());
}

typedef void (*vector_fn)(void);

__attribute__((used, section(".vectors"))) const vector_fn el_vectors[16 + 16] = {
    (vector_fn)(uintptr_t)&__stack_top,
    Reset_Handler,
    Default_Handler, /* NMI */
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    Default_Handler, /* SecureFault (v8-M) */
    0,
    0,
    0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
    /* External interrupts: none are enabled by the harness. */
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
    Default_Handler,
};
