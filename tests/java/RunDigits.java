import dev.edgelite.DataType;
import dev.edgelite.Interpreter;
import dev.edgelite.Tensor;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * tests/test_java.py's driver: runs a digits model (input [1][28][28][1], output [1][10]) through
 * dev.edgelite.Interpreter three ways and prints what Python compares.
 *
 *   java RunDigits MODEL.tflite INPUT.bin
 *
 * Lines: "info ..." (tensor metadata), "array v0 v1 ..." (run with arrays, Interpreter(File)),
 * "buffer ..." (runForMultipleInputsOutputs with direct ByteBuffers, model from an unaligned
 * direct ByteBuffer), "mapped ..." (run with arrays, model from a MappedByteBuffer via File
 * again). Floats are printed as their IEEE bits (exact), int8 as numbers.
 */
public class RunDigits {
  static String values(Object out) {
    StringBuilder sb = new StringBuilder();
    if (out instanceof float[][]) {
      for (float v : ((float[][]) out)[0]) sb.append(' ').append(Float.floatToRawIntBits(v));
    } else {
      for (byte v : ((byte[][]) out)[0]) sb.append(' ').append(v);
    }
    return sb.toString();
  }

  static String values(ByteBuffer b, DataType t) {
    b.order(ByteOrder.nativeOrder()).rewind();
    StringBuilder sb = new StringBuilder();
    while (b.hasRemaining()) {
      sb.append(' ').append(t == DataType.FLOAT32 ? b.getInt() : b.get());
    }
    return sb.toString();
  }

  /** One run through direct ByteBuffers with these options: the output values. */
  static String runBuffers(String model, Interpreter.Options options, ByteBuffer raw) {
    try (Interpreter it = new Interpreter(new File(model), options)) {
      raw.rewind();
      ByteBuffer input = ByteBuffer.allocateDirect(raw.remaining()).order(ByteOrder.nativeOrder());
      input.put(raw).rewind();
      ByteBuffer output = ByteBuffer.allocateDirect(it.getOutputTensor(0).numBytes())
          .order(ByteOrder.nativeOrder());
      Map<Integer, Object> outs = new HashMap<>();
      outs.put(0, output);
      it.runForMultipleInputsOutputs(new Object[] {input}, outs);
      return values(output, it.getOutputTensor(0).dataType());
    }
  }

  public static void main(String[] args) throws Exception {
    byte[] modelBytes = Files.readAllBytes(new File(args[0]).toPath());
    ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(new File(args[1]).toPath()))
        .order(ByteOrder.nativeOrder());

    try (Interpreter it = new Interpreter(new File(args[0]),
        new Interpreter.Options().setNumThreads(1))) {
      Tensor in = it.getInputTensor(0), out = it.getOutputTensor(0);
      System.out.println("info inputs=" + it.getInputTensorCount() + " outputs="
          + it.getOutputTensorCount() + " in=" + in.dataType() + Arrays.toString(in.shape())
          + " scalebits=" + Float.floatToRawIntBits(in.quantizationParams().getScale()) + " zp="
          + in.quantizationParams().getZeroPoint() + " out=" + out.dataType()
          + Arrays.toString(out.shape()) + " outscalebits=" + Float.floatToRawIntBits(out.quantizationParams().getScale())
          + " outzp=" + out.quantizationParams().getZeroPoint() + " name=" + in.name()
          + " bytes=" + in.numBytes());
      Object x, y;
      if (in.dataType() == DataType.FLOAT32) {
        float[][][][] a = new float[1][28][28][1];
        for (int r = 0; r < 28; r++) for (int c = 0; c < 28; c++) a[0][r][c][0] = raw.getFloat();
        x = a;
        y = new float[1][10];
      } else {
        byte[][][][] a = new byte[1][28][28][1];
        for (int r = 0; r < 28; r++) for (int c = 0; c < 28; c++) a[0][r][c][0] = raw.get();
        x = a;
        y = new byte[1][10];
      }
      it.run(x, y);
      System.out.println("array" + values(y));

      // wrong shape and wrong type: refused with a message
      try {
        it.run(in.dataType() == DataType.FLOAT32 ? new float[1][27][28][1]
            : new byte[1][27][28][1], y);
      } catch (IllegalArgumentException e) {
        System.out.println("shape " + e.getMessage());
      }
      try {
        it.run(new long[1][28][28][1], y);
      } catch (IllegalArgumentException e) {
        System.out.println("type " + e.getMessage());
      }
    }

    // model in a direct ByteBuffer at an odd address (copied once), ByteBuffer input/output
    ByteBuffer direct = ByteBuffer.allocateDirect(modelBytes.length + 1);
    direct.put((byte) 0).put(modelBytes).flip();
    direct.position(1);
    try (Interpreter it = new Interpreter(direct)) {
      Tensor out = it.getOutputTensor(0);
      raw.rewind();
      ByteBuffer input = ByteBuffer.allocateDirect(raw.remaining()).order(ByteOrder.nativeOrder());
      input.put(raw).rewind();
      ByteBuffer output = ByteBuffer.allocateDirect(out.numBytes()).order(ByteOrder.nativeOrder());
      Map<Integer, Object> outs = new HashMap<>();
      outs.put(0, output);
      it.runForMultipleInputsOutputs(new Object[] {input}, outs);
      System.out.println("buffer" + values(output, out.dataType()));
      System.out.println("arena " + it.arenaBytes());
    }

    // two threads (runtime_micro's own pool): the same bytes as one
    System.out.println("threads2" + runBuffers(args[0], new Interpreter.Options().setNumThreads(2),
        raw));

    // allowFp16: float16 arithmetic only where the CPU has FEAT_FP16 and the model stores float16
    // weights; on this host, and with these models, the same bytes
    Interpreter.Options fp16 = new Interpreter.Options().setAllowFp16(true);
    if (!fp16.getAllowFp16()) {
      throw new AssertionError("setAllowFp16(true) not kept");
    }
    System.out.println("fp16" + runBuffers(args[0], fp16, raw));

    Interpreter closed = new Interpreter(new File(args[0]));
    closed.close();
    try {
      closed.getInputTensor(0);
    } catch (IllegalStateException e) {
      System.out.println("closed " + e.getMessage());
    }
    try {
      new Interpreter.Options().setNumThreads(0);
    } catch (IllegalArgumentException e) {
      System.out.println("threads " + e.getMessage());
    }
    // a damaged model: runtime_micro's message comes through
    ByteBuffer bad = ByteBuffer.allocateDirect(modelBytes.length / 2);
    bad.put(modelBytes, 0, modelBytes.length / 2).flip();
    try (Interpreter it = new Interpreter(bad)) {
      System.out.println("bad model accepted: " + it.getInputTensorCount());
    } catch (IllegalArgumentException e) {
      System.out.println("badmodel " + e.getMessage());
    }
  }
}
