"""Posterior hazard ratios as a DataFrame (DESIGN §5 ``hazard_ratios.csv``)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

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
        and tail ESS (ArviZ).
    """
    log_hr = idata["posterior"]["log_hr"]
    flat = log_hr.stack(sample=("chain", "draw")).transpose("term", "sample").to_numpy()
    hr = np.exp(flat)
    tail = (1.0 - ci_prob) / 2.0
    r_hat = az.rhat(idata, var_names=["log_hr"])["log_hr"].to_numpy()
    ess_bulk = az.ess(idata, var_names=["log_hr"], method="bulk")["log_hr"].to_numpy()
    ess_tail = az.ess(idata, var_names=["log_hr"], method="tail")["log_hr"].to_numpy()
    table = pd.DataFrame(
        {
            "term": [str(t) for t in log_hr["term"].to_numpy()],
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
        }
    )
    return table[HR_COLUMNS]
