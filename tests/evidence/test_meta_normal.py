"""MAP prior for a log-HR (normal–normal model, quadrature over tau).

References: closed-form limits (tau fixed near 0: the common-effect posterior), an
independent brute-force 2-D grid over (mu, tau) of prior x likelihood, and RBesT 1.11-0's
gMAP of the Crohn's disease vignette (an MCMC estimate: compared within Monte Carlo error).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from necc_bayes.evidence.meta_normal import map_normal

Y = [0.41, 0.62, 0.18]
SE = [0.11, 0.25, 0.2]


def test_tau_near_zero_gives_the_common_effect_posterior():
    # HalfNormal(1e-6): tau is effectively 0; mu | y is Normal with precision-weighted mean
    res = map_normal(Y, SE, tau_scale=1e-6, mu_sd=100.0)
    w = 1 / np.asarray(SE) ** 2
    prec = w.sum() + 1 / 100.0**2
    mean = (w * np.asarray(Y)).sum() / prec
    s = res.predictive_summary()
    assert s["mean"] == pytest.approx(mean, abs=1e-9)
    assert s["sd"] == pytest.approx(1 / math.sqrt(prec), rel=1e-6)


def test_quadrature_matches_brute_force_grid():
    # independent: 2-D grid over (mu, tau) with likelihood
    # prod_j Normal(y_j; mu, sqrt(se_j² + tau²))
    res = map_normal(Y, SE, tau_scale=0.5, mu_sd=2.0)
    mu = np.linspace(-3, 4, 1401)
    tau = (np.arange(1500) + 0.5) * (4.0 / 1500)
    m, t = np.meshgrid(mu, tau, indexing="ij")
    ll = stats.norm.logpdf(np.asarray(Y), m[..., None],
                           np.sqrt(np.asarray(SE) ** 2 + t[..., None] ** 2)).sum(-1)
    lp = ll + stats.norm.logpdf(m, 0, 2) + stats.halfnorm.logpdf(t, scale=0.5)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    assert res.tau.mean() == pytest.approx(float((w * t).sum()), abs=2e-4)
    for x in (-0.5, 0.2, 0.45, 1.1):
        brute = float((w * stats.norm.cdf(x, m, t)).sum())
        assert float(res.predictive.cdf(x)) == pytest.approx(brute, abs=2e-4)
    assert res.mu_summary()["mean"] == pytest.approx(float((w * m).sum()), abs=2e-4)


def test_predictive_is_wider_than_the_mean_and_narrows_with_a_smaller_tau_prior():
    wide = map_normal(Y, SE, tau_scale=1.0)
    default = map_normal(Y, SE)
    assert default.predictive.sd() < wide.predictive.sd()
    assert default.mu_summary()["sd"] < default.predictive.sd()


def _mc_se_quantile(mix, q: float, n: int) -> float:
    """Monte Carlo SE of a q-quantile from n independent draws: sqrt(q(1-q)/n) / f(x_q)."""
    return math.sqrt(q * (1 - q) / n) / float(mix.pdf(mix.ppf(q)))


def test_rbest_crohn_gmap_within_monte_carlo_error(rbest):
    # RBesT: gMAP(cbind(y, y.se) ~ 1 | study, family = gaussian, beta.prior = cbind(0, 88),
    # tau.dist = "HalfNormal", tau.prior = cbind(0, 44)), 4 chains, printed summaries.
    # Tolerance: 4 Monte Carlo SE for 4,000 draws (RBesT's default retained sample, assumed
    # independent; autocorrelation would only widen it). Our quadrature is exact (the test
    # above checks it against brute force), so a larger gap would mean a different model.
    ref = rbest["normal_crohn"]
    y = [d["y"] for d in ref["data"]]
    se = [88 / math.sqrt(d["n"]) for d in ref["data"]]
    res = map_normal(y, se, tau_scale=44.0, mu_sd=88.0)
    pred, draws = res.predictive, 4000
    got, want = res.predictive_summary(), ref["gMAP"]["theta_resp_pred"]
    assert abs(got["mean"] - want["mean"]) < 4 * pred.sd() / math.sqrt(draws)
    for key, q in (("q2.5", 0.025), ("median", 0.5), ("q97.5", 0.975)):
        assert abs(got[key] - want[key]) < 4 * _mc_se_quantile(pred, q, draws), key
    # the SD of a normal-ish sample: SE ≈ sd / sqrt(2 n)
    assert abs(got["sd"] - want["sd"]) < 4 * pred.sd() / math.sqrt(2 * draws)
    assert abs(res.tau.mean() - ref["gMAP"]["tau"]["mean"]) < 4 * res.tau.sd() / math.sqrt(draws)


@pytest.mark.parametrize("bad", [
    {"y": [], "se": []}, {"y": [0.1], "se": [0.0]}, {"y": [0.1, 0.2], "se": [0.1]},
    {"y": [0.1], "se": [0.1], "tau_scale": 0},
])
def test_bad_inputs_are_refused(bad):
    with pytest.raises(ValueError):
        map_normal(**bad)
