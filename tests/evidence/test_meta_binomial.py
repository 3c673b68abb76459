"""MAP prior for a response rate (binomial–normal model, 2-D quadrature, adaptive GH).

References: brute-force theta-grid integration of each study's likelihood (independent of
the adaptive Gauss–Hermite rule), a grid-refinement check, and RBesT 1.11-0's gMAP of the
ankylosing-spondylitis vignette (MCMC: compared within Monte Carlo error).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

import necc_bayes.evidence.meta_binomial as mb
from necc_bayes.evidence.meta_binomial import map_binomial, study_loglik


@pytest.fixture(scope="module")
def as_data(rbest):
    d = rbest["binary_AS"]["data"]
    return [s["r"] for s in d], [s["n"] for s in d]


@pytest.fixture(scope="module")
def as_map(as_data):
    return map_binomial(*as_data)


@pytest.mark.parametrize("mu, tau", [(-1.1, 0.001), (-1.1, 0.3), (0.5, 2.0), (-4.0, 1.0)])
def test_adaptive_gauss_hermite_matches_a_brute_force_theta_grid(mu, tau):
    r = np.array([0, 9, 23, 20], dtype=float)
    n = np.array([7, 78, 107, 20], dtype=float)
    got = study_loglik(r, n, np.array(mu), np.array(tau))
    theta = np.linspace(mu - 12 * tau - 15, mu + 12 * tau + 15, 400_001)
    like = stats.binom.pmf(r[:, None], n[:, None], special.expit(theta))
    brute = np.log(np.trapezoid(like * stats.norm.pdf(theta, mu, tau), theta, axis=1))
    # 20-node AGQ: worst case measured here r = n = 20, tau = 2: 1.5e-6 in the log-likelihood
    np.testing.assert_allclose(got, brute, rtol=1e-5, atol=1e-9)


@pytest.mark.slow
def test_grid_refinement_changes_nothing_that_matters(as_data, as_map, monkeypatch):
    monkeypatch.setattr(mb, "_FINE_MU", 360)
    monkeypatch.setattr(mb, "_FINE_TAU", 240)
    fine = map_binomial(*as_data)
    a, b = as_map.rate_summary(), fine.rate_summary()
    for key in a:
        assert a[key] == pytest.approx(b[key], abs=5e-5), key
    assert as_map.tau.mean() == pytest.approx(fine.tau.mean(), abs=5e-5)


def test_predictive_rate_functions_are_consistent(as_map):
    for q in (0.025, 0.5, 0.975):
        assert float(as_map.rate_cdf(as_map.rate_quantile(q))) == pytest.approx(q, abs=1e-9)
    p = np.linspace(0.005, 0.9, 2_001)  # holds all but ~1e-6 of the mass
    dens = as_map.rate_pdf(p)
    mass = float(as_map.rate_cdf(0.9) - as_map.rate_cdf(0.005))
    assert integrate.simpson(dens, x=p) == pytest.approx(mass, abs=1e-7)
    # the mean of the rate (Gauss–Hermite per component) against Simpson on the logit scale
    z = np.linspace(-14.0, 10.0, 4_001)
    mean, _ = as_map.rate_moments()
    fz = as_map.predictive_logit.pdf(z)
    assert integrate.simpson(special.expit(z) * fz, x=z) == pytest.approx(mean, abs=1e-7)


@pytest.mark.parametrize("key, scale", [("gMAP_tau_halfnormal_1", 1.0),
                                        ("gMAP_tau_halfnormal_0.5", 0.5)])
def test_rbest_as_gmap_within_monte_carlo_error(rbest, as_data, as_map, key, scale):
    # RBesT: gMAP(cbind(r, n - r) ~ 1 | study, family = binomial, tau.dist = "HalfNormal",
    # tau.prior = scale, beta.prior = 2). Tolerance: 4 Monte Carlo SE of 4,000 independent
    # draws (RBesT's default retained sample). Measured gaps (HalfNormal(1)): mean 0.0033,
    # q2.5 0.0049, q97.5 0.0104 -- all under 3 SE.
    res = as_map if scale == 1.0 else map_binomial(*as_data, tau_scale=scale)
    want = rbest["binary_AS"][key]["theta_resp_pred"]
    got = res.rate_summary()
    draws = 4000
    assert abs(got["mean"] - want["mean"]) < 4 * got["sd"] / math.sqrt(draws)
    assert abs(got["sd"] - want["sd"]) < 4 * got["sd"] / math.sqrt(2 * draws)
    for name, q in (("q2.5", 0.025), ("median", 0.5), ("q97.5", 0.975)):
        se = math.sqrt(q * (1 - q) / draws) / float(res.rate_pdf(res.rate_quantile(q)))
        assert abs(got[name] - want[name]) < 4 * se, name
    tau_want = rbest["binary_AS"][key]["tau"]
    assert abs(res.tau.mean() - tau_want["mean"]) < 4 * res.tau.sd() / math.sqrt(draws)


@pytest.mark.parametrize("r, n", [([], []), ([3], [2]), ([1.5], [4]), ([1, 2], [3])])
def test_bad_counts_are_refused(r, n):
    with pytest.raises(ValueError):
        map_binomial(r, n)
