"""Meta-analytic-predictive (MAP) prior for a log hazard ratio: the normal–normal model.

Model (Neuenschwander et al. 2010, Clin Trials 7:5; RBesT ``gMAP(family = gaussian)``): study
``j`` reports an estimate ``y_j`` (a log-HR) with standard error ``se_j``;

    y_j ~ Normal(theta_j, se_j),   theta_j ~ Normal(mu, tau),
    mu ~ Normal(mu_mean, mu_sd),   tau ~ HalfNormal(tau_scale).

The MAP prior is the predictive distribution of a *new* study's ``theta*``. Given ``tau`` the
model is conjugate: ``mu | y, tau ~ Normal(M(tau), sqrt(V(tau)))`` with
``1/V = 1/mu_sd² + sum_j w_j``, ``M = V (mu_mean/mu_sd² + sum_j w_j y_j)``,
``w_j = 1/(se_j² + tau²)``, and ``theta* | y, tau ~ Normal(M, sqrt(V + tau²))``; the marginal
likelihood ``p(y | tau)`` is a closed-form Gaussian. The only integral left is over ``tau``,
done *exactly enough* by the midpoint rule on ``[0, 12 tau_scale]`` with 4,000 cells (the
neglected prior mass beyond 12 scales is below 1e-32). The predictive is therefore held as a
normal mixture with one component per ``tau`` cell (:attr:`NormalMAP.predictive`), which
:func:`necc_bayes.evidence.mixfit.fit_normal` compresses to a few components (RBesT
``mixfit``); no MCMC is involved.

Default priors on the log-HR scale
----------------------------------
``mu ~ Normal(0, 2)``: the unit-information prior (one event's standard deviation of a
log-HR is about 2, see :mod:`necc_bayes.evidence.ess`), as RBesT's vignette recommends for a
normal endpoint (``beta.prior = cbind(0, sigma)``).

``tau ~ HalfNormal(0.5)``: between-study standard deviation of true log-HRs. It puts 50% of
its mass below 0.34 and 95% below 0.98: heterogeneity that moves a new study's HR by a factor
``exp(1.96 tau)`` of up to about 2 is typical, a factor of 7 is the 95% limit. RBesT's
vignette calls ``HalfNormal(sigma / 2)`` (here ``HalfNormal(1)``) a *conservative* choice;
with only one to three studies a scale of 1 makes the predictive almost as wide as the prior
on ``mu`` regardless of the data, so 0.5 is the default and ``tau_scale = 1`` is the
sensitivity analysis (see Röver et al. 2021, Res Synth Methods 12:448,
doi:10.1002/jrsm.1475, for the choice of heterogeneity priors with few studies).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from necc_bayes.evidence.mixtures import NormalMixture

DEFAULT_TAU_SCALE = 0.5
"""Default HalfNormal scale of the between-study SD of log-HRs."""
DEFAULT_MU_SD = 2.0
"""Default (unit-information) prior SD of the mean log-HR."""

_N_CELLS = 4000
_SPAN = 12.0


@dataclass(frozen=True, eq=False)
class WeightedGrid:
    """A one-dimensional posterior held as midpoint-rule masses on equal cells.

    Attributes
    ----------
    nodes : ndarray
        Cell midpoints.
    mass : ndarray
        Posterior probability of each cell (sums to 1).
    width : float
        Cell width.
    """

    nodes: np.ndarray
    mass: np.ndarray
    width: float

    def mean(self) -> float:
        """Posterior mean."""
        return float(np.sum(self.mass * self.nodes))

    def sd(self) -> float:
        """Posterior standard deviation."""
        return float(math.sqrt(np.sum(self.mass * (self.nodes - self.mean()) ** 2)))

    def quantile(self, q: float) -> float:
        """Quantile: the CDF is piecewise linear within cells (mass spread uniformly)."""
        edges = np.concatenate([[self.nodes[0] - self.width / 2], self.nodes + self.width / 2])
        cdf = np.concatenate([[0.0], np.cumsum(self.mass)])
        return float(np.interp(q, cdf, edges))

    def summary(self) -> dict[str, float]:
        """``mean, sd, q2.5, median, q97.5``."""
        return {"mean": self.mean(), "sd": self.sd(), "q2.5": self.quantile(0.025),
                "median": self.quantile(0.5), "q97.5": self.quantile(0.975)}


def halfnormal_logpdf(tau: np.ndarray, scale: float) -> np.ndarray:
    """Log density of ``HalfNormal(scale)`` on ``tau >= 0``."""
    return 0.5 * math.log(2.0 / math.pi) - math.log(scale) - 0.5 * (tau / scale) ** 2


@dataclass(frozen=True, eq=False)
class NormalMAP:
    """Result of :func:`map_normal`.

    Attributes
    ----------
    y, se : tuple of float
        The study estimates and standard errors.
    tau_scale, mu_mean, mu_sd : float
        The priors used.
    tau : WeightedGrid
        Posterior of the between-study SD.
    mu_mean_given_tau, mu_var_given_tau : ndarray
        ``M(tau)`` and ``V(tau)`` at the tau nodes.
    predictive : NormalMixture
        The MAP prior of a new study's true log-HR, one component per tau cell.
    """

    y: tuple[float, ...]
    se: tuple[float, ...]
    tau_scale: float
    mu_mean: float
    mu_sd: float
    tau: WeightedGrid
    mu_mean_given_tau: np.ndarray
    mu_var_given_tau: np.ndarray
    predictive: NormalMixture

    def mu_summary(self) -> dict[str, float]:
        """Posterior of the population mean ``mu`` (a normal mixture over tau)."""
        mix = NormalMixture(tuple(self.tau.mass), tuple(self.mu_mean_given_tau),
                            tuple(np.sqrt(self.mu_var_given_tau)))
        return _mixture_summary(mix)

    def predictive_summary(self) -> dict[str, float]:
        """``mean, sd, q2.5, median, q97.5`` of the predictive (MAP) distribution."""
        return _mixture_summary(self.predictive)


def _mixture_summary(mix: NormalMixture) -> dict[str, float]:
    return {"mean": mix.mean(), "sd": mix.sd(), "q2.5": mix.ppf(0.025),
            "median": mix.ppf(0.5), "q97.5": mix.ppf(0.975)}


def _check(y: Sequence[float], se: Sequence[float], tau_scale: float, mu_sd: float) -> None:
    if len(y) == 0 or len(y) != len(se):
        raise ValueError(f"need one standard error per estimate, got {len(y)} and {len(se)}")
    if not all(math.isfinite(v) for v in y):
        raise ValueError("estimates must be finite")
    if not all(math.isfinite(v) and v > 0 for v in se):
        raise ValueError("standard errors must be finite and > 0")
    if not (math.isfinite(tau_scale) and tau_scale > 0 and math.isfinite(mu_sd) and mu_sd > 0):
        raise ValueError("tau_scale and mu_sd must be finite and > 0")


def map_normal(
    y: Sequence[float], se: Sequence[float], tau_scale: float = DEFAULT_TAU_SCALE,
    mu_mean: float = 0.0, mu_sd: float = DEFAULT_MU_SD,
) -> NormalMAP:
    """Normal–normal random-effects meta-analysis and its predictive for a new study.

    Parameters
    ----------
    y, se : sequence of float
        Study estimates (e.g. log-HRs) and their standard errors.
    tau_scale : float
        Scale of the HalfNormal prior on the between-study SD (default 0.5, see module).
    mu_mean, mu_sd : float
        Normal prior on the population mean (default ``Normal(0, 2)``).

    Returns
    -------
    NormalMAP
        Posterior of tau, conditional posteriors of mu, and the predictive mixture.

    Raises
    ------
    ValueError
        For empty or mismatched inputs, non-positive standard errors or prior scales.
    """
    _check(y, se, tau_scale, mu_sd)
    yv, s2 = np.asarray(y, dtype=float), np.asarray(se, dtype=float) ** 2
    width = _SPAN * tau_scale / _N_CELLS
    tau = (np.arange(_N_CELLS) + 0.5) * width
    w = 1.0 / (s2[None, :] + tau[:, None] ** 2)
    prec = 1.0 / mu_sd**2 + w.sum(axis=1)
    v = 1.0 / prec
    m = v * (mu_mean / mu_sd**2 + (w * yv).sum(axis=1))
    # log p(y | tau): Gaussian marginal with mu integrated out (completing the square)
    loglik = (0.5 * np.log(w).sum(axis=1) - 0.5 * (w * yv**2).sum(axis=1)
              - 0.5 * mu_mean**2 / mu_sd**2 - math.log(mu_sd) + 0.5 * np.log(v)
              + 0.5 * m**2 / v - 0.5 * len(yv) * math.log(2 * math.pi))
    logpost = loglik + halfnormal_logpdf(tau, tau_scale)
    mass = np.exp(logpost - special.logsumexp(logpost))
    keep = mass > 1e-15 * mass.max()
    predictive = NormalMixture(tuple(mass[keep] / mass[keep].sum()), tuple(m[keep]),
                               tuple(np.sqrt(v[keep] + tau[keep] ** 2)))
    return NormalMAP(tuple(map(float, y)), tuple(map(float, se)), float(tau_scale),
                     float(mu_mean), float(mu_sd), WeightedGrid(tau, mass, width), m, v,
                     predictive)
