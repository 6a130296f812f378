"""Export a .tflite model (plus test data) as C sources for firmware builds."""

from edgelite.export.api import c_name, export_model
from edgelite.export.c_array import export_c, export_names, write_folder

__all__ = ["c_name", "export_c", "export_model", "export_names", "write_folder"]
