"""Delayed entry in the likelihood and the curves, against closed forms (no sampling).

* Exponential model (one interval): with a ``Gamma(a, b)`` rate prior the posterior of the
  rate is ``Gamma(a + d, b + sum(t_i - e_i))`` exactly, so fitting ``(entry, time]`` equals
  fitting the same data with time measured from entry (memorylessness), and the compact PEM
  likelihood of both data sets is the same function of the log-HRs.
* Ignoring delayed entry on left-truncated exponential data counts ``sum e_i`` of time at risk
  that is not, so the rate estimate shrinks by the factor ``sum(t - e) / sum(t)``; for
  ``T ~ Exp(rate)`` truncated at ``e`` and censored after entry at rate ``c`` (memoryless:
  ``E[min(T, C) - e | T > e] = 1 / (rate + c)``) that is ``1 / (1 + (rate + c) mean(e))`` in
  expectation.
* Conditional curves: ``S(t | T > t0) = exp(-(H(t) - H(t0)))``; its median solves
  ``H(m) - H(t0) = log 2``; ``RMST(tau) = t0 + ∫_{t0}^{tau} S(t | T > t0) dt`` (quadrature).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize

from necc_bayes.survival.curves import (
    condition_on,
    cumulative_hazard,
    median_survival,
    rmst,
)
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.likelihood import (
    draw_baseline,
    loglik_marginal,
    sufficient_stats,
)

RATE = 0.2
CENSOR_MEAN = 15.0


def left_truncated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exponential event times seen only if they exceed a uniform entry time, then censored."""
    rng = np.random.default_rng(seed)
    entry, t = [], []
    while len(t) < n:
        e = rng.uniform(0.0, 10.0)
        x = rng.exponential(1.0 / RATE)
        if x > e:
            entry.append(e)
            t.append(x)
    entry_a, t_a = np.array(entry), np.array(t)
    censor = entry_a + rng.exponential(CENSOR_MEAN, n)
    event = (t_a <= censor).astype(int)
    stop = np.minimum(t_a, censor)
    x = rng.integers(0, 2, n).astype(float)
    return entry_a, stop, event, x


def test_entry_equals_time_from_entry_for_the_exponential_model():
    entry, stop, event, x = left_truncated(300, 1)
    X = (x - x.mean())[:, None]
    with_entry = sufficient_stats(X, expand(stop, event, np.empty(0), entry=entry))
    from_entry = sufficient_stats(X, expand(stop - entry, event, np.empty(0)))
    betas = np.array([[-1.0], [0.0], [0.3], [2.0]])
    np.testing.assert_allclose(
        loglik_marginal(betas, 1.0, 5.0, with_entry),
        loglik_marginal(betas, 1.0, 5.0, from_entry),
        rtol=1e-12,
    )
    # without covariates the rate posterior is Gamma(a + d, b + sum(t - e)) in both
    s1 = sufficient_stats(np.zeros((300, 0)), expand(stop, event, np.empty(0), entry=entry))
    s2 = sufficient_stats(np.zeros((300, 0)), expand(stop - entry, event, np.empty(0)))
    rng = [np.random.default_rng(3), np.random.default_rng(3)]
    draws = [
        draw_baseline(np.zeros((20000, 0)), 1.0, 5.0, s, r)
        for s, r in zip((s1, s2), rng, strict=True)
    ]
    np.testing.assert_array_equal(draws[0], draws[1])
    exact_mean = (1.0 + event.sum()) / (5.0 + (stop - entry).sum())
    assert draws[0].mean() == pytest.approx(exact_mean, rel=0.01)


def test_ignoring_delayed_entry_biases_the_rate_as_expected():
    entry, stop, event, _ = left_truncated(2000, 2)
    at_risk = (stop - entry).sum()
    d = event.sum()
    # posterior means under a vague Gamma(0.01, 0.01) prior
    with_entry = (0.01 + d) / (0.01 + at_risk)
    naive = (0.01 + d) / (0.01 + stop.sum())
    sd = np.sqrt(0.01 + d) / (0.01 + at_risk)
    assert abs(with_entry - RATE) < 3 * sd  # recovers the truth
    # the naive estimate is shrunk by sum(t - e) / sum(t), exactly (same events) ...
    assert naive / with_entry == pytest.approx(at_risk / stop.sum(), rel=1e-3)
    # ... which is the memoryless expectation 1 / (1 + (rate + c) mean(entry)) up to noise
    expected = 1.0 / (1.0 + (RATE + 1.0 / CENSOR_MEAN) * entry.mean())
    assert naive / RATE == pytest.approx(expected, rel=0.05)
    assert naive < RATE - 5 * sd  # far outside the posterior of the correct fit


LAM = np.array([[0.1, 0.3, 0.05], [0.2, 0.1, 0.4]])
BOUNDS = np.array([0.0, 2.0, 5.0, np.inf])
BETA = np.array([[0.5], [-0.2]])
X = np.array([1.0])


@pytest.mark.parametrize("origin", [0.0, 1.0, 2.0, 3.5, 6.0])
def test_conditional_curve_median_and_rmst(origin):
    lam_c, bounds_c = condition_on(LAM, BOUNDS, origin)
    grid = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 12.0])
    H = cumulative_hazard(grid, LAM, BETA, X, BOUNDS)
    H0 = cumulative_hazard(np.array([origin]), LAM, BETA, X, BOUNDS)
    expected = np.exp(-np.clip(H - H0, 0.0, None))
    got = np.exp(-cumulative_hazard(grid, lam_c, BETA, X, bounds_c))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    med = median_survival(lam_c, BETA, X, bounds_c)
    tau = 9.0
    r = rmst(lam_c, BETA, X, bounds_c, tau)
    for k in range(2):

        def S(t, k=k):
            Ht = cumulative_hazard(np.array([t]), LAM[k : k + 1], BETA[k : k + 1], X, BOUNDS)
            return float(np.exp(-(max(Ht[0, 0], H0[k, 0]) - H0[k, 0])))

        root = optimize.brentq(lambda t, k=k: S(t) - 0.5, origin, 200.0, xtol=1e-12)
        assert med[k] == pytest.approx(root, rel=1e-9)
        quad = origin + integrate.quad(S, origin, tau, points=[2.0, 5.0], limit=200)[0]
        assert r[k] == pytest.approx(quad, rel=1e-9)


def test_condition_on_zero_is_the_identity():
    lam, bounds = condition_on(LAM, BOUNDS, 0.0)
    np.testing.assert_array_equal(lam, LAM)
    np.testing.assert_array_equal(bounds, BOUNDS)
