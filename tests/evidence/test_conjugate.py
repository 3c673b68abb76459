"""Conjugate updates and prior predictives of mixture priors.

References: brute-force quadrature and enumeration (scipy.stats.betabinom), and the
posterior probabilities RBesT 1.11-0 prints in its vignettes (``pmixdiff`` after
``postmix``), for a beta-mixture and a normal-mixture robust MAP prior.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, stats

from necc_bayes.evidence.conjugate import (
    binomial_predictive_pmf,
    normal_predictive,
    posterior_binomial,
    posterior_normal,
)
from necc_bayes.evidence.mixtures import beta_mixture, normal_mixture, robustify


def test_binomial_posterior_matches_quadrature():
    prior = beta_mixture([0.7, 0.3], [4.0, 1.0], [12.0, 1.0], ["map", "robust"])
    r, n = 7, 16
    post = posterior_binomial(prior, r, n)
    like = lambda p: float(prior.pdf(p)) * stats.binom.pmf(r, n, p)  # noqa: E731
    z = integrate.quad(like, 0, 1, epsabs=1e-13)[0]
    for p in (0.1, 0.3, 0.44, 0.7):
        assert float(post.pdf(p)) == pytest.approx(like(p) / z, rel=1e-8)
    assert post.labels == ("map", "robust")


def test_binomial_predictive_is_the_beta_binomial_mixture():
    prior = beta_mixture([0.6, 0.4], [2.0, 1.0], [5.0, 1.0])
    pmf = binomial_predictive_pmf(prior, 12)
    ref = 0.6 * stats.betabinom.pmf(np.arange(13), 12, 2, 5) + 0.4 * stats.betabinom.pmf(
        np.arange(13), 12, 1, 1)
    np.testing.assert_allclose(pmf, ref, rtol=1e-12)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-14)


def test_normal_predictive_adds_the_sampling_variance():
    prior = normal_mixture([0.5, 0.5], [0.0, 1.0], [0.3, 0.4])
    pred = normal_predictive(prior, 0.5)
    assert pred.sigma == pytest.approx((math.hypot(0.3, 0.5), math.hypot(0.4, 0.5)))


def test_rbest_binary_trial_analysis(rbest):
    # RBesT vignette: postmix(map_robust, r = 1, n = 6), postmix(mixbeta(c(1, 0.5, 1)),
    # r = 14, n = 24), pmixdiff(post_treat, post_placebo, 0, lower.tail = FALSE) = 0.9917197
    ref = rbest["binary_AS"]
    rob = ref["robustify"]
    placebo = posterior_binomial(beta_mixture(rob["w"], rob["a"], rob["b"]), 1, 6)
    t = ref["trial_analysis"]["treat_prior"]
    treat = posterior_binomial(beta_mixture(t["w"], t["a"], t["b"]), 14, 24)
    prob = integrate.quad(lambda x: float(treat.pdf(x)) * float(placebo.cdf(x)), 0, 1,
                          epsabs=1e-12, limit=200)[0]
    assert prob == pytest.approx(ref["trial_analysis"]["p_treat_minus_placebo_gt_0"], abs=1e-7)


def test_rbest_normal_trial_analysis(rbest):
    # RBesT normal vignette: postmix(weak_prior, m = -29.2, se = 14); postmix(map_robust,
    # m = -63.1, se = 13.9); pmixdiff(post_act, post_pbo, 0) and (-50). The difference of two
    # normal mixtures is a normal mixture: P(X - Y <= d) in closed form.
    ref = rbest["normal_crohn"]
    rob = ref["robustify"]
    pbo = posterior_normal(normal_mixture(rob["w"], rob["m"], rob["s"]), -63.1, 13.9)
    act = posterior_normal(normal_mixture([1.0], [-50.0], [88.0]), -29.2, 14.0)

    def p_diff_le(d: float) -> float:
        return sum(wa * wp * stats.norm.cdf(d, ma - mp, math.hypot(sa, sp))
                   for wa, ma, sa in zip(act.weights, act.mu, act.sigma, strict=True)
                   for wp, mp, sp in zip(pbo.weights, pbo.mu, pbo.sigma, strict=True))

    tr = ref["trial_analysis"]
    assert p_diff_le(0.0) == pytest.approx(tr["p_act_minus_pbo_le_0"], abs=1e-7)
    assert p_diff_le(-50.0) == pytest.approx(tr["p_act_minus_pbo_le_minus50"], rel=1e-5)


def test_robust_posterior_weight_grows_with_conflict():
    prior = robustify(beta_mixture([1.0], [3.0], [30.0], ["map"]), 0.2)
    weights = [posterior_binomial(prior, r, 16).robust_weight for r in (1, 4, 8, 12)]
    assert weights[0] < 0.2 and all(a < b for a, b in itertools.pairwise(weights))
