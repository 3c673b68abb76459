"""Piecewise-exponential likelihood in plain numpy / scipy.

The reference implementation of every density the PyMC model (``piecewise_exponential.py``)
builds, plus the post-sampling steps that need no PyMC (conditional baseline draws and the
per-subject log-likelihood). Tests compare the model against these functions, and the
summaries use them.

Notation
--------
Subject ``i`` has covariates ``x_i`` (p,), event indicator ``delta_i``, exposure ``E_ij`` in
interval ``j`` and follow-up ending in interval ``j_i``. The hazard is
``h(t | x) = lambda_j exp(x' beta)`` on interval ``j``. With

* ``d_j = sum_i delta_i [j_i = j]`` (events per interval),
* ``s = sum_i delta_i x_i`` (covariate sum over events),
* ``S_j(beta) = sum_i E_ij exp(x_i' beta) = exp(X_u beta) @ E_u`` (over unique patterns ``u``),

the log-likelihood is (up to the constant ``sum_i delta_i log E_{i j_i}`` that separates it
from the long-format Poisson form)::

    l(beta, lambda) = sum_j d_j log lambda_j + beta' s - sum_j lambda_j S_j(beta)

With independent ``Gamma(a, b)`` priors on ``lambda_j`` the rates integrate out exactly::

    log p(data | beta) = sum_j [a log b - lgamma(a) + lgamma(a + d_j)
                                - (a + d_j) log(b + S_j(beta))] + beta' s

and ``lambda_j | beta, data ~ Gamma(a + d_j, b + S_j(beta))`` (shape, rate).

Every function taking ``beta`` broadcasts over its leading axes: ``beta`` of shape
``(..., p)`` gives results of shape ``(..., J)`` or ``(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from necc_bayes.survival.intervals import PersonPeriod, collapse


@dataclass(frozen=True)
class SufficientStats:
    """Exact sufficient statistics of the piecewise-exponential likelihood.

    Attributes
    ----------
    X_u : ndarray, shape (m, p)
        Unique covariate patterns.
    E_u : ndarray, shape (m, J)
        Exposure summed per pattern and interval.
    d : ndarray, shape (J,)
        Events per interval.
    s : ndarray, shape (p,)
        ``sum_i delta_i x_i``.
    """

    X_u: np.ndarray
    E_u: np.ndarray
    d: np.ndarray
    s: np.ndarray

    @property
    def n_intervals(self) -> int:
        """Number of intervals ``J``."""
        return self.E_u.shape[1]


def sufficient_stats(X: np.ndarray, pp: PersonPeriod) -> SufficientStats:
    """Reduce a design matrix and its person-period expansion to sufficient statistics.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Design matrix (as used in the model, i.e. already centred if centring is on).
    pp : PersonPeriod
        Expansion of the same ``n`` subjects.

    Returns
    -------
    SufficientStats
        Patterns, pattern exposure, events per interval and ``sum delta x``.
    """
    X = np.asarray(X, dtype=float)
    pat = collapse(X, pp)
    return SufficientStats(
        X_u=pat.X,
        E_u=pat.exposure,
        d=pp.events_per_interval.astype(float),
        s=X.T @ pp.event.astype(float),
    )


def cumulative_exposure(
    beta: np.ndarray, stats: SufficientStats, *, chunk: int = 256
) -> np.ndarray:
    """Return ``S_j(beta) = sum_u E_uj exp(x_u' beta)``, shape ``(..., J)``.

    Computed in chunks of ``chunk`` coefficient vectors, so the (draws x patterns)
    intermediate never exceeds ``chunk x patterns`` (4 x 1000 draws at 20,000 patterns would
    otherwise allocate 1.2 GiB).
    """
    beta = np.asarray(beta, dtype=float)
    n_j = stats.E_u.shape[1]
    if beta.shape[-1] == 0:  # no covariates: every exp(x'beta) is 1
        return np.broadcast_to(stats.E_u.sum(axis=0), (*beta.shape[:-1], n_j)).copy()
    flat = beta.reshape(-1, beta.shape[-1])
    out = np.empty((flat.shape[0], n_j))
    for start in range(0, flat.shape[0], chunk):
        out[start : start + chunk] = np.exp(flat[start : start + chunk] @ stats.X_u.T) @ stats.E_u
    return out.reshape(*beta.shape[:-1], n_j)


def loglik_conditional(beta: np.ndarray, lam: np.ndarray, stats: SufficientStats) -> np.ndarray:
    """Log-likelihood given the coefficients and the interval rates.

    Parameters
    ----------
    beta : ndarray, shape (..., p)
        Log hazard ratios.
    lam : ndarray, shape (..., J)
        Baseline rates per unit time (broadcast against ``beta``'s leading axes).
    stats : SufficientStats
        From :func:`sufficient_stats`.

    Returns
    -------
    ndarray, shape (...)
        ``sum_j d_j log lambda_j + beta' s - sum_j lambda_j S_j(beta)``.
    """
    beta = np.asarray(beta, dtype=float)
    lam = np.asarray(lam, dtype=float)
    S = cumulative_exposure(beta, stats)
    d_log_lam = np.where(stats.d > 0, stats.d * np.log(np.where(stats.d > 0, lam, 1.0)), 0.0)
    return d_log_lam.sum(-1) + beta @ stats.s - (lam * S).sum(-1)


def loglik_marginal_terms(
    beta: np.ndarray, alpha: float, rate: float, stats: SufficientStats
) -> np.ndarray:
    """Per-interval terms of the gamma-marginalised log-likelihood, shape ``(..., J)``.

    ``a log b - lgamma(a) + lgamma(a + d_j) - (a + d_j) log(b + S_j(beta))``; the term
    ``beta' s`` is not included (it does not belong to an interval).
    """
    S = cumulative_exposure(beta, stats)
    a_post = alpha + stats.d
    return alpha * np.log(rate) - gammaln(alpha) + gammaln(a_post) - a_post * np.log(rate + S)


def loglik_marginal(
    beta: np.ndarray, alpha: float, rate: float, stats: SufficientStats
) -> np.ndarray:
    """Log-likelihood with independent ``Gamma(alpha, rate)`` baseline rates integrated out.

    Parameters
    ----------
    beta : ndarray, shape (..., p)
        Log hazard ratios.
    alpha, rate : float
        Shape and rate of the gamma prior on every ``lambda_j``.
    stats : SufficientStats
        From :func:`sufficient_stats`.

    Returns
    -------
    ndarray, shape (...)
        ``log p(data | beta)`` up to the constant ``sum_i delta_i log E_{i j_i}``.
    """
    beta = np.asarray(beta, dtype=float)
    return loglik_marginal_terms(beta, alpha, rate, stats).sum(-1) + beta @ stats.s


def loglik_long_poisson(
    beta: np.ndarray, lam: np.ndarray, X: np.ndarray, pp: PersonPeriod
) -> float:
    """Long-format Poisson log-likelihood (one row per subject and interval at risk).

    The textbook form (``survival::survSplit`` + Poisson GLM with ``log(exposure)`` offset):
    ``event_ij ~ Poisson(lambda_j exp(x_i' beta) E_ij)``. Kept as a slow reference for tests;
    it equals :func:`loglik_conditional` plus ``sum_i delta_i log E_{i j_i}``.
    """
    from scipy.stats import poisson

    long = pp.long_format()
    rows = long["id"].to_numpy() - 1
    j = long["interval"].to_numpy()
    mu = np.asarray(lam)[j] * np.exp(np.asarray(X, dtype=float)[rows] @ beta)
    mu = mu * long["exposure"].to_numpy()
    return float(poisson.logpmf(long["event"].to_numpy(), mu).sum())


def poisson_offset_constant(pp: PersonPeriod) -> float:
    """Return ``sum_i delta_i log E_{i j_i}``: long-format Poisson minus compact form."""
    rows = np.flatnonzero(pp.event == 1)
    return float(np.log(pp.exposure[rows, pp.interval[rows]]).sum())


def draw_baseline(
    beta: np.ndarray,
    alpha: float,
    rate: float,
    stats: SufficientStats,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw ``lambda_j | beta, data ~ Gamma(alpha + d_j, rate + S_j(beta))`` once per ``beta``.

    Parameters
    ----------
    beta : ndarray, shape (..., p)
        Posterior draws of the log hazard ratios.
    alpha, rate : float
        Gamma prior shape and rate.
    stats : SufficientStats
        From :func:`sufficient_stats`.
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller for reproducibility).

    Returns
    -------
    ndarray, shape (..., J)
        One baseline-rate vector per draw of ``beta``.
    """
    S = cumulative_exposure(beta, stats)
    shape = np.broadcast_to(alpha + stats.d, S.shape)
    return rng.gamma(shape, 1.0 / (rate + S))


def pointwise_loglik(
    beta: np.ndarray,
    lam: np.ndarray,
    X: np.ndarray,
    pp: PersonPeriod,
    *,
    chunk: int = 256,
) -> np.ndarray:
    """Per-subject log-likelihood for every draw.

    ``l_i = delta_i (log lambda_{j_i} + x_i' beta) - sum_j E_ij lambda_j exp(x_i' beta)``;
    summing over subjects gives :func:`loglik_conditional`.

    Parameters
    ----------
    beta : ndarray, shape (k, p)
        Flattened draws of the log hazard ratios.
    lam : ndarray, shape (k, J)
        Matching draws of the baseline rates.
    X : ndarray, shape (n, p)
        Design matrix.
    pp : PersonPeriod
        Expansion of the same subjects.
    chunk : int
        Draws processed at once (bounds the memory of the ``(chunk, n)`` temporaries).

    Returns
    -------
    ndarray, shape (k, n)
    """
    beta = np.asarray(beta, dtype=float)
    lam = np.asarray(lam, dtype=float)
    X = np.asarray(X, dtype=float)
    k = beta.shape[0]
    n = X.shape[0]
    delta = pp.event.astype(bool)
    rows = np.flatnonzero(delta)
    out = np.empty((k, n))
    for start in range(0, k, chunk):
        sl = slice(start, min(start + chunk, k))
        eta = beta[sl] @ X.T  # (c, n)
        cum = lam[sl] @ pp.exposure.T  # (c, n): sum_j lambda_j E_ij
        ll = -cum * np.exp(eta)
        ll[:, rows] += np.log(lam[sl][:, pp.interval[rows]]) + eta[:, rows]
        out[sl] = ll
    return out
