"""The ``necc-bayes`` command line (argument parsing only)."""

from necc_bayes.cli.main import console, main

__all__ = ["console", "main"]
