"""EM compression of a distribution into a few mixture components.

References: recovery of known mixtures (the target is itself a small mixture, so EM must
return it), and the Kolmogorov–Smirnov distance of the MAP fits to their exact quadrature
predictive; RBesT's own automixfit of the same AS MAP is checked for the same closeness.
"""

from __future__ import annotations

import numpy as np
import pytest

from necc_bayes.evidence.ess import ess
from necc_bayes.evidence.meta_binomial import map_binomial
from necc_bayes.evidence.meta_normal import map_normal
from necc_bayes.evidence.mixfit import fit_beta, fit_normal
from necc_bayes.evidence.mixtures import beta_mixture, normal_mixture


def test_normal_em_recovers_a_known_mixture():
    target = normal_mixture([0.35, 0.65], [-0.8, 0.5], [0.3, 0.7])
    fit = fit_normal(target, components=2)
    order = np.argsort(fit.mixture.mu)
    np.testing.assert_allclose(np.asarray(fit.mixture.weights)[order], [0.35, 0.65], atol=2e-3)
    np.testing.assert_allclose(np.asarray(fit.mixture.mu)[order], [-0.8, 0.5], atol=3e-3)
    np.testing.assert_allclose(np.asarray(fit.mixture.sigma)[order], [0.3, 0.7], atol=3e-3)
    assert fit.ks < 1e-3


def test_beta_em_recovers_a_known_mixture():
    target = beta_mixture([0.6, 0.4], [30.0, 3.0], [90.0, 6.0])
    fit = fit_beta(target, components=2)
    order = np.argsort(fit.mixture.a)[::-1]
    np.testing.assert_allclose(np.asarray(fit.mixture.weights)[order], [0.6, 0.4], atol=5e-3)
    np.testing.assert_allclose(np.asarray(fit.mixture.a)[order], [30.0, 3.0], rtol=0.03)
    np.testing.assert_allclose(np.asarray(fit.mixture.b)[order], [90.0, 6.0], rtol=0.03)
    assert fit.ks < 1e-3


def test_constrained_beta_fit_keeps_shapes_at_least_one():
    target = beta_mixture([1.0], [0.6], [4.0])  # a < 1: the unconstrained MLE is a = 0.6
    assert min(fit_beta(target, components=1).mixture.a) >= 1.0
    free = fit_beta(target, components=1, constrain_gt1=False).mixture
    assert free.a[0] == pytest.approx(0.6, rel=0.02)


def test_normal_map_fit_is_close_to_the_exact_predictive(rbest):
    ref = rbest["normal_crohn"]
    y = [d["y"] for d in ref["data"]]
    se = [88 / np.sqrt(d["n"]) for d in ref["data"]]
    res = map_normal(y, se, tau_scale=44.0, mu_sd=88.0)
    fit = fit_normal(res.predictive)
    assert fit.ks <= 0.005
    assert fit.mixture.mean() == pytest.approx(res.predictive.mean(), abs=0.05)
    assert fit.mixture.sd() == pytest.approx(res.predictive.sd(), rel=0.01)
    # RBesT's 3-component automixfit of its MCMC sample gives ESS_elir 39 (printed); ours
    # fits the exact predictive (4,000-draw MC error not present): ESS within 10%
    assert ess(fit.mixture, sigma_ref=88) == pytest.approx(39, rel=0.1)


def test_beta_map_fit_is_close_to_the_exact_predictive(rbest):
    d = rbest["binary_AS"]["data"]
    res = map_binomial([s["r"] for s in d], [s["n"] for s in d])
    fit = fit_beta(res.predictive_logit)
    assert fit.ks <= 0.005
    mean, sd = res.rate_moments()
    assert fit.mixture.mean() == pytest.approx(mean, abs=5e-4)
    assert fit.mixture.sd() == pytest.approx(sd, rel=0.01)
    assert min(fit.mixture.a + fit.mixture.b) >= 1.0
    # RBesT's 4-component automixfit printed ESS_elir 38 for the same MAP (from MCMC)
    assert ess(fit.mixture) == pytest.approx(38, rel=0.1)
    # RBesT's mixture is itself close to our exact predictive (KS over a grid of rates)
    m = rbest["binary_AS"]["automixfit"]
    theirs = beta_mixture(m["w"], m["a"], m["b"])
    grid = np.linspace(0.01, 0.8, 400)
    assert np.max(np.abs(theirs.cdf(grid) - res.rate_cdf(grid))) < 0.02
