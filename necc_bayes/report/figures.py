"""Figures of a fit, drawn with matplotlib's object API (no pyplot state, Agg canvas).

Every function takes plain data (DataFrames, arrays and the small types below, filled by the
layer that computes them) and returns a :class:`matplotlib.figure.Figure`; :func:`to_data_uri`
turns one into an SVG or PNG ``data:`` URI for a self-contained HTML page (and closes nothing:
figures made with ``Figure()`` are not tracked by pyplot and are freed by garbage collection).
"""

from __future__ import annotations

import base64
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
from markupsafe import Markup
from scipy import stats

from necc_bayes.data.reference import KMStep
from necc_bayes.report.html import figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BAND = "#4c72b0"
KM = "#222222"
BAD = "#c44e52"


@dataclass(frozen=True)
class KMOverlay:
    """A Kaplan–Meier curve drawn over one model profile's posterior survival band.

    ``band=True`` draws it black with its 95% confidence band (the whole cohort); otherwise
    dotted, in the profile's colour (a subgroup).
    """

    profile: str
    label: str
    km: KMStep | None
    band: bool = False


@dataclass(frozen=True)
class SurvivalPanel:
    """One panel of the survival figure: its title and the profiles (with KM curves) in it."""

    title: str
    overlays: list[KMOverlay]


class PPCView(Protocol):
    """What the posterior predictive figure and section show (the PPC result has it)."""

    @property
    def grid(self) -> np.ndarray:
        """Time grid (excluding 0)."""

    @property
    def observed(self) -> np.ndarray:
        """Observed Kaplan–Meier curve on the grid."""

    @property
    def low(self) -> np.ndarray:
        """Lower pointwise quantile of the replicate KM curves."""

    @property
    def median(self) -> np.ndarray:
        """Pointwise median of the replicate KM curves."""

    @property
    def high(self) -> np.ndarray:
        """Upper pointwise quantile of the replicate KM curves."""

    @property
    def ci_prob(self) -> float:
        """Probability of the band."""

    @property
    def coverage(self) -> float:
        """Share of the grid where the observed curve is inside the band."""

    @property
    def events(self) -> pd.DataFrame:
        """Per interval: ``interval, observed, rep_mean, rep_low, rep_high, ppp``."""

    @property
    def n_replicates(self) -> int:
        """Number of replicate cohorts."""

    @property
    def censoring(self) -> str:
        """How replicate censoring times were drawn."""


@dataclass(frozen=True)
class PriorBands:
    """Prior predictive survival of one profile, summarised for drawing.

    Attributes
    ----------
    profile : str
        Profile name.
    grid : ndarray, shape (G,)
        Times.
    median : ndarray, shape (G,)
        Pointwise prior median of ``S(t)``.
    bands : list of (float, ndarray, ndarray)
        ``(probability, low, high)`` central bands, widest first.
    lines : ndarray, shape (k, G)
        A few single prior draws of the curve.
    t_max : float
        Largest follow-up time.
    times : list of float
        The summary times (marked).
    """

    profile: str
    grid: np.ndarray
    median: np.ndarray
    bands: list[tuple[float, np.ndarray, np.ndarray]]
    lines: np.ndarray
    t_max: float
    times: list[float]


LEVEL_COLOURS = ["#55a868", "#8172b2", "#ccb974", "#64b5cd", "#937860", "#da8bc3"]
"""Curve colours of the third and later profiles in a survival panel."""


def _figure(**kwargs) -> Figure:
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def label_figure(fig: Figure, label: str | None) -> Figure:
    """Put ``label`` (e.g. the data's provenance) into the figure's title and return the figure.

    The label becomes the figure's suptitle, after any suptitle it already has; every file
    written by :func:`to_data_uri` or :func:`save_figure` records that title as its metadata
    (PNG ``Title``, SVG ``dc:title``), so the label can be read back without OCR.
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    if not label:
        return fig
    current = fig.get_suptitle()
    fig.suptitle(f"{current} — {label}" if current else label, fontsize=9)
    if not isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        fig.tight_layout()  # again, now around the title (constrained layout does it itself)
    return fig


def labelled_figure(
    fig: Figure, caption: str, alt: str, label: str | None = None, fmt: str = "svg"
) -> Markup:
    """Embed a figure in a page: a ``label`` (the data's provenance) joins title and caption."""
    label_figure(fig, label)
    text = f"{caption} Data: {label}." if label else caption
    return figure(to_data_uri(fig, fmt=fmt), text, alt)


def to_data_uri(fig: Figure, fmt: str = "svg", dpi: int = 110) -> str:
    """Return the figure as a ``data:image/svg+xml;base64,...`` or ``data:image/png`` URI.

    The figure is saved at its own size, drawn once: every figure of this package is laid out
    (``tight_layout``) when it is made, so cropping to the drawn extent
    (``bbox_inches="tight"``, which draws everything twice) would only trim the margin. SVG
    text stays ``<text>`` (font family DejaVu Sans, then the usual fallbacks ending in
    ``sans-serif``) rather than glyph outlines, and element ids come from a fixed salt, so the
    same figure gives the same bytes.
    """
    from matplotlib import rc_context

    buf = io.BytesIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "necc-bayes"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=_metadata(fig, fmt))
    mime = "image/svg+xml" if fmt == "svg" else f"image/{fmt}"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def save_figure(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write the figure to ``path`` (format from the suffix) with its title as metadata."""
    out = Path(path)
    fig.savefig(out, dpi=dpi, metadata=_metadata(fig, out.suffix.lstrip(".").lower() or "png"))
    return out


def _metadata(fig: Figure, fmt: str) -> dict[str, str | None]:
    meta: dict[str, str | None] = {}
    title = fig.get_suptitle()
    if title and fmt in ("svg", "png", "pdf"):
        meta["Title"] = title
    if fmt == "svg":  # no creation date, so the same fit gives byte-identical reports
        meta["Date"] = None
    return meta


def forest_plot(hr: pd.DataFrame, ci_prob: float = 0.95) -> Figure:
    """Hazard ratios: posterior median and equal-tailed interval per term (log scale).

    Parameters
    ----------
    hr : DataFrame
        ``hazard_ratios.csv`` table (``term, hr_median, hr_low, hr_high, p_hr_gt_1``).
    ci_prob : float
        Interval probability (for the axis label).
    """
    from matplotlib.ticker import NullFormatter

    n = len(hr)
    fig = _figure(figsize=(7.0, 0.45 * n + 1.3))
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
    ax.set_yticks(  # " \N{NO-BREAK SPACE}": two spaces that SVG text does not collapse into one
        y,
        [
            f"{t} \N{NO-BREAK SPACE}(P(HR>1) = {p:.2f})"
            for t, p in zip(hr.term, hr.p_hr_gt_1, strict=True)
        ],
    )
    ax.set_xlabel(f"hazard ratio (median, {ci_prob:.0%} equal-tailed interval)")
    ax.set_title("Posterior hazard ratios")
    fig.tight_layout()
    return fig


def _km_step(ax, overlay: KMOverlay, color: str) -> None:
    km = overlay.km
    if km is None:
        return
    colour, ls = (KM, "-") if overlay.band else (color, ":")
    ax.step(km.time, km.surv, where="post", color=colour, ls=ls, lw=1.3, label=overlay.label)
    if overlay.band and km.low is not None and km.high is not None:
        ax.fill_between(km.time, km.low, km.high, step="post", color=KM, alpha=0.1, lw=0)


def survival_plot(
    surv: pd.DataFrame, panels: list[SurvivalPanel], *, time_label: str = "time"
) -> Figure:
    """Posterior survival curves with bands, and Kaplan–Meier curves of the data.

    Each panel draws the named profiles' posterior median and pointwise band from ``surv``
    (blue, then red) and each profile's Kaplan–Meier overlay. With the default panels (the
    fit's) the first shows the ``covariate means`` profile with the whole cohort's KM curve
    (95% CI); each further one a 0/1 term's ``term=0`` and ``term=1`` profiles with the KM
    curves of the subjects with that term at 0 and 1. The KM curves are unadjusted (marginal
    over the other covariates), the model curves conditional on the others at their means:
    close agreement is expected only roughly; the posterior predictive check is the formal
    comparison.

    Parameters
    ----------
    surv : DataFrame
        ``survival.csv`` table (``profile, time, surv_median, surv_low, surv_high``).
    panels : list of SurvivalPanel
        What each panel shows (a categorical column's panel: one profile per level, in the
        colours after blue and red).
    time_label : str
        X-axis label (with the time unit, e.g. ``"time (days)"``).
    """
    ncol = min(3, len(panels))
    nrow = int(np.ceil(len(panels) / ncol))
    fig = _figure(figsize=(4.2 * ncol, 3.2 * nrow))
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharey=True, squeeze=False)).ravel()
    colours = [BAND, BAD, *LEVEL_COLOURS]
    for ax, panel in zip(axes, panels, strict=False):
        for c, overlay in enumerate(panel.overlays):
            prof = overlay.profile
            d = surv[surv["profile"] == prof]
            colour = colours[c % len(colours)]
            ax.fill_between(
                d["time"], d["surv_low"], d["surv_high"], color=colour, alpha=0.2, lw=0
            )
            ax.plot(d["time"], d["surv_median"], color=colour, lw=1.5, label=f"model {prof}")
            _km_step(ax, overlay, colour)
        ax.set_title(panel.title, fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, loc="lower left")
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-ncol:]:
        ax.set_xlabel(time_label)
    fig.supylabel("survival")
    fig.tight_layout()
    return fig


def ppc_plot(ppc: PPCView) -> Figure:
    """Observed Kaplan–Meier over the replicate band, and events per interval."""
    fig = _figure(figsize=(11.0, 3.8))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1.0]})
    if ppc.grid.size:
        _ppc_km_panel(ax, ppc)
    else:  # counting-process rows: no KM band (the check's censoring note says why)
        ax.axis("off")
        ax.text(0.02, 0.5, "\n".join(textwrap.wrap(ppc.censoring, 60)), fontsize=8, va="center")
        ax.set_title("Posterior predictive KM band: not computed", fontsize=10)
    _ppc_events_panel(bx, ppc)
    fig.tight_layout()
    return fig


def _ppc_km_panel(ax, ppc: PPCView) -> None:
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


def _ppc_events_panel(bx, ppc: PPCView) -> None:
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


def trace_rank_plot(draws_by_label: dict[str, np.ndarray]) -> Figure:
    """Trace (per chain) and rank histograms (per chain) of scalar parameters.

    Rank histograms (Vehtari et al. 2021) of well-mixed chains are flat; a chain whose
    histogram leans left or right explores a different region than the others.

    Parameters
    ----------
    draws_by_label : dict of str to ndarray, shape (chain, draw)
        One scalar parameter's draws per label, in the order to draw them.
    """
    labels = list(draws_by_label)
    fig = _figure(figsize=(10.0, 2.0 * len(labels) + 0.4))
    axes = fig.subplots(len(labels), 2, squeeze=False, gridspec_kw={"width_ratios": [2.2, 1.0]})
    for row, label in enumerate(labels):
        draws = np.asarray(draws_by_label[label])
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


def prior_predictive_plot(prior: PriorBands) -> Figure:
    """Prior survival curves of one profile: central bands and a few single draws."""
    grid = prior.grid
    fig = _figure(figsize=(7.0, 3.8))
    ax = fig.subplots()
    for (prob, low, high), a in zip(prior.bands, [0.15, 0.3], strict=False):
        ax.fill_between(grid, low, high, color=BAND, alpha=a, lw=0, label=f"prior {prob:.0%} band")
    for line in prior.lines:
        ax.plot(grid, line, color="grey", lw=0.4, alpha=0.5)
    ax.plot(grid, prior.median, color=BAND, lw=1.5, label="prior median")
    for t in prior.times:
        ax.axvline(t, color="grey", ls=":", lw=0.8)
    ax.axvline(prior.t_max, color=BAD, ls="--", lw=0.8, label="largest follow-up")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("time")
    ax.set_ylabel("survival")
    ax.set_title(f"Prior predictive survival, profile '{prior.profile}'", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
