"""The ``necc-bayes`` command line (argument parsing only)."""

from necc_bayes.cli.main import main

__all__ = ["main"]
