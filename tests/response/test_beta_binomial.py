"""Tests of the closed-form beta-binomial maths.

Reference numbers: scipy.stats.beta (posterior moments and quantiles), the independent
finite-sum closed form of P(p_t > p_c) (Miller 2015 / Cook 2005), and Monte Carlo with a
fixed seed (tolerance 4 Monte Carlo standard errors).
"""

import math

import numpy as np
import pytest
from scipy import stats

from necc_bayes.errors import SpecError
from necc_bayes.response import beta_binomial as bb

N_MC = 400_000


def mc_tol(p: float, n: int = N_MC) -> float:
    return 4 * math.sqrt(max(p * (1 - p), 1e-6) / n)


@pytest.mark.parametrize(("a", "b", "x", "n"), [(1, 1, 7, 16), (0.5, 0.5, 9, 41), (2.5, 7, 0, 5)])
def test_posterior_matches_scipy_beta(a, b, x, n):
    post = bb.posterior(bb.beta(a, b), x, n)
    ref = stats.beta(a + x, b + n - x)
    assert post.mean() == pytest.approx(ref.mean(), rel=1e-12)
    assert post.var() == pytest.approx(ref.var(), rel=1e-10)
    low, high = post.interval(0.95)
    assert (low, high) == pytest.approx(ref.interval(0.95), rel=1e-9)
    assert post.ppf(0.5) == pytest.approx(ref.median(), rel=1e-9)
    xs = np.linspace(0.01, 0.99, 7)
    np.testing.assert_allclose(post.pdf(xs), ref.pdf(xs), rtol=1e-10)
    np.testing.assert_allclose(post.cdf(xs), ref.cdf(xs), rtol=1e-10)


@pytest.mark.parametrize(
    ("at", "bt", "ac", "bc"),
    [(8, 10, 10, 33), (1, 17, 1, 42), (17, 1, 41, 1), (3, 2.5, 0.5, 9.5), (200, 300, 210, 290)],
)
def test_prob_greater_quadrature_matches_closed_form(at, bt, ac, bc):
    exact = bb.prob_diff_greater(bb.beta(at, bt), bb.beta(ac, bc))
    assert exact == pytest.approx(bb.prob_greater_closed_form(at, bt, ac, bc), abs=1e-9)


def test_study_numbers_uniform_prior():
    # 7/16 vs 9/41 under Beta(1, 1): Beta(8, 10) vs Beta(10, 33); closed form 0.948455...
    t = bb.posterior(bb.beta(1, 1), 7, 16)
    c = bb.posterior(bb.beta(1, 1), 9, 41)
    assert bb.prob_diff_greater(t, c) == pytest.approx(0.9484554193369, abs=1e-10)


@pytest.mark.parametrize("delta", [-0.3, -0.1, 0.0, 0.1, 0.25])
def test_prob_diff_greater_vs_monte_carlo(delta):
    t, c = bb.beta(8.5, 9.5), bb.beta(9.5, 32.5)  # Jeffreys posteriors of the study
    exact = bb.prob_diff_greater(t, c, delta)
    rng = np.random.default_rng(20260101)
    mc = float(np.mean(t.sample(rng, N_MC) - c.sample(rng, N_MC) > delta))
    assert abs(exact - mc) < mc_tol(exact)


def test_symmetry_swapping_arms():
    t, c = bb.beta(8, 10), bb.beta(10, 33)
    assert bb.prob_diff_greater(c, t) == pytest.approx(1 - bb.prob_diff_greater(t, c), abs=1e-12)
    for d in (-0.2, 0.1):
        swapped = bb.prob_diff_greater(c, t, -d)
        assert swapped == pytest.approx(1 - bb.prob_diff_greater(t, c, d), abs=1e-10)


def test_singular_shapes_are_integrated():
    # shapes far below 1: densities with strong integrable singularities at 0 or 1
    t, c = bb.beta(16.71, 0.0127), bb.beta(40.71, 1.0127)
    exact = bb.prob_diff_greater(t, c)
    rng = np.random.default_rng(1)
    mc = float(np.mean(t.sample(rng, N_MC) > c.sample(rng, N_MC)))
    assert abs(exact - mc) < mc_tol(exact)
    # both densities singular at both ends: the worst case, accurate to ~1e-8
    jeffreys = bb.beta(0.5, 0.5)
    assert bb.prob_diff_greater(jeffreys, jeffreys) == pytest.approx(0.5, abs=1e-7)


def test_quantiles_of_diff_ratio_odds_vs_monte_carlo():
    t, c = bb.beta(8, 10), bb.beta(10, 33)
    rng = np.random.default_rng(7)
    pt, pc = t.sample(rng, N_MC), c.sample(rng, N_MC)
    samples = {
        "diff": (pt - pc, bb.diff_quantile),
        "rr": (pt / pc, bb.ratio_quantile),
        "or": (pt / (1 - pt) / (pc / (1 - pc)), bb.odds_ratio_quantile),
    }
    for draws, quantile in samples.values():
        for q in (0.025, 0.5, 0.975):
            exact = quantile(t, c, q)
            # the exact quantile must sit at the q-th empirical fraction within 4 MC s.e.
            assert abs(np.mean(draws <= exact) - q) < mc_tol(q)


def test_mixture_posterior_weights_by_hand():
    prior = bb.mixture([(0.8, 2, 8), (0.2, 1, 1)])
    post = bb.posterior(prior, 7, 16)
    # marginal likelihoods: C(16,7) B(a+7, b+9) / B(a, b)
    m1 = (
        math.comb(16, 7)
        * math.exp(math.lgamma(9) + math.lgamma(17) - math.lgamma(26))
        / (math.exp(math.lgamma(2) + math.lgamma(8) - math.lgamma(10)))
    )
    m2 = 1 / 17  # uniform prior: every x in 0..16 equally likely
    w1 = 0.8 * m1 / (0.8 * m1 + 0.2 * m2)
    assert post.weights == pytest.approx((w1, 1 - w1), rel=1e-10)
    assert post.a == (9.0, 8.0) and post.b == (17.0, 10.0)
    np.testing.assert_allclose(
        np.exp(bb.log_marginal_likelihood(prior, 7, 16)), [m1, m2], rtol=1e-10
    )


def test_mixture_mean_and_prob_is_weighted_sum():
    mix = bb.mixture([(0.3, 8, 10), (0.7, 3, 3)])
    c = bb.beta(10, 33)
    p = 0.3 * bb.prob_diff_greater(bb.beta(8, 10), c) + 0.7 * bb.prob_diff_greater(bb.beta(3, 3), c)
    assert bb.prob_diff_greater(mix, c) == pytest.approx(p, abs=1e-10)
    assert mix.mean() == pytest.approx(0.3 * 8 / 18 + 0.7 * 0.5)
    q = mix.ppf(0.3)
    assert float(mix.cdf(q)) == pytest.approx(0.3, abs=1e-9)


@pytest.mark.parametrize(
    ("components", "rule"),
    [
        ([(1.0, 0.0, 1.0)], "beta_shape_positive"),
        ([(1.0, -1.0, 1.0)], "beta_shape_positive"),
        ([(1.0, math.inf, 1.0)], "beta_shape_positive"),
        ([(1.0, math.nan, 1.0)], "beta_shape_positive"),
        ([(1.0, 1.0, "2")], "beta_shape_positive"),
        ([(1.5, 1.0, 1.0), (-0.5, 1.0, 1.0)], "weight_in_unit_interval"),
        ([(0.5, 1.0, 1.0), (0.4, 1.0, 1.0)], "weights_sum_to_one"),
        ([], "mixture_nonempty"),
    ],
)
def test_invalid_prior_parameters_rejected(components, rule):
    with pytest.raises(SpecError) as err:
        bb.mixture(components)
    assert rule in err.value.rules


def test_closed_form_needs_integer_shape():
    with pytest.raises(ValueError, match="integer"):
        bb.prob_greater_closed_form(2.5, 1, 1, 1)
