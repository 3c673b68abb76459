"""Pareto-smoothed importance sampling LOO, vectorised over observations.

arviz-stats 1.x computes PSIS-LOO one observation at a time in a Python loop (and computes the
smoothed weights twice), which takes about 20 s for 20,000 subjects and 4,000 draws (issue
21). This module does the same arithmetic on blocks of observations at once with numpy:

* log importance ratios ``-log p(y_i | theta_s)``, shifted by their maximum;
* the ``M`` largest ratios of each observation (``M = floor(3 sqrt(S / r_eff))`` when
  ``S r_eff > 225``, else ``floor(S / 5)``) are fitted by a generalised Pareto distribution
  with the Zhang & Stephens (2009) empirical-Bayes estimator and the weakly informative prior
  on ``k`` of Vehtari et al. (2024) (``(n k + 10 * 0.5) / (n + 10)``), exactly as arviz-stats
  ``_gpdfit`` does, and replaced by the fitted quantiles at ``(i - 0.5) / M`` (capped at the
  largest raw ratio);
* ``elpd_i = log sum_s w_is p(y_i | theta_s)`` with the normalised smoothed weights,
  ``p_loo_i = lppd_i - elpd_i``.

The results equal arviz-stats' to rounding (tested: 1e-12 on random heavy-tailed data). The
log-likelihood can be given in blocks (any iterable of ``(S, m)`` arrays), so an ``(S, n)``
matrix never has to exist: memory is bounded by the block size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

PRIOR_K_WEIGHT = 10.0
PRIOR_K_MEAN = 0.5
PRIOR_B_SCALE = 3.0
BLOCK = 1024
"""Observations per block: about ``BLOCK * S * 8`` bytes of temporaries (33 MB at S = 4000)."""


@dataclass(frozen=True)
class PointwiseLoo:
    """PSIS-LOO per observation.

    Attributes
    ----------
    elpd_i, pareto_k, p_loo_i : ndarray, shape (n,)
        Expected log predictive density, Pareto shape estimate and effective number of
        parameters of each observation.
    n_samples : int
        Posterior draws ``S``.
    """

    elpd_i: np.ndarray
    pareto_k: np.ndarray
    p_loo_i: np.ndarray
    n_samples: int

    @property
    def elpd(self) -> float:
        """Sum of ``elpd_i``."""
        return float(np.sum(self.elpd_i))

    @property
    def se(self) -> float:
        """Standard error of :attr:`elpd`: ``sqrt(n var(elpd_i))`` (0 for one observation)."""
        n = self.elpd_i.size
        return float(np.sqrt(n * np.var(self.elpd_i, ddof=1))) if n > 1 else 0.0

    @property
    def p_loo(self) -> float:
        """Sum of ``p_loo_i``."""
        return float(np.sum(self.p_loo_i))

    @property
    def good_k(self) -> float:
        """The reliability threshold ``min(1 - 1 / log10(S), 0.7)`` (0.7 for one draw)."""
        s = self.n_samples
        return min(1 - 1 / np.log10(s), 0.7) if s > 1 else 0.7


def tail_length(n_samples: int, r_eff: float) -> int:
    """Number of largest ratios fitted by the generalised Pareto distribution."""
    if n_samples * r_eff > 225:
        return int(np.floor(3 * (n_samples / r_eff) ** 0.5))
    return int(np.floor(n_samples / 5))


def _logsumexp(x: np.ndarray) -> np.ndarray:
    """``log(sum(exp(x)))`` along the last axis (rows of -inf give -inf)."""
    top = x.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(x - top).sum(axis=-1)) + top[..., 0]


def gpd_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Generalised Pareto shape and scale per row (Zhang & Stephens 2009, with the k prior).

    Parameters
    ----------
    x : ndarray, shape (m, M)
        Positive exceedances over the threshold, each row sorted ascending.

    Returns
    -------
    k, sigma : ndarray, shape (m,)
        ``nan`` for both when a row's first quartile equals its minimum (far from a
        generalised Pareto shape); ``k = inf`` when the fit breaks down.
    """
    n = x.shape[1]
    m_est = 30 + int(n**0.5)
    xstar = x[:, int((n / 4 + 0.5) - 1)]
    degenerate = xstar <= x[:, 0]
    grid = 1 - np.sqrt(m_est / (np.arange(1, m_est + 1, dtype=float) - 0.5))
    with np.errstate(divide="ignore", invalid="ignore"):
        b = grid[None, :] / (PRIOR_B_SCALE * xstar[:, None]) + 1 / x[:, -1][:, None]
        k_grid = np.log1p(-b[:, :, None] * x[:, None, :]).mean(axis=2)
        profile = n * (np.log(-b / k_grid) - k_grid - 1)
        weight = np.exp(profile - _logsumexp(profile)[:, None])
        weight = np.where(weight >= 10 * np.finfo(float).eps, weight, 0.0)  # arviz drops them
        weight /= weight.sum(axis=1, keepdims=True)
        b_post = (b * weight).sum(axis=1)
        k = np.log1p(-b_post[:, None] * x).mean(axis=1)
        sigma = -k / b_post
    k = (n * k + PRIOR_K_WEIGHT * PRIOR_K_MEAN) / (n + PRIOR_K_WEIGHT)
    broke = np.isnan(k)
    k = np.where(degenerate, np.nan, np.where(broke, np.inf, k))
    sigma = np.where(degenerate | broke, np.nan, sigma)
    return k, sigma


def smoothed_log_weights(log_ratios: np.ndarray, r_eff: float) -> tuple[np.ndarray, np.ndarray]:
    """PSIS log weights (normalised per row) and Pareto k of each row.

    Parameters
    ----------
    log_ratios : ndarray, shape (m, S)
        Log importance ratios, one row per observation.
    r_eff : float
        Relative efficiency of the draws (sets the tail length).

    Returns
    -------
    log_weights : ndarray, shape (m, S)
    pareto_k : ndarray, shape (m,)

    Raises
    ------
    ValueError
        If the tail has fewer than 5 draws or a row's tail values are all equal (as arviz).
    """
    s = log_ratios.shape[1]
    tail = tail_length(s, r_eff)
    if tail < 5:
        raise ValueError(f"PSIS needs at least 5 tail draws; {s} draws give {tail}")
    lw = log_ratios - log_ratios.max(axis=1, keepdims=True)
    # the cutoff (largest value below the tail) and the tail, ascending
    idx = np.argpartition(lw, s - tail - 1, axis=1)[:, s - tail - 1 :]
    vals = np.take_along_axis(lw, idx, axis=1)
    order = np.argsort(vals, axis=1)
    idx = np.take_along_axis(idx, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    cutoff, top, top_idx = vals[:, 0], vals[:, 1:], idx[:, 1:]
    if np.any(np.abs(top[:, -1] - top[:, 0]) < np.finfo(float).tiny):
        raise ValueError("All tail values are the same")
    exp_cut = np.exp(cutoff)
    k, sigma = gpd_fit(np.exp(top) - exp_cut[:, None])
    log1m_p = np.log1p(-(np.arange(0.5, tail) / tail))[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        k_safe = np.where(k == 0, 1.0, k)[:, None]
        quantiles = np.where(
            (k == 0)[:, None],
            exp_cut[:, None] - sigma[:, None] * log1m_p,
            exp_cut[:, None] + sigma[:, None] * np.expm1(-k_safe * log1m_p) / k_safe,
        )
        quantiles = np.where((sigma <= 0)[:, None], np.nan, quantiles)
        smoothed = np.minimum(np.log(quantiles), top[:, -1:])
    new_top = np.where(np.isfinite(k)[:, None], smoothed, top)
    np.put_along_axis(lw, top_idx, new_top, axis=1)
    lw -= _logsumexp(lw)[:, None]
    return lw, k


def psis_loo(blocks: Iterable[np.ndarray], r_eff: float) -> PointwiseLoo:
    """PSIS-LOO from the log-likelihood, given in blocks of observations.

    Parameters
    ----------
    blocks : iterable of ndarray, each shape (S, m_b)
        ``log p(y_i | theta_s)`` for consecutive observations; draws in the same order in
        every block. One ``(S, n)`` array is a single block (see :func:`in_blocks`).
    r_eff : float
        Relative efficiency of the posterior draws (arviz: mean ESS over all posterior
        quantities divided by ``S``; 1 for a single chain).

    Returns
    -------
    PointwiseLoo
    """
    out: list[np.ndarray] = []
    n_samples = 0
    for block in blocks:
        for start in range(0, block.shape[1], BLOCK):
            ll = np.ascontiguousarray(block[:, start : start + BLOCK].T, dtype=float)
            n_samples = ll.shape[1]
            lw, k = smoothed_log_weights(-ll, r_eff)
            elpd = _logsumexp(lw + ll)
            lppd = _logsumexp(ll) - np.log(n_samples)
            out.append(np.stack([elpd, k, lppd - elpd]))
    if not out:
        raise ValueError("no observations")
    res = np.concatenate(out, axis=1)
    return PointwiseLoo(elpd_i=res[0], pareto_k=res[1], p_loo_i=res[2], n_samples=n_samples)


def in_blocks(ll: np.ndarray, size: int = BLOCK) -> Iterable[np.ndarray]:
    """Split an ``(S, n)`` array into ``(S, size)`` column blocks (views)."""
    return (ll[:, j : j + size] for j in range(0, ll.shape[1], size))
