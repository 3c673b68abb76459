"""The vectorised Breslow Cox fit against statsmodels' PHReg (the package's reference Cox).

References: ``statsmodels.duration.hazard_regression.PHReg(ties="breslow")`` (0.14) through
:func:`necc_bayes.data.reference.cox_breslow`; statsmodels stops Newton at its own
tolerance (estimates off by up to 2e-6 at n = 300), hence 1e-5 on them. No sampling.
"""

from __future__ import annotations

import numpy as np
import pytest

from necc_bayes.data import fragility
from necc_bayes.data.cox_fast import cox_breslow_fast
from necc_bayes.data.reference import cox_breslow


def _cohort(rng, n, p, *, entry=False):
    X = rng.normal(size=(n, p))
    X[:, 0] = rng.integers(0, 2, n)
    t = np.round(rng.exponential(1.0 / np.exp(X @ np.linspace(0.5, -0.2, p))), 2) + 0.01  # ties
    c = rng.exponential(2.0, n)
    time = np.minimum(t, c)
    start = rng.uniform(0.0, 0.5, n) * time if entry else None
    return time, (t <= c).astype(float), X, start


@pytest.mark.parametrize(("n", "p", "entry"), [(300, 1, False), (800, 3, False), (800, 3, True)])
def test_fast_cox_matches_statsmodels(n, p, entry):
    time, event, X, start = _cohort(np.random.default_rng(n + p), n, p, entry=entry)
    ref = cox_breslow(time, event, X, entry=start)
    got = cox_breslow_fast(time, event, X, entry=start)
    np.testing.assert_allclose(got.beta, ref.beta, atol=1e-5)
    np.testing.assert_allclose(got.se, ref.se, rtol=1e-5)
    assert got.converged and ref.converged


def test_fast_cox_separation_does_not_converge():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, 400).astype(float)
    event = ((x == 1) & (rng.uniform(size=400) < 0.7)).astype(float)  # no event at x = 0
    X = ((x - x.mean()) / x.std())[:, None]
    time = rng.exponential(size=400)
    assert not cox_breslow(time, event, X).converged
    assert not cox_breslow_fast(time, event, X).converged


def test_fragility_table_same_with_either_cox(monkeypatch):
    rng = np.random.default_rng(4)
    time, event, X, _ = _cohort(rng, 600, 3)
    X[:, 1] = ((X[:, 1] > 1.2) & (event == 1)).astype(float)  # a separated 0/1 term
    args = (time, event, X, ["a", "b", "c"], [True, True, False])
    ref = fragility.design_fragility(*args)
    monkeypatch.setattr(fragility, "FAST_COX_ROWS", 100)
    got = fragility.design_fragility(*args)
    assert got.table.equals(ref.table) and got.joint_cox_converged == ref.joint_cox_converged
    assert "separation" in ref.table.loc[1, "flags"]


def test_shared_risk_sets_give_the_same_fit():
    """The fragility check builds the risk sets once for all its fits on the same rows."""
    from necc_bayes.data.cox_fast import RiskSets

    time, event, X, start = _cohort(np.random.default_rng(5), 700, 3, entry=True)
    risk = RiskSets(time, event, start)
    for cols in ([0], [1, 2], [0, 1, 2]):
        alone = cox_breslow_fast(time, event, X[:, cols], entry=start)
        shared = cox_breslow_fast(time, event, X[:, cols], entry=start, risk=risk)
        np.testing.assert_array_equal(shared.beta, alone.beta)
        np.testing.assert_array_equal(shared.se, alone.se)
