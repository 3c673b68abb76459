"""One refit-task type for every compile-once batch: the univariate screen and the sweeps.

A :class:`RefitTask` is one refit of the PEM through this process's compiled model
(:func:`necc_bayes.survival.refit.process_cache`): inputs, priors, seed, sampler settings and
the convergence thresholds. :func:`run_refit` — the one worker every scheduler runs — samples
it, summarises the hazard ratios and checks convergence (:func:`refit`), then lets the task
lay out its output rows (:meth:`RefitTask.rows`): the screen's task adds the covariate's cell
counts, a sweep's setting its sweep and setting names. Tasks are picklable, so the same call
runs in this process, in worker processes or on Dask (:mod:`necc_bayes.workflows.executor`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from necc_bayes.inference.diagnostics import DiagnosticsReport, check_convergence
from necc_bayes.spec.settings import SamplerSettings, Thresholds
from necc_bayes.survival.hazard_ratios import hazard_ratio_table
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.refit import process_cache
from necc_bayes.workflows.executor import run_with_progress


@dataclass(frozen=True)
class RefitSummary:
    """What one refit gives every workflow: the HR table and the convergence verdict."""

    hazard_ratios: pd.DataFrame
    diagnostics: DiagnosticsReport


@dataclass(frozen=True, kw_only=True)
class RefitTask:
    """One refit with the compiled model of its structure (picklable).

    Attributes
    ----------
    inputs : PEMInputs
        Design and person-period expansion.
    priors : PEMPriors
        Resolved priors.
    seed : int
        Sampler seed (the fit's: common random numbers across a batch).
    sampler : SamplerSettings
        NUTS settings.
    thresholds : Thresholds
        Convergence thresholds.
    ci_prob : float
        Credible-interval probability of the HR table.
    """

    inputs: PEMInputs
    priors: PEMPriors
    seed: int
    sampler: SamplerSettings
    thresholds: Thresholds = field(default_factory=Thresholds)
    ci_prob: float = 0.95

    def rows(self, summary: RefitSummary) -> pd.DataFrame:
        """The output rows of this task (the HR table; workflows add their own columns)."""
        return summary.hazard_ratios


def refit(task: RefitTask) -> RefitSummary:
    """Sample one task with this process's compiled model; HR table and convergence check."""
    idata = process_cache().sample(task.inputs, task.priors, seed=task.seed, settings=task.sampler)
    hr = hazard_ratio_table(idata, ci_prob=task.ci_prob)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a batch reports each refit's verdict in its rows
        diag = check_convergence(idata, thresholds=task.thresholds, warn=False)
    return RefitSummary(hazard_ratios=hr, diagnostics=diag)


def run_refit(task: RefitTask) -> pd.DataFrame:
    """The worker of every batch: refit one task and lay out its rows."""
    return task.rows(refit(task))


def run_refits(tasks: Sequence[RefitTask], label: str, **kwargs: Any) -> list[pd.DataFrame]:
    """Refit every task (compile once per structure per worker), with a progress bar.

    ``kwargs`` are those of :func:`necc_bayes.workflows.executor.run_with_progress`
    (``quiet``, ``scheduler``, ``n_workers``, ``stats``).
    """
    return run_with_progress(run_refit, tasks, label, **kwargs)
