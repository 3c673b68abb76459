"""necc-bayes: Bayesian survival and response-rate analysis of small clinical cohorts."""

from __future__ import annotations

from necc_bayes._version import __version__

__all__ = ["__version__"]
