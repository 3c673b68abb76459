"""A continuous incomplete covariate (``data.missing = "model"``): log-density written by hand.

The binary path has an exact posterior reference (enumeration + quadrature,
``test_imputation_exact.py``); the latent continuous path had none below the pbc comparison,
where only 2 of 418 values of the one continuous covariate are missing. This fast test writes
the joint density of the model documented in :mod:`necc_bayes.survival.imputation` and
:mod:`necc_bayes.spec.imputation` from its definition, with scipy only, and compares it with
PyMC's ``compile_logp(jacobian=False)`` at random points:

* ``w`` continuous, missing for 4 of 25 subjects; ``z`` 0/1 and complete, ``w``'s predictor;
* ``u = (w - m_w) / s_w`` (observed mean and SD, ddof 1) ``~ Normal(alpha + gamma (z - zbar),
  sigma)``, so an observed ``w`` has density ``N(u; ., sigma) / s_w``; a missing one is
  ``m_w + s_w (alpha + gamma (z - zbar) + sigma eps)`` with ``eps ~ Normal(0, 1)``;
* priors ``alpha ~ Normal(0, 1)``, ``gamma ~ Normal(0, 2.5 / s_w)``, ``sigma ~ HalfNormal(1)``
  (the defaults), log-HRs ``Normal(0, 1.5)``, rates ``Gamma(0.5, 4)`` on 3 intervals;
* the survival part per subject: ``delta_i (log lambda_{j_i} + eta_i) - exp(eta_i) sum_j
  E_ij lambda_j`` with ``eta_i = x_i' beta`` on the design centred at the observed means.

Tolerance 1e-8 (absolute, on a log-density of about -100): floating-point only.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from necc_bayes.spec.baseline_priors import GammaBaseline
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.survival.imputation import build_imputation
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors, build_model

CUTS = np.array([4.0, 10.0])
A, B, PRIOR_SD = 0.5, 4.0, 1.5
MISSING = [1, 5, 9, 14]


def _cohort():
    rng = np.random.default_rng(3)
    n = 25
    z = rng.integers(0, 2, n).astype(float)
    w = rng.normal(5.0, 2.0, n) + z
    t = rng.exponential(1 / (0.1 * np.exp(0.5 * z + 0.2 * (w - 5))))
    c = rng.uniform(3, 20, n)
    X = np.column_stack([z, w])
    X[MISSING, 1] = np.nan
    return np.minimum(t, c), (t <= c).astype(int), X


def _model():
    time, event, X = _cohort()
    means = np.nanmean(X, axis=0)
    pp = expand(time, event, CUTS)
    imp = build_imputation(X, ["z", "w"], means=means)
    inputs = PEMInputs(X=X - means, terms=["z", "w"], pp=pp, imputation=imp)
    priors = PEMPriors(
        {"z": NormalPrior(sigma=PRIOR_SD), "w": NormalPrior(sigma=PRIOR_SD)},
        [],
        GammaBaseline(alpha=A, beta=B, marginalize=False),
    )
    return build_model(inputs, priors, warn=False), X, means, pp


def _by_hand(X, means, pp, beta, lam, alpha, gamma, sigma, eps) -> float:
    z, w = X[:, 0], X[:, 1].copy()
    miss = np.isnan(w)
    m_w, s_w = np.nanmean(w), np.nanstd(w, ddof=1)
    zbar = z.mean()
    lin = alpha + gamma * (z - zbar)
    w[miss] = m_w + s_w * (lin[miss] + sigma * eps)
    eta = (np.column_stack([z, w]) - means) @ beta
    surv = pp.event * (np.log(lam[pp.interval]) + eta) - np.exp(eta) * (pp.exposure @ lam)
    u_obs = (w[~miss] - m_w) / s_w
    cov = stats.norm.logpdf(u_obs, lin[~miss], sigma) - np.log(s_w)
    prior = (
        stats.norm.logpdf(beta, 0, PRIOR_SD).sum()
        + stats.gamma.logpdf(lam, A, scale=1 / B).sum()
        + stats.norm.logpdf(alpha, 0, 1.0)
        + stats.norm.logpdf(gamma, 0, 2.5 / s_w)
        + stats.halfnorm.logpdf(sigma, scale=1.0)
        + stats.norm.logpdf(eps).sum()
    )
    return float(surv.sum() + cov.sum() + prior)


def test_model_logp_with_a_latent_continuous_covariate_matches_the_definition():
    model, X, means, pp = _model()
    logp = model.compile_logp(jacobian=False)
    rng = np.random.default_rng(0)
    for _ in range(4):
        beta = rng.normal(scale=0.5, size=2)
        lam = rng.uniform(0.05, 0.3, 3)
        alpha, gamma, sigma = rng.normal(), rng.normal(), rng.uniform(0.3, 2.0)
        eps = rng.normal(size=len(MISSING))
        point = {
            "log_hr_normal": beta,
            "baseline_hazard_log__": np.log(lam),
            "imp_w_alpha": np.array(alpha),
            "imp_w_gamma": np.array([gamma]),
            "imp_w_sigma_log__": np.array(np.log(sigma)),
            "imp_eps": eps,
        }
        want = _by_hand(X, means, pp, beta, lam, alpha, gamma, sigma, eps)
        assert logp(point) == pytest.approx(want, abs=1e-8)


def test_missing_value_is_the_documented_non_centred_latent():
    model, X, _, _ = _model()
    point = model.initial_point()
    point.update({
        "imp_w_alpha": np.array(0.3),
        "imp_w_gamma": np.array([-0.4]),
        "imp_w_sigma_log__": np.array(np.log(0.7)),
        "imp_eps": np.array([1.0, -0.5, 0.2, 2.0]),
    })
    (out,) = model.replace_rvs_by_values([model["missing_value"]])
    got = model.compile_fn(out, inputs=model.value_vars, point_fn=True)(point)
    z, w = X[:, 0], X[:, 1]
    m_w, s_w = np.nanmean(w), np.nanstd(w, ddof=1)
    want = m_w + s_w * (0.3 - 0.4 * (z[MISSING] - z.mean()) + 0.7 * point["imp_eps"])
    np.testing.assert_allclose(got, want, rtol=1e-12)
