"""Independent exact references for the response-rate outputs (scipy only, no package code).

Written from the definitions, not from :mod:`necc_bayes.response`: conjugate Beta posteriors,
mixture weights from beta-binomial marginal likelihoods, probabilities as one-dimensional
integrals with ``scipy.integrate.quad``, quantiles by ``scipy.optimize.brentq`` on those
integrals, and -- for integer Beta parameters -- the finite-sum closed form of
P(p_t > p_c) (Evan Miller, "Formulas for Bayesian A/B testing", 2015; also Cook 2005).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, special, stats

QUAD = {"epsabs": 1e-13, "epsrel": 1e-11, "limit": 400}


@dataclass(frozen=True)
class Mix:
    """A finite mixture of Beta distributions: ``sum_k w_k Beta(a_k, b_k)``."""

    w: tuple[float, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]

    def components(self) -> list[tuple[float, float, float]]:
        return list(zip(self.w, self.a, self.b, strict=True))

    def pdf(self, x: float) -> float:
        if not 0.0 < x < 1.0:
            return 0.0
        lx, l1x = math.log(x), math.log1p(-x)
        return sum(
            w * math.exp((a - 1) * lx + (b - 1) * l1x - special.betaln(a, b))
            for w, a, b in self.components()
        )

    def cdf(self, x: float) -> float:
        if x <= 0.0:
            return 0.0
        if x >= 1.0:
            return 1.0
        return sum(w * special.betainc(a, b, x) for w, a, b in self.components())

    def mean(self) -> float:
        return sum(w * a / (a + b) for w, a, b in self.components())

    def ppf(self, q: float) -> float:
        return optimize.brentq(lambda x: self.cdf(x) - q, 1e-14, 1 - 1e-14, xtol=1e-14)

    def interval(self, prob: float) -> tuple[float, float]:
        tail = (1.0 - prob) / 2.0
        return self.ppf(tail), self.ppf(1.0 - tail)


def beta(a: float, b: float) -> Mix:
    return Mix((1.0,), (a,), (b,))


def skeptical_shapes(sd: float, centre: float) -> tuple[float, float]:
    """Beta(a, b) with mean ``centre`` and standard deviation ``sd`` (method of moments)."""
    nu = centre * (1.0 - centre) / sd**2 - 1.0
    return centre * nu, (1.0 - centre) * nu


def prior_from_text(text: str, pooled: float) -> Mix:
    """The built-in priors as documented in ``necc-bayes orr --help`` / the package docs.

    ``uniform`` Beta(1, 1); ``jeffreys`` Beta(1/2, 1/2); ``skeptical:SD`` Beta with mean the
    pooled rate and sd SD; ``robust:SD,W`` ``W skeptical(SD) + (1 - W) Beta(1, 1)``.
    """
    kind, _, rest = text.partition(":")
    params = [float(v) for v in rest.split(",")] if rest else []
    if kind == "uniform":
        return beta(1.0, 1.0)
    if kind == "jeffreys":
        return beta(0.5, 0.5)
    if kind == "skeptical" and len(params) == 1:
        return beta(*skeptical_shapes(params[0], pooled))
    if kind == "robust" and len(params) == 2:
        a, b = skeptical_shapes(params[0], pooled)
        return Mix((params[1], 1.0 - params[1]), (a, 1.0), (b, 1.0))
    raise AssertionError(f"no independent reference written for prior {text!r}")


def posterior(prior: Mix, x: int, n: int) -> Mix:
    """Conjugate update; component weights proportional to w_k B(a_k+x, b_k+n-x) / B(a_k, b_k)."""
    log_w = [
        math.log(w) + special.betaln(a + x, b + n - x) - special.betaln(a, b) if w > 0 else -np.inf
        for w, a, b in zip(prior.w, prior.a, prior.b, strict=True)
    ]
    top = max(log_w)
    raw = [math.exp(v - top) for v in log_w]
    total = sum(raw)
    return Mix(
        tuple(r / total for r in raw),
        tuple(a + x for a in prior.a),
        tuple(b + n - x for b in prior.b),
    )


def _quad(f: Callable[[float], float]) -> float:
    return integrate.quad(f, 0.0, 1.0, **QUAD)[0]


def prob_diff_greater(t: Mix, c: Mix, delta: float = 0.0) -> float:
    """P(p_t - p_c > delta) = integral of f_t(x) F_c(x - delta) dx."""
    return _quad(lambda x: t.pdf(x) * c.cdf(x - delta))


def diff_cdf(t: Mix, c: Mix, d: float) -> float:
    """P(p_t - p_c <= d) = integral of f_c(y) F_t(y + d) dy."""
    return _quad(lambda y: c.pdf(y) * t.cdf(y + d))


def ratio_cdf(t: Mix, c: Mix, r: float) -> float:
    """P(p_t / p_c <= r) = integral of f_c(y) F_t(r y) dy."""
    return _quad(lambda y: c.pdf(y) * t.cdf(r * y))


def odds_ratio_cdf(t: Mix, c: Mix, r: float) -> float:
    """P(OR <= r): odds_t <= r odds_c  <=>  p_t <= r y / (1 - y + r y) at p_c = y."""
    return _quad(lambda y: c.pdf(y) * t.cdf(r * y / (1.0 - y + r * y)))


def quantile(cdf: Callable[[float], float], q: float, lo: float, hi: float) -> float:
    return optimize.brentq(lambda v: cdf(v) - q, lo, hi, xtol=1e-12)


def p_better_closed_form(at: int, bt: int, ac: int, bc: int) -> float:
    """P(p_t > p_c) for Beta(at, bt) vs Beta(ac, bc), ``at`` a positive integer (finite sum)."""
    total = 0.0
    for i in range(at):
        total += math.exp(
            special.betaln(ac + i, bc + bt)
            - math.log(bt + i)
            - special.betaln(1 + i, bt)
            - special.betaln(ac, bc)
        )
    return total


@dataclass(frozen=True)
class Comparison:
    """Every quantity of one ORR comparison, computed independently."""

    treated: Mix
    control: Mix
    p_treated_better: float
    p_diff_gt_delta: float
    diff_mean: float
    diff_median: float
    diff_low: float
    diff_high: float
    rr_median: float
    rr_low: float
    rr_high: float
    or_median: float
    or_low: float
    or_high: float


@functools.cache
def compare(
    treated: tuple[int, int], control: tuple[int, int], prior: str, delta: float, prob: float
) -> Comparison:
    """Posteriors and every contrast for ``(responders, assessed)`` per arm under ``prior``."""
    (xt, nt), (xc, nc) = treated, control
    pooled = (xt + xc) / (nt + nc)
    t = posterior(prior_from_text(prior, pooled), xt, nt)
    c = posterior(prior_from_text(prior, pooled), xc, nc)
    tail = (1.0 - prob) / 2.0
    qs = (0.5, tail, 1.0 - tail)
    diff = [quantile(lambda d: diff_cdf(t, c, d), q, -1.0, 1.0) for q in qs]
    rr = [quantile(lambda r: ratio_cdf(t, c, r), q, 1e-6, 1e3) for q in qs]
    odds = [quantile(lambda r: odds_ratio_cdf(t, c, r), q, 1e-6, 1e4) for q in qs]
    return Comparison(
        treated=t,
        control=c,
        p_treated_better=prob_diff_greater(t, c, 0.0),
        p_diff_gt_delta=prob_diff_greater(t, c, delta),
        diff_mean=t.mean() - c.mean(),
        diff_median=diff[0],
        diff_low=diff[1],
        diff_high=diff[2],
        rr_median=rr[0],
        rr_low=rr[1],
        rr_high=rr[2],
        or_median=odds[0],
        or_low=odds[1],
        or_high=odds[2],
    )


def decision_probabilities(n_t: int, n_c: int, prior: str) -> np.ndarray:
    """P(p_t > p_c | x_t, x_c) for every outcome, shape ``(n_t + 1, n_c + 1)``.

    Uniform prior: integer posterior parameters, so the finite-sum closed form is used;
    Jeffreys: quadrature.
    """
    out = np.empty((n_t + 1, n_c + 1))
    for xt in range(n_t + 1):
        for xc in range(n_c + 1):
            if prior == "uniform":
                out[xt, xc] = p_better_closed_form(1 + xt, 1 + n_t - xt, 1 + xc, 1 + n_c - xc)
            elif prior == "jeffreys":
                out[xt, xc] = prob_diff_greater(
                    beta(0.5 + xt, 0.5 + n_t - xt), beta(0.5 + xc, 0.5 + n_c - xc)
                )
            else:
                raise AssertionError(f"no independent OC reference written for prior {prior!r}")
    return out


def prob_declare_exact(probs: np.ndarray, p_t: float, p_c: float, threshold: float) -> float:
    """P(declare) = sum over every outcome of Bin(x_t; n_t, p_t) Bin(x_c; n_c, p_c) 1[P > c]."""
    n_t, n_c = probs.shape[0] - 1, probs.shape[1] - 1
    wt = stats.binom.pmf(np.arange(n_t + 1), n_t, p_t)
    wc = stats.binom.pmf(np.arange(n_c + 1), n_c, p_c)
    return float(wt @ (probs > threshold).astype(float) @ wc)
