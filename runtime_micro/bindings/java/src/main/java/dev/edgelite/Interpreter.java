package dev.edgelite;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Collections;
import java.util.Map;

/**
 * Runs a .tflite model with runtime_micro, shaped like LiteRT's
 * {@code org.tensorflow.lite.Interpreter}:
 *
 * <pre>{@code
 * try (Interpreter it = new Interpreter(new File("digits_int8.tflite"))) {
 *   byte[][][][] x = new byte[1][28][28][1];
 *   byte[][] y = new byte[1][10];
 *   it.run(x, y);
 * }
 * }</pre>
 *
 * <p>Inputs and outputs are multi-dimensional primitive arrays of the tensor's exact shape and
 * type ({@code float[]} FLOAT32, {@code byte[]} INT8 / UINT8 / BOOL, {@code int[]} INT32,
 * {@code long[]} INT64, {@code short[]} INT16, {@code boolean[]} BOOL) or ByteBuffers holding
 * the tensor's bytes in native order. Tensors are not resized. The model buffer is read in
 * place (a MappedByteBuffer or a 16-byte aligned direct ByteBuffer; others are copied once) and
 * must not change while the interpreter is open. Errors are IllegalArgumentExceptions carrying
 * runtime_micro's status and message. Not thread-safe: use one interpreter per thread.
 */
public final class Interpreter implements AutoCloseable {
  /** Interpreter options. */
  public static class Options {
    private int numThreads = -1;

    public Options() {}

    /**
     * Threads for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: 1 to 256, or -1 (the default,
     * one thread). Above 1 the interpreter owns a pool of that many threads (runtime_micro's
     * hosted el_threadpool) until close(); any count gives the same bytes. Other values are
     * refused loudly rather than ignored.
     */
    public Options setNumThreads(int numThreads) {
      if (numThreads != -1 && (numThreads < 1 || numThreads > 256)) {
        throw new IllegalArgumentException("edgelite: numThreads " + numThreads + " is not "
            + "supported (use 1 to 256, or -1 for the default of one thread)");
      }
      this.numThreads = numThreads;
      return this;
    }

    public int getNumThreads() {
      return numThreads;
    }

    private boolean allowFp16 = false;

    /**
     * Float16 arithmetic for float32 models whose weights are stored as float16 (edgelite
     * quantize --mode float16), on ARMv8.2 CPUs with FEAT_FP16 (runtime_micro's
     * el_config.allow_fp16; LiteRT's "allow fp16 precision"). Faster, not within float32
     * rounding. On other CPUs, and with other models, it changes nothing (the same bytes).
     */
    public Options setAllowFp16(boolean allowFp16) {
      this.allowFp16 = allowFp16;
      return this;
    }

    public boolean getAllowFp16() {
      return allowFp16;
    }
  }

  private long handle;
  private final ByteBuffer model; // the native side may read it in place: keep it reachable
  private final Tensor[] inputs;
  private final Tensor[] outputs;

  public Interpreter(File modelFile) {
    this(modelFile, null);
  }

  public Interpreter(File modelFile, Options options) {
    this(map(modelFile), options);
  }

  /** From a direct ByteBuffer or a MappedByteBuffer holding the model (position to limit). */
  public Interpreter(ByteBuffer byteBuffer) {
    this(byteBuffer, null);
  }

  public Interpreter(ByteBuffer byteBuffer, Options options) {
    if (byteBuffer == null || !byteBuffer.isDirect()) {
      throw new IllegalArgumentException("edgelite: the model ByteBuffer must be a direct "
          + "ByteBuffer or a MappedByteBuffer");
    }
    this.model = byteBuffer;
    int threads = options == null ? 1 : Math.max(options.getNumThreads(), 1);
    boolean fp16 = options != null && options.getAllowFp16();
    this.handle = NativeInterpreter.create(byteBuffer, byteBuffer.position(),
        byteBuffer.remaining(), threads, fp16);
    int nIn = NativeInterpreter.count(handle, true);
    int nOut = NativeInterpreter.count(handle, false);
    this.inputs = new Tensor[nIn];
    this.outputs = new Tensor[nOut];
    for (int i = 0; i < nIn; i++) {
      inputs[i] = new Tensor(this, handle, true, i);
    }
    for (int i = 0; i < nOut; i++) {
      outputs[i] = new Tensor(this, handle, false, i);
    }
  }

  private static MappedByteBuffer map(File file) {
    if (file == null) {
      throw new IllegalArgumentException("edgelite: the model file is null");
    }
    try (RandomAccessFile f = new RandomAccessFile(file, "r");
        FileChannel ch = f.getChannel()) {
      return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
    } catch (IOException e) {
      throw new IllegalArgumentException("edgelite: cannot read the model file " + file + ": "
          + e.getMessage(), e);
    }
  }

  void checkOpen() {
    if (handle == 0) {
      throw new IllegalStateException("edgelite: the interpreter is closed");
    }
  }

  /** Runs the model with one input and one output. */
  public void run(Object input, Object output) {
    runForMultipleInputsOutputs(new Object[] {input}, Collections.singletonMap(0, output));
  }

  /**
   * Runs the model. inputs: one value per input tensor, in order. outputs: output index to the
   * array or ByteBuffer that receives it (outputs not in the map are not copied).
   */
  public void runForMultipleInputsOutputs(Object[] inputs, Map<Integer, Object> outputs) {
    checkOpen();
    if (inputs == null || inputs.length == 0) {
      throw new IllegalArgumentException("edgelite: inputs must not be null or empty");
    }
    if (inputs.length != this.inputs.length) {
      throw new IllegalArgumentException("edgelite: the model has " + this.inputs.length
          + " inputs, got " + inputs.length);
    }
    if (outputs == null) {
      throw new IllegalArgumentException("edgelite: outputs must not be null");
    }
    for (Integer k : outputs.keySet()) {
      if (k == null || k < 0 || k >= this.outputs.length) {
        throw new IllegalArgumentException("edgelite: no output " + k + " (the model has "
            + this.outputs.length + ")");
      }
    }
    for (int i = 0; i < inputs.length; i++) {
      this.inputs[i].setTo(inputs[i]);
    }
    NativeInterpreter.invoke(handle);
    for (Map.Entry<Integer, Object> e : outputs.entrySet()) {
      if (e.getValue() != null) {
        this.outputs[e.getKey()].copyTo(e.getValue());
      }
    }
  }

  public int getInputTensorCount() {
    checkOpen();
    return inputs.length;
  }

  public int getOutputTensorCount() {
    checkOpen();
    return outputs.length;
  }

  public Tensor getInputTensor(int inputIndex) {
    checkOpen();
    if (inputIndex < 0 || inputIndex >= inputs.length) {
      throw new IllegalArgumentException("edgelite: no input " + inputIndex + " (the model has "
          + inputs.length + ")");
    }
    return inputs[inputIndex];
  }

  public Tensor getOutputTensor(int outputIndex) {
    checkOpen();
    if (outputIndex < 0 || outputIndex >= outputs.length) {
      throw new IllegalArgumentException("edgelite: no output " + outputIndex
          + " (the model has " + outputs.length + ")");
    }
    return outputs[outputIndex];
  }

  /** The position of the input with this tensor name. */
  public int getInputIndex(String opName) {
    checkOpen();
    for (int i = 0; i < inputs.length; i++) {
      if (inputs[i].name().equals(opName)) {
        return i;
      }
    }
    throw new IllegalArgumentException("edgelite: no input named '" + opName + "'");
  }

  public int getOutputIndex(String opName) {
    checkOpen();
    for (int i = 0; i < outputs.length; i++) {
      if (outputs[i].name().equals(opName)) {
        return i;
      }
    }
    throw new IllegalArgumentException("edgelite: no output named '" + opName + "'");
  }

  /** Puts variable tensors (streaming state) back to their initial values. */
  public void resetVariableTensors() {
    checkOpen();
    NativeInterpreter.reset(handle);
  }

  /** Bytes of the arena this model runs in (runtime_micro's exact figure). */
  public long arenaBytes() {
    checkOpen();
    return NativeInterpreter.arenaBytes(handle);
  }

  /** Frees the native interpreter and its arena; later calls throw IllegalStateException. */
  @Override
  public void close() {
    if (handle != 0) {
      NativeInterpreter.delete(handle);
      handle = 0;
    }
  }
}
