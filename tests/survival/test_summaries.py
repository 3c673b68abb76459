"""Posterior summaries on hand-made draws (no sampling).

References: survival of a piecewise-exponential model is exp(-H(t)) with H piecewise linear;
the medians and RMST are checked against brute-force numerical root finding / integration
(scipy.optimize.brentq, scipy.integrate.quad) of that same closed form, and the hazard-ratio
table against numpy quantiles of the same draws.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from scipy import integrate, optimize

from necc_bayes.errors import ConvergenceWarning
from necc_bayes.inference.diagnostics import check_convergence
from necc_bayes.spec.settings import Thresholds
from necc_bayes.survival.curves import (
    Profile,
    cumulative_hazard,
    median_survival,
    rmst,
    summary_table,
    survival_table,
)
from necc_bayes.survival.hazard_ratios import HR_COLUMNS, hazard_ratio_table

BOUNDS = np.array([0.0, 6.0, 24.0, np.inf])
LAM = np.array([[0.02, 0.05, 0.03], [0.10, 0.01, 0.2], [0.001, 0.002, 0.003]])
BETA = np.array([[0.5, -0.2], [0.0, 0.3], [1.0, 1.0]])
X = np.array([1.0, 0.5])


def _S(t, k):
    return float(np.exp(-cumulative_hazard(np.array([t]), LAM[[k]], BETA[[k]], X, BOUNDS))[0, 0])


def test_cumulative_hazard_by_hand():
    # draw 0: exp(0.5 - 0.1) * (0.02*6 + 0.05*(10-6)) at t = 10
    expected = np.exp(0.4) * (0.02 * 6 + 0.05 * 4)
    got = cumulative_hazard(np.array([10.0]), LAM[:1], BETA[:1], X, BOUNDS)[0, 0]
    assert got == pytest.approx(expected, rel=1e-12)


def test_median_matches_root_finding():
    med = median_survival(LAM, BETA, X, BOUNDS)
    for k in range(3):
        root = optimize.brentq(lambda t, k=k: _S(t, k) - 0.5, 1e-9, 1e5, xtol=1e-10)
        assert med[k] == pytest.approx(root, rel=1e-8)


@pytest.mark.parametrize("tau", [3.0, 6.0, 30.0, 60.0])
def test_rmst_matches_quadrature(tau):
    got = rmst(LAM, BETA, X, BOUNDS, tau)
    for k in range(3):
        ref, _ = integrate.quad(lambda t, k=k: _S(t, k), 0, tau, points=[6.0, 24.0], epsabs=1e-12)
        assert got[k] == pytest.approx(ref, rel=1e-9)


def test_survival_table_bands_contain_median():
    rng = np.random.default_rng(3)
    lam = rng.gamma(5, 0.01, size=(400, 3))
    beta = rng.normal(0, 0.3, size=(400, 2))
    grid = np.linspace(0, 60, 13)
    table = survival_table(lam, beta, BOUNDS, [Profile("p", X)], grid, ci_prob=0.9)
    assert list(table.columns[:5]) == ["profile", "time", "surv_median", "surv_low", "surv_high"]
    assert (table.surv_low <= table.surv_median).all() and (
        table.surv_median <= table.surv_high
    ).all()
    assert table.surv_median.iloc[0] == 1.0
    assert table.surv_median.is_monotonic_decreasing


def test_summary_table_contrasts_are_differences():
    p1, p0 = Profile("a=1", np.array([1.0, 0.0])), Profile("a=0", np.array([0.0, 0.0]))
    table = summary_table(
        LAM,
        BETA,
        BOUNDS,
        [p1, p0],
        times=[12.0],
        horizon=24.0,
        follow_up_max=60.0,
        contrasts=[("a=1", "a=0")],
    )
    diff = table.query("profile == 'a=1 - a=0' and quantity == 'rmst_24'")["mean"].item()
    r1 = rmst(LAM, BETA, p1.x, BOUNDS, 24.0)
    r0 = rmst(LAM, BETA, p0.x, BOUNDS, 24.0)
    assert diff == pytest.approx(np.mean(r1 - r0))


def _fake_tree(log_hr, diverging=None):
    chains, draws = log_hr.shape[:2]
    div = np.zeros((chains, draws), bool) if diverging is None else diverging
    rng = np.random.default_rng(0)
    return az.from_dict(
        {
            "posterior": {"log_hr": log_hr, "hr": np.exp(log_hr)},
            "sample_stats": {"diverging": div, "energy": rng.normal(size=(chains, draws))},
        },
        dims={"log_hr": ["term"], "hr": ["term"]},
        coords={"term": ["a", "b"]},
    )


def test_hazard_ratio_table_against_numpy():
    rng = np.random.default_rng(1)
    log_hr = rng.normal([0.9, -0.3], [0.4, 0.2], size=(4, 500, 2))
    table = hazard_ratio_table(_fake_tree(log_hr), ci_prob=0.95)
    assert list(table.columns) == HR_COLUMNS
    flat = log_hr.reshape(-1, 2)
    np.testing.assert_allclose(table.hr_low, np.quantile(np.exp(flat), 0.025, axis=0))
    np.testing.assert_allclose(table.p_hr_gt_1, (flat > 0).mean(axis=0))
    np.testing.assert_allclose(table.log_hr_sd, flat.std(axis=0, ddof=1))
    assert (table.r_hat < 1.01).all()


def test_diagnostics_fail_loudly_and_name_the_parameter():
    rng = np.random.default_rng(2)
    log_hr = rng.normal(size=(4, 500, 2))
    log_hr[0, :, 1] += 3.0  # chain 0 stuck elsewhere for term b
    div = np.zeros((4, 500), bool)
    div[1, :3] = True
    tree = _fake_tree(log_hr, div)
    with pytest.warns(ConvergenceWarning) as record:
        report = check_convergence(tree, thresholds=Thresholds())
    messages = [str(w.message) for w in record]
    assert any("R-hat" in m and "[b]" in m for m in messages), messages
    assert not report.passed
    assert report.n_divergent == 3
    assert any("divergent" in f for f in report.failures)
    assert report.to_dict()["worst_parameters"]["r_hat"] in {"log_hr[b]", "hr[b]"}


def test_diagnostics_pass_on_independent_draws():
    rng = np.random.default_rng(4)
    report = check_convergence(_fake_tree(rng.normal(size=(4, 1000, 2))), warn=False)
    assert report.passed, report.failures
    assert set(report.to_dict()) >= {
        "max_r_hat",
        "min_ess_bulk",
        "min_ess_tail",
        "n_divergent",
        "min_bfmi",
        "passed",
        "thresholds",
    }
