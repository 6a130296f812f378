package dev.edgelite;

/** Tensor element types, as LiteRT's {@code org.tensorflow.lite.DataType} names them. */
public enum DataType {
  FLOAT32(0, 4),
  FLOAT16(1, 2),
  INT32(2, 4),
  UINT8(3, 1),
  INT64(4, 8),
  STRING(5, -1),
  BOOL(6, 1),
  INT16(7, 2),
  INT8(9, 1),
  FLOAT64(10, 8),
  UINT64(12, 8),
  UINT32(15, 4),
  UINT16(16, 2);

  private final int code;
  private final int size;

  DataType(int code, int size) {
    this.code = code;
    this.size = size;
  }

  /** Bytes per element (-1 for STRING). */
  public int byteSize() {
    return size;
  }

  static DataType fromCode(int code) {
    for (DataType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    throw new IllegalArgumentException("edgelite: tensor type " + code + " has no Java type");
  }
}
