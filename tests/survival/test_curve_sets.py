"""Curve sets (strata, frailty conventions) and population-averaged curves (no sampling).

References: the population-averaged survival ``S_m(t) = ∫ exp(-H(t) e^b) φ(b; 0, sd) db``,
its median and ``RMST(tau) = ∫_0^tau S_m(t) dt`` computed by Simpson's rule on dense grids
(4001 points in ``b`` over ±12 SD; 1001 points in ``t`` on each piece between cuts) and root
finding (``brentq``), independently of the Gauss–Hermite rule the package uses.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from necc_bayes.survival.curve_sets import curve_notes, curve_sets, plot_view, survival_tables
from necc_bayes.survival.curves import (
    Profile,
    cumulative_hazard,
    median_survival,
    rmst,
    survival_curve,
)

LAM = np.array([[0.1, 0.3, 0.05], [0.2, 0.1, 0.4]])
BOUNDS = np.array([0.0, 2.0, 5.0, np.inf])
BETA = np.array([[0.5], [-0.2]])
X = np.array([1.0])
SD = np.array([0.8, 1.5])


def marginal_by_quad(t: np.ndarray | float, k: int) -> np.ndarray:
    """``S_m(t)`` of draw ``k`` by Simpson's rule over the frailty (vectorised in ``t``)."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    H = cumulative_hazard(t, LAM[k : k + 1], BETA[k : k + 1], X, BOUNDS)[0]  # (T,)
    b = np.linspace(-12 * SD[k], 12 * SD[k], 4001)
    f = np.exp(-H[:, None] * np.exp(b)[None, :]) * stats.norm(0.0, SD[k]).pdf(b)[None, :]
    return integrate.simpson(f, x=b, axis=1)


def test_population_averaged_curve_median_and_rmst_match_quadrature():
    grid = np.array([0.5, 2.0, 3.0, 6.0, 12.0])
    S = survival_curve(grid, LAM, BETA, X, BOUNDS, SD)
    med = median_survival(LAM, BETA, X, BOUNDS, SD)
    tau = 9.0
    r = rmst(LAM, BETA, X, BOUNDS, tau, SD)
    for k in range(2):
        np.testing.assert_allclose(S[k], marginal_by_quad(grid, k), atol=2e-6)
        root = optimize.brentq(lambda t, k=k: marginal_by_quad(t, k)[0] - 0.5, 1e-6, 500.0)
        assert med[k] == pytest.approx(root, rel=1e-4)
        pieces = [np.linspace(a, b, 1001) for a, b in ((0.0, 2.0), (2.0, 5.0), (5.0, tau))]
        quad = sum(integrate.simpson(marginal_by_quad(ts, k), x=ts) for ts in pieces)
        assert r[k] == pytest.approx(quad, rel=1e-5)
    # a frailty makes the population curve flatter: above the conditional one late, below early
    cond = survival_curve(np.array([30.0]), LAM, BETA, X, BOUNDS)
    assert (S[:, -1] > cond[:, 0] - 1e-12).all()


def test_vanishing_frailty_gives_the_conditional_curve():
    tiny = np.full(2, 1e-8)
    grid = np.linspace(0.1, 20, 15)
    np.testing.assert_allclose(
        survival_curve(grid, LAM, BETA, X, BOUNDS, tiny),
        survival_curve(grid, LAM, BETA, X, BOUNDS),
        rtol=1e-7,
    )
    np.testing.assert_allclose(
        median_survival(LAM, BETA, X, BOUNDS, tiny), median_survival(LAM, BETA, X, BOUNDS)
    )


def test_curve_sets_per_stratum_and_frailty_convention_are_labelled():
    lam3 = np.stack([LAM, 2 * LAM], axis=1)  # (draws, strata, J)
    sets = curve_sets(
        lam3, BOUNDS, origin=1.0, strata_column="centre", strata_labels=["a", "b"], frailty_sd=SD
    )
    assert [(c.stratum, c.frailty) for c in sets] == [
        ("a", "conditional"),
        ("a", "marginal"),
        ("b", "conditional"),
        ("b", "marginal"),
    ]
    profiles = [Profile("x=1", X)]
    table = survival_tables(sets, BETA, profiles, np.array([0.5, 3.0]), origin=1.0, ci_prob=0.9)
    assert set(table["profile"]) == {
        "x=1 [centre=a] | frailty 0",
        "x=1 [centre=a] | population-averaged",
        "x=1 [centre=b] | frailty 0",
        "x=1 [centre=b] | population-averaged",
    }
    assert {"stratum", "frailty", "given_alive_at"} <= set(table.columns)
    # conditional on survival to the origin 1.0: S = 1 before it
    early = table[table["time"] == 0.5]
    np.testing.assert_allclose(early["surv_median"], 1.0)
    # the stratum with twice the baseline has the lower curve
    late = table[(table["time"] == 3.0) & (table["frailty"] == "conditional")]
    a, b = late.set_index("stratum").loc[["a", "b"], "surv_median"]
    assert b < a
    view = plot_view(table)
    assert set(view["profile"]) == {"x=1 [centre=a]", "x=1 [centre=b]"}
    assert (view["frailty"] == "marginal").all()


def test_plain_fit_has_one_unlabelled_set():
    sets = curve_sets(LAM, BOUNDS, origin=0.0)
    assert len(sets) == 1 and sets[0].suffix == "" and sets[0].frailty is None
    table = survival_tables(sets, BETA, [Profile("p", X)], np.array([1.0]), origin=0.0, ci_prob=0.9)
    assert "stratum" not in table.columns and "frailty" not in table.columns
    assert plot_view(table) is table


def test_curve_notes_say_what_the_curves_are():
    notes = curve_notes(
        origin=1.9713,
        time_label="prs_entry_months (the earliest entry)",
        strata_column="g",
        frailty_cluster="centre",
        counting_process=True,
    )
    text = " ".join(notes)
    assert "conditional on surviving to prs_entry_months" in text and "S(t | T > 1.9713)" in text
    assert "One set of curves per level of g" in text
    assert "population-averaged" in text and "frailty 0" in text
    assert "fixed covariate path" in text
    assert (
        curve_notes(
            origin=0.0,
            time_label="0",
            strata_column=None,
            frailty_cluster=None,
            counting_process=False,
        )
        == []
    )
