"""Meta-analytic-predictive (MAP) prior for a response rate: the binomial–normal model.

Model (RBesT ``gMAP(cbind(r, n - r) ~ 1 | study, family = binomial)``): study ``j`` has
``r_j`` responders of ``n_j``;

    r_j ~ Binomial(n_j, expit(theta_j)),   theta_j ~ Normal(mu, tau),
    mu ~ Normal(mu_mean, mu_sd),            tau ~ HalfNormal(tau_scale).

The MAP prior is the predictive distribution of a new study's rate ``expit(theta*)``,
``theta* ~ Normal(mu, tau)`` given the posterior of ``(mu, tau)``.

Computation (no MCMC): the posterior of ``(mu, tau)`` is evaluated on a two-dimensional
midpoint grid. At each grid point the likelihood of study ``j`` is the one-dimensional
integral ``∫ Binomial(r_j | n_j, expit(θ)) Normal(θ | mu, tau) dθ``, computed by *adaptive*
Gauss–Hermite quadrature (20 nodes centred at the mode of the integrand and scaled by its
curvature, as lme4's ``nAGQ``), which is exact to ~1e-10 for these smooth log-concave
integrands. A coarse grid over the prior range locates the posterior mass; a fine
240 (mu) × 160 (tau) grid over the region where the log posterior is within 20 of its
maximum carries the result.
The predictive is held as a normal mixture on the logit scale with one component per grid
cell, ``Normal(mu_i, sqrt(tau_j² + h²/12))`` (the cell's mass spread over its width ``h`` in
``mu``, which keeps the mixture smooth where ``tau`` is below the grid spacing;
:attr:`BinomialMAP.predictive_logit`); :func:`necc_bayes.evidence.mixfit.fit_beta`
compresses it to a beta mixture (RBesT ``mixfit``).

Default priors: RBesT's recommendation for rates between 20% and 80%, ``tau ~
HalfNormal(1)`` ("conservative") and ``mu ~ Normal(0, 2)`` on the logit scale, as in its
binary vignette (``tau.prior = 1, beta.prior = 2``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from necc_bayes.evidence.meta_normal import WeightedGrid, halfnormal_logpdf
from necc_bayes.evidence.mixtures import NormalMixture

DEFAULT_TAU_SCALE = 1.0
"""Default HalfNormal scale of the between-study SD on the logit scale (RBesT's default)."""
DEFAULT_MU_SD = 2.0
"""Default prior SD of the mean logit rate (RBesT vignette ``beta.prior = 2``)."""

_GH_X, _GH_W = np.polynomial.hermite.hermgauss(20)
_COARSE, _FINE_MU, _FINE_TAU = 101, 240, 160
_DROP = 20.0  # the fine grid covers log posterior >= max - 20 (mass beyond ~1e-9)


def study_loglik(r: np.ndarray, n: np.ndarray, mu: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """``log ∫ Binomial(r | n, expit θ) Normal(θ | mu, tau) dθ`` by adaptive Gauss–Hermite.

    Parameters
    ----------
    r, n : ndarray
        Responders and patients per study, shape ``(J,)``.
    mu, tau : ndarray
        Broadcastable arrays of the population mean and SD (``tau > 0``).

    Returns
    -------
    ndarray
        Shape ``broadcast(mu, tau).shape + (J,)``.
    """
    mu_, tau_ = np.broadcast_arrays(np.asarray(mu, float), np.asarray(tau, float))
    m, t = mu_[..., None], tau_[..., None]
    rr, nn = np.asarray(r, float), np.asarray(n, float)
    # start from the precision-weighted blend of mu and the study's empirical logit
    p_hat = (rr + 0.5) / (nn + 1.0)
    info = nn * p_hat * (1 - p_hat)
    theta = (m / t**2 + info * special.logit(p_hat)) / (1.0 / t**2 + info)
    for _ in range(50):  # Newton on a strictly concave function; steps clipped for safety
        p = special.expit(theta)
        grad = rr - nn * p - (theta - m) / t**2
        hess = -nn * p * (1 - p) - 1.0 / t**2
        step = np.clip(grad / hess, -2.0, 2.0)
        theta = theta - step
        if np.max(np.abs(step)) < 1e-10:
            break
    p = special.expit(theta)
    scale = 1.0 / np.sqrt(nn * p * (1 - p) + 1.0 / t**2)
    nodes = theta[..., None] + math.sqrt(2.0) * scale[..., None] * _GH_X
    log_choose = special.gammaln(nn + 1) - special.gammaln(rr + 1) - special.gammaln(nn - rr + 1)
    logf = (log_choose[..., None] + rr[..., None] * special.log_expit(nodes)
            + (nn - rr)[..., None] * special.log_expit(-nodes)
            - 0.5 * ((nodes - m[..., None]) / t[..., None]) ** 2
            - np.log(t[..., None]) - 0.5 * math.log(2 * math.pi))
    logf += _GH_X**2
    top = logf.max(axis=-1)
    return np.log(np.exp(logf - top[..., None]) @ _GH_W) + top + np.log(math.sqrt(2.0) * scale)


def _log_posterior(r: np.ndarray, n: np.ndarray, mu: np.ndarray, tau: np.ndarray,
                   tau_scale: float, mu_mean: float, mu_sd: float) -> np.ndarray:
    m, t = np.meshgrid(mu, tau, indexing="ij")
    return (study_loglik(r, n, m, t).sum(axis=-1) + halfnormal_logpdf(t, tau_scale)
            - 0.5 * ((m - mu_mean) / mu_sd) ** 2)


def _cells(lo: float, hi: float, k: int) -> tuple[np.ndarray, float]:
    h = (hi - lo) / k
    return lo + (np.arange(k) + 0.5) * h, h


def _region(nodes: np.ndarray, h: float, keep: np.ndarray, floor: float) -> tuple[float, float]:
    idx = np.flatnonzero(keep)
    return max(floor, nodes[idx[0]] - 2.5 * h), nodes[idx[-1]] + 2.5 * h


@dataclass(frozen=True, eq=False)
class BinomialMAP:
    """Result of :func:`map_binomial`.

    Attributes
    ----------
    r, n : tuple of int
        Responders and patients per study.
    tau_scale, mu_mean, mu_sd : float
        Priors used.
    tau, mu : WeightedGrid
        Marginal posteriors of the between-study SD and the mean logit rate.
    predictive_logit : NormalMixture
        Predictive of a new study's logit rate (one component per grid cell).
    """

    r: tuple[int, ...]
    n: tuple[int, ...]
    tau_scale: float
    mu_mean: float
    mu_sd: float
    tau: WeightedGrid
    mu: WeightedGrid
    predictive_logit: NormalMixture

    def rate_cdf(self, p: np.ndarray | float) -> np.ndarray:
        """Predictive distribution function of the new study's rate."""
        pp = np.clip(np.asarray(p, dtype=float), 1e-300, 1 - 1e-16)
        return self.predictive_logit.cdf(special.logit(pp))

    def rate_pdf(self, p: np.ndarray | float) -> np.ndarray:
        """Predictive density of the new study's rate (change of variables from the logit)."""
        pp = np.asarray(p, dtype=float)
        return self.predictive_logit.pdf(special.logit(pp)) / (pp * (1 - pp))

    def rate_quantile(self, q: float) -> float:
        """Predictive quantile of the rate (exact: the logit is monotone)."""
        return float(special.expit(self.predictive_logit.ppf(q)))

    def rate_moments(self) -> tuple[float, float]:
        """Predictive mean and SD of the rate (Gauss–Hermite within each component)."""
        w, m, s = self.predictive_logit._arrays()
        x = m[:, None] + math.sqrt(2.0) * s[:, None] * _GH_X
        e1 = special.expit(x) @ _GH_W / math.sqrt(math.pi)
        e2 = special.expit(x) ** 2 @ _GH_W / math.sqrt(math.pi)
        mean = float(np.sum(w * e1))
        return mean, float(math.sqrt(np.sum(w * e2) - mean**2))

    def rate_summary(self) -> dict[str, float]:
        """``mean, sd, q2.5, median, q97.5`` of the predictive rate."""
        mean, sd = self.rate_moments()
        return {"mean": mean, "sd": sd, "q2.5": self.rate_quantile(0.025),
                "median": self.rate_quantile(0.5), "q97.5": self.rate_quantile(0.975)}


def map_binomial(
    r: Sequence[int], n: Sequence[int], tau_scale: float = DEFAULT_TAU_SCALE,
    mu_mean: float = 0.0, mu_sd: float = DEFAULT_MU_SD,
) -> BinomialMAP:
    """Binomial–normal meta-analysis of response rates and the predictive for a new study.

    Parameters
    ----------
    r, n : sequence of int
        Responders and patients per study (``0 <= r_j <= n_j``, ``n_j >= 1``).
    tau_scale : float
        HalfNormal scale of the between-study SD (logit scale).
    mu_mean, mu_sd : float
        Normal prior of the mean logit rate.

    Returns
    -------
    BinomialMAP

    Raises
    ------
    ValueError
        For empty or mismatched inputs, impossible counts or non-positive prior scales.
    """
    if len(r) == 0 or len(r) != len(n):
        raise ValueError(f"need one n per r, got {len(r)} and {len(n)}")
    if any(int(k) != k or int(m) != m or not 0 <= k <= m or m < 1 for k, m in zip(r, n,
                                                                                 strict=True)):
        raise ValueError("counts must be integers with 0 <= r <= n and n >= 1")
    if not (tau_scale > 0 and mu_sd > 0 and math.isfinite(tau_scale) and math.isfinite(mu_sd)):
        raise ValueError("tau_scale and mu_sd must be finite and > 0")
    rr, nn = np.asarray(r, dtype=float), np.asarray(n, dtype=float)
    args = (tau_scale, mu_mean, mu_sd)
    mu_c, hm = _cells(mu_mean - 8 * mu_sd, mu_mean + 8 * mu_sd, _COARSE)
    tau_c, ht = _cells(0.0, 10 * tau_scale, _COARSE)
    coarse = _log_posterior(rr, nn, mu_c, tau_c, *args)
    keep = coarse > coarse.max() - _DROP
    mu_f, hm = _cells(*_region(mu_c, hm, keep.any(axis=1), -np.inf), _FINE_MU)
    tau_f, ht = _cells(*_region(tau_c, ht, keep.any(axis=0), 0.0), _FINE_TAU)
    logpost = _log_posterior(rr, nn, mu_f, tau_f, *args)
    mass = np.exp(logpost - special.logsumexp(logpost))
    m_grid, t_grid = np.meshgrid(mu_f, tau_f, indexing="ij")
    live = mass > 1e-11 * mass.max()
    # each cell's mass is spread over its mu-width (variance hm^2 / 12) so that components
    # with tau below the mu spacing do not turn the predictive into a staircase of spikes
    predictive = NormalMixture(tuple(mass[live] / mass[live].sum()), tuple(m_grid[live]),
                               tuple(np.sqrt(t_grid[live] ** 2 + hm**2 / 12.0)))
    return BinomialMAP(tuple(int(k) for k in r), tuple(int(m) for m in n), float(tau_scale),
                       float(mu_mean), float(mu_sd), WeightedGrid(tau_f, mass.sum(axis=0), ht),
                       WeightedGrid(mu_f, mass.sum(axis=1), hm), predictive)
