/*
 * JNI glue of dev.edgelite.Interpreter (see ../src/main/java/dev/edgelite/NativeInterpreter.java).
 *
 * The binding owns, per interpreter, one malloc'd block: the el_interpreter (it must not move),
 * the arena (sized with el_init's query loop) and, when the model ByteBuffer is not 16-byte
 * aligned, an aligned copy of the model. Tensors are handed to Java as direct ByteBuffers over
 * the arena; Java copies arrays in and out of them. Errors become IllegalArgumentException
 * carrying runtime_micro's status and message.
 */
#include <jni.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgelite_micro.h"
#ifdef EL_JNI_THREADS
#include "el_threadpool.h"
#endif

typedef struct {
    el_interpreter it; /* first: malloc's alignment suits it */
    void *arena_block;
    void *model_block; /* NULL when the caller's bytes are used in place */
    void *pool;        /* el_threadpool (numThreads > 1), destroyed with the interpreter */
} jni_interp;

static void *align16(void *p)
{
    return (void *)(((uintptr_t)p + 15u) & ~(uintptr_t)15u);
}

static void throw_java(JNIEnv *env, const char *cls, const char *msg)
{
    jclass c = (*env)->FindClass(env, cls);
    if (c != NULL)
        (*env)->ThrowNew(env, c, msg);
}

static void throw_status(JNIEnv *env, const char *what, el_status st, const el_interpreter *it)
{
    char msg[EL_MESSAGE_SIZE + 96];
    snprintf(msg, sizeof msg, "%s: %s: %s", what, el_status_name(st),
             it != NULL ? el_error_message(it) : "");
    throw_java(env, "java/lang/IllegalArgumentException", msg);
}

static void destroy(jni_interp *s)
{
    if (s == NULL)
        return;
#ifdef EL_JNI_THREADS
    el_threadpool_destroy((el_threadpool *)s->pool);
#endif
    free(s->arena_block);
    free(s->model_block);
    free(s);
}

JNIEXPORT jlong JNICALL Java_dev_edgelite_NativeInterpreter_create(JNIEnv *env, jclass cls,
                                                                   jobject buffer, jint offset,
                                                                   jint size, jint threads,
                                                                   jboolean allow_fp16)
{
    el_config cfg;
    (void)cls;
    uint8_t *base = (uint8_t *)(*env)->GetDirectBufferAddress(env, buffer);
    jlong capacity = (*env)->GetDirectBufferCapacity(env, buffer);
    if (base == NULL || capacity < 0 || offset < 0 || size < 0 || (jlong)offset + size > capacity) {
        throw_java(env, "java/lang/IllegalArgumentException",
                   "the model must be a direct ByteBuffer (ByteBuffer.allocateDirect or a "
                   "MappedByteBuffer)");
        return 0;
    }
    jni_interp *s = (jni_interp *)calloc(1, sizeof *s);
    if (s == NULL) {
        throw_java(env, "java/lang/OutOfMemoryError", "edgelite: interpreter");
        return 0;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.allow_fp16 = allow_fp16 ? 1 : 0; /* FEAT_FP16 CPUs only: elsewhere the same bytes */
    if (threads > 1) {
#ifdef EL_JNI_THREADS
        s->pool = el_threadpool_create(threads);
        if (s->pool == NULL) {
            destroy(s);
            throw_java(env, "java/lang/IllegalArgumentException",
                       "edgelite: cannot start the threads");
            return 0;
        }
        cfg.parallel_for = el_threadpool_parallel_for;
        cfg.parallel_pool = s->pool;
        cfg.num_threads = threads;
#else
        destroy(s);
        throw_java(env, "java/lang/IllegalArgumentException",
                   "edgelite: numThreads > 1 is not available on this platform (no POSIX threads)");
        return 0;
#endif
    }
    const uint8_t *model = base + offset;
    if (((uintptr_t)model & 15u) != 0) { /* el_init needs EL_MODEL_ALIGN: copy */
        s->model_block = malloc((size_t)size + 16);
        if (s->model_block == NULL) {
            destroy(s);
            throw_java(env, "java/lang/OutOfMemoryError", "edgelite: model copy");
            return 0;
        }
        memcpy(align16(s->model_block), model, (size_t)size);
        model = (const uint8_t *)align16(s->model_block);
    }
    /* The arena size query: no arena first, then the size el_init asks for, until it fits. */
    size_t arena_size = 0;
    el_status st;
    for (;;) {
        st = el_init(&s->it, model, (size_t)size, arena_size ? align16(s->arena_block) : NULL,
                     arena_size, &cfg);
        if (st != EL_ERROR_ARENA_TOO_SMALL)
            break;
        size_t need = el_arena_required(&s->it);
        if (need <= arena_size)
            break; /* no progress: report the error */
        arena_size = need;
        free(s->arena_block);
        s->arena_block = malloc(arena_size + 16);
        if (s->arena_block == NULL) {
            destroy(s);
            throw_java(env, "java/lang/OutOfMemoryError", "edgelite: arena");
            return 0;
        }
    }
    if (st != EL_OK) {
        throw_status(env, "Cannot create an interpreter from this model", st, &s->it);
        destroy(s);
        return 0;
    }
    return (jlong)(uintptr_t)s;
}

static jni_interp *from(jlong handle)
{
    return (jni_interp *)(uintptr_t)handle;
}

JNIEXPORT void JNICALL Java_dev_edgelite_NativeInterpreter_delete(JNIEnv *env, jclass cls,
                                                                  jlong handle)
{
    (void)env;
    (void)cls;
    destroy(from(handle));
}

JNIEXPORT jint JNICALL Java_dev_edgelite_NativeInterpreter_count(JNIEnv *env, jclass cls,
                                                                 jlong handle, jboolean input)
{
    (void)env;
    (void)cls;
    return input ? el_input_count(&from(handle)->it) : el_output_count(&from(handle)->it);
}

static int info(JNIEnv *env, jlong handle, jboolean input, jint i, el_tensor_info *out)
{
    jni_interp *s = from(handle);
    el_status st = input ? el_input_info(&s->it, i, out) : el_output_info(&s->it, i, out);
    if (st != EL_OK) {
        char msg[64];
        snprintf(msg, sizeof msg, "no %s tensor %d", input ? "input" : "output", (int)i);
        throw_java(env, "java/lang/IllegalArgumentException", msg);
        return 0;
    }
    return 1;
}

JNIEXPORT jobject JNICALL Java_dev_edgelite_NativeInterpreter_buffer(JNIEnv *env, jclass cls,
                                                                     jlong handle, jboolean input,
                                                                     jint i)
{
    el_tensor_info t;
    (void)cls;
    if (!info(env, handle, input, i, &t))
        return NULL;
    return (*env)->NewDirectByteBuffer(env, t.data, (jlong)t.bytes);
}

JNIEXPORT jintArray JNICALL Java_dev_edgelite_NativeInterpreter_shape(JNIEnv *env, jclass cls,
                                                                      jlong handle, jboolean input,
                                                                      jint i)
{
    el_tensor_info t;
    jint dims[EL_MAX_DIMS];
    int32_t k;
    (void)cls;
    if (!info(env, handle, input, i, &t))
        return NULL;
    for (k = 0; k < t.rank; k++)
        dims[k] = t.dims[k];
    jintArray out = (*env)->NewIntArray(env, t.rank);
    if (out != NULL)
        (*env)->SetIntArrayRegion(env, out, 0, t.rank, dims);
    return out;
}

/* {dtype, zero_point, index} */
JNIEXPORT jintArray JNICALL Java_dev_edgelite_NativeInterpreter_ints(JNIEnv *env, jclass cls,
                                                                     jlong handle, jboolean input,
                                                                     jint i)
{
    el_tensor_info t;
    (void)cls;
    if (!info(env, handle, input, i, &t))
        return NULL;
    jint v[3];
    v[0] = (jint)t.dtype;
    v[1] = t.zero_point;
    v[2] = t.index;
    jintArray out = (*env)->NewIntArray(env, 3);
    if (out != NULL)
        (*env)->SetIntArrayRegion(env, out, 0, 3, v);
    return out;
}

JNIEXPORT jfloat JNICALL Java_dev_edgelite_NativeInterpreter_scale(JNIEnv *env, jclass cls,
                                                                   jlong handle, jboolean input,
                                                                   jint i)
{
    el_tensor_info t;
    (void)cls;
    return info(env, handle, input, i, &t) ? t.scale : 0.0f;
}

JNIEXPORT jstring JNICALL Java_dev_edgelite_NativeInterpreter_name(JNIEnv *env, jclass cls,
                                                                   jlong handle, jboolean input,
                                                                   jint i)
{
    el_tensor_info t;
    (void)cls;
    if (!info(env, handle, input, i, &t))
        return NULL;
    return (*env)->NewStringUTF(env, t.name);
}

JNIEXPORT void JNICALL Java_dev_edgelite_NativeInterpreter_invoke(JNIEnv *env, jclass cls,
                                                                  jlong handle)
{
    jni_interp *s = from(handle);
    (void)cls;
    el_status st = el_invoke(&s->it);
    if (st != EL_OK)
        throw_status(env, "Failed to run the model", st, &s->it);
}

JNIEXPORT void JNICALL Java_dev_edgelite_NativeInterpreter_reset(JNIEnv *env, jclass cls,
                                                                 jlong handle)
{
    jni_interp *s = from(handle);
    (void)cls;
    el_status st = el_reset(&s->it);
    if (st != EL_OK)
        throw_status(env, "Failed to reset the variables", st, &s->it);
}

JNIEXPORT jlong JNICALL Java_dev_edgelite_NativeInterpreter_arenaBytes(JNIEnv *env, jclass cls,
                                                                       jlong handle)
{
    (void)env;
    (void)cls;
    return (jlong)el_arena_required(&from(handle)->it);
}
