"""Survival curves with pointwise and simultaneous bands (``PEMResult.plot_survival``).

Takes plain data: a table of curves (``curve, time, surv_median, surv_low, surv_high, sim_low,
sim_high``) and optional Kaplan–Meier steps, and returns a matplotlib Figure (object API,
no pyplot state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PALETTE = ["#4c72b0", "#c44e52", "#55a868", "#8172b2", "#ccb974", "#64b5cd", "#937860"]
"""Curve colours, cycled."""

Band = Literal["both", "pointwise", "simultaneous"]


def curve_band_plot(
    curves: pd.DataFrame,
    *,
    km: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    time_label: str = "time",
    t_max: float | None = None,
    band: Band = "both",
    ci_prob: float = 0.95,
    title: str = "",
) -> Figure:
    """One posterior survival curve per ``curve`` label with its bands.

    Parameters
    ----------
    curves : DataFrame
        ``curve, time, surv_median, surv_low, surv_high, sim_low, sim_high``.
    km : dict, optional
        Label -> ``(times, survival)`` Kaplan–Meier steps, drawn as dotted steps in the colour
        of the curve with the same label (black when no curve has it).
    time_label : str
        X-axis label (with the unit, e.g. ``"time (days)"``).
    t_max : float, optional
        Largest follow-up time: the part of the axis beyond it is shaded and labelled
        extrapolated.
    band : {"both", "pointwise", "simultaneous"}
        Which bands to draw: pointwise (shaded) and/or simultaneous (dashed limits).
    ci_prob : float
        Band probability (legend).
    title : str
        Axes title.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 4.4))
    ax = fig.subplots()
    labels = list(dict.fromkeys(curves["curve"]))
    for k, label in enumerate(labels):
        colour = PALETTE[k % len(PALETTE)]
        d = curves[curves["curve"] == label]
        if band in ("both", "pointwise"):
            ax.fill_between(d["time"], d["surv_low"], d["surv_high"], color=colour, alpha=0.18,
                            lw=0)
        if band in ("both", "simultaneous"):
            ax.plot(d["time"], d["sim_low"], color=colour, lw=0.9, ls="--")
            ax.plot(d["time"], d["sim_high"], color=colour, lw=0.9, ls="--")
        ax.plot(d["time"], d["surv_median"], color=colour, lw=1.8, label=label)
    for label, (t, s) in (km or {}).items():
        colour = PALETTE[labels.index(label) % len(PALETTE)] if label in labels else "black"
        ax.step(t, s, where="post", color=colour, lw=1.0, ls=":", label=f"KM {label}")
    if t_max is not None and float(curves["time"].max()) > t_max:
        ax.axvspan(t_max, float(curves["time"].max()), color="grey", alpha=0.12, lw=0)
        ax.text(t_max, 1.0, " beyond follow-up (extrapolated)", fontsize=7, va="top")
    which = {
        "both": f"shaded: {ci_prob:.0%} pointwise band; dashed: {ci_prob:.0%} simultaneous band",
        "pointwise": f"shaded: {ci_prob:.0%} pointwise band",
        "simultaneous": f"dashed: {ci_prob:.0%} simultaneous band",
    }[band]
    ax.set_xlabel(time_label)
    ax.set_ylabel("survival probability")
    ax.set_ylim(0.0, 1.02)
    ax.set_title(title or "Posterior survival (median)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right", title=which, title_fontsize=7)
    fig.tight_layout()
    return fig
