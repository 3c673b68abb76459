"""Figures for the response-rate comparison (matplotlib, Agg backend, written to files)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from necc_bayes.response.comparison import OrrComparison
from necc_bayes.response.operating_characteristics import (
    DecisionMatrix,
    prob_declare,
)


def plot_operating_characteristics(
    dm: DecisionMatrix,
    path: str | Path,
    thresholds: Sequence[float] = (0.9, 0.95),
    p_control: Sequence[float] = (0.1, 0.22, 0.3),
) -> Path:
    """Power curves against the true treated rate, and type-I error against a common rate.

    Parameters
    ----------
    dm : DecisionMatrix
        Exact posterior probabilities for every outcome.
    path : str or Path
        Output file (format from the suffix, e.g. ``.png`` or ``.svg``).
    thresholds : sequence of float
        Decision thresholds ``c``.
    p_control : sequence of float
        True control rates, one power curve each per threshold.

    Returns
    -------
    Path
    """
    grid = np.linspace(0.0, 1.0, 201)
    fig, (ax_pow, ax_t1) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    styles = ["-", "--", ":", "-."]
    for i, c in enumerate(thresholds):
        for pc in p_control:
            ax_pow.plot(
                grid,
                prob_declare(dm, c, grid, np.full_like(grid, pc)),
                styles[i % len(styles)],
                label=f"c={c:g}, p_c={pc:g}",
            )
        ax_t1.plot(grid, prob_declare(dm, c, grid, grid), styles[i % len(styles)], label=f"c={c:g}")
        ax_t1.axhline(1 - c, color="grey", lw=0.6, ls=styles[i % len(styles)])
    ax_pow.set(
        xlabel="true treated response rate p_t",
        ylabel="P(declare benefit)",
        title=f"Power, n_t={dm.n_treated} vs n_c={dm.n_control}",
    )
    ax_t1.set(
        xlabel="common true rate p_t = p_c",
        ylabel="P(declare benefit)",
        title="Type-I error (grey: 1 - c)",
    )
    ax_pow.legend(fontsize=7)
    ax_t1.legend(fontsize=7)
    fig.suptitle(f"Rule: P(p_t > p_c | data) > c; prior {dm.prior_treated}", fontsize=9)
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_posteriors(result: OrrComparison, path: str | Path) -> Path:
    """Posterior densities of the two response rates and the exact CDF of the difference."""
    x = np.linspace(0.0, 1.0, 401)
    fig, (ax_p, ax_d) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for label, arm in (("treated", result.treated), ("control", result.control)):
        ax_p.plot(x, arm.posterior.pdf(x), label=f"{label} {arm.responders}/{arm.assessed}")
        ax_p.plot(x, arm.prior.pdf(x), lw=0.7, ls="--", label=f"{label} prior")
    ax_p.set(xlabel="response probability", ylabel="density", title="Posteriors")
    ax_p.legend(fontsize=7)
    ax_d.axvspan(result.diff_low, result.diff_high, color="C0", alpha=0.2, label="95% CrI")
    ax_d.axvline(0.0, color="grey", lw=0.8)
    ax_d.axvline(result.diff_mean, color="C0", label=f"mean {result.diff_mean:+.3f}")
    ax_d.set(
        xlabel="p_treated - p_control",
        title=f"Difference: P(p_t > p_c) = {result.p_treated_better:.3f}",
        xlim=(-1, 1),
    )
    ax_d.legend(fontsize=7)
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
