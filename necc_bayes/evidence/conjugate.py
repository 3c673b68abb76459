"""Conjugate updates and prior predictive distributions of the mixture priors (closed form).

Normal mixture prior, normal likelihood (an estimate ``y`` with standard error ``se``, e.g.
a log hazard ratio and its standard error):

* posterior component ``k``: ``Normal(m_k', s_k')`` with ``1/s_k'^2 = 1/s_k^2 + 1/se^2`` and
  ``m_k' = s_k'^2 (m_k/s_k^2 + y/se^2)``;
* posterior weight ``w_k' ∝ w_k Normal(y; m_k, sqrt(s_k^2 + se^2))`` -- the prior predictive
  density of ``y`` under component ``k`` (RBesT ``postmix``);
* prior predictive of ``y``: ``sum_k w_k Normal(m_k, sqrt(s_k^2 + se^2))``.

Beta mixture prior, binomial likelihood (``r`` responders of ``n``):

* posterior component ``Beta(a_k + r, b_k + n - r)``, weight
  ``w_k' ∝ w_k B(a_k + r, b_k + n - r) / B(a_k, b_k)`` (the beta-binomial marginal);
* prior predictive of ``r``: the beta-binomial mixture ``sum_k w_k BetaBinomial(n, a_k, b_k)``.

Component labels (e.g. ``"robust"``) are kept, so the posterior weight of the robust
component is :attr:`~necc_bayes.evidence.mixtures.NormalMixture.robust_weight` of the result.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from necc_bayes.evidence.mixtures import BetaMixture, NormalMixture


def _normalise(logw: np.ndarray) -> np.ndarray:
    return np.exp(logw - special.logsumexp(logw))


def normal_predictive(prior: NormalMixture, se: float) -> NormalMixture:
    """Prior predictive distribution of an estimate with standard error ``se``.

    Parameters
    ----------
    prior : NormalMixture
        Prior of the true value.
    se : float
        Standard error of the estimate (> 0).

    Returns
    -------
    NormalMixture
        ``sum_k w_k Normal(mu_k, sqrt(sigma_k^2 + se^2))``.
    """
    s = np.asarray(prior.sigma)
    return NormalMixture(prior.weights, prior.mu, tuple(float(v) for v in np.sqrt(s**2 + se**2)),
                         prior.labels)


def posterior_normal(prior: NormalMixture, y: float, se: float) -> NormalMixture:
    """Posterior of a true value after observing ``y`` with standard error ``se``.

    Parameters
    ----------
    prior : NormalMixture
    y : float
        The estimate (e.g. a log hazard ratio).
    se : float
        Its standard error (> 0).

    Returns
    -------
    NormalMixture
        Updated components and weights (see the module docstring); labels kept.
    """
    w, m, s = prior._arrays()
    prec = 1.0 / s**2 + 1.0 / se**2
    post_s = np.sqrt(1.0 / prec)
    post_m = (m / s**2 + y / se**2) / prec
    with np.errstate(divide="ignore"):
        logw = np.log(w) + stats.norm.logpdf(y, m, np.sqrt(s**2 + se**2))
    return NormalMixture(tuple(float(v) for v in _normalise(logw)),
                         tuple(float(v) for v in post_m), tuple(float(v) for v in post_s),
                         prior.labels)


def log_betabinom(prior: BetaMixture, r: np.ndarray | int, n: int) -> np.ndarray:
    """Per-component log beta-binomial probability of ``r`` of ``n``, shape ``r.shape + (K,)``."""
    _, a, b = prior._arrays()
    rr = np.asarray(r, dtype=float)[..., None]
    log_choose = special.gammaln(n + 1) - special.gammaln(rr + 1) - special.gammaln(n - rr + 1)
    return log_choose + special.betaln(a + rr, b + n - rr) - special.betaln(a, b)


def posterior_binomial(prior: BetaMixture, r: int, n: int) -> BetaMixture:
    """Posterior of a response rate after ``r`` responders of ``n``.

    Parameters
    ----------
    prior : BetaMixture
    r, n : int
        Responders and patients, ``0 <= r <= n``.

    Returns
    -------
    BetaMixture
        Components ``Beta(a_k + r, b_k + n - r)``; weights by the beta-binomial marginal.
    """
    w, a, b = prior._arrays()
    with np.errstate(divide="ignore"):
        logw = np.log(w) + log_betabinom(prior, r, n)
    return BetaMixture(tuple(float(v) for v in _normalise(logw)),
                       tuple(float(v) for v in a + r), tuple(float(v) for v in b + n - r),
                       prior.labels)


def binomial_predictive_pmf(prior: BetaMixture, n: int) -> np.ndarray:
    """Prior predictive probabilities of ``0, 1, ..., n`` responders of ``n`` (sum 1)."""
    w, _, _ = prior._arrays()
    with np.errstate(divide="ignore"):
        logp = special.logsumexp(np.log(w) + log_betabinom(prior, np.arange(n + 1), n), axis=-1)
    return np.exp(logp)
