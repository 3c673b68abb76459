"""Slow: the quadrature MAP predictives against NUTS on the same models (PyMC, nutpie).

An independent route to the same numbers: the binomial–normal and normal–normal MAP models
of RBesT's vignettes written in PyMC, sampled with fixed seeds, and the predictive of a new
study's parameter compared with the quadrature result within 4 Monte Carlo standard errors
(MCSE from ArviZ), plus a Kolmogorov–Smirnov distance between the draws and the exact
quadrature CDF. About 30 s on 2 cores (two small models, 4 × 1000 draws each).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from necc_bayes.evidence.meta_binomial import map_binomial
from necc_bayes.evidence.meta_normal import map_normal

pytestmark = pytest.mark.slow


def _ks(draws: np.ndarray, cdf) -> float:
    x = np.sort(draws)
    f = cdf(x)
    n = x.size
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def _check(draws_ds, name: str, exact_mean: float, exact_q: dict[float, float], cdf) -> None:
    import arviz as az

    mean_mcse = float(az.mcse(draws_ds, method="mean")[name])
    assert abs(float(draws_ds[name].mean()) - exact_mean) < 4 * mean_mcse
    for q, value in exact_q.items():
        mcse = float(az.mcse(draws_ds, method="quantile", prob=q)[name])
        assert abs(float(draws_ds[name].quantile(q)) - value) < 4 * mcse, q
    flat = draws_ds[name].values.reshape(-1)
    ess = float(az.ess(draws_ds)[name])
    # KS distance of ~ESS independent draws: 1.63 / sqrt(n) is the 1% critical value
    assert _ks(flat, cdf) < 1.63 / math.sqrt(ess)


def test_binomial_normal_map_matches_nuts(rbest):
    import pymc as pm

    d = rbest["binary_AS"]["data"]
    r = np.array([s["r"] for s in d])
    n = np.array([s["n"] for s in d])
    with pm.Model():
        mu = pm.Normal("mu", 0.0, 2.0)
        tau = pm.HalfNormal("tau", 1.0)
        z = pm.Normal("z", 0.0, 1.0, shape=len(r))
        pm.Binomial("r", n=n, logit_p=mu + tau * z, observed=r)
        pm.Deterministic("p_new", pm.math.invlogit(mu + tau * pm.Normal("z_new", 0.0, 1.0)))
        idata = pm.sample(draws=1000, tune=1000, chains=4, random_seed=20261201,
                          progressbar=False, target_accept=0.95)
    post = idata["posterior"].to_dataset()
    assert int(idata["sample_stats"]["diverging"].sum()) == 0
    exact = map_binomial(r.tolist(), n.tolist())
    mean, _ = exact.rate_moments()
    qs = {q: exact.rate_quantile(q) for q in (0.025, 0.5, 0.975)}
    _check(post, "p_new", mean, qs, exact.rate_cdf)
    _check(post, "tau", exact.tau.mean(), {0.5: exact.tau.quantile(0.5)},
           lambda x: np.interp(x, exact.tau.nodes, np.cumsum(exact.tau.mass)))


def test_normal_normal_map_matches_nuts():
    import pymc as pm

    y = np.array([0.41, 0.62, 0.18, -0.05])
    se = np.array([0.11, 0.25, 0.2, 0.3])
    with pm.Model():
        mu = pm.Normal("mu", 0.0, 2.0)
        tau = pm.HalfNormal("tau", 0.5)
        z = pm.Normal("z", 0.0, 1.0, shape=len(y))
        pm.Normal("y", mu + tau * z, se, observed=y)
        pm.Deterministic("theta_new", mu + tau * pm.Normal("z_new", 0.0, 1.0))
        idata = pm.sample(draws=1000, tune=1000, chains=4, random_seed=20261202,
                          progressbar=False, target_accept=0.95)
    post = idata["posterior"].to_dataset()
    exact = map_normal(y.tolist(), se.tolist())
    qs = {q: exact.predictive.ppf(q) for q in (0.025, 0.5, 0.975)}
    _check(post, "theta_new", exact.predictive.mean(), qs, exact.predictive.cdf)
