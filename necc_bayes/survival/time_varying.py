"""Summaries of time-varying effects: per-interval hazard ratios and their time average.

A term listed in ``covariates.time_varying`` has one log-HR per interval,
``log_hr[k] + log_hr_dev[k, j]`` (the model's Brownian-motion prior across the interval
midpoints, anchored at the first interval: ``log_hr_dev[k, 0] = 0``, so ``log_hr[k]`` alone is
the log-HR of the **first** interval — see ``survival/model.py``).

* :func:`log_hr_by_interval` — the per-interval log-HR draws of every term (constant terms
  repeated), dims ``(chain, draw, interval, term)``;
* :func:`hazard_ratio_by_interval_table` — ``hazard_ratios_by_interval.csv`` (DESIGN §8);
* :func:`time_averaged_log_hr` — the event-weighted average over intervals
  ``sum_j d_j log-HR_j / sum_j d_j`` per draw: what ``hazard_ratios.csv`` reports for a
  time-varying term (a Cox model fitted under proportional hazards estimates approximately
  this average when the effect does vary). The row says so in its ``effect`` column.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import xarray as xr

from necc_bayes.spec.priors import HalfNormalSD, SDPrior

if TYPE_CHECKING:
    from necc_bayes.data.design import Design

BY_INTERVAL_COLUMNS = [
    "term",
    "interval",
    "interval_start",
    "interval_end",
    "events",
    "log_hr_mean",
    "log_hr_sd",
    "hr_median",
    "hr_low",
    "hr_high",
    "p_hr_gt_1",
]
"""Columns of ``hazard_ratios_by_interval.csv`` (DESIGN §8 names them all but the first five
after ``term`` are additions: interval index, bounds, events, log-HR mean and SD)."""

TIME_AVERAGED = (
    "time-varying: event-weighted average of the per-interval log-HRs "
    "(per interval in hazard_ratios_by_interval.csv)"
)
CONSTANT = "constant over time (proportional hazards)"


def resolve_time_varying_sd(prior: SDPrior | Literal["auto"], follow_up_max: float) -> SDPrior:
    """``"auto"`` -> ``HalfNormal(1 / sqrt(T))`` per square root of the time unit.

    The deviations are a Brownian motion in time (``survival/model.py``): over the whole
    follow-up ``T`` a log-HR then changes with prior sd ``tv_sd * sqrt(T)``, which is
    ``|HalfNormal(1)|`` — the same for any number of intervals and any time unit.
    """
    if prior == "auto":
        return HalfNormalSD(sigma=1.0 / math.sqrt(follow_up_max))
    return prior


def design_time_varying(names: list[str], design: Design) -> tuple[str, ...]:
    """Design columns of ``covariates.time_varying``, in design order.

    A covariate name stands for all its columns (every dummy of a categorical); a column name
    (``celltype[adeno]``) for itself.
    """
    wanted = set(names)
    pairs = zip(design.terms, design.source, strict=True)
    return tuple(t for t, src in pairs if t in wanted or src in wanted)


def time_varying_terms(idata: xr.DataTree) -> list[str]:
    """Terms with per-interval deviations in the posterior (empty for a PH model)."""
    post = idata["posterior"]
    if "log_hr_dev" not in post:
        return []
    return [str(t) for t in post["log_hr_dev"]["term_tv"].to_numpy()]


def log_hr_by_interval(idata: xr.DataTree) -> xr.DataArray:
    """Per-interval log-HR draws of every term, dims ``(chain, draw, interval, term)``."""
    post = idata["posterior"]
    log_hr = post["log_hr"]
    tv = time_varying_terms(idata)
    if tv:
        intervals = post["log_hr_dev"]["interval"]
    else:
        intervals = idata["constant_data"]["interval_start"]["interval"]
    out = log_hr.expand_dims(interval=intervals.to_numpy()).transpose(
        "chain", "draw", "interval", "term"
    )
    if not tv:
        return out.copy()
    dev = post["log_hr_dev"].rename(term_tv="term").transpose("chain", "draw", "interval", "term")
    dev = dev.assign_coords(interval=out["interval"])
    full = xr.zeros_like(out)
    full.loc[{"term": tv}] = dev.sel(term=tv).to_numpy()
    return out + full


def event_weights(idata: xr.DataTree) -> np.ndarray:
    """``d_j / sum d`` per interval (equal weights when there are no events)."""
    d = idata["constant_data"]["events_per_interval"].to_numpy().astype(float)
    return d / d.sum() if d.sum() > 0 else np.full(d.size, 1.0 / d.size)


def time_averaged_log_hr(idata: xr.DataTree) -> xr.DataArray:
    """Event-weighted average log-HR per draw, dims ``(chain, draw, term)``.

    Equals ``log_hr`` for a term that is constant over time.
    """
    by_int = log_hr_by_interval(idata)
    w = xr.DataArray(event_weights(idata), dims="interval", coords={"interval": by_int.interval})
    return (by_int * w).sum("interval")


def hazard_ratio_by_interval_table(
    idata: xr.DataTree, *, ci_prob: float = 0.95, terms: list[str] | None = None
) -> pd.DataFrame:
    """``hazard_ratios_by_interval.csv``: the posterior HR of each term in each interval.

    Parameters
    ----------
    idata : DataTree
        Posterior with ``log_hr`` (and ``log_hr_dev``) and ``constant_data`` with
        ``interval_start``, ``interval_end``, ``events_per_interval``.
    ci_prob : float
        Probability of the equal-tailed interval.
    terms : list of str, optional
        Terms to include (default: the time-varying ones).

    Returns
    -------
    DataFrame
        One row per (term, interval), columns :data:`BY_INTERVAL_COLUMNS`.
    """
    terms = time_varying_terms(idata) if terms is None else terms
    if not terms:
        return pd.DataFrame(columns=BY_INTERVAL_COLUMNS)
    by_int = log_hr_by_interval(idata)
    const = idata["constant_data"]
    tail = (1.0 - ci_prob) / 2.0
    frames = []
    for term in terms:
        draws = by_int.sel(term=term).stack(s=("chain", "draw")).transpose("interval", "s")
        flat = draws.to_numpy()
        hr = np.exp(flat)
        frames.append(
            pd.DataFrame(
                {
                    "term": term,
                    "interval": [str(i) for i in draws["interval"].to_numpy()],
                    "interval_start": const["interval_start"].to_numpy(),
                    "interval_end": const["interval_end"].to_numpy(),
                    "events": const["events_per_interval"].to_numpy().astype(int),
                    "log_hr_mean": flat.mean(axis=1),
                    "log_hr_sd": flat.std(axis=1, ddof=1),
                    "hr_median": np.median(hr, axis=1),
                    "hr_low": np.quantile(hr, tail, axis=1),
                    "hr_high": np.quantile(hr, 1.0 - tail, axis=1),
                    "p_hr_gt_1": (flat > 0).mean(axis=1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[BY_INTERVAL_COLUMNS]


def posterior_draws(idata: xr.DataTree) -> tuple[np.ndarray, np.ndarray]:
    """Flattened draws for curves and checks: baseline ``(S, J)`` and log-HRs.

    A stratified baseline is ``(S, n_strata, J)``.

    The log-HRs are ``(S, p)`` for a proportional-hazards model and ``(S, J, p)`` (one vector
    per interval, :func:`log_hr_by_interval`) when terms are time-varying.
    """
    post = idata["posterior"]
    base = post["baseline_hazard"].stack(s=("chain", "draw"))
    lam = base.transpose("s", *[d for d in ("stratum", "interval") if d in base.dims])
    if not time_varying_terms(idata):
        beta = post["log_hr"].stack(s=("chain", "draw")).transpose("s", "term")
    else:
        by_int = log_hr_by_interval(idata).stack(s=("chain", "draw"))
        beta = by_int.transpose("s", "interval", "term")
    return lam.to_numpy(), beta.to_numpy()
