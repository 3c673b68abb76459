"""Figures of the response-rate comparison, drawn from plain curves (matplotlib, Agg).

The curves are computed by :mod:`necc_bayes.response` (:func:`~necc_bayes.response.
operating_characteristics.oc_curves`, :meth:`~necc_bayes.response.comparison.OrrComparison.
curves`); the functions here draw them and write the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from necc_bayes.report.figures import label_figure, save_figure


@dataclass(frozen=True)
class OCCurves:
    """Exact probabilities of declaring benefit, over a grid of true rates.

    Attributes
    ----------
    grid : ndarray
        True treated rates (power) and common rates (type-I error).
    power : dict of (float, float) to ndarray
        ``(threshold c, true control rate) -> P(declare)`` along ``grid``.
    type_one : dict of float to ndarray
        ``threshold c -> P(declare)`` when ``p_t = p_c = grid``.
    n_treated, n_control : int
        Arm sizes.
    prior : str
        The prior (as text).
    """

    grid: np.ndarray
    power: dict[tuple[float, float], np.ndarray]
    type_one: dict[float, np.ndarray]
    n_treated: int
    n_control: int
    prior: str


@dataclass(frozen=True)
class ArmCurves:
    """One arm's prior and posterior densities of the response probability."""

    label: str
    responders: int
    assessed: int
    posterior: np.ndarray
    prior: np.ndarray


@dataclass(frozen=True)
class PosteriorCurves:
    """Densities of both arms on ``x`` and the summary of the difference ``p_t - p_c``."""

    x: np.ndarray
    arms: list[ArmCurves]
    diff_mean: float
    diff_low: float
    diff_high: float
    p_treated_better: float


def plot_operating_characteristics(
    curves: OCCurves, path: str | Path, *, label: str | None = None
) -> Path:
    """Power curves against the true treated rate, and type-I error against a common rate.

    Parameters
    ----------
    curves : OCCurves
        Probabilities of declaring benefit.
    path : str or Path
        Output file (format from the suffix, e.g. ``.png`` or ``.svg``).
    label : str, optional
        Appended to the figure's title (e.g. where the arm sizes come from).

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = curves.grid
    fig, (ax_pow, ax_t1) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    styles = ["-", "--", ":", "-."]
    for i, c in enumerate(curves.type_one):
        style = styles[i % len(styles)]
        for (cc, pc), power in curves.power.items():
            if cc == c:
                ax_pow.plot(grid, power, style, label=f"c={c:g}, p_c={pc:g}")
        ax_t1.plot(grid, curves.type_one[c], style, label=f"c={c:g}")
        ax_t1.axhline(1 - c, color="grey", lw=0.6, ls=style)
    ax_pow.set(
        xlabel="true treated response rate p_t",
        ylabel="P(declare benefit)",
        title=f"Power, n_t={curves.n_treated} vs n_c={curves.n_control}",
    )
    ax_t1.set(
        xlabel="common true rate p_t = p_c",
        ylabel="P(declare benefit)",
        title="Type-I error (grey: 1 - c)",
    )
    ax_pow.legend(fontsize=7)
    ax_t1.legend(fontsize=7)
    fig.suptitle(
        f"Rule: P(p_t > p_c | data) > c; prior {curves.prior}; "
        f"n_t={curves.n_treated} vs n_c={curves.n_control}",
        fontsize=9,
    )
    out = save_figure(label_figure(fig, label), path, dpi=100)
    plt.close(fig)
    return out


def plot_posteriors(curves: PosteriorCurves, path: str | Path) -> Path:
    """Posterior densities of the two response rates and the interval of the difference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = curves.x
    fig, (ax_p, ax_d) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for arm in curves.arms:
        ax_p.plot(x, arm.posterior, label=f"{arm.label} {arm.responders}/{arm.assessed}")
        ax_p.plot(x, arm.prior, lw=0.7, ls="--", label=f"{arm.label} prior")
    ax_p.set(xlabel="response probability", ylabel="density", title="Posteriors")
    ax_p.legend(fontsize=7)
    ax_d.axvspan(curves.diff_low, curves.diff_high, color="C0", alpha=0.2, label="95% CrI")
    ax_d.axvline(0.0, color="grey", lw=0.8)
    ax_d.axvline(curves.diff_mean, color="C0", label=f"mean {curves.diff_mean:+.3f}")
    ax_d.set(
        xlabel="p_treated - p_control",
        title=f"Difference: P(p_t > p_c) = {curves.p_treated_better:.3f}",
        xlim=(-1, 1),
    )
    ax_d.legend(fontsize=7)
    out = save_figure(fig, path, dpi=100)
    plt.close(fig)
    return out
