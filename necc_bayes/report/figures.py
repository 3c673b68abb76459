"""Figures of a fit, drawn with matplotlib's object API (no pyplot state, Agg canvas).

Every function returns a :class:`matplotlib.figure.Figure`; :func:`to_data_uri` turns one into
an SVG or PNG ``data:`` URI for a self-contained HTML page (and closes nothing: figures made
with ``Figure()`` are not tracked by pyplot and are freed by garbage collection).
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from scipy import stats

from necc_bayes.inference.diagnostics import parameter_draws

if TYPE_CHECKING:
    from necc_bayes.survival.curves import Profile
    from necc_bayes.survival.ppc import PPCResult
    from necc_bayes.survival.prior_predictive import PriorDraws

BAND = "#4c72b0"
KM = "#222222"
BAD = "#c44e52"


def to_data_uri(fig: Figure, fmt: str = "svg", dpi: int = 110) -> str:
    """Return the figure as a ``data:image/svg+xml;base64,...`` or ``data:image/png`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_metadata(fmt))
    mime = "image/svg+xml" if fmt == "svg" else f"image/{fmt}"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def _metadata(fmt: str) -> dict[str, str | None]:
    # no creation date, so the same fit gives byte-identical reports
    return {"Date": None} if fmt == "svg" else {}


def forest_plot(hr: pd.DataFrame, ci_prob: float = 0.95) -> Figure:
    """Hazard ratios: posterior median and equal-tailed interval per term (log scale).

    Parameters
    ----------
    hr : DataFrame
        ``hazard_ratios.csv`` table (``term, hr_median, hr_low, hr_high, p_hr_gt_1``).
    ci_prob : float
        Interval probability (for the axis label).
    """
    n = len(hr)
    fig = Figure(figsize=(7.0, 0.45 * n + 1.3))
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    ax.hlines(y, hr["hr_low"], hr["hr_high"], color=BAND, lw=2)
    ax.plot(hr["hr_median"], y, "o", color=BAND)
    ax.axvline(1.0, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    lo, hi = float(np.nanmin(hr["hr_low"])), float(np.nanmax(hr["hr_high"]))
    nice = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
    ticks = nice[(nice >= lo / 1.5) & (nice <= hi * 1.5)]
    if ticks.size >= 2:
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(
        y, [f"{t}  (P(HR>1) = {p:.2f})" for t, p in zip(hr.term, hr.p_hr_gt_1, strict=True)]
    )
    ax.set_xlabel(f"hazard ratio (median, {ci_prob:.0%} equal-tailed interval)")
    ax.set_title("Posterior hazard ratios")
    fig.tight_layout()
    return fig


def _km_step(
    ax, time: np.ndarray, event: np.ndarray, label: str, *, ci: bool, color: str = KM, ls="-"
) -> None:
    event = np.asarray(event).astype(bool)
    if not event.any():
        return
    res = stats.ecdf(stats.CensoredData(uncensored=time[event], right=time[~event]))
    q = np.concatenate([[0.0], res.sf.quantiles, [float(time.max())]])
    p = np.concatenate([[1.0], res.sf.probabilities, [res.sf.probabilities[-1]]])
    ax.step(q, p, where="post", color=color, ls=ls, lw=1.3, label=label)
    if ci:
        band = res.sf.confidence_interval(0.95)
        low = np.concatenate([[1.0], band.low.probabilities, [band.low.probabilities[-1]]])
        high = np.concatenate([[1.0], band.high.probabilities, [band.high.probabilities[-1]]])
        ax.fill_between(
            q,
            np.nan_to_num(low),
            np.nan_to_num(high, nan=1.0),
            step="post",
            color=KM,
            alpha=0.1,
            lw=0,
        )


def survival_plot(
    surv: pd.DataFrame,
    time: np.ndarray,
    event: np.ndarray,
    design_X: np.ndarray,
    terms: list[str],
    *,
    max_panels: int = 9,
) -> Figure:
    """Posterior survival curves with bands, and Kaplan–Meier curves of the data.

    The first panel shows the ``covariate means`` profile with the whole cohort's KM curve
    (95% CI); each further panel a 0/1 term's ``term=0`` and ``term=1`` profiles with the KM
    curves of the subjects with that term at 0 and 1. The KM curves are unadjusted (marginal
    over the other covariates), the model curves are conditional on the others at their means:
    close agreement is expected only roughly; the posterior predictive check is the formal
    comparison.

    Parameters
    ----------
    surv : DataFrame
        ``survival.csv`` table (``profile, time, surv_median, surv_low, surv_high``).
    time, event : ndarray
        Observed data.
    design_X : ndarray, shape (n, p)
        Uncentred design (for the KM subgroups).
    terms : list of str
        Term names (columns of ``design_X``).
    max_panels : int
        At most this many panels.
    """
    names = list(dict.fromkeys(surv["profile"]))
    panels: list[tuple[str, list[tuple[str, np.ndarray]]]] = []
    first = names[0]
    panels.append((first, [(first, np.ones(len(time), bool))]))
    for k, term in enumerate(terms):
        if f"{term}=0" in names and f"{term}=1" in names:
            col = design_X[:, k]
            panels.append((term, [(f"{term}=0", col == 0), (f"{term}=1", col == 1)]))
    panels = panels[:max_panels]
    ncol = min(3, len(panels))
    nrow = int(np.ceil(len(panels) / ncol))
    fig = Figure(figsize=(4.2 * ncol, 3.2 * nrow))
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharey=True, squeeze=False)).ravel()
    colours = [BAND, BAD]
    for ax, (title, curves) in zip(axes, panels, strict=False):
        for c, (prof, mask) in enumerate(curves):
            d = surv[surv["profile"] == prof]
            ax.fill_between(
                d["time"], d["surv_low"], d["surv_high"], color=colours[c], alpha=0.2, lw=0
            )
            ax.plot(d["time"], d["surv_median"], color=colours[c], lw=1.5, label=f"model {prof}")
            if len(curves) == 1:
                _km_step(ax, time, event, "Kaplan–Meier (95% CI)", ci=True)
            else:
                m = np.asarray(mask)
                label = f"KM {prof} (n={int(m.sum())})"
                _km_step(ax, time[m], event[m], label, ci=False, color=colours[c], ls=":")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, loc="lower left")
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-ncol:]:
        ax.set_xlabel("time")
    fig.supylabel("survival")
    fig.tight_layout()
    return fig


def ppc_plot(ppc: PPCResult) -> Figure:
    """Observed Kaplan–Meier over the replicate band, and events per interval."""
    fig = Figure(figsize=(11.0, 3.8))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1.0]})
    ax.fill_between(
        ppc.grid,
        ppc.low,
        ppc.high,
        color=BAND,
        alpha=0.25,
        lw=0,
        label=f"replicate KM, {ppc.ci_prob:.0%} band",
    )
    ax.plot(ppc.grid, ppc.median, color=BAND, lw=1, label="replicate KM, median")
    ax.step(ppc.grid, ppc.observed, where="post", color=KM, lw=1.5, label="observed KM")
    outside = (ppc.observed < ppc.low) | (ppc.observed > ppc.high)
    if outside.any():
        ax.plot(
            ppc.grid[outside], ppc.observed[outside], "x", color=BAD, ms=4, label="outside band"
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("time")
    ax.set_ylabel("survival")
    ax.set_title(
        f"Posterior predictive KM: observed inside band on {ppc.coverage:.0%} of grid", fontsize=10
    )
    ax.legend(fontsize=8, loc="lower left")
    ev = ppc.events
    x = np.arange(len(ev))
    bx.vlines(
        x,
        ev["rep_low"],
        ev["rep_high"],
        color=BAND,
        lw=6,
        alpha=0.35,
        label=f"replicates, {ppc.ci_prob:.0%}",
    )
    bx.plot(x, ev["rep_mean"], "_", color=BAND, ms=14)
    extreme = (ev["ppp"] < 0.025) | (ev["ppp"] > 0.975)
    bx.plot(x, ev["observed"], "o", color=KM, label="observed")
    if extreme.any():
        bx.plot(x[extreme], ev["observed"][extreme], "o", color=BAD, label="p < 0.025 or > 0.975")
    bx.set_xticks(x, ev["interval"], rotation=45, ha="right", fontsize=7)
    bx.set_ylabel("events")
    bx.set_title("Events per interval", fontsize=10)
    bx.legend(fontsize=8)
    fig.tight_layout()
    return fig


def trace_rank_plot(idata: xr.DataTree, labels: list[str]) -> Figure:
    """Trace (per chain) and rank histograms (per chain) of the named scalar parameters.

    Rank histograms (Vehtari et al. 2021) of well-mixed chains are flat; a chain whose
    histogram leans left or right explores a different region than the others.
    """
    fig = Figure(figsize=(10.0, 2.0 * len(labels) + 0.4))
    axes = fig.subplots(len(labels), 2, squeeze=False, gridspec_kw={"width_ratios": [2.2, 1.0]})
    for row, label in enumerate(labels):
        draws = parameter_draws(idata, label).transpose("chain", "draw").to_numpy()
        chains, n = draws.shape
        ranks = stats.rankdata(draws.ravel()).reshape(draws.shape)
        bins = np.linspace(0, chains * n, min(20, max(4, n // 10)) + 1)
        for c in range(chains):
            axes[row, 0].plot(draws[c], lw=0.6, alpha=0.8, label=f"chain {c}")
            hist, _ = np.histogram(ranks[c], bins=bins)
            axes[row, 1].step(bins[:-1], hist, where="post", lw=1)
        axes[row, 1].axhline(n / (len(bins) - 1), color="grey", ls="--", lw=0.8)
        axes[row, 0].set_ylabel(label, fontsize=8)
        axes[row, 1].set_yticks([])
    axes[0, 0].set_title("trace", fontsize=10)
    axes[0, 1].set_title("rank histogram per chain", fontsize=10)
    axes[-1, 0].set_xlabel("draw")
    axes[-1, 1].set_xlabel("rank (all chains)")
    fig.tight_layout()
    return fig


def prior_predictive_plot(
    prior: PriorDraws, profile: Profile, t_max: float, times: list[float], *, n_lines: int = 40
) -> Figure:
    """Prior survival curves of one profile: 50% and 95% bands and a few single draws."""
    from necc_bayes.survival.prior_predictive import prior_survival_curves

    grid = np.linspace(0.0, max(t_max, *times), 200)
    S = prior_survival_curves(prior, profile, grid)
    fig = Figure(figsize=(7.0, 3.8))
    ax = fig.subplots()
    for lo, hi, a in [(0.025, 0.975, 0.15), (0.25, 0.75, 0.3)]:
        ax.fill_between(
            grid,
            np.quantile(S, lo, 0),
            np.quantile(S, hi, 0),
            color=BAND,
            alpha=a,
            lw=0,
            label=f"prior {hi - lo:.0%} band",
        )
    rng = np.random.default_rng(0)
    for k in rng.choice(S.shape[0], size=min(n_lines, S.shape[0]), replace=False):
        ax.plot(grid, S[k], color="grey", lw=0.4, alpha=0.5)
    ax.plot(grid, np.median(S, 0), color=BAND, lw=1.5, label="prior median")
    for t in times:
        ax.axvline(t, color="grey", ls=":", lw=0.8)
    ax.axvline(t_max, color=BAD, ls="--", lw=0.8, label="largest follow-up")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("time")
    ax.set_ylabel("survival")
    ax.set_title(f"Prior predictive survival, profile '{profile.name}'", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
