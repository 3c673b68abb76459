"""Compress a MAP predictive into a few mixture components by EM (as RBesT's ``mixfit``).

RBesT fits its mixtures by EM to an MCMC sample. Here the predictive is known exactly (a
quadrature mixture with thousands of components, see :mod:`~necc_bayes.evidence.meta_normal`
and :mod:`~necc_bayes.evidence.meta_binomial`), so EM runs on a *weighted grid* instead of a
sample: 2,500 points between the target's 1e-7 and 1 - 1e-7 quantiles, each carrying the
target's probability mass of its cell. That is EM for the limit of an infinite sample -- it
minimises the Kullback–Leibler divergence from the target to the mixture -- and it is
deterministic (no seed). The initial components split the grid into ``K`` equal-mass blocks.

* :func:`fit_normal` -- normal components (log hazard ratios); closed-form M-step.
* :func:`fit_beta` -- beta components for a rate whose *logit* has the target distribution;
  the M-step is the weighted beta maximum-likelihood problem (convex in ``(a, b)``), solved
  by Newton's method, with ``a, b >= 1`` by default (``constrain_gt1``) so that the ELIR effective
  sample size is defined (RBesT's ``constrain_gt1``).

The number of components is the smallest ``K <= max_components`` whose Kolmogorov–Smirnov
distance to the target (max CDF difference over the grid) is at most ``ks_tol`` (default
0.005), or the best ``K`` if none is; the achieved distance is returned with the fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import special

from necc_bayes.evidence.mixtures import BetaMixture, NormalMixture

_GRID = 2500
_TAIL = 1e-7
_MAX_ITER = 2000
_TOL = 1e-9


@dataclass(frozen=True)
class MixtureFit:
    """An EM fit and how close it is to its target.

    Attributes
    ----------
    mixture : NormalMixture or BetaMixture
        The fitted mixture.
    ks : float
        Kolmogorov–Smirnov distance to the target over the fitting grid.
    iterations : int
        EM iterations used for the returned fit.
    """

    mixture: NormalMixture | BetaMixture
    ks: float
    iterations: int


class _Target(Protocol):
    def cdf(self, x: np.ndarray | float) -> np.ndarray: ...
    def ppf(self, q: float) -> float: ...


class _LogitOf:
    """A distribution on (0, 1) seen on the logit scale (for :func:`fit_beta`)."""

    def __init__(self, rate: BetaMixture):
        self.rate = rate

    def cdf(self, z: np.ndarray | float) -> np.ndarray:
        return self.rate.cdf(special.expit(np.asarray(z, dtype=float)))

    def ppf(self, q: float) -> float:
        return float(special.logit(self.rate.ppf(q)))


def _grid(target: _Target) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cell midpoints, cell masses, cell edges and the target CDF at the edges."""
    lo, hi = target.ppf(_TAIL), target.ppf(1.0 - _TAIL)
    edges = np.linspace(lo, hi, _GRID + 1)
    cdf = target.cdf(edges)
    mass = np.diff(cdf)
    mid = (edges[1:] + edges[:-1]) / 2.0
    return mid, mass / mass.sum(), edges, cdf


def _init_blocks(mass: np.ndarray, k: int) -> np.ndarray:
    """Responsibilities that split the grid into ``k`` contiguous equal-mass blocks."""
    cum = np.cumsum(mass) - mass / 2.0
    block = np.minimum((cum * k).astype(int), k - 1)
    resp = np.zeros((mass.size, k))
    resp[np.arange(mass.size), block] = 1.0
    return resp


def _e_step(logc: np.ndarray, mass: np.ndarray) -> tuple[np.ndarray, float]:
    logf = special.logsumexp(logc, axis=1)
    return np.exp(logc - logf[:, None]), float(np.sum(mass * logf))


def _normal_em(x: np.ndarray, mass: np.ndarray, k: int) -> tuple[NormalMixture, int]:
    resp = _init_blocks(mass, k)
    floor = (x[1] - x[0]) ** 2
    last, it = -np.inf, 0
    while it < _MAX_ITER:
        it += 1
        cw = resp * mass[:, None]
        nk = cw.sum(axis=0)
        w = nk / nk.sum()
        m = (cw * x[:, None]).sum(axis=0) / nk
        v = (cw * (x[:, None] - m) ** 2).sum(axis=0) / nk + floor
        mix = NormalMixture(tuple(w), tuple(m), tuple(np.sqrt(v)))
        resp, ll = _e_step(mix.component_logpdf(x), mass)
        if abs(ll - last) < _TOL:
            break
        last = ll
    return mix, it


def _beta_mle(s1: np.ndarray, s2: np.ndarray, a: np.ndarray, b: np.ndarray,
              lower: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted beta MLE for every component at once, ``a, b >= lower``.

    Maximises the concave ``(a - 1) s1 + (b - 1) s2 - log B(a, b)`` (``s1``, ``s2``: mean
    ``log p`` and ``log(1 - p)`` under each component's responsibilities): Newton on the
    score equations ``ψ(a) - ψ(a + b) = s1``, ``ψ(b) - ψ(a + b) = s2`` in ``(log a, log b)``,
    warm-started; where the optimum lies on the boundary ``a = lower`` (or ``b = lower``) the
    other shape solves its own one-dimensional score equation.
    """
    for _ in range(100):
        dab, tab = special.digamma(a + b), special.polygamma(1, a + b)
        g1, g2 = s1 - special.digamma(a) + dab, s2 - special.digamma(b) + dab
        # Hessian of the objective in (a, b): -[[ψ1(a) - ψ1(a+b), -ψ1(a+b)], [., ψ1(b) - ψ1(a+b)]]
        h11, h22 = special.polygamma(1, a) - tab, special.polygamma(1, b) - tab
        det = h11 * h22 - tab**2
        da, db = (h22 * g1 + tab * g2) / det, (tab * g1 + h11 * g2) / det
        da = np.where((a <= lower) & (da < 0), 0.0, da)  # held at the bound
        db = np.where((b <= lower) & (db < 0), 0.0, db)
        step = np.maximum(np.abs(da) / a, np.abs(db) / b)
        shrink = np.minimum(1.0, 0.5 / np.maximum(step, 1e-300))  # at most halve or add 50%
        a, b = np.maximum(a + shrink * da, lower), np.maximum(b + shrink * db, lower)
        if np.max(step) < 1e-10:
            break
    for fixed, free, s_free in ((a, b, s2), (b, a, s1)):
        on_edge = fixed <= lower
        for _ in range(100):
            if not on_edge.any():
                break
            g = s_free - special.digamma(free) + special.digamma(fixed + free)
            h = special.polygamma(1, free) - special.polygamma(1, fixed + free)
            new = np.maximum(free + np.clip(g / h, -0.5 * free, 0.5 * free), lower)
            done = np.max(np.abs(new - free)[on_edge] / free[on_edge]) < 1e-10
            free[on_edge] = new[on_edge]
            if done:
                break
    return a, b


def _moment_start(m: np.ndarray, v: np.ndarray, lower: float) -> tuple[np.ndarray, np.ndarray]:
    n = np.maximum(m * (1 - m) / np.maximum(v, 1e-12) - 1.0, 2.0 * lower + 1e-3)
    return np.maximum(m * n, lower), np.maximum((1 - m) * n, lower)


def _beta_em(p: np.ndarray, mass: np.ndarray, k: int,
             lower: float) -> tuple[BetaMixture, int]:
    resp = _init_blocks(mass, k)
    logp, logq = np.log(p), np.log1p(-p)
    a = b = np.zeros(k)
    last, it = -np.inf, 0
    while it < _MAX_ITER:
        it += 1
        cw = resp * mass[:, None]
        nk = cw.sum(axis=0)
        c = cw / nk
        if it == 1:
            mean = c.T @ p
            a, b = _moment_start(mean, (c * (p[:, None] - mean) ** 2).sum(axis=0), lower)
        a, b = _beta_mle(c.T @ logp, c.T @ logq, a.copy(), b.copy(), lower)
        mix = BetaMixture(tuple(nk / nk.sum()), tuple(a), tuple(b))
        resp, ll = _e_step(mix.component_logpdf(p), mass)
        if abs(ll - last) < _TOL:
            break
        last = ll
    return mix, it


def _choose(fits: list[MixtureFit], ks_tol: float) -> MixtureFit:
    for fit in fits:
        if fit.ks <= ks_tol:
            return fit
    return min(fits, key=lambda f: f.ks)


def fit_normal(
    target: NormalMixture, components: int | None = None, max_components: int = 4,
    ks_tol: float = 0.005,
) -> MixtureFit:
    """Fit a normal mixture to ``target`` by EM on a weighted grid.

    Parameters
    ----------
    target : NormalMixture
        Distribution to approximate (e.g. :attr:`NormalMAP.predictive`).
    components : int, optional
        Fixed number of components; by default the smallest ``K <= max_components`` with
        KS distance ``<= ks_tol``.
    max_components, ks_tol
        See above.

    Returns
    -------
    MixtureFit
    """
    x, mass, edges, fcdf = _grid(target)
    fits = []
    for k in [components] if components else range(1, max_components + 1):
        mix, it = _normal_em(x, mass, k)
        fits.append(MixtureFit(mix, float(np.max(np.abs(mix.cdf(edges) - fcdf))), it))
        if components is None and fits[-1].ks <= ks_tol:
            break
    return _choose(fits, ks_tol)


def fit_beta(
    target: NormalMixture | BetaMixture, components: int | None = None, max_components: int = 4,
    ks_tol: float = 0.005, constrain_gt1: bool = True,
) -> MixtureFit:
    """Fit a beta mixture to a distribution of a rate by EM on a grid (logit-spaced).

    Parameters
    ----------
    target : NormalMixture or BetaMixture
        A :class:`NormalMixture` is the distribution of the *logit* of the rate (e.g.
        :attr:`BinomialMAP.predictive_logit`); a :class:`BetaMixture` is the rate itself.
    components, max_components, ks_tol
        As :func:`fit_normal`.
    constrain_gt1 : bool
        Keep every shape parameter ``>= 1`` (needed for the ELIR ESS); else ``>= 1e-3``.

    Returns
    -------
    MixtureFit
    """
    z, mass, edges, fcdf = _grid(_LogitOf(target) if isinstance(target, BetaMixture) else target)
    lower = 1.0 if constrain_gt1 else 1e-3
    fits = []
    for k in [components] if components else range(1, max_components + 1):
        mix, it = _beta_em(special.expit(z), mass, k, lower)
        fits.append(MixtureFit(mix, float(np.max(np.abs(mix.cdf(special.expit(edges)) - fcdf))),
                               it))
        if components is None and fits[-1].ks <= ks_tol:
            break
    return _choose(fits, ks_tol)
