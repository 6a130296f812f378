"""A float .tflite file taken in by the converter: IF inlined, custom ops lowered, shapes
computed again for new input shapes (the format itself is `edgelite.tflite`)."""
