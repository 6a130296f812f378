/* hello.c: smoke test of a target's toolchain, startup, semihosting and exit code. */
#include <stdio.h>

int main(void)
{
    volatile float x = 1.5f; /* touches the FPU: faults if CPACR was not set up */
#ifdef EL_HELLO_FAULT
    /* Jump to a non-executable address: the fault handler must report it and exit non-zero. */
    void (*volatile bad)(void) = (void (*)(void))0xFFFFFFF0u;
    bad();
#endif
    printf("hello from %s, %d\n", EL_TARGET_NAME, (int)(x * 2.0f));
    return 3; /* the runner checks that this status reaches the host */
}
