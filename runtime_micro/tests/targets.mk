# The build and run rules the C test Makefiles (tests/kernels, tests/opt) share: one toolchain,
# flag set and run line per TARGET.
#
# Set before including: TARGET, HERE (the including Makefile's folder), RT, OUT, TESTS, KSRCS, HDRS, INC,
# TIMEOUT; QEMU_CPU to pass -cpu to qemu-user (empty: QEMU's default CPU).
# Defines CC, CFLAGS, LDFLAGS, RUN, ARCH, STARTUP, BINS and the targets all and run.
#
# Packages (Debian): gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
#                    gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm

WARN := -std=c99 -Wall -Wextra -Werror -pedantic
QEMU_USER_CPU := $(if $(QEMU_CPU), -cpu $(QEMU_CPU))

ifeq ($(TARGET),host)
  CC := gcc
  CFLAGS := $(WARN) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all
  LDFLAGS :=
  RUN :=
else ifeq ($(TARGET),x86-qemu)
  # x86-64 CPUs without AVX2 (or SSE4.1): the run-time choice under qemu-x86_64 -cpu Nehalem
  # (SSE4.1, no AVX) or -cpu core2duo (no SSE4.1). Static, no sanitizers (not under QEMU user).
  CC := gcc
  CFLAGS := $(WARN) -O2
  LDFLAGS := -static
  RUN := qemu-x86_64$(QEMU_USER_CPU)
else ifeq ($(TARGET),aarch64)
  CC := aarch64-linux-gnu-gcc
  CFLAGS := $(WARN) -O2
  LDFLAGS := -static
  RUN := qemu-aarch64$(QEMU_USER_CPU)
else ifeq ($(TARGET),aarch64-clang)
  # clang (zig cc from the ziglang wheel; ZIG=python3 -m ziglang by default): what the Android
  # NDK and Apple builds compile, float16 arithmetic included (kernels/opt/el_opt.h EL_F16_FILE)
  ZIG ?= python3 -m ziglang
  CC := $(ZIG) cc -target aarch64-linux-musl
  # (asm blocks past C99's 4095-character string minimum: GCC and clang both take them)
  CFLAGS := $(WARN) -Wno-overlength-strings -O2
  # tests/opt compiles kernels/opt/arm_fp16.c alone with F16_FLAGS and every file with F16_DEFS
  F16_FLAGS := -mcpu=generic+fullfp16
  F16_DEFS := -DEL_F16_FILE
  LDFLAGS := -static
  RUN := qemu-aarch64$(QEMU_USER_CPU)
else
  CC := arm-none-eabi-gcc
  ifeq ($(TARGET),cortex-m4)
    ARCH := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
    LD := $(RT)/targets/mps2.ld
    BOARD := mps2-an386
  else ifeq ($(TARGET),cortex-m55)
    ARCH := -mcpu=cortex-m55 -mthumb -mfloat-abi=hard
    LD := $(RT)/targets/mps3_an547.ld
    BOARD := mps3-an547
  else
    $(error TARGET must be host, x86-qemu, aarch64, aarch64-clang, cortex-m4 or cortex-m55)
  endif
  CFLAGS := $(WARN) -O2 $(ARCH) -ffunction-sections -fdata-sections
  STARTUP := $(OUT)/startup_cortexm.o
  LDFLAGS := $(ARCH) -nostartfiles --specs=nano.specs --specs=rdimon.specs -T $(LD) -Wl,--gc-sections
  RUN := qemu-system-arm -M $(BOARD) -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel
endif

BINS := $(addprefix $(OUT)/,$(TESTS))

all: $(BINS)

# The startup file of runtime_micro/targets is gnu99 (inline asm); the tests and kernels stay c99.
$(OUT)/startup_cortexm.o: $(RT)/targets/startup_cortexm.c
	@mkdir -p $(OUT)
	$(CC) -std=gnu99 -O2 $(ARCH) -c $< -o $@

# kernels/opt/arm_fp16.c alone takes F16_FLAGS (clang builds: the float16 feature for that file
# only, see EL_F16_FILE in kernels/opt/el_opt.h; empty for GCC, which sets it per function).
F16_OBJ := $(if $(filter %/arm_fp16.c,$(KSRCS)),$(OUT)/arm_fp16.o)
$(OUT)/arm_fp16.o: $(RT)/kernels/opt/arm_fp16.c $(HDRS)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) $(F16_DEFS) $(F16_FLAGS) $(INC) -c $< -o $@

# The library sources are compiled once per target into objects every test links (they were
# compiled again for each test: 5 of the 5.3 minutes of the host run under ASan on a 2-core VM).
KOBJS := $(patsubst $(RT)/%.c,$(OUT)/obj/%.o,$(filter-out %/arm_fp16.c,$(KSRCS)))
$(OUT)/obj/%.o: $(RT)/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(F16_DEFS) $(INC) -c $< -o $@

$(OUT)/%: $(HERE)%.c $(KOBJS) $(HDRS) $(STARTUP) $(F16_OBJ)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) $(F16_DEFS) $(INC) $(STARTUP) $< $(KOBJS) $(F16_OBJ) $(LDFLAGS) -lm -o $@

run: $(BINS)
	@set -e; for t in $(BINS); do timeout $(TIMEOUT) $(RUN) $$t; done

.PHONY: all run
