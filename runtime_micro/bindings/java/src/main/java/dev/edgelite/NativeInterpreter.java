package dev.edgelite;

import java.nio.ByteBuffer;

/** The JNI functions (jni/edgelite_jni.c); handles are owned by {@link Interpreter}. */
final class NativeInterpreter {
  static {
    System.loadLibrary("edgelite_jni");
  }

  private NativeInterpreter() {}

  static native long create(ByteBuffer model, int offset, int size, int numThreads,
      boolean allowFp16);

  static native void delete(long handle);

  static native int count(long handle, boolean input);

  static native ByteBuffer buffer(long handle, boolean input, int index);

  static native int[] shape(long handle, boolean input, int index);

  /** {dtype (TFLite TensorType value), zero point, tensor index in the model}. */
  static native int[] ints(long handle, boolean input, int index);

  static native float scale(long handle, boolean input, int index);

  static native String name(long handle, boolean input, int index);

  static native void invoke(long handle);

  static native void reset(long handle);

  static native long arenaBytes(long handle);
}
