"""Export a .tflite model (plus test data) as C sources for firmware builds."""

from edgelite.export.c_array import export_c, write_folder

__all__ = ["export_c", "write_folder"]
