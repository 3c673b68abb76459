"""Posterior predictive check (no sampling: point-mass posteriors at known parameters).

References: the vectorised Kaplan–Meier is checked against ``scipy.stats.ecdf`` (scipy 1.18)
and lifelines' ``KaplanMeierFitter``; simulated event times against the closed-form
piecewise-exponential survival ``exp(-H(t))`` by a Kolmogorov–Smirnov test.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from necc_bayes.data.reference import kaplan_meier_many, km_on_grid
from necc_bayes.survival.curves import cumulative_hazard
from necc_bayes.survival.ppc import ppc_from_draws
from necc_bayes.survival.replicates import draw_censoring_times, simulate_event_times

BOUNDS = np.array([0.0, 5.0, 15.0, np.inf])


def _tied_samples(rng, R=20, n=40):
    time = rng.integers(1, 12, size=(R, n)).astype(float)  # many ties
    event = rng.uniform(size=(R, n)) < 0.6
    return time, event


def test_vectorised_km_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    time, event = _tied_samples(rng)
    grid = np.linspace(0.0, 12.0, 49)
    many = kaplan_meier_many(time, event, grid)
    for r in range(time.shape[0]):
        np.testing.assert_allclose(many[r], km_on_grid(time[r], event[r], grid), atol=1e-12)


def test_km_matches_lifelines():
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(1)
    time, event = _tied_samples(rng, R=1, n=60)
    grid = np.array([0.5, 3.0, 3.5, 7.0, 11.0])
    kmf = lifelines.KaplanMeierFitter().fit(time[0], event[0])
    ref = kmf.survival_function_at_times(grid).to_numpy()
    np.testing.assert_allclose(kaplan_meier_many(time, event, grid)[0], ref, atol=1e-12)


def test_km_all_events_reaches_zero():
    grid = np.array([0.5, 1.0, 2.0, 3.0])
    got = kaplan_meier_many(np.array([[1.0, 2.0, 3.0]]), np.ones((1, 3), bool), grid)
    np.testing.assert_allclose(got[0], [1.0, 2 / 3, 1 / 3, 0.0])


def test_simulated_event_times_follow_the_model():
    rng = np.random.default_rng(2)
    lam = np.array([[0.05, 0.12, 0.02]])
    beta = np.array([[0.7]])
    x = np.array([[0.5]])
    R = 20000
    t = simulate_event_times(np.repeat(lam, R, 0), np.repeat(beta, R, 0), x, BOUNDS, rng)[:, 0]

    def cdf(v):
        v = np.atleast_1d(v)
        return 1.0 - np.exp(-cumulative_hazard(v, lam, beta, x[0], BOUNDS)[0])

    assert stats.kstest(t, cdf).pvalue > 0.01


def test_zero_rate_after_last_cut_gives_infinite_times():
    rng = np.random.default_rng(3)
    lam = np.array([[1e-9, 1e-9, 0.0]])
    t = simulate_event_times(lam, np.zeros((1, 0)), np.zeros((50, 0)), BOUNDS, rng)
    assert np.isinf(t).all()


def test_censoring_rule():
    rng = np.random.default_rng(4)
    time = np.array([2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 10.0, 10.0])
    event = np.array([1, 0, 1, 1, 0, 1, 0, 0])
    C = draw_censoring_times(time, event, 2000, rng)
    np.testing.assert_array_equal(C[:, event == 0], np.broadcast_to(time[event == 0], (2000, 4)))
    ev = event == 1
    assert (C[:, ev] >= time[ev]).all()
    assert (C[:, :4][:, ev[:4]] > time[:4][ev[:4]]).all()  # strictly later below the max
    # censoring times of event subjects are observed censoring times (reverse-KM support)
    assert set(np.unique(C[:, ev])) <= {3.0, 8.0, 10.0}
    # subject with event at 2: P(C = 3 | C > 2) = reverse-KM jump at 3 / G(2) = 1/7
    assert np.mean(C[:, 0] == 3.0) == pytest.approx(1 / 7, abs=0.03)


def _simulate_cohort(rng, lam, beta, X, follow_up):
    T = simulate_event_times(lam[None], beta[None], X, BOUNDS, rng)[0]
    return np.minimum(T, follow_up), (T <= follow_up).astype(int)


def test_ppc_well_specified_model_covers_the_data():
    rng = np.random.default_rng(5)
    n = 300
    X = rng.binomial(1, 0.5, size=(n, 1)).astype(float)
    lam, beta = np.array([0.04, 0.08, 0.03]), np.array([0.6])
    time, event = _simulate_cohort(rng, lam, beta, X, rng.uniform(10, 40, n))
    S = 400
    out = ppc_from_draws(
        np.tile(lam, (S, 1)), np.tile(beta, (S, 1)), X, BOUNDS, time, event, n_replicates=S
    )
    assert out.n_replicates == S
    assert out.coverage >= 0.9
    assert ((out.events.ppp > 0.01) & (out.events.ppp < 0.99)).all()
    assert (out.low <= out.median).all() and (out.median <= out.high).all()
    d = out.to_dict()
    assert d["km_band_coverage"] == pytest.approx(out.coverage, abs=1e-4)
    assert set(d["events_ppp"]) == {"0", "1", "2"}


def test_ppc_flags_a_wrong_model():
    """Data with a strongly increasing hazard, model with one constant rate at the same mean."""
    rng = np.random.default_rng(6)
    n = 300
    T = 20.0 * rng.weibull(4.0, size=n)
    time, event = np.minimum(T, 30.0), (T <= 30.0).astype(int)
    rate = event.sum() / time.sum()
    one = np.array([0.0, np.inf])
    out = ppc_from_draws(
        np.full((300, 1), rate), np.zeros((300, 0)), np.zeros((n, 0)), one, time, event
    )
    assert out.coverage < 0.5


def test_ppc_is_reproducible():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(50, 2))
    time, event = _simulate_cohort(rng, np.array([0.1, 0.1, 0.1]), np.zeros(2), X, 20.0)
    args = (np.full((30, 3), 0.1), np.zeros((30, 2)), X, BOUNDS, time, event)
    a, b = ppc_from_draws(*args, seed=3), ppc_from_draws(*args, seed=3)
    np.testing.assert_array_equal(a.low, b.low)
    assert a.coverage == b.coverage


def test_sorted_subset_gives_the_subsets_own_km_exactly():
    # group bands reuse one sort of the replicates: a level's curves must be the very numbers
    # kaplan_meier_many gives on that level's columns (ties, delayed entry)
    from necc_bayes.data.reference import km_sorted, sort_samples

    rng = np.random.default_rng(5)
    time, event = _tied_samples(rng, R=15, n=80)
    entry = rng.uniform(0.0, 0.9, size=80)
    sel = rng.uniform(size=80) < 0.4
    grid = np.linspace(0.0, 12.0, 31)
    sub = sort_samples(time, event).subset(sel)
    for ent in (None, entry[sel]):
        own = kaplan_meier_many(time[:, sel], event[:, sel], grid, ent)
        got = km_sorted(sub, grid, ent)
        np.testing.assert_array_equal(got, own)
    with pytest.raises(ValueError, match="subset again"):
        sub.subset(np.ones(int(sel.sum()), bool))
