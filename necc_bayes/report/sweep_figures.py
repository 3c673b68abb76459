"""Figures of the sensitivity sweeps and of simulation-based calibration (matplotlib, Agg)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from necc_bayes.report.figures import save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SWEEP_TITLES = {
    "prior_scale": "log-HR prior scale",
    "baseline": "baseline prior",
    "cut_points": "cut points",
    "case_deletion": "case deletion",
    "screen": "univariate screen",
}


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_sensitivity(table: pd.DataFrame, *, terms: list[str] | None = None) -> Figure:
    """HR median (point) and CrI (line) per setting, one panel per term, log scale.

    Settings are grouped by sweep (separated by a rule and labelled); a hollow marker means
    the refit failed its convergence checks. The dotted line is HR = 1.

    Parameters
    ----------
    table : DataFrame
        Rows as ``sensitivity.csv``.
    terms : list of str, optional
        Terms to show (default: all, in table order).

    Returns
    -------
    matplotlib.figure.Figure
    """
    terms = terms or list(dict.fromkeys(table["term"]))
    rows = table.drop_duplicates(["sweep", "setting"])[["sweep", "setting"]]
    labels = [f"{s}" for s in rows["setting"]]
    n = len(rows)
    fig = _new_figure(3.2 * len(terms) + 2.8, 0.24 * n + 1.2)
    axes = fig.subplots(1, len(terms), sharey=True, squeeze=False)[0]
    y = np.arange(n)[::-1]
    pos = {(sw, st): yy for (sw, st), yy in zip(rows.itertuples(index=False), y, strict=True)}
    sweeps = list(dict.fromkeys(rows["sweep"]))
    colours = {sw: f"C{i}" for i, sw in enumerate(sweeps)}
    for ax, term in zip(axes, terms, strict=True):
        sub = table[table["term"] == term]
        for r in sub.itertuples(index=False):
            yy = pos[(r.sweep, r.setting)]
            c = colours[r.sweep]
            ax.plot([r.hr_low, r.hr_high], [yy, yy], color=c, lw=1.5)
            ax.plot(
                r.hr_median,
                yy,
                "o",
                color=c,
                mfc=c if r.diagnostics_passed else "white",
                ms=4,
            )
        ax.axvline(1.0, color="0.4", ls=":", lw=1)
        ax.set_xscale("log")
        _hr_ticks(ax, sub)
        ax.set_title(term, fontsize=9)
        ax.set_xlabel("hazard ratio (median, 95% CrI)", fontsize=8)
        ax.tick_params(labelsize=7)
        for sw in sweeps[1:]:
            first = max(pos[(a, b)] for a, b in rows.itertuples(index=False) if a == sw)
            ax.axhline(first + 0.5, color="0.8", lw=0.8)
    axes[0].set_yticks(y, labels, fontsize=7)
    for sw in sweeps:
        axes[0].plot([], [], color=colours[sw], label=SWEEP_TITLES.get(sw, sw))
    fig.legend(fontsize=7, loc="outside lower center", ncols=len(sweeps), frameon=False)
    return fig


def _hr_ticks(ax, sub: pd.DataFrame) -> None:
    """Plain-number ticks at powers of two covering the intervals (and 1)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    lo = min(float(sub["hr_low"].min()), 1.0)
    hi = max(float(sub["hr_high"].max()), 1.0)
    ticks = [2.0**k for k in range(int(np.floor(np.log2(lo))), int(np.ceil(np.log2(hi))) + 1)]
    if len(ticks) > 8:
        ticks = ticks[:: int(np.ceil(len(ticks) / 8))]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


@dataclass(frozen=True)
class SBCCurves:
    """ECDF differences of SBC ranks with their simultaneous band, ready to draw.

    Attributes
    ----------
    z : ndarray
        Fractional ranks at which the band is given.
    lower, upper : ndarray
        Simultaneous band of the ECDF at ``z`` (drawn as ``lower - z``, ``upper - z``).
    curves : dict of str to (ndarray, ndarray)
        Per parameter: fractional ranks and ECDF minus uniform CDF.
    n_sims : int
        Number of simulations.
    """

    z: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    n_sims: int


def plot_sbc(sbc: SBCCurves) -> Figure:
    """ECDF-difference plot of SBC ranks with simultaneous bands, one panel per parameter.

    Parameters
    ----------
    sbc : SBCCurves
        Band and per-parameter ECDF differences (Säilynoja, Bürkner & Vehtari 2022).

    Returns
    -------
    matplotlib.figure.Figure
    """
    params = list(sbc.curves)
    ncol = min(4, len(params))
    nrow = int(np.ceil(len(params) / ncol))
    fig = _new_figure(3.0 * ncol, 2.3 * nrow)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    z = sbc.z
    for ax, p in zip(axes, params, strict=False):
        x, diff = sbc.curves[p]
        ax.fill_between(z, sbc.lower - z, sbc.upper - z, color="0.85", step="post")
        ax.step(x, diff, where="post", color="C0", lw=1)
        ax.axhline(0.0, color="0.4", lw=0.6)
        ax.set_title(p, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"SBC: ECDF difference of fractional ranks, {sbc.n_sims} simulations", fontsize=9
    )
    return fig


def to_svg(fig: Figure) -> str:
    """The figure as an SVG document (for embedding in HTML)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def save(fig: Figure, path: str) -> None:
    """Write the figure (format from the file suffix; its title recorded as metadata)."""
    save_figure(fig, path, dpi=150)
