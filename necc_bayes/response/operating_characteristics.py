"""Operating characteristics of the rule "declare benefit if P(p_t > p_c | data) > c".

Exact, not simulated: with ``n_t`` and ``n_c`` patients there are only
``(n_t + 1)(n_c + 1)`` possible outcomes ``(x_t, x_c)``. :func:`decision_matrix` computes
the exact posterior probability ``P(p_t > p_c | x_t, x_c)`` for each (closed-form posteriors,
one quadrature each), and the probability of declaring benefit under true rates
``(p_t, p_c)`` is then the binomial-weighted sum

``sum_{x_t, x_c} Bin(x_t; n_t, p_t) Bin(x_c; n_c, p_c) 1[P(x_t, x_c) > c]``,

a matrix product (:func:`prob_declare`). At ``p_t = p_c`` it is the type-I error, for
``p_t > p_c`` the power. :func:`simulate_declare` is a Monte Carlo cross-check.

Priors that depend on the data (``skeptical:SD`` and ``robust:SD`` centred on the pooled
rate) are resolved per outcome, exactly as the analysis would. Where such a prior does not
exist (a pooled rate so extreme that no Beta has the requested SD), the analysis would refuse
to run; those outcomes count as "not declared" and their probability is reported as
``p_undefined``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from necc_bayes.errors import DataError, Problem, SpecError
from necc_bayes.report.orr_figures import OCCurves
from necc_bayes.response import beta_binomial as bb
from necc_bayes.response.inputs import PriorSpec, parse_prior

STUDY_SIZES = (16, 41)
DEFAULT_THRESHOLDS = (0.9, 0.95)
DEFAULT_P_CONTROL = (0.1, 0.22, 0.3)
DEFAULT_P_TREATED_STEPS = (0.0, 0.1, 0.2, 0.3, 0.4)


@dataclass(frozen=True)
class DecisionMatrix:
    """Exact ``P(p_t > p_c | x_t, x_c)`` for every outcome of a two-arm trial.

    Attributes
    ----------
    n_treated, n_control : int
        Arm sizes.
    prior_treated, prior_control : str
        Prior texts.
    prob : ndarray, shape (n_treated + 1, n_control + 1)
        Posterior probabilities; NaN where the prior is undefined for that outcome.
    """

    n_treated: int
    n_control: int
    prior_treated: str
    prior_control: str
    prob: np.ndarray

    def declare(self, threshold: float) -> np.ndarray:
        """0/1 matrix: benefit declared (``prob > threshold``); undefined outcomes give 0."""
        return np.where(np.isnan(self.prob), 0.0, (self.prob > threshold).astype(float))


def _check_size(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise DataError(
            name, [Problem("assessed_positive", f"{name} must be an integer > 0", name)]
        )
    return int(n)


def _spec(prior: str | PriorSpec, source: str) -> PriorSpec:
    return parse_prior(prior, source) if isinstance(prior, str) else prior


def decision_matrix(
    n_treated: int,
    n_control: int,
    prior: str | PriorSpec = "uniform",
    *,
    prior_treated: str | PriorSpec | None = None,
    prior_control: str | PriorSpec | None = None,
) -> DecisionMatrix:
    """Compute ``P(p_t > p_c | x_t, x_c)`` for every possible outcome.

    Parameters
    ----------
    n_treated, n_control : int
        Arm sizes (> 0).
    prior, prior_treated, prior_control : str or PriorSpec
        As in :func:`necc_bayes.response.comparison.compare`.

    Returns
    -------
    DecisionMatrix
    """
    nt, nc = _check_size(n_treated, "n_treated"), _check_size(n_control, "n_control")
    spec_t = _spec(prior if prior_treated is None else prior_treated, "prior (treated)")
    spec_c = _spec(prior if prior_control is None else prior_control, "prior (control)")
    out = np.full((nt + 1, nc + 1), np.nan)
    cache: dict[tuple[str, float], bb.BetaMixture | None] = {}

    def resolved(spec: PriorSpec, pooled: float) -> bb.BetaMixture | None:
        key = (spec.text, pooled if spec.kind in ("skeptical", "robust") else -1.0)
        if key not in cache:
            try:
                cache[key] = spec.resolve(pooled)
            except SpecError:
                cache[key] = None
        return cache[key]

    for xt in range(nt + 1):
        for xc in range(nc + 1):
            pooled = (xt + xc) / (nt + nc)
            pri_t, pri_c = resolved(spec_t, pooled), resolved(spec_c, pooled)
            if pri_t is None or pri_c is None:
                continue
            out[xt, xc] = bb.prob_diff_greater(
                bb.posterior(pri_t, xt, nt), bb.posterior(pri_c, xc, nc)
            )
    return DecisionMatrix(nt, nc, spec_t.text, spec_c.text, out)


def _pmf(n: int, p: np.ndarray) -> np.ndarray:
    """Binomial probabilities, shape (n + 1, len(p))."""
    return stats.binom.pmf(np.arange(n + 1)[:, None], n, np.asarray(p, dtype=float)[None, :])


def _check_rates(p: np.ndarray, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(p, dtype=float))
    if not np.all((arr >= 0) & (arr <= 1)):
        raise DataError(
            name, [Problem("rate_in_unit_interval", "true rates must be in [0, 1]", name)]
        )
    return arr


Rates = Sequence[float] | np.ndarray


def prob_declare(
    dm: DecisionMatrix, threshold: float, p_treated: Rates, p_control: Rates
) -> np.ndarray:
    """Exact probability of declaring benefit for each pair ``(p_treated[i], p_control[i])``.

    Returns
    -------
    ndarray
        Same length as the inputs (which are broadcast together).
    """
    pt, pc = np.broadcast_arrays(
        _check_rates(np.asarray(p_treated), "p_treated"),
        _check_rates(np.asarray(p_control), "p_control"),
    )
    d = dm.declare(threshold)
    return np.einsum("ig,ij,jg->g", _pmf(dm.n_treated, pt), d, _pmf(dm.n_control, pc))


def oc_curves(
    dm: DecisionMatrix,
    thresholds: Sequence[float] = (0.9, 0.95),
    p_control: Sequence[float] = (0.1, 0.22, 0.3),
    n_grid: int = 201,
) -> OCCurves:
    """Power against the true treated rate and type-I error against a common rate (exact).

    Parameters
    ----------
    dm : DecisionMatrix
        Exact posterior probabilities for every outcome.
    thresholds : sequence of float
        Decision thresholds ``c``.
    p_control : sequence of float
        True control rates, one power curve each per threshold.
    n_grid : int
        Points of the grid on [0, 1].

    Returns
    -------
    OCCurves
        For :func:`necc_bayes.report.orr_figures.plot_operating_characteristics`.
    """
    grid = np.linspace(0.0, 1.0, n_grid)
    return OCCurves(
        grid=grid,
        power={
            (c, pc): prob_declare(dm, c, grid, np.full_like(grid, pc))
            for c in thresholds
            for pc in p_control
        },
        type_one={c: prob_declare(dm, c, grid, grid) for c in thresholds},
        n_treated=dm.n_treated,
        n_control=dm.n_control,
        prior=dm.prior_treated,
    )


def prob_undefined(dm: DecisionMatrix, p_treated: Rates, p_control: Rates) -> np.ndarray:
    """Probability of an outcome for which the (data-dependent) prior is undefined."""
    pt, pc = np.broadcast_arrays(np.asarray(p_treated, float), np.asarray(p_control, float))
    u = np.isnan(dm.prob).astype(float)
    return np.einsum("ig,ij,jg->g", _pmf(dm.n_treated, pt), u, _pmf(dm.n_control, pc))


def max_type_one_error(
    dm: DecisionMatrix, threshold: float, n_grid: int = 201
) -> tuple[float, float]:
    """Largest type-I error over a common true rate on a grid in [0, 1].

    Returns
    -------
    tuple of float
        ``(max error, rate where it occurs)``.
    """
    p = np.linspace(0.0, 1.0, n_grid)
    err = prob_declare(dm, threshold, p, p)
    i = int(np.argmax(err))
    return float(err[i]), float(p[i])


def simulate_declare(
    dm: DecisionMatrix,
    threshold: float,
    p_treated: float,
    p_control: float,
    n_sims: int = 100_000,
    seed: int = 20260101,
) -> float:
    """Monte Carlo estimate of :func:`prob_declare` (simulated trials, exact posteriors)."""
    rng = np.random.default_rng(seed)
    xt = rng.binomial(dm.n_treated, p_treated, n_sims)
    xc = rng.binomial(dm.n_control, p_control, n_sims)
    return float(dm.declare(threshold)[xt, xc].mean())


def oc_table(
    n_treated: int = STUDY_SIZES[0],
    n_control: int = STUDY_SIZES[1],
    prior: str | PriorSpec = "uniform",
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    p_control: Sequence[float] = DEFAULT_P_CONTROL,
    steps: Sequence[float] = DEFAULT_P_TREATED_STEPS,
    dm: DecisionMatrix | None = None,
) -> pd.DataFrame:
    """Type-I error and power table: one row per (p_control, p_treated = p_control + step).

    Parameters
    ----------
    n_treated, n_control : int
        Arm sizes (default the study's 16 vs 41).
    prior : str or PriorSpec
        Prior for both arms.
    thresholds : sequence of float
        Values of ``c`` in (0, 1); one column ``declare_c<c>`` each.
    p_control : sequence of float
        True control rates.
    steps : sequence of float
        ``p_treated - p_control``; rows with ``p_treated`` outside [0, 1] are dropped. Step 0 is the
        type-I error.
    dm : DecisionMatrix, optional
        Reuse a precomputed matrix (must match the sizes).

    Returns
    -------
    DataFrame
        Columns ``n_treated, n_control, prior, p_control, p_treated, difference``, one
        ``declare_c...`` column per threshold, and ``p_undefined``.
    """
    for c in thresholds:
        if not 0.0 < c < 1.0:
            msg = f"threshold must be in (0, 1), got {c}"
            raise SpecError("--threshold", [Problem("threshold_range", msg, "--threshold")])
    dm = decision_matrix(n_treated, n_control, prior) if dm is None else dm
    pc = np.repeat(_check_rates(np.asarray(p_control), "p_control"), len(steps))
    pt = pc + np.tile(np.asarray(steps, dtype=float), len(p_control))
    keep = (pt >= -1e-12) & (pt <= 1.0 + 1e-12)
    pc, pt = pc[keep], np.round(np.clip(pt[keep], 0.0, 1.0), 12)
    table = pd.DataFrame(
        {
            "n_treated": dm.n_treated,
            "n_control": dm.n_control,
            "prior": dm.prior_treated,
            "p_control": pc,
            "p_treated": pt,
            "difference": np.round(pt - pc, 12),
        }
    )
    for c in thresholds:
        table[f"declare_c{c:g}"] = prob_declare(dm, c, pt, pc)
    table["p_undefined"] = prob_undefined(dm, pt, pc)
    return table


def format_oc_table(table: pd.DataFrame, dm: DecisionMatrix | None = None) -> str:
    """Readable text of :func:`oc_table` (plus the worst-case type-I error if ``dm`` given)."""
    cols = [c for c in table.columns if c.startswith("declare_c")]
    extra = ["p_undefined"] if table["p_undefined"].max() > 0 else []
    shown = table[["p_control", "p_treated", *cols, *extra]].copy()
    shown.columns = ["p_control", "p_treated", *[f"P(declare) c={c[9:]}" for c in cols], *extra]
    first = table.iloc[0]
    head = (
        f"Operating characteristics: declare benefit if P(p_t > p_c | data) > c; "
        f"n_treated={first['n_treated']}, n_control={first['n_control']}, prior {first['prior']}\n"
        "(exact binomial sums over all outcomes; rows with p_treated = p_control are type-I "
        "error, the others power)"
    )
    lines = [head, shown.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    if dm is not None:
        for c in cols:
            worst, at = max_type_one_error(dm, float(c[9:]))
            lines.append(
                f"max type-I error over a common rate, c={c[9:]}: {worst:.3f} at p={at:.3f}"
            )
    if table["p_undefined"].max() > 0:
        lines.append(
            "p_undefined > 0: for some outcomes the data-centred prior does not exist (pooled "
            "rate too extreme for the SD); they count as not declared. For design, fix the "
            "centre (skeptical:SD,M)."
        )
    return "\n".join(lines)
