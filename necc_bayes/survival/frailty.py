"""Cluster-level summaries of a shared frailty (``frailty.csv``).

The model (``survival/model.py``) multiplies the hazard of every row of cluster ``c`` by
``exp(b_c)``, ``b_c = frailty_sd * z_c``, ``z_c ~ Normal(0, 1)``. Reported:

* one row ``frailty_sd``: its posterior mean, median and equal-tailed interval (with R-hat and
  ESS), and the prior it had;
* one row per cluster: rows and events in the data, the log-frailty ``b_c`` (mean, median,
  interval), the frailty hazard ratio ``exp(b_c)`` (median, interval: the cluster's hazard
  relative to a cluster of median frailty, covariates equal) and ``P(b_c > 0)``.

Hazard ratios of the covariates are conditional on the cluster; the population-averaged
(marginal) hazard ratio between two covariate values is closer to 1 than the conditional one
when ``frailty_sd > 0`` (the marginal survival curves of :mod:`.curve_sets` show it).
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

FRAILTY_COLUMNS = [
    "parameter",
    "cluster",
    "n_rows",
    "n_events",
    "mean",
    "median",
    "low",
    "high",
    "hr_median",
    "hr_low",
    "hr_high",
    "p_gt_0",
    "r_hat",
    "ess_bulk",
    "ess_tail",
]


def frailty_table(
    idata: xr.DataTree,
    *,
    cluster_sizes: np.ndarray,
    cluster_events: np.ndarray,
    ci_prob: float = 0.95,
) -> pd.DataFrame:
    """Summarise ``frailty_sd`` and every cluster's log-frailty.

    Parameters
    ----------
    idata : DataTree
        Posterior with ``frailty_sd`` (chain, draw) and ``frailty`` (chain, draw, cluster).
    cluster_sizes, cluster_events : ndarray, shape (C,)
        Rows and events per cluster in the data (cluster order of the posterior).
    ci_prob : float
        Probability of the equal-tailed intervals.

    Returns
    -------
    DataFrame
        Columns :data:`FRAILTY_COLUMNS`; the ``frailty_sd`` row first.
    """
    post = idata["posterior"]
    tail = (1.0 - ci_prob) / 2.0
    diag = {name: _diagnostics(idata, name) for name in ("frailty_sd", "frailty")}
    sd = post["frailty_sd"].stack(s=("chain", "draw")).to_numpy()
    rows = [
        {
            "parameter": "frailty_sd",
            "cluster": "",
            "n_rows": int(cluster_sizes.sum()),
            "n_events": int(cluster_events.sum()),
            "mean": sd.mean(),
            "median": np.median(sd),
            "low": np.quantile(sd, tail),
            "high": np.quantile(sd, 1 - tail),
            "hr_median": np.nan,
            "hr_low": np.nan,
            "hr_high": np.nan,
            "p_gt_0": np.nan,
            **_diag(diag["frailty_sd"], 0),
        }
    ]
    b = post["frailty"].stack(s=("chain", "draw")).transpose("cluster", "s")
    labels = [str(c) for c in b["cluster"].to_numpy()]
    draws = b.to_numpy()
    for k, label in enumerate(labels):
        x = draws[k]
        rows.append(
            {
                "parameter": "frailty",
                "cluster": label,
                "n_rows": int(cluster_sizes[k]),
                "n_events": int(cluster_events[k]),
                "mean": x.mean(),
                "median": np.median(x),
                "low": np.quantile(x, tail),
                "high": np.quantile(x, 1 - tail),
                "hr_median": np.exp(np.median(x)),
                "hr_low": np.exp(np.quantile(x, tail)),
                "hr_high": np.exp(np.quantile(x, 1 - tail)),
                "p_gt_0": float((x > 0).mean()),
                **_diag(diag["frailty"], k),
            }
        )
    return pd.DataFrame(rows, columns=FRAILTY_COLUMNS)


def _diagnostics(idata: xr.DataTree, name: str) -> dict[str, np.ndarray]:
    """Rank-normalised R-hat and bulk/tail ESS of one variable, flattened (ArviZ)."""
    return {
        "r_hat": np.ravel(az.rhat(idata, var_names=[name])[name].to_numpy()),
        "ess_bulk": np.ravel(az.ess(idata, var_names=[name], method="bulk")[name].to_numpy()),
        "ess_tail": np.ravel(az.ess(idata, var_names=[name], method="tail")[name].to_numpy()),
    }


def _diag(diag: dict[str, np.ndarray], k: int) -> dict[str, float]:
    return {key: float(values[k]) for key, values in diag.items()}
