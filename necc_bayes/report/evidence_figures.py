"""Prior, likelihood and posterior of each informed term on one plot (rendering only).

Takes plain data -- one panel per term with a grid of log hazard ratios and named density
curves on it -- and draws them on the hazard-ratio scale (log axis). What the curves are and
how they were computed is the caller's business (see
:mod:`necc_bayes.studies.necc.evidence`); nothing is computed here but the drawing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker

from necc_bayes.report.figures import label_figure, save_figure

_STYLES = {  # per kind (first word of the curve's name): colours cycle within a kind
    "prior": ("--", ("tab:blue", "tab:purple", "tab:cyan")),
    "likelihood": (":", ("grey",)),
    "posterior": ("-", ("black", "tab:blue", "tab:orange", "tab:green")),
}


@dataclass(frozen=True)
class DensityPanel:
    """One term's curves.

    Attributes
    ----------
    title : str
        Panel title (e.g. the term and the prior's source).
    log_hr : ndarray
        Grid of log hazard ratios.
    curves : dict
        Name -> density on ``log_hr`` (per unit log-HR); names ``prior``, ``likelihood``,
        ``posterior`` get fixed styles, any other name the default cycle.
    note : str
        Text under the title (e.g. ESS and conflict numbers).
    """

    title: str
    log_hr: np.ndarray
    curves: Mapping[str, np.ndarray] = field(default_factory=dict)
    note: str = ""


def plot_density_panels(
    panels: Sequence[DensityPanel], path: str | Path, *, label: str | None = None
) -> Path:
    """Draw one panel per term side by side and write the figure to ``path``.

    Parameters
    ----------
    panels : sequence of DensityPanel
        The curves of each informed term.
    path : str or Path
        Output file (format from the suffix).
    label : str, optional
        The data's provenance, put in the figure's title (and its file's metadata).

    Returns
    -------
    Path
    """
    n = max(len(panels), 1)
    fig, axes = plt.subplots(1, n, figsize=(5.6 * n, 4.2), constrained_layout=True,
                             squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=False):
        hr = np.exp(panel.log_hr)
        used: dict[str, int] = {}
        for name, dens in panel.curves.items():
            kind = name.split(" ")[0]
            ls, colours = _STYLES.get(kind, ("-", (None,)))
            k = used.get(kind, 0)
            used[kind] = k + 1
            ax.plot(hr, dens, label=name, lw=1.6, ls=ls, color=colours[k % len(colours)])
        ax.axvline(1.0, color="lightgrey", lw=0.8)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xticks([t for t in (0.25, 0.5, 1, 2, 4, 8, 16) if hr[0] <= t <= hr[-1]])
        ax.set(xlabel="hazard ratio (log scale)", ylabel="density per unit log-HR")
        ax.set_title(textwrap.fill(panel.title, 60), fontsize=8)
        if panel.note:
            ax.text(0.02, 0.97, panel.note, transform=ax.transAxes, va="top", fontsize=7)
        ax.legend(fontsize=7, loc="upper right")
    out = save_figure(label_figure(fig, label), path, dpi=120)
    plt.close(fig)
    return out
