"""Figures of the proportional-hazards check and of time-varying effects (plain data in).

* :func:`ph_interval_plot`: one term's per-interval log-HR (one step from the constant fit)
  against the constant posterior log-HR — the figure of a flagged term;
* :func:`hr_by_interval_plot`: the posterior HR(t) of a time-varying term with its band;
* :func:`group_ppc_plot`: observed Kaplan–Meier per covariate level over the replicate bands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from necc_bayes.report.figures import BAD, BAND, KM

LEVEL_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#8172b3", "#937860", "#da8bc3"]


def _finite_end(end: np.ndarray, start: np.ndarray, t_max: float) -> np.ndarray:
    """Interval ends with the open last interval closed at the largest follow-up time."""
    end = np.asarray(end, dtype=float).copy()
    end[~np.isfinite(end)] = max(t_max, float(np.max(start)) * 1.05)
    return end


def ph_interval_plot(intervals: pd.DataFrame, term: str, *, t_max: float, ci_prob: float) -> Figure:
    """Per-interval log-HR of ``term`` with intervals, and the constant log-HR.

    Parameters
    ----------
    intervals : DataFrame
        ``PHCheck.intervals`` (``term, interval_start, interval_end, events, log_hr,
        log_hr_low, log_hr_high, log_hr_constant``).
    term : str
        The term to draw.
    t_max : float
        Largest follow-up time (end of the open last interval).
    ci_prob : float
        Probability of the drawn intervals (for the legend).
    """
    rows = intervals[intervals["term"] == term]
    start = rows["interval_start"].to_numpy(dtype=float)
    end = _finite_end(rows["interval_end"].to_numpy(), start, t_max)
    mid = (start + end) / 2.0
    est = rows["log_hr"].to_numpy(dtype=float)
    fig = Figure(figsize=(6.5, 3.4))
    ax = fig.subplots()
    ax.hlines(est, start, end, color=BAND, lw=2, label="per-interval log-HR (one step)")
    ax.vlines(
        mid,
        rows["log_hr_low"],
        rows["log_hr_high"],
        color=BAND,
        lw=1,
        label=f"{ci_prob:.0%} interval (normal approximation)",
    )
    const = float(rows["log_hr_constant"].iloc[0])
    ax.axhline(const, color=BAD, ls="--", lw=1.2, label=f"constant log-HR {const:.2f} (PH fit)")
    ax.axhline(0.0, color="grey", lw=0.6)
    for x, y, d in zip(mid, est, rows["events"], strict=True):
        if np.isfinite(y):
            ax.annotate(
                f"{d}",
                (x, y),
                textcoords="offset points",
                xytext=(0, 4),
                fontsize=7,
                ha="center",
                color="grey",
            )
    ax.set_xlabel("time (numbers: events per interval)")
    ax.set_ylabel(f"log-HR of {term}")
    ax.set_title(f"Proportional hazards check: {term}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def hr_by_interval_plot(table: pd.DataFrame, term: str, *, t_max: float, ci_prob: float) -> Figure:
    """Posterior HR per interval (median and band) of a time-varying term, log scale.

    Parameters
    ----------
    table : DataFrame
        ``hazard_ratios_by_interval.csv`` (``term, interval_start, interval_end, hr_median,
        hr_low, hr_high``).
    term : str
        The term to draw.
    t_max : float
        Largest follow-up time (end of the open last interval).
    ci_prob : float
        Probability of the band.
    """
    rows = table[table["term"] == term]
    start = rows["interval_start"].to_numpy(dtype=float)
    end = _finite_end(rows["interval_end"].to_numpy(), start, t_max)
    edges = np.concatenate([start, end[-1:]])

    def steps(col: str) -> np.ndarray:
        v = rows[col].to_numpy(dtype=float)
        return np.concatenate([v, v[-1:]])

    fig = Figure(figsize=(6.5, 3.4))
    ax = fig.subplots()
    ax.fill_between(
        edges,
        steps("hr_low"),
        steps("hr_high"),
        step="post",
        color=BAND,
        alpha=0.25,
        lw=0,
        label=f"{ci_prob:.0%} band",
    )
    ax.step(edges, steps("hr_median"), where="post", color=BAND, lw=1.8, label="posterior median")
    ax.axhline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("time")
    ax.set_ylabel(f"hazard ratio of {term}")
    ax.set_title(f"Time-varying hazard ratio: {term}", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def group_ppc_plot(groups: pd.DataFrame, *, ci_prob: float) -> Figure:
    """Observed Kaplan–Meier per level over its replicate band, one panel per covariate.

    Parameters
    ----------
    groups : DataFrame
        ``PPCResult.groups`` (``covariate, level, n, time, observed, low, high``).
    ci_prob : float
        Probability of the bands.
    """
    covariates = list(dict.fromkeys(groups["covariate"]))
    n = len(covariates)
    ncol = min(3, n)
    nrow = int(np.ceil(n / ncol))
    fig = Figure(figsize=(4.2 * ncol, 3.2 * nrow))
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    for ax, cov in zip(axes, covariates, strict=False):
        sub = groups[groups["covariate"] == cov]
        for i, level in enumerate(dict.fromkeys(sub["level"])):
            rows = sub[sub["level"] == level]
            color = LEVEL_COLORS[i % len(LEVEL_COLORS)]
            t = rows["time"].to_numpy(dtype=float)
            ax.fill_between(t, rows["low"], rows["high"], color=color, alpha=0.2, lw=0)
            obs = rows["observed"].to_numpy(dtype=float)
            ax.step(
                t,
                obs,
                where="post",
                color=color,
                lw=1.4,
                label=f"{level} (n = {int(rows['n'].iloc[0])})",
            )
            out = (obs < rows["low"].to_numpy() - 1e-12) | (obs > rows["high"].to_numpy() + 1e-12)
            if out.any():
                ax.plot(t[out], obs[out], "x", color=KM, ms=3)
        ax.set_ylim(0, 1.02)
        ax.set_title(cov, fontsize=10)
        ax.set_xlabel("time")
        ax.set_ylabel("survival")
        ax.legend(fontsize=7, loc="upper right")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"Kaplan–Meier per level (lines) over {ci_prob:.0%} replicate bands (shaded); "
        "x: outside the band",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
