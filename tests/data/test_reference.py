"""The one Kaplan–Meier and the one Cox fit of the package, against lifelines (test-only).

lifelines 0.30 fits Cox with Efron ties; on data without tied event times Efron and Breslow
are the same partial likelihood, so the estimates must agree to optimiser precision. Its
``KaplanMeierFitter`` is an independent Kaplan–Meier implementation (with ties).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necc_bayes.data.reference import cox_breslow, km_median, km_on_grid, km_step

lifelines = pytest.importorskip("lifelines")


def _sample(n=150, seed=3):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    t = rng.exponential(1.0 / np.exp(x @ np.array([0.7, -0.4])))
    c = rng.uniform(0.2, 3.0, n)
    return np.minimum(t, c), (t <= c).astype(int), x


def test_cox_matches_lifelines_without_ties():
    time, event, x = _sample()
    assert np.unique(time[event == 1]).size == event.sum()  # no ties: Efron == Breslow
    frame = pd.DataFrame({"t": time, "e": event, "a": x[:, 0], "b": x[:, 1]})
    ref = lifelines.CoxPHFitter().fit(frame, duration_col="t", event_col="e")
    fit = cox_breslow(time, event, x)
    assert fit.converged
    np.testing.assert_allclose(fit.beta, ref.params_.to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(fit.se, ref.standard_errors_.to_numpy(), rtol=1e-4)
    hr, low, high = fit.hazard_ratio(0)
    assert low < hr < high and hr == pytest.approx(np.exp(fit.beta[0]))


def test_cox_flags_separation():
    time, event, x = _sample()
    x0 = x[:, :1].copy()
    x0[event == 0] = 0.0  # every subject with x = 1 has an event: monotone likelihood
    x0[event == 1] = 1.0
    assert not cox_breslow(time, event, x0).converged


def test_kaplan_meier_matches_lifelines_with_ties():
    time, event, _ = _sample()
    time = np.round(time, 1)  # ties of events and censorings
    ref = lifelines.KaplanMeierFitter().fit(time, event)
    grid = np.linspace(0.0, time.max(), 37)
    want = ref.survival_function_at_times(grid).to_numpy()
    np.testing.assert_allclose(km_on_grid(time, event, grid), want, atol=1e-12)
    assert km_median(time, event) == pytest.approx(ref.median_survival_time_)
    step = km_step(time, event, band=0.95)
    assert step is not None and step.time[0] == 0.0 and step.time[-1] == time.max()
    assert step.low is not None and step.high is not None
    assert np.all(step.low <= step.surv + 1e-12) and np.all(step.surv <= step.high + 1e-12)
    bare = km_step(time, event)
    assert bare is not None and bare.low is None
    np.testing.assert_array_equal(bare.surv, step.surv)


def test_no_events():
    time = np.array([1.0, 2.0, 3.0])
    event = np.zeros(3, int)
    assert km_step(time, event) is None
    np.testing.assert_array_equal(km_on_grid(time, event, np.array([0.5, 2.5])), [1.0, 1.0])
