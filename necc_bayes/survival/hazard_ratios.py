"""Posterior hazard ratios as a DataFrame (DESIGN §5 ``hazard_ratios.csv``).

A term that is time-varying in the model (``covariates.time_varying``) has no single hazard
ratio: its row summarises the event-weighted average of its per-interval log-HRs
(:func:`necc_bayes.survival.time_varying.time_averaged_log_hr`) and says so in the added
column ``effect``; the per-interval HRs are in ``hazard_ratios_by_interval.csv``.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from necc_bayes.survival.time_varying import (
    CONSTANT,
    TIME_AVERAGED,
    time_averaged_log_hr,
    time_varying_terms,
)

HR_COLUMNS = [
    "term",
    "log_hr_mean",
    "log_hr_sd",
    "hr_median",
    "hr_mean",
    "hr_low",
    "hr_high",
    "p_hr_gt_1",
    "r_hat",
    "ess_bulk",
    "ess_tail",
    "effect",
]


def hazard_ratio_table(idata: xr.DataTree, *, ci_prob: float = 0.95) -> pd.DataFrame:
    """Summarise the posterior of every log hazard ratio.

    Parameters
    ----------
    idata : DataTree
        Posterior with variable ``log_hr`` (dims chain, draw, term).
    ci_prob : float
        Probability of the equal-tailed credible interval (``hr_low``, ``hr_high``).

    Returns
    -------
    DataFrame
        One row per term with the DESIGN §5 columns: posterior mean and SD of the log-HR, the
        HR's median, mean and equal-tailed interval, P(HR > 1), rank-normalised R-hat and bulk
        and tail ESS (ArviZ); then ``effect``: constant, or time-varying (the row is then the
        event-weighted time average).
    """
    varying = time_varying_terms(idata)
    log_hr = time_averaged_log_hr(idata) if varying else idata["posterior"]["log_hr"]
    flat = log_hr.stack(sample=("chain", "draw")).transpose("term", "sample").to_numpy()
    hr = np.exp(flat)
    tail = (1.0 - ci_prob) / 2.0
    draws = xr.Dataset({"log_hr": log_hr.transpose("chain", "draw", "term")})
    r_hat = az.rhat(draws)["log_hr"].to_numpy()
    ess_bulk = az.ess(draws, method="bulk")["log_hr"].to_numpy()
    ess_tail = az.ess(draws, method="tail")["log_hr"].to_numpy()
    terms = [str(t) for t in log_hr["term"].to_numpy()]
    table = pd.DataFrame(
        {
            "term": terms,
            "log_hr_mean": flat.mean(axis=1),
            "log_hr_sd": flat.std(axis=1, ddof=1),
            "hr_median": np.median(hr, axis=1),
            "hr_mean": hr.mean(axis=1),
            "hr_low": np.quantile(hr, tail, axis=1),
            "hr_high": np.quantile(hr, 1.0 - tail, axis=1),
            "p_hr_gt_1": (flat > 0).mean(axis=1),
            "r_hat": r_hat,
            "ess_bulk": ess_bulk,
            "ess_tail": ess_tail,
            "effect": [TIME_AVERAGED if t in varying else CONSTANT for t in terms],
        }
    )
    return table[HR_COLUMNS]
