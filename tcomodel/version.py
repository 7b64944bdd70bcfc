"""The package version, written once: pyproject.toml reads it, ``tcomodel.__version__`` re-exports it.
A module of its own so that code inside the package can read it without importing the package root."""

__version__ = "0.1.0"
