/*
 * edgelite_micro.h: public C API of runtime_micro, edgelite's C99 runtime for .tflite models.
 *
 * Memory: runtime_micro never calls malloc. The caller owns three pieces of memory:
 *   1. the model bytes (a TFLite flatbuffer, read in place, never written). They must stay
 *      valid and unchanged for the life of the interpreter and start at an address aligned to
 *      EL_MODEL_ALIGN bytes (constant tensors are used in place, so their data must be aligned).
 *   2. an el_interpreter struct (fixed size, stack or static is fine): the handle and the error
 *      message live there, so errors can be reported even when there is no usable arena.
 *      It refers to itself and to the arena: do not copy or move it (or the arena) after
 *      el_init; call el_init again instead. Nothing needs freeing: dropping the memory ends it.
 *   3. one arena (aligned to EL_ARENA_ALIGN bytes) holding all tensors, op data, scratch and the
 *      interpreter's bookkeeping. Its required size is reported exactly (see el_init).
 *
 * Trust: the model is untrusted. Every offset, length, index, shape and byte count in it is
 * checked before use; a malformed model makes el_init fail with a status and a message, it never
 * makes runtime_micro read or write outside the model, the arena or the caller's buffers. The
 * caller (pointers and sizes passed to these functions) is trusted.
 *
 * Threads: one interpreter must not be used from two threads at once; distinct interpreters are
 * independent (no global mutable state). Byte order: little-endian targets only.
 */
#ifndef EDGELITE_MICRO_H
#define EDGELITE_MICRO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* EL_API marks the public functions: the only symbols a shared build of runtime_micro exports
 * (the library is compiled with hidden visibility by default; see CMakeLists.txt). Define
 * EL_API yourself before including this header to override it (e.g. empty). On Windows, define
 * EL_SHARED when building or using runtime_micro as a DLL. */
#ifndef EL_API
#if defined(_WIN32) && defined(EL_SHARED)
#if defined(EL_BUILDING_LIBRARY)
#define EL_API __declspec(dllexport)
#else
#define EL_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define EL_API __attribute__((visibility("default")))
#else
#define EL_API
#endif
#endif

#define EL_VERSION_MAJOR 0
#define EL_VERSION_MINOR 1

#define EL_MODEL_ALIGN 16   /* required alignment of the model bytes */
#define EL_ARENA_ALIGN 16   /* required alignment of the arena */
#define EL_MAX_DIMS 8       /* highest tensor rank accepted */
#define EL_MESSAGE_SIZE 256 /* error messages are truncated to this many bytes incl. NUL */

typedef enum el_status {
    EL_OK = 0,
    EL_ERROR_BAD_ARGUMENT = 1,    /* caller misuse: NULL pointer, misaligned buffer, bad index */
    EL_ERROR_INVALID_MODEL = 2,   /* the model bytes are malformed or inconsistent */
    EL_ERROR_UNSUPPORTED = 3,     /* valid model using an op/dtype/option runtime_micro lacks */
    EL_ERROR_ARENA_TOO_SMALL = 4, /* see el_arena_required() */
    EL_ERROR_INVOKE = 5,          /* data-dependent failure while running (e.g. gather index) */
    EL_ERROR_STATE = 6            /* call not allowed now (e.g. invoke after a failed init) */
} el_status;

/* Tensor element types. Values are TFLite's TensorType values. */
typedef enum el_dtype {
    EL_FLOAT32 = 0,
    EL_FLOAT16 = 1,
    EL_INT32 = 2,
    EL_UINT8 = 3,
    EL_INT64 = 4,
    EL_STRING = 5,
    EL_BOOL = 6,
    EL_INT16 = 7,
    EL_COMPLEX64 = 8,
    EL_INT8 = 9,
    EL_FLOAT64 = 10,
    EL_COMPLEX128 = 11,
    EL_UINT64 = 12,
    EL_RESOURCE = 13,
    EL_VARIANT = 14,
    EL_UINT32 = 15,
    EL_UINT16 = 16,
    EL_INT4 = 17,
    EL_BFLOAT16 = 18
} el_dtype;

typedef enum el_planner {
    EL_PLANNER_GREEDY =
        0, /* smallest arena: tensors share memory when their lifetimes don't overlap */
    EL_PLANNER_LINEAR = 1 /* every tensor has its own bytes, all readable after invoke (calibration,
                            debugging); arena = sum of all tensor sizes */
} el_planner;

/* Per-op callback: called before (is_after = 0) and after (is_after = 1) each op runs, in every
 * subgraph. Return EL_OK to continue; anything else stops the invoke with that status. During
 * the "after" call the op's outputs are readable through el_tensor_info(). (An interpreter
 * without a callback may skip work whose result only a callback could see: hosted builds fold
 * a PAD into the convolution that reads it, see the README's "Arena".) */
typedef el_status (*el_op_callback)(void *user, int32_t subgraph, int32_t op_index,
                                    int32_t builtin_code, int is_after);

/* Interpreter handle. Opaque: its contents are private; its size is part of the ABI. */
#define EL_INTERPRETER_SIZE 512
typedef struct el_interpreter {
    union {
        uint64_t words[EL_INTERPRETER_SIZE / 8];
        void *align_ptr;
        double align_double;
    } opaque;
} el_interpreter;

/* Instruction sets of the optimized kernels (kernels/opt), as bits of el_config.disable_isa and
 * of el_kernel_isa(). Hosted builds choose among them at run time from what the CPU reports;
 * Cortex-M builds fix DSP / MVE at compile time (disabling those bits there changes nothing,
 * EL_ISA_OPT still does). Every path writes the same bytes as the reference kernels (float32:
 * within rounding of them), except EL_ISA_FP16, which el_config.allow_fp16 opts into. */
#define EL_ISA_AVX2 0x1u       /* x86-64 AVX2 */
#define EL_ISA_AVX512VNNI 0x2u /* x86-64 AVX512-VNNI + AVX512VL (with AVX2) */
#define EL_ISA_AVXVNNI 0x4u    /* x86-64 AVX-VNNI (with AVX2) */
#define EL_ISA_SSE41 0x8u      /* x86-64 SSE4.1 */
#define EL_ISA_NEON 0x10u      /* aarch64 Advanced SIMD */
#define EL_ISA_SDOT 0x20u      /* aarch64 dot product (ARMv8.2 DotProd) */
#define EL_ISA_FP16                                                                                \
    0x40u                      /* aarch64 half-precision arithmetic (ARMv8.2 FP16); used only
                                * with el_config.allow_fp16, and then not the same bytes */
#define EL_ISA_DSP 0x100u      /* Cortex-M4/M7/M33 DSP extension (compile time) */
#define EL_ISA_MVE 0x200u      /* Cortex-M55/M85 Helium (compile time) */
#define EL_ISA_AVX512F 0x400u  /* x86-64 AVX-512F (with AVX2): float32 conv / depthwise */
#define EL_ISA_OPT 0x80000000u /* the optimized kernels at all, their portable C paths included */
#define EL_ISA_ALL 0xFFFFFFFFu /* as disable_isa: reference kernels only */

typedef struct el_config {
    el_planner planner;
    el_op_callback callback; /* may be NULL */
    void *callback_user;
    /* EL_ISA_* bits the optimized kernels must not use; 0 (the default, and a NULL cfg) = the
   * fastest paths this CPU has. The choice belongs to this interpreter alone: interpreters with
   * different settings may run in different threads at once. For tests and benchmarks. */
    uint32_t disable_isa;
    /* Threads. The library itself never creates a thread: the caller may hand it a parallel-for.
   * CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED then split their output into tasks (rows
   * per batch; on x86-64 and aarch64, output channels for a CONV_2D with at least as many
   * channels per filter tap as output pixels and for an int8 DEPTHWISE_CONV_2D of 14x14 or
   * fewer pixels, and int8 and float32 layers into several tasks per thread, of decreasing
   * size; output channels or batches for FULLY_CONNECTED; runs of elements for float32 binary
   * ops and int8 ADD / SUB / MUL without broadcast; on x86-64 and aarch64, the outermost
   * dimension of a PAD of 32 KB or more, output rows of pools, float32 RESIZE_BILINEAR and
   * float32 TRANSPOSE_CONV, the last one with a GEMM band buffer per thread in the arena)
   * and call
   *     parallel_for(parallel_pool, n_tasks, task, arg)
   * which must run task(arg, i) once for every i in 0..n_tasks-1, in any order, on any
   * threads, and return only after all of them have finished. Tasks write disjoint output
   * bytes and use no shared scratch, so every split gives the same bytes as one task.
   * parallel_for NULL (the default, and a NULL cfg): the tasks run inline, in order, on the
   * calling thread. num_threads: how many tasks to split a layer into (<= 1: no split); it is
   * read at el_init and fixed for the interpreter's life. parallel_pool is passed through
   * untouched; the caller owns it and must keep it alive, and not use it for anything that
   * waits on this interpreter, while el_invoke runs. One pool may serve several interpreters
   * if its parallel_for is safe to call from several threads at once (el_threadpool's is:
   * runtime_micro/hosted/el_threadpool.h). Layers too small to repay the hand-off run inline. */
    void (*parallel_for)(void *pool, int32_t n_tasks, void (*task)(void *arg, int32_t i),
                         void *arg);
    void *parallel_pool;
    int32_t num_threads;
    /* Half-precision arithmetic, opt-in (LiteRT / XNNPACK's "allow fp16 precision"). 0 (the
   * default, and a NULL cfg): float models run in float32. Non-zero, on an aarch64 CPU with
   * FEAT_FP16 (ARMv8.2 phones: Cortex-A55/A75 and later, every Apple arm64; not Cortex-A53/A72,
   * where the flag changes nothing): float32 CONV_2D and FULLY_CONNECTED layers whose weights the
   * model stores as float16 behind a DEQUANTIZE (`edgelite quantize --mode float16`) compute in
   * float16: the weights stay float16 (packed at el_init into the arena, half the float32
   * size; the DEQUANTIZE no longer runs; a DEPTHWISE_CONV_2D's are widened to float32 once,
   * its arithmetic unchanged), each activation is rounded to float16 (11
   * significant bits, relative error up to 4.9e-4; magnitudes below 6e-5 lose precision)
   * and sums run in float16, about twice as fast as float32 on such CPUs. Expect results to
   * move by about 1e-3 of a layer's output scale (more for long sums; the bound is in
   * kernels/opt/arm_fp16.c), not float32 rounding. Never silent overflow: an output whose
   * float16 arithmetic overflows (beyond 65504) is computed again in float32. Other layers and
   * models stay float32. el_kernel_isa() has EL_ISA_FP16 when the flag took effect. Built by
   * GCC only: a clang build (Android NDK, Apple, zig) ignores the flag (kernels/opt/el_opt.h). */
    int32_t allow_fp16;
} el_config;

/* Everything a caller needs to read or fill a tensor. Pointers stay valid while the
 * interpreter lives. */
typedef struct el_tensor_info {
    const char *name; /* NUL-terminated, in the model; "" when the model has none */
    el_dtype dtype;
    int32_t rank; /* 0..EL_MAX_DIMS */
    int32_t dims[EL_MAX_DIMS];
    void *data;   /* in the arena (or the model for constants: do not write) */
    size_t bytes; /* element count x element size */
    float scale;  /* quantization: real = scale * (q - zero_point); scale 0 = none */
    int32_t zero_point;
    int32_t quant_count; /* 0 none, 1 per-tensor, >1 per-channel (scale/zero_point = entry 0) */
    int32_t quantized_dimension;
    int32_t is_const; /* data lives in the model */
    int32_t is_variable;
    int32_t index; /* tensor index in subgraph 0 of the model */
} el_tensor_info;

/*
 * Checks the model, resolves its ops, prepares every node and plans the arena.
 * it: caller-owned storage, overwritten. model: see the memory notes above.
 * cfg may be NULL (greedy planner, no callback).
 *
 * Arena size. On success el_arena_required() is the exact number of arena bytes this model
 * uses with this planner; an arena of exactly that size works (and one 16-byte step less
 * does not). When the arena is NULL or too small the call fails with EL_ERROR_ARENA_TOO_SMALL
 * (the model's structure is checked first, so a damaged file is reported as such even then;
 * dataflow and op checks need the arena and come once it is large enough) and:
 *   - el_arena_required_exact() == 1: el_arena_required() is the exact size (the arena held
 *     the bookkeeping and the planner's working memory);
 *   - otherwise el_arena_required() is a lower bound. Calling again with that many bytes
 *     measures more; the size query is this loop, typically 2-3 calls after a NULL arena:
 *
 *       size_t n = 0;
 *       while (el_init(&it, model, len, buf_of(n), n, NULL) == EL_ERROR_ARENA_TOO_SMALL)
 *         n = el_arena_required(&it);
 *
 * The edgelite Python binding runs this loop; `edgelite export` writes the exact size into the
 * generated header (<NAME>_ARENA_SIZE) so firmware can size the arena statically. The size
 * depends on pointer width: a 32-bit target needs no more than the 64-bit host reports.
 */
EL_API el_status el_init(el_interpreter *it, const void *model, size_t model_size, void *arena,
                         size_t arena_size, const el_config *cfg);

EL_API size_t el_arena_required(const el_interpreter *it);
EL_API int el_arena_required_exact(const el_interpreter *it);

/* EL_ISA_* bits of the kernels this interpreter runs: EL_ISA_OPT plus the instruction sets
 * in use, or 0 when it runs the reference kernels only. Valid after el_init succeeds. */
EL_API uint32_t el_kernel_isa(const el_interpreter *it);

/* The message of the last failure ("" after success). Never NULL; lives in *it. */
EL_API const char *el_error_message(const el_interpreter *it);
/* "EL_OK", "EL_ERROR_INVALID_MODEL", ... */
EL_API const char *el_status_name(el_status status);

/* Runs the main subgraph (subgraph 0) once. Inputs are read from their data pointers.
 * No allocation and no model checks happen here. */
EL_API el_status el_invoke(el_interpreter *it);

/* Puts variables (resource variables, CALL_ONCE state) back to their state after el_init. */
EL_API el_status el_reset(el_interpreter *it);

EL_API int32_t el_input_count(const el_interpreter *it);
EL_API int32_t el_output_count(const el_interpreter *it);
EL_API el_status el_input_info(const el_interpreter *it, int32_t i, el_tensor_info *out);
EL_API el_status el_output_info(const el_interpreter *it, int32_t i, el_tensor_info *out);

/* Tensor by index in subgraph 0 (the index in the model). With the linear planner the data of
 * every tensor is preserved after invoke; with the greedy planner only inputs, outputs,
 * constants and variables are, other tensors only during their lifetime (e.g. in the after-op
 * callback of their producer). */
EL_API int32_t el_tensor_count(const el_interpreter *it);
EL_API el_status el_tensor_info_at(const el_interpreter *it, int32_t index, el_tensor_info *out);

#ifdef __cplusplus
}
#endif

#endif /* EDGELITE_MICRO_H */
