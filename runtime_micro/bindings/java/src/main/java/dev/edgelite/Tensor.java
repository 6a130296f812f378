package dev.edgelite;

import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An input or output tensor of an {@link Interpreter}, shaped like LiteRT's {@code Tensor}. Valid
 * while its interpreter is open. Data lives in the interpreter's arena; {@link #asReadOnlyBuffer}
 * shows it without a copy.
 */
public final class Tensor {
  /** Affine quantization: real = scale * (quantized - zeroPoint). Scale 0 = not quantized. */
  public static final class QuantizationParams {
    private final float scale;
    private final int zeroPoint;

    public QuantizationParams(float scale, int zeroPoint) {
      this.scale = scale;
      this.zeroPoint = zeroPoint;
    }

    public float getScale() {
      return scale;
    }

    public int getZeroPoint() {
      return zeroPoint;
    }
  }

  private final Interpreter owner;
  private final boolean input;
  private final int ordinal;
  private final DataType dtype;
  private final int[] shape;
  private final String name;
  private final int index;
  private final QuantizationParams quant;
  private final ByteBuffer data; // over the arena: pointers are fixed for the interpreter's life

  Tensor(Interpreter owner, long handle, boolean input, int ordinal) {
    this.owner = owner;
    this.input = input;
    this.ordinal = ordinal;
    int[] ints = NativeInterpreter.ints(handle, input, ordinal);
    this.dtype = DataType.fromCode(ints[0]);
    this.index = ints[2];
    this.shape = NativeInterpreter.shape(handle, input, ordinal);
    this.name = NativeInterpreter.name(handle, input, ordinal);
    this.quant = new QuantizationParams(NativeInterpreter.scale(handle, input, ordinal), ints[1]);
    this.data = NativeInterpreter.buffer(handle, input, ordinal).order(ByteOrder.nativeOrder());
  }

  public DataType dataType() {
    return dtype;
  }

  public int[] shape() {
    return shape.clone();
  }

  /** The shape the model declares (runtime_micro does not resize: equal to {@link #shape}). */
  public int[] shapeSignature() {
    return shape.clone();
  }

  public int numDimensions() {
    return shape.length;
  }

  public int numElements() {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  public int numBytes() {
    return data.capacity();
  }

  public String name() {
    return name;
  }

  /** The tensor's index in the model's main subgraph. */
  public int index() {
    return index;
  }

  public QuantizationParams quantizationParams() {
    return quant;
  }

  /** The tensor's bytes (native order), read-only and without a copy. */
  public ByteBuffer asReadOnlyBuffer() {
    owner.checkOpen();
    return data.asReadOnlyBuffer().order(ByteOrder.nativeOrder());
  }

  private String what() {
    return (input ? "input " : "output ") + ordinal + " ('" + name + "', " + dtype + " "
        + Arrays.toString(shape) + ")";
  }

  /** Copies a multi-dimensional primitive array or a ByteBuffer into this tensor. */
  void setTo(Object src) {
    owner.checkOpen();
    if (src == null) {
      throw new IllegalArgumentException("edgelite: null value for " + what());
    }
    ByteBuffer dst = data.duplicate().order(ByteOrder.nativeOrder());
    dst.clear();
    if (src instanceof ByteBuffer) {
      ByteBuffer b = (ByteBuffer) src;
      if (b.remaining() != numBytes()) {
        throw new IllegalArgumentException("edgelite: " + what() + " has " + numBytes()
            + " bytes, the ByteBuffer has " + b.remaining() + " remaining");
      }
      dst.put(b.duplicate());
      return;
    }
    checkArray(src);
    int n = fill(src, dst, true);
    if (n != numBytes()) {
      throw new IllegalArgumentException("edgelite: " + what() + ": ragged array");
    }
  }

  /** Copies this tensor into a multi-dimensional primitive array or a ByteBuffer. */
  void copyTo(Object dst) {
    owner.checkOpen();
    ByteBuffer src = data.duplicate().order(ByteOrder.nativeOrder());
    src.clear();
    if (dst instanceof ByteBuffer) {
      ByteBuffer b = (ByteBuffer) dst;
      if (b.remaining() < numBytes()) {
        throw new IllegalArgumentException("edgelite: " + what() + " has " + numBytes()
            + " bytes, the ByteBuffer has room for " + b.remaining());
      }
      b.put(src);
      return;
    }
    checkArray(dst);
    int n = fill(dst, src, false);
    if (n != numBytes()) {
      throw new IllegalArgumentException("edgelite: " + what() + ": ragged array");
    }
  }

  private static DataType javaType(Class<?> leaf) {
    if (leaf == float.class) return DataType.FLOAT32;
    if (leaf == int.class) return DataType.INT32;
    if (leaf == byte.class) return DataType.INT8;
    if (leaf == long.class) return DataType.INT64;
    if (leaf == short.class) return DataType.INT16;
    if (leaf == boolean.class) return DataType.BOOL;
    if (leaf == double.class) return DataType.FLOAT64;
    return null;
  }

  private void checkArray(Object o) {
    Class<?> c = o.getClass();
    if (!c.isArray()) {
      throw new IllegalArgumentException("edgelite: " + what() + " takes a primitive array or a "
          + "ByteBuffer, not " + c.getName());
    }
    List<Integer> dims = new ArrayList<>();
    Object cur = o;
    Class<?> leaf = c;
    while (leaf.isArray()) {
      int len = cur == null ? 0 : Array.getLength(cur);
      dims.add(len);
      leaf = leaf.getComponentType();
      cur = (len > 0 && leaf.isArray()) ? Array.get(cur, 0) : null;
    }
    DataType t = javaType(leaf);
    boolean ok = t == dtype || (leaf == byte.class && (dtype == DataType.UINT8
        || dtype == DataType.BOOL));
    if (!ok) {
      throw new IllegalArgumentException("edgelite: cannot convert between " + what()
          + " and a Java " + c.getName() + " (which is compatible with "
          + (t == null ? "no tensor type" : t.toString()) + ")");
    }
    int[] got = new int[dims.size()];
    for (int k = 0; k < got.length; k++) {
      got[k] = dims.get(k);
    }
    if (!Arrays.equals(got, shape)) {
      throw new IllegalArgumentException("edgelite: " + what() + " needs an array of shape "
          + Arrays.toString(shape) + ", got " + Arrays.toString(got)
          + " (runtime_micro does not resize tensors)");
    }
  }

  /** Copies between a regular array and the buffer; returns the bytes moved. */
  private static int fill(Object a, ByteBuffer b, boolean toBuffer) {
    if (a instanceof float[]) {
      float[] v = (float[]) a;
      if (toBuffer) b.asFloatBuffer().put(v); else b.asFloatBuffer().get(v);
      b.position(b.position() + 4 * v.length);
      return 4 * v.length;
    }
    if (a instanceof int[]) {
      int[] v = (int[]) a;
      if (toBuffer) b.asIntBuffer().put(v); else b.asIntBuffer().get(v);
      b.position(b.position() + 4 * v.length);
      return 4 * v.length;
    }
    if (a instanceof byte[]) {
      byte[] v = (byte[]) a;
      if (toBuffer) b.put(v); else b.get(v);
      return v.length;
    }
    if (a instanceof long[]) {
      long[] v = (long[]) a;
      if (toBuffer) b.asLongBuffer().put(v); else b.asLongBuffer().get(v);
      b.position(b.position() + 8 * v.length);
      return 8 * v.length;
    }
    if (a instanceof short[]) {
      short[] v = (short[]) a;
      if (toBuffer) b.asShortBuffer().put(v); else b.asShortBuffer().get(v);
      b.position(b.position() + 2 * v.length);
      return 2 * v.length;
    }
    if (a instanceof double[]) {
      double[] v = (double[]) a;
      if (toBuffer) b.asDoubleBuffer().put(v); else b.asDoubleBuffer().get(v);
      b.position(b.position() + 8 * v.length);
      return 8 * v.length;
    }
    if (a instanceof boolean[]) {
      boolean[] v = (boolean[]) a;
      for (int k = 0; k < v.length; k++) {
        if (toBuffer) b.put((byte) (v[k] ? 1 : 0)); else v[k] = b.get() != 0;
      }
      return v.length;
    }
    int n = 0;
    for (Object sub : (Object[]) a) {
      if (sub == null) {
        throw new IllegalArgumentException("edgelite: null sub-array");
      }
      n += fill(sub, b, toBuffer);
    }
    return n;
  }
}
