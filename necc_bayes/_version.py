"""The package version (kept apart so that every layer can read it without the public API)."""

__version__ = "0.2.0.dev0"
