"""The version of expkit, written once (pyproject.toml reads it from here); a leaf module."""

__version__ = "0.1.0"
