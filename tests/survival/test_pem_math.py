"""Closed-form checks of the numpy piecewise-exponential likelihood (no sampling).

References: the long-format Poisson likelihood (``survSplit`` + Poisson GLM with an offset,
computed here with ``scipy.stats.poisson``), direct numerical integration over the baseline
rate (``scipy.integrate.quad``), and ``scipy.stats.gamma`` for the conditional draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from necc_bayes.survival import likelihood as pem_math
from necc_bayes.survival.intervals import expand


def random_cohort(seed: int, n: int = 60, p: int = 3, n_cuts: int = 4, binary: bool = False):
    rng = np.random.default_rng(seed)
    if binary:
        X = rng.integers(0, 2, size=(n, p)).astype(float)
    else:
        X = rng.normal(size=(n, p))
    time = rng.exponential(10.0, size=n) + 0.01
    event = rng.integers(0, 2, size=n)
    cuts = np.sort(rng.uniform(0.5, np.max(time) * 0.8, size=n_cuts))
    pp = expand(time, event, cuts)
    beta = rng.normal(scale=0.5, size=p)
    lam = rng.gamma(2.0, 0.05, size=pp.n_intervals)
    return X, pp, beta, lam


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("binary", [False, True])
def test_compact_equals_long_format_poisson(seed, binary):
    """Compact form + sum(delta log E) == long-format Poisson log-likelihood (to 1e-8)."""
    X, pp, beta, lam = random_cohort(seed, binary=binary)
    st = pem_math.sufficient_stats(X, pp)
    compact = pem_math.loglik_conditional(beta, lam, st)
    long = pem_math.loglik_long_poisson(beta, lam, X, pp)
    assert compact + pem_math.poisson_offset_constant(pp) == pytest.approx(long, abs=1e-8)


def test_collapsed_equals_uncollapsed():
    """Collapsing identical covariate rows leaves S_j(beta) and the log-likelihood unchanged."""
    X, pp, beta, lam = random_cohort(4, n=200, binary=True)
    st = pem_math.sufficient_stats(X, pp)
    assert st.X_u.shape[0] <= 8 < X.shape[0]
    S_uncollapsed = np.exp(X @ beta) @ pp.exposure
    np.testing.assert_allclose(pem_math.cumulative_exposure(beta, st), S_uncollapsed, rtol=1e-12)
    uncollapsed = (
        (pp.events_per_interval * np.log(lam)).sum()
        + beta @ (X.T @ pp.event)
        - (lam * S_uncollapsed).sum()
    )
    assert pem_math.loglik_conditional(beta, lam, st) == pytest.approx(uncollapsed, abs=1e-9)


def test_pointwise_sums_to_total():
    X, pp, beta, lam = random_cohort(5)
    st = pem_math.sufficient_stats(X, pp)
    betas = np.stack([beta, beta * 0.5, -beta])
    lams = np.stack([lam, lam * 2, lam / 3])
    pw = pem_math.pointwise_loglik(betas, lams, X, pp, chunk=2)
    assert pw.shape == (3, X.shape[0])
    np.testing.assert_allclose(pw.sum(1), pem_math.loglik_conditional(betas, lams, st), atol=1e-9)


def test_broadcast_over_draws():
    X, pp, beta, _ = random_cohort(6)
    st = pem_math.sufficient_stats(X, pp)
    betas = np.stack([beta, -beta]).reshape(2, 1, -1)
    out = pem_math.loglik_marginal(betas, 0.5, 2.0, st)
    assert out.shape == (2, 1)
    assert out[1, 0] == pytest.approx(pem_math.loglik_marginal(-beta, 0.5, 2.0, st))


@pytest.mark.parametrize(("alpha", "rate"), [(0.5, 3.0), (2.0, 10.0), (1.0, 1.0)])
def test_marginal_equals_quadrature_over_lambda(alpha, rate):
    """Marginal gamma log-lik == log of the integral over lambda (scipy quad), tiny case.

    Each interval integrates separately: int exp(d log l - l S) Gamma(l; a, b) dl, computed
    on u = log(lambda) (smooth integrand even for a < 1).
    """
    X, pp, beta, _ = random_cohort(7, n=12, p=2, n_cuts=2)
    st = pem_math.sufficient_stats(X, pp)
    S = pem_math.cumulative_exposure(beta, st)
    log_int = 0.0
    for d_j, S_j in zip(st.d, S, strict=True):

        def integrand(u, d_j=d_j, S_j=S_j):
            # exp(d u - e^u S) * gamma pdf(e^u) * e^u
            lam = np.exp(u)
            return np.exp(d_j * u - lam * S_j + stats.gamma.logpdf(lam, alpha, scale=1 / rate) + u)

        # the integrand is < exp(-40) outside [-100, 10] for these a, b, d and S
        val, err = integrate.quad(integrand, -100, 10, epsabs=0, epsrel=1e-11, limit=200)
        assert err < 1e-9 * val
        log_int += np.log(val)
    expected = log_int + beta @ st.s
    assert pem_math.loglik_marginal(beta, alpha, rate, st) == pytest.approx(expected, rel=1e-9)


def test_conditional_draws_moments():
    """Draws of lambda_j given beta have the Gamma(a + d_j, b + S_j) mean (closed form)."""
    X, pp, beta, _ = random_cohort(8)
    st = pem_math.sufficient_stats(X, pp)
    betas = np.broadcast_to(beta, (20000, beta.size))
    lam = pem_math.draw_baseline(betas, 1.0, 2.0, st, np.random.default_rng(0))
    S = pem_math.cumulative_exposure(beta, st)
    mean = (1.0 + st.d) / (2.0 + S)
    sd = np.sqrt(1.0 + st.d) / (2.0 + S)
    # 5 standard errors of a mean of 20,000 draws
    np.testing.assert_array_less(np.abs(lam.mean(0) - mean), 5 * sd / np.sqrt(20000))
    for j in range(st.n_intervals):
        ks = stats.kstest(lam[:, j], stats.gamma(1.0 + st.d[j], scale=1 / (2.0 + S[j])).cdf)
        assert ks.pvalue > 1e-3


def test_draw_baseline_reproducible():
    X, pp, beta, _ = random_cohort(9)
    st = pem_math.sufficient_stats(X, pp)
    a = pem_math.draw_baseline(beta[None], 1.0, 1.0, st, np.random.default_rng(3))
    b = pem_math.draw_baseline(beta[None], 1.0, 1.0, st, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
