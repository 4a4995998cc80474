"""The version of expkit (a leaf module: it imports nothing)."""

__version__ = "0.1.0"
