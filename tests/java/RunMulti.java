import dev.edgelite.Interpreter;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * tests/test_java.py's driver for runtime_micro/corpus/valid_base.tflite (inputs x float32
 * [2, 3] and idx int32 [2], one float32 output): model from a MappedByteBuffer,
 * runForMultipleInputsOutputs with float[][] and int[] inputs. Prints the input names and the
 * output's shape and float bits.
 */
public class RunMulti {
  public static void main(String[] args) throws Exception {
    MappedByteBuffer model;
    try (FileChannel ch = FileChannel.open(new File(args[0]).toPath(), StandardOpenOption.READ)) {
      model = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
    }
    try (Interpreter it = new Interpreter(model)) {
      float[][] x = {{0f, 1f, 2f}, {3f, 4f, 5f}};
      int[] idx = {1, 0};
      int xi = it.getInputIndex(args[1]);
      Object[] inputs = new Object[2];
      inputs[xi] = x;
      inputs[1 - xi] = idx;
      int[] shape = it.getOutputTensor(0).shape();
      ByteBuffer out = ByteBuffer.allocateDirect(it.getOutputTensor(0).numBytes())
          .order(ByteOrder.nativeOrder());
      Map<Integer, Object> outputs = new HashMap<>();
      outputs.put(0, out);
      it.runForMultipleInputsOutputs(inputs, outputs);
      StringBuilder sb = new StringBuilder("out " + Arrays.toString(shape));
      out.rewind();
      while (out.hasRemaining()) {
        sb.append(' ').append(out.getInt());
      }
      System.out.println("names " + it.getInputTensor(0).name() + " "
          + it.getInputTensor(1).name() + " " + it.getInputTensor(1).dataType());
      System.out.println(sb);
    }
  }
}
