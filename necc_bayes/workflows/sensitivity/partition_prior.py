"""What each cut-point partition's prior alone says about survival (issue 23).

A cut-point sweep changes two things at once: how finely the data are summarised and —
unless the baseline prior is partition-invariant — the prior itself. To tell the two apart,
every partition of the sweep is reported with the **prior predictive** of ``S(t)`` at the
summary times, for a subject at the covariate means: its median and central 95% interval,
from :func:`necc_bayes.survival.prior_sample.sample_prior` (each prior family's numpy sampler).

A partition is flagged when its prior differs materially from the others: at some summary
time the width of its prior 95% interval of ``S(t)`` differs from the median width over the
partitions by more than :data:`WIDTH_TOLERANCE` (relative), or its prior median by more than
:data:`MEDIAN_TOLERANCE` (absolute). With the default gamma-process prior no partition should
be flagged (the prior on ``H`` is the same at every cut, and within an interval only
interpolates); the old per-interval ``Gamma(1, 1/r)`` prior tightens as intervals are added
and its fine partitions are flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from necc_bayes.survival.intervals import time_in_intervals
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.prior_sample import sample_prior

WIDTH_TOLERANCE = 0.25
"""Relative difference of the prior 95% width of S(t) from the median width that flags."""
MEDIAN_TOLERANCE = 0.10
"""Absolute difference of the prior median of S(t) from the median of medians that flags."""


def prior_survival(
    inputs: PEMInputs,
    priors: PEMPriors,
    times: list[float],
    *,
    draws: int = 4000,
    seed: int = 0,
) -> pd.DataFrame:
    """Prior predictive quantiles of ``S(t)`` for a subject at the covariate means.

    Returns
    -------
    DataFrame
        ``time, prior_median, prior_low, prior_high, prior_width`` (95% central interval).
    """
    sample = sample_prior(inputs, priors, np.random.default_rng([int(seed), 3]), draws)
    lam = sample.baseline if sample.baseline.ndim == 2 else sample.baseline[:, 0, :]
    x = np.asarray(inputs.X, dtype=float).mean(axis=0)
    rel = np.exp(sample.log_hr @ x)
    t = np.asarray(times, dtype=float)
    H = (lam @ time_in_intervals(t, inputs.pp.bounds).T) * rel[:, None]
    S = np.exp(-H)
    low, med, high = np.quantile(S, [0.025, 0.5, 0.975], axis=0)
    return pd.DataFrame(
        {
            "time": t,
            "prior_median": med,
            "prior_low": low,
            "prior_high": high,
            "prior_width": high - low,
        }
    )


def partition_priors(
    partitions: dict[str, PEMInputs],
    priors: PEMPriors,
    times: list[float],
    *,
    draws: int = 4000,
    seed: int = 0,
) -> pd.DataFrame:
    """The prior of ``S(t)`` under each partition, with the ``prior_differs`` flag.

    Parameters
    ----------
    partitions : dict
        Setting name -> inputs expanded at that partition's cuts (same data).
    priors : PEMPriors
        The fit's resolved priors (the baseline prior is evaluated on each partition).
    times : list of float
        Summary times (within follow-up).
    draws, seed : int
        Prior draws per partition and their seed.

    Returns
    -------
    DataFrame
        ``setting, n_intervals, time, prior_median, prior_low, prior_high, prior_width,
        width_vs_median, prior_differs`` (``prior_differs`` is the same for every time of a
        setting: whether any time breaks a tolerance).
    """
    frames = []
    for name, inputs in partitions.items():
        frame = prior_survival(inputs, priors, times, draws=draws, seed=seed)
        frame.insert(0, "n_intervals", inputs.pp.n_intervals)
        frame.insert(0, "setting", name)
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    med_width = out.groupby("time")["prior_width"].transform("median")
    med_median = out.groupby("time")["prior_median"].transform("median")
    out["width_vs_median"] = out["prior_width"] / med_width - 1.0
    breaks = (out["width_vs_median"].abs() > WIDTH_TOLERANCE) | (
        (out["prior_median"] - med_median).abs() > MEDIAN_TOLERANCE
    )
    out["prior_differs"] = breaks.groupby(out["setting"]).transform("any")
    return out
