"""Piecewise-exponential likelihood in plain numpy / scipy.

The reference implementation of every density the PyMC model (``survival/model.py``) builds,
plus the post-sampling steps that need no PyMC (conditional baseline draws and the per-row
log-likelihood). Tests compare the model against these functions, and the summaries use them.

Notation
--------
Row ``i`` (a subject, or one ``(start, stop]`` piece of a subject's follow-up) has covariates
``x_i`` (p,), event indicator ``delta_i``, exposure ``E_ij`` (time at risk inside interval
``j``, after its entry time), stratum ``s_i``, cluster ``c_i`` and follow-up ending in interval
``j_i``. The hazard is

    h_i(t) = lambda[s_i, j] * exp(eta_ij),   eta_ij = x_i' beta + sum_k x_ik dev[k, j] + b[c_i]

on interval ``j``: ``beta`` the log hazard ratios, ``dev`` the per-interval deviations of the
time-varying terms (none by default), ``b`` the log-frailty of each cluster (none by default),
and one baseline rate per stratum and interval. With

* ``d[s, j]``  events per stratum and interval,
* the linear term ``L = sum_i delta_i eta_{i j_i} = beta' s + sum_kj dev[k,j] s_int[k,j] +
  sum_c b_c D_c`` (``s = sum_i delta_i x_i``, ``s_int[:, j]`` the same sum over the events of
  interval ``j``, ``D_c`` the events of cluster ``c``),
* ``S[s, j] = sum_{u in s} E_uj exp(eta_uj)`` over the unique patterns ``u`` (rows with equal
  covariates, stratum and cluster pooled),

the log-likelihood is (up to the constant ``sum_i delta_i log E_{i j_i}`` that separates it
from the long-format Poisson form)::

    l(beta, lambda) = sum_sj d_sj log lambda_sj + L - sum_sj lambda_sj S_sj

With independent ``Gamma(a_j, b_j)`` priors on the rates (the gamma families of
``spec.priors``: equal per interval, or the partition-invariant gamma process
``a_j = c r Delta_j, b_j = c Delta_j``) the rates integrate out exactly, stratum by stratum::

    log p(data | beta) = sum_sj [a_j log b_j - lgamma(a_j) + lgamma(a_j + d_sj)
                                 - (a_j + d_sj) log(b_j + S_sj)] + L

and ``lambda_sj | beta, data ~ Gamma(a_j + d_sj, b_j + S_sj)`` (shape, rate).

Shapes: functions taking ``beta`` broadcast over its leading axes (``beta``: ``(..., p)``).
Baseline arrays are ``(..., S, J)`` with strata, ``(..., J)`` without.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from necc_bayes.survival.intervals import PersonPeriod
from necc_bayes.survival.patterns import collapse


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
        Events per interval (all strata).
    s : ndarray, shape (p,)
        ``sum_i delta_i x_i``.
    d_strata : ndarray, shape (S, J)
        Events per stratum and interval (``S = 1`` without strata).
    stratum_u : ndarray of int, shape (m,)
        Stratum of each pattern.
    s_interval : ndarray, shape (p, J)
        ``sum_i delta_i x_i`` over the events of each interval.
    cluster_u : ndarray of int, shape (m,), or None
        Cluster of each pattern (None without a frailty).
    events_cluster : ndarray, shape (C,), or None
        Events per cluster.
    """

    X_u: np.ndarray
    E_u: np.ndarray
    d: np.ndarray
    s: np.ndarray
    d_strata: np.ndarray
    stratum_u: np.ndarray
    s_interval: np.ndarray
    cluster_u: np.ndarray | None = None
    events_cluster: np.ndarray | None = None

    @property
    def n_intervals(self) -> int:
        """Number of intervals ``J``."""
        return self.E_u.shape[1]

    @property
    def n_strata(self) -> int:
        """Number of strata ``S`` (1 without strata)."""
        return self.d_strata.shape[0]

    @property
    def stratified(self) -> bool:
        """Whether baseline arrays carry a stratum axis."""
        return self.n_strata > 1

    @property
    def stratum_onehot(self) -> np.ndarray:
        """``(S, m)`` 0/1 matrix: pattern ``u`` belongs to stratum ``s``."""
        return (self.stratum_u[None, :] == np.arange(self.n_strata)[:, None]).astype(float)


def sufficient_stats(
    X: np.ndarray,
    pp: PersonPeriod,
    *,
    strata: np.ndarray | None = None,
    n_strata: int | None = None,
    clusters: np.ndarray | None = None,
    n_clusters: int | None = None,
) -> SufficientStats:
    """Reduce a design matrix and its person-period expansion to sufficient statistics.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Design matrix (as used in the model, i.e. already centred if centring is on).
    pp : PersonPeriod
        Expansion of the same ``n`` rows.
    strata : ndarray of int, shape (n,), optional
        Stratum code of each row, ``0 .. S-1``.
    n_strata : int, optional
        ``S`` (default: the largest code plus one).
    clusters : ndarray of int, shape (n,), optional
        Cluster code of each row, ``0 .. C-1`` (a shared frailty per cluster).
    n_clusters : int, optional
        ``C`` (default: the largest code plus one).

    Returns
    -------
    SufficientStats
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    s_codes = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, np.int64)
    S = int(n_strata if n_strata is not None else s_codes.max() + 1)
    columns = [s_codes]
    if clusters is not None:
        c_codes = np.asarray(clusters, dtype=np.int64)
        columns.append(c_codes)
    pat = collapse(X, pp, groups=np.column_stack(columns))
    events = pp.event_matrix.astype(float)  # (n, J)
    d_strata = np.zeros((S, pp.n_intervals))
    np.add.at(d_strata, s_codes, events)
    out = {
        "X_u": pat.X,
        "E_u": pat.exposure,
        "d": pp.events_per_interval.astype(float),
        "s": X.T @ pp.event.astype(float),
        "d_strata": d_strata,
        "stratum_u": pat.groups[:, 0],
        "s_interval": X.T @ events,
    }
    if clusters is not None:
        C = int(n_clusters if n_clusters is not None else c_codes.max() + 1)
        out["cluster_u"] = pat.groups[:, 1]
        out["events_cluster"] = np.bincount(c_codes, weights=pp.event.astype(float), minlength=C)
    return SufficientStats(**out)


def _pattern_weights(
    beta: np.ndarray,
    stats: SufficientStats,
    dev: np.ndarray | None,
    frailty: np.ndarray | None,
    tv_index: np.ndarray | None,
) -> np.ndarray:
    """``exp(eta_uj)``, shape ``(c, m, J)`` for flattened draws ``beta`` of shape ``(c, p)``."""
    eta = beta @ stats.X_u.T  # (c, m)
    if frailty is not None:
        eta = eta + frailty[:, stats.cluster_u]
    w = np.exp(eta)[:, :, None]
    if dev is not None and tv_index is not None and tv_index.size:
        w = w * np.exp(np.einsum("mk,ckj->cmj", stats.X_u[:, tv_index], dev))
    return w


def stratum_exposure(
    beta: np.ndarray,
    stats: SufficientStats,
    *,
    dev: np.ndarray | None = None,
    frailty: np.ndarray | None = None,
    tv_index: np.ndarray | None = None,
    chunk: int = 256,
) -> np.ndarray:
    """Return ``S[s, j] = sum_{u in s} E_uj exp(eta_uj)``, shape ``(..., S, J)``.

    Parameters
    ----------
    beta : ndarray, shape (..., p)
        Log hazard ratios.
    stats : SufficientStats
        From :func:`sufficient_stats`.
    dev : ndarray, shape (..., q, J), optional
        Per-interval deviations of the time-varying terms ``tv_index``.
    frailty : ndarray, shape (..., C), optional
        Log-frailty of each cluster.
    tv_index : ndarray of int, shape (q,), optional
        Columns of ``X`` that are time-varying.
    chunk : int
        Draws at once, at most ``2**24 / m`` (128 MB of weights; x J with tv terms/frailty).
    """
    m, beta, E = max(stats.X_u.shape[0], 1), np.asarray(beta, dtype=float), stats.E_u
    blas = m > 2**24 // chunk and not stats.stratified  # before chunk is bounded
    chunk = max(1, min(chunk, 2**24 // m))
    lead, k = beta.shape[:-1], int(np.prod(beta.shape[:-1], dtype=np.int64))
    flat = beta.reshape(k, beta.shape[-1])
    dev_f = None if dev is None else np.asarray(dev, float).reshape(k, *np.shape(dev)[-2:])
    fr_f = None if frailty is None else np.asarray(frailty, float).reshape(k, -1)
    onehot = stats.stratum_onehot  # (S, m)
    out = np.empty((k, stats.n_strata, stats.n_intervals))
    for start in range(0, k, chunk):
        sl = slice(start, min(start + chunk, k))
        if dev_f is None and fr_f is None:
            w = np.exp(flat[sl] @ stats.X_u.T)  # (c, m)
            out[sl] = (w @ E)[:, None] if blas else np.einsum("sm,cm,mj->csj", onehot, w, E)
            continue
        w3 = _pattern_weights(
            flat[sl],
            stats,
            None if dev_f is None else dev_f[sl],
            None if fr_f is None else fr_f[sl],
            tv_index,
        )
        out[sl] = np.einsum("sm,cmj,mj->csj", onehot, w3, stats.E_u)
    return out.reshape(*lead, stats.n_strata, stats.n_intervals)


def cumulative_exposure(
    beta: np.ndarray, stats: SufficientStats, *, chunk: int = 256
) -> np.ndarray:
    """Return ``S_j(beta)`` summed over strata, shape ``(..., J)`` (no frailty, no ``dev``)."""
    return stratum_exposure(beta, stats, chunk=chunk).sum(axis=-2)


def linear_term(
    beta: np.ndarray,
    stats: SufficientStats,
    *,
    dev: np.ndarray | None = None,
    frailty: np.ndarray | None = None,
    tv_index: np.ndarray | None = None,
) -> np.ndarray:
    """``L = sum_i delta_i eta_{i j_i}``, shape ``(...)``."""
    out = np.asarray(beta, dtype=float) @ stats.s
    if dev is not None and tv_index is not None and tv_index.size:
        out = out + np.einsum("...kj,kj->...", dev, stats.s_interval[tv_index])
    if frailty is not None and stats.events_cluster is not None:
        out = out + np.asarray(frailty) @ stats.events_cluster
    return out


def _as_strata(lam: np.ndarray, stats: SufficientStats) -> np.ndarray:
    """Baseline rates with an explicit stratum axis ``(..., S, J)``."""
    lam = np.asarray(lam, dtype=float)
    return lam if stats.stratified else lam[..., None, :]


def _from_strata(arr: np.ndarray, stats: SufficientStats) -> np.ndarray:
    """Drop the stratum axis of ``(..., S, J)`` without strata."""
    return arr if stats.stratified else arr[..., 0, :]


def loglik_conditional(
    beta: np.ndarray,
    lam: np.ndarray,
    stats: SufficientStats,
    *,
    dev: np.ndarray | None = None,
    frailty: np.ndarray | None = None,
    tv_index: np.ndarray | None = None,
) -> np.ndarray:
    """Log-likelihood given the coefficients and the baseline rates.

    Parameters
    ----------
    beta : ndarray, shape (..., p)
        Log hazard ratios.
    lam : ndarray, shape (..., J) or (..., S, J)
        Baseline rates per unit time (with a stratum axis when stratified).
    stats : SufficientStats
        From :func:`sufficient_stats`.
    dev, frailty, tv_index
        As in :func:`stratum_exposure`.

    Returns
    -------
    ndarray, shape (...)
        ``sum_sj d_sj log lambda_sj + L - sum_sj lambda_sj S_sj``.
    """
    lam_s = _as_strata(lam, stats)
    S = stratum_exposure(beta, stats, dev=dev, frailty=frailty, tv_index=tv_index)
    d = stats.d_strata
    d_log_lam = np.where(d > 0, d * np.log(np.where(d > 0, lam_s, 1.0)), 0.0)
    lin = linear_term(beta, stats, dev=dev, frailty=frailty, tv_index=tv_index)
    return d_log_lam.sum((-2, -1)) + lin - (lam_s * S).sum((-2, -1))


def loglik_marginal_terms(
    beta: np.ndarray,
    alpha: float | np.ndarray,
    rate: float | np.ndarray,
    stats: SufficientStats,
    *,
    dev: np.ndarray | None = None,
    frailty: np.ndarray | None = None,
    tv_index: np.ndarray | None = None,
) -> np.ndarray:
    """Per-interval terms of the gamma-marginalised log-likelihood.

    ``a_j log b_j - lgamma(a_j) + lgamma(a_j + d_sj) - (a_j + d_sj) log(b_j + S_sj)``, shape
    ``(..., J)`` or ``(..., S, J)`` when stratified; ``alpha`` and ``rate`` are scalars or
    per-interval arrays ``(J,)``. The linear term ``L`` is not included.
    """
    S = stratum_exposure(beta, stats, dev=dev, frailty=frailty, tv_index=tv_index)
    a = np.asarray(alpha, dtype=float)
    b = np.asarray(rate, dtype=float)
    a_post = a + stats.d_strata
    terms = a * np.log(b) - gammaln(a) + gammaln(a_post) - a_post * np.log(b + S)
    return _from_strata(terms, stats)


def loglik_marginal(
    beta: np.ndarray,
    alpha: float | np.ndarray,
    rate: float | np.ndarray,
    stats: SufficientStats,
    *,
    dev: np.ndarray | None = None,
    frailty: np.ndarray | None = None,
    tv_index: np.ndarray | None = None,
) -> np.ndarray:
    """Log-likelihood with independent gamma baseline rates integrated out.

    Parameters
    ----------
    beta : ndarray, shape (..., p)
        Log hazard ratios.
    alpha, rate : float or ndarray, shape (J,)
        Shape and rate of the gamma prior of each interval's rate.
    stats : SufficientStats
        From :func:`sufficient_stats`.
    dev, frailty, tv_index
        As in :func:`stratum_exposure`.

    Returns
    -------
    ndarray, shape (...)
        ``log p(data | beta)`` up to the constant ``sum_i delta_i log E_{i j_i}``.
    """
    terms = loglik_marginal_terms(
        beta, alpha, rate, stats, dev=dev, frailty=frailty, tv_index=tv_index
    )
    axes = (-2, -1) if stats.stratified else (-1,)
    lin = linear_term(beta, stats, dev=dev, frailty=frailty, tv_index=tv_index)
    return terms.sum(axes) + lin


def loglik_long_poisson(
    beta: np.ndarray,
    lam: np.ndarray,
    X: np.ndarray,
    pp: PersonPeriod,
    *,
    strata: np.ndarray | None = None,
    dev: np.ndarray | None = None,
    tv_index: np.ndarray | None = None,
    frailty: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
) -> float:
    """Long-format Poisson log-likelihood (one row per subject and interval at risk).

    The textbook form (``survival::survSplit`` + Poisson GLM with ``log(exposure)`` offset):
    ``event_ij ~ Poisson(lambda[s_i, j] exp(eta_ij) E_ij)``. Kept as a slow reference for
    tests; it equals :func:`loglik_conditional` plus :func:`poisson_offset_constant`.
    """
    from scipy.stats import poisson

    long = pp.long_format()
    rows = long["id"].to_numpy() - 1
    j = long["interval"].to_numpy()
    lam = np.asarray(lam, dtype=float)
    s = np.zeros(len(rows), dtype=np.int64) if strata is None else np.asarray(strata)[rows]
    rate = lam[s, j] if lam.ndim == 2 else lam[j]
    Xr = np.asarray(X, dtype=float)[rows]
    eta = Xr @ np.asarray(beta, dtype=float)
    if dev is not None and tv_index is not None:
        eta = eta + np.einsum("rk,kr->r", Xr[:, tv_index], np.asarray(dev)[:, j])
    if frailty is not None and clusters is not None:
        eta = eta + np.asarray(frailty)[np.asarray(clusters)[rows]]
    mu = rate * np.exp(eta) * long["exposure"].to_numpy()
    return float(poisson.logpmf(long["event"].to_numpy(), mu).sum())


def poisson_offset_constant(pp: PersonPeriod) -> float:
    """Return ``sum_i delta_i log E_{i j_i}``: long-format Poisson minus compact form."""
    rows = np.flatnonzero(pp.event == 1)
    return float(np.log(pp.exposure[rows, pp.interval[rows]]).sum())


def draw_baseline(
    beta: np.ndarray,
    alpha: float | np.ndarray,
    rate: float | np.ndarray,
    stats: SufficientStats,
    rng: np.random.Generator,
    *,
    dev: np.ndarray | None = None,
    frailty: np.ndarray | None = None,
    tv_index: np.ndarray | None = None,
) -> np.ndarray:
    """Draw ``lambda_sj | beta, data ~ Gamma(a_j + d_sj, b_j + S_sj)`` once per ``beta``.

    Parameters
    ----------
    beta : ndarray, shape (..., p)
        Posterior draws of the log hazard ratios.
    alpha, rate : float or ndarray, shape (J,)
        Gamma prior shape and rate of each interval's rate.
    stats : SufficientStats
        From :func:`sufficient_stats`.
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller for reproducibility).
    dev, frailty, tv_index
        Matching posterior draws of the other parts of the linear predictor.

    Returns
    -------
    ndarray, shape (..., J), or (..., S, J) when stratified
        One baseline-rate array per draw of ``beta``.
    """
    S = stratum_exposure(beta, stats, dev=dev, frailty=frailty, tv_index=tv_index)
    shape = np.broadcast_to(np.asarray(alpha, float) + stats.d_strata, S.shape)
    return _from_strata(rng.gamma(shape, 1.0 / (np.asarray(rate, float) + S)), stats)


def pointwise_loglik(
    beta: np.ndarray,
    lam: np.ndarray,
    X: np.ndarray,
    pp: PersonPeriod,
    *,
    strata: np.ndarray | None = None,
    dev: np.ndarray | None = None,
    tv_index: np.ndarray | None = None,
    frailty: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    chunk: int = 256,
) -> np.ndarray:
    """Per-row log-likelihood for every draw.

    ``l_i = delta_i (log lambda_{s_i j_i} + eta_{i j_i}) - sum_j E_ij lambda_{s_i j} exp(eta_ij)``;
    summing over rows gives :func:`loglik_conditional`.

    Parameters
    ----------
    beta : ndarray, shape (k, p)
        Flattened draws of the log hazard ratios.
    lam : ndarray, shape (k, J) or (k, S, J)
        Matching draws of the baseline rates (a stratum axis when ``strata`` is given).
    X : ndarray, shape (n, p)
        Design matrix.
    pp : PersonPeriod
        Expansion of the same rows.
    strata : ndarray of int, shape (n,), optional
        Stratum of each row (required when ``lam`` has a stratum axis).
    dev : ndarray, shape (k, q, J), optional
        Matching draws of the time-varying deviations of the columns ``tv_index``.
    tv_index : ndarray of int, shape (q,), optional
        Time-varying columns of ``X``.
    frailty : ndarray, shape (k, C), optional
        Matching draws of the cluster log-frailties.
    clusters : ndarray of int, shape (n,), optional
        Cluster of each row.
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
    rows = np.flatnonzero(pp.event.astype(bool))
    s = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, np.int64)
    lam3 = lam if lam.ndim == 3 else lam[:, None, :]
    has_tv = dev is not None and tv_index is not None and np.size(tv_index) > 0
    out = np.empty((k, n))
    for start in range(0, k, chunk):
        sl = slice(start, min(start + chunk, k))
        eta = beta[sl] @ X.T  # (c, n)
        if frailty is not None and clusters is not None:
            eta = eta + np.asarray(frailty)[sl][:, np.asarray(clusters)]
        if has_tv:
            dev_c = np.asarray(dev)[sl]  # (c, q, J)
            eta_j = eta[:, :, None] + np.einsum("nk,ckj->cnj", X[:, tv_index], dev_c)
            lam_rows = lam3[sl][:, s, :]  # (c, n, J)
            cum = np.einsum("cnj,nj->cn", lam_rows * np.exp(eta_j), pp.exposure)
            ll = -cum
            ll[:, rows] += np.log(lam_rows[:, rows, pp.interval[rows]])
            ll[:, rows] += eta_j[:, rows, pp.interval[rows]]
            out[sl] = ll
            continue
        cum = np.empty_like(eta)
        for code in np.unique(s):
            members = np.flatnonzero(s == code)
            cum[:, members] = lam3[sl, code] @ pp.exposure[members].T
        ll = -cum * np.exp(eta)
        ll[:, rows] += np.log(lam3[sl][:, s[rows], pp.interval[rows]]) + eta[:, rows]
        out[sl] = ll
    return out
