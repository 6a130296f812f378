"""edgelite: trained models to small, fast integer models for phones and microcontrollers."""

__version__ = "0.1.0"
