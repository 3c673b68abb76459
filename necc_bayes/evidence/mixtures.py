"""Finite mixtures as plain data: normal mixtures (log hazard ratios) and beta mixtures (rates).

A prior built from other studies is a mixture ``sum_k w_k p_k``: one component for a single
published estimate, several for a meta-analytic-predictive (MAP) prior fitted by EM, plus an
optional *robust* (vague) component. Both types are frozen dataclasses that know their
density, distribution function, quantiles, moments and how to print themselves; the
conjugate updates, effective sample sizes and conflict checks are functions elsewhere in
:mod:`necc_bayes.evidence` (one concept per module).

Every component may carry a label; the vague component added by :func:`robustify` is labelled
``"robust"`` so that its prior and posterior weight can be reported
(:attr:`NormalMixture.robust_weight`).

Build mixtures with :func:`normal_mixture` / :func:`beta_mixture` (which validate and raise
:class:`~necc_bayes.errors.SpecError` naming every problem); the constructors trust their
input. :class:`BetaMixture` has the fields and methods of
``necc_bayes.beta_binomial.BetaMixture`` (``weights, a, b``; ``pdf, cdf, mean, var, ppf,
interval, sample, describe, to_dict``) so that the response-rate code can use it directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Self, overload

import numpy as np
from scipy import optimize, special, stats

from necc_bayes.errors import Problem, SpecError

ROBUST = "robust"
"""Label of the vague component added by :func:`robustify`."""

_ROOT_XTOL = 1e-12
_CHUNK = 2_000_000  # evaluate at most this many (point, component) pairs at once


def _chunked(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray | float,
             k: int) -> np.ndarray:
    """Apply a per-point reduction over ``k`` components in chunks of points (bounded memory)."""
    xx = np.asarray(x, dtype=float)
    flat = xx.reshape(-1)
    step = max(1, _CHUNK // max(k, 1))
    if flat.size <= step:
        return fn(xx)
    out = np.concatenate([fn(flat[i:i + step]) for i in range(0, flat.size, step)])
    return out.reshape(xx.shape)


def _validate(
    weights: Sequence[float], shapes: dict[str, Sequence[float]], labels: Sequence[str] | None,
    source: str, positive: tuple[str, ...],
) -> list[Problem]:
    problems: list[Problem] = []
    k = len(weights)
    if k == 0:
        problems.append(Problem("mixture_nonempty", "a mixture needs at least one component"))
    for name, values in shapes.items():
        if len(values) != k:
            problems.append(
                Problem("mixture_lengths", f"{len(values)} values of {name} for {k} weights", name)
            )
            continue
        for i, v in enumerate(values):
            ok = isinstance(v, int | float | np.number) and not isinstance(v, bool)
            ok = ok and math.isfinite(float(v)) and (name not in positive or float(v) > 0)
            if not ok:
                rule = "parameter_positive" if name in positive else "parameter_finite"
                problems.append(Problem(rule, f"{name}[{i}] = {v!r} is not allowed", name))
    for i, w in enumerate(weights):
        ok = isinstance(w, int | float | np.number) and not isinstance(w, bool)
        if not (ok and math.isfinite(float(w)) and 0.0 <= float(w) <= 1.0):
            problems.append(
                Problem("weight_in_unit_interval", f"weight {w!r} not in [0, 1]", f"w[{i}]")
            )
    if not problems and abs(sum(float(w) for w in weights) - 1.0) > 1e-9:
        problems.append(Problem("weights_sum_to_one", f"weights sum to {sum(weights):.6g}, not 1"))
    if labels is not None and len(labels) not in (0, k):
        problems.append(Problem("mixture_lengths", f"{len(labels)} labels for {k} components"))
    return problems


class _Mixture:
    """Behaviour shared by the two mixture types (weights, labels, quantiles, summaries)."""

    weights: tuple[float, ...]
    labels: tuple[str, ...]

    @property
    def n_components(self) -> int:
        """Number of components."""
        return len(self.weights)

    @property
    def robust_weight(self) -> float:
        """Total weight of the components labelled ``"robust"`` (0 if there is none)."""
        return float(sum(w for w, lab in zip(self.weights, self.labels, strict=False)
                         if lab == ROBUST))

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """Distribution function (implemented by each type)."""
        raise NotImplementedError

    def _bracket(self) -> tuple[float, float]:
        raise NotImplementedError

    def ppf(self, q: float) -> float:
        """Quantile: exact root of the distribution function (Brent's method)."""
        lo, hi = self._bracket()
        if q <= 0.0:
            return lo
        if q >= 1.0:
            return hi
        return float(optimize.brentq(lambda x: float(self.cdf(x)) - q, lo, hi, xtol=_ROOT_XTOL))

    def interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Equal-tailed interval holding ``prob`` of the mass."""
        tail = (1.0 - prob) / 2.0
        return self.ppf(tail), self.ppf(1.0 - tail)

    def mean(self) -> float:
        """Mean (implemented by each type)."""
        raise NotImplementedError

    def var(self) -> float:
        """Variance (implemented by each type)."""
        raise NotImplementedError

    def sd(self) -> float:
        """Standard deviation."""
        return math.sqrt(self.var())

    def summary(self, prob: float = 0.95) -> dict[str, float]:
        """``mean, sd, low, median, high`` (equal-tailed ``prob`` interval)."""
        low, high = self.interval(prob)
        return {"mean": self.mean(), "sd": self.sd(), "low": low, "median": self.ppf(0.5),
                "high": high}

    def describe(self) -> str:
        """Printed form (implemented by each type)."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()

    def _join(self, parts: list[str]) -> str:
        if self.n_components == 1:
            return parts[0]
        tagged = [
            f"{w:.3g}·{p}" + (f" [{lab}]" if lab else "")
            for w, p, lab in zip(self.weights, parts, self.labels or [""] * len(parts),
                                 strict=True)
        ]
        return " + ".join(tagged)


@dataclass(frozen=True)
class NormalMixture(_Mixture):
    """``sum_k w_k Normal(mu_k, sigma_k)`` on a real line (here: a log hazard ratio).

    Parameters
    ----------
    weights, mu, sigma : tuple of float
        Weights (sum 1), means, standard deviations (> 0), one per component.
    labels : tuple of str
        Optional component labels (empty, or one per component).
    """

    weights: tuple[float, ...]
    mu: tuple[float, ...]
    sigma: tuple[float, ...]
    labels: tuple[str, ...] = ()

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.asarray(self.weights), np.asarray(self.mu), np.asarray(self.sigma)

    def component_logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """``log w_k + log Normal(x; mu_k, sigma_k)``, shape ``x.shape + (K,)``."""
        w, m, s = self._arrays()
        xx = np.asarray(x, dtype=float)[..., None]
        with np.errstate(divide="ignore"):
            return np.log(w) + stats.norm.logpdf(xx, m, s)

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """Log density (log-sum-exp over components)."""
        return _chunked(lambda v: special.logsumexp(self.component_logpdf(v), axis=-1), x,
                        self.n_components)

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        """Density."""
        return np.exp(self.logpdf(x))

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """Distribution function."""
        w, m, s = self._arrays()
        return _chunked(lambda v: np.sum(w * special.ndtr((v[..., None] - m) / s), axis=-1), x,
                        self.n_components)

    def _bracket(self) -> tuple[float, float]:
        _, m, s = self._arrays()
        return float(np.min(m - 40 * s)), float(np.max(m + 40 * s))

    def ppf(self, q: float) -> float:
        """Quantile (closed form for one component, root finding otherwise)."""
        if self.n_components == 1 and 0.0 < q < 1.0:
            return float(self.mu[0] + self.sigma[0] * special.ndtri(q))
        return super().ppf(q)

    def mean(self) -> float:
        """``sum_k w_k mu_k``."""
        w, m, _ = self._arrays()
        return float(np.sum(w * m))

    def var(self) -> float:
        """Law of total variance over the components."""
        w, m, s = self._arrays()
        return float(np.sum(w * (s**2 + m**2)) - self.mean() ** 2)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values."""
        w, m, s = self._arrays()
        k = rng.choice(self.n_components, size=size, p=w)
        return rng.normal(m[k], s[k])

    def describe(self) -> str:
        """E.g. ``Normal(0.412, 0.0301)`` or ``0.8·Normal(0.412, 0.0301) + 0.2·Normal(0, 10)``."""
        return self._join([f"Normal({m:.4g}, {s:.4g})" for m, s in zip(self.mu, self.sigma,
                                                                       strict=True)])

    def to_dict(self) -> dict[str, list[float] | list[str]]:
        """Plain-data form ``{"weights", "mu", "sigma"[, "labels"]}``."""
        out: dict[str, list[float] | list[str]] = {
            "weights": list(self.weights), "mu": list(self.mu), "sigma": list(self.sigma)}
        if self.labels:
            out["labels"] = list(self.labels)
        return out

    def with_weights(self, weights: Sequence[float]) -> Self:
        """The same components with new weights (trusted: used by the conjugate update)."""
        return replace(self, weights=tuple(float(v) for v in weights))


@dataclass(frozen=True)
class BetaMixture(_Mixture):
    """``sum_k w_k Beta(a_k, b_k)`` on a probability (here: a response rate).

    Parameters
    ----------
    weights, a, b : tuple of float
        Weights (sum 1) and shape parameters (> 0), one per component.
    labels : tuple of str
        Optional component labels (empty, or one per component).
    """

    weights: tuple[float, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]
    labels: tuple[str, ...] = ()

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.asarray(self.weights), np.asarray(self.a), np.asarray(self.b)

    def component_logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """``log w_k + log Beta(x; a_k, b_k)`` for ``0 < x < 1``, shape ``x.shape + (K,)``."""
        w, a, b = self._arrays()
        xx = np.asarray(x, dtype=float)[..., None]
        inside = (xx > 0) & (xx < 1)
        xc = np.where(inside, xx, 0.5)
        with np.errstate(divide="ignore"):
            logf = np.log(w) + (a - 1) * np.log(xc) + (b - 1) * np.log1p(-xc) - special.betaln(a, b)
        return np.where(inside, logf, -np.inf)

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """Log density (``-inf`` outside (0, 1))."""
        return _chunked(lambda v: special.logsumexp(self.component_logpdf(v), axis=-1), x,
                        self.n_components)

    def pdf(self, x: np.ndarray | float) -> np.ndarray:
        """Density (0 outside (0, 1))."""
        return np.exp(self.logpdf(x))

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """Distribution function (clipped to [0, 1] outside the unit interval)."""
        w, a, b = self._arrays()
        return _chunked(lambda v: np.sum(w * special.betainc(a, b, np.clip(v, 0.0, 1.0)[..., None]),
                                         axis=-1), x, self.n_components)

    def _bracket(self) -> tuple[float, float]:
        return 0.0, 1.0

    def ppf(self, q: float) -> float:
        """Quantile (exact inverse for one component, root finding otherwise)."""
        if self.n_components == 1 and 0.0 < q < 1.0:
            return float(special.betaincinv(self.a[0], self.b[0], q))
        return super().ppf(q)

    def mean(self) -> float:
        """``sum_k w_k a_k / (a_k + b_k)``."""
        w, a, b = self._arrays()
        return float(np.sum(w * a / (a + b)))

    def var(self) -> float:
        """Law of total variance over the components."""
        w, a, b = self._arrays()
        m = a / (a + b)
        v = a * b / ((a + b) ** 2 * (a + b + 1))
        return float(np.sum(w * (v + m**2)) - self.mean() ** 2)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values."""
        w, a, b = self._arrays()
        k = rng.choice(self.n_components, size=size, p=w)
        return rng.beta(a[k], b[k])

    def describe(self) -> str:
        """E.g. ``Beta(8, 10)`` or ``0.8·Beta(34, 103) + 0.2·Beta(1, 1) [robust]``."""
        return self._join([f"Beta({a:.4g}, {b:.4g})" for a, b in zip(self.a, self.b,
                                                                     strict=True)])

    def to_dict(self) -> dict[str, list[float] | list[str]]:
        """Plain-data form ``{"weights", "a", "b"[, "labels"]}``."""
        out: dict[str, list[float] | list[str]] = {
            "weights": list(self.weights), "a": list(self.a), "b": list(self.b)}
        if self.labels:
            out["labels"] = list(self.labels)
        return out

    def with_weights(self, weights: Sequence[float]) -> Self:
        """The same components with new weights (trusted: used by the conjugate update)."""
        return replace(self, weights=tuple(float(v) for v in weights))


def normal_mixture(
    weights: Sequence[float], mu: Sequence[float], sigma: Sequence[float],
    labels: Sequence[str] | None = None, source: str = "prior",
) -> NormalMixture:
    """Return a validated :class:`NormalMixture`.

    Raises
    ------
    SpecError
        Rules ``mixture_nonempty``, ``mixture_lengths``, ``parameter_finite``,
        ``parameter_positive`` (sigma), ``weight_in_unit_interval``, ``weights_sum_to_one``
        (tolerance 1e-9); every problem at once, naming ``source``.
    """
    problems = _validate(weights, {"mu": mu, "sigma": sigma}, labels, source, ("sigma",))
    if problems:
        raise SpecError(source, problems)
    return NormalMixture(tuple(map(float, weights)), tuple(map(float, mu)),
                         tuple(map(float, sigma)), tuple(labels or ()))


def beta_mixture(
    weights: Sequence[float], a: Sequence[float], b: Sequence[float],
    labels: Sequence[str] | None = None, source: str = "prior",
) -> BetaMixture:
    """Return a validated :class:`BetaMixture` (rules as :func:`normal_mixture`; a, b > 0)."""
    problems = _validate(weights, {"a": a, "b": b}, labels, source, ("a", "b"))
    if problems:
        raise SpecError(source, problems)
    return BetaMixture(tuple(map(float, weights)), tuple(map(float, a)), tuple(map(float, b)),
                       tuple(labels or ()))


def _labels(mix: _Mixture) -> list[str]:
    return list(mix.labels) if mix.labels else [f"comp{i + 1}" for i in range(mix.n_components)]


@overload
def robustify(mix: NormalMixture, weight: float, *, mean: float = ..., sigma: float = ...,
              a: float = ..., b: float = ...) -> NormalMixture: ...
@overload
def robustify(mix: BetaMixture, weight: float, *, mean: float = ..., sigma: float = ...,
              a: float = ..., b: float = ...) -> BetaMixture: ...
def robustify(
    mix: NormalMixture | BetaMixture, weight: float, *, mean: float = 0.0,
    sigma: float = 10.0, a: float = 1.0, b: float = 1.0,
) -> NormalMixture | BetaMixture:
    """Add a vague component with weight ``weight`` (others scaled by ``1 - weight``).

    For a :class:`NormalMixture` the robust component is ``Normal(mean, sigma)`` (default
    ``Normal(0, 10)`` on the log-HR scale, the DESIGN section 8 default ``vague_sigma``); for a
    :class:`BetaMixture` it is ``Beta(a, b)`` (default ``Beta(1, 1)``, as RBesT's
    ``robustify(mix, weight, mean = 1/2)``). The new component is labelled ``"robust"``;
    ``weight = 0`` returns ``mix`` unchanged.

    Raises
    ------
    SpecError
        Rule ``robust_weight_range`` if ``weight`` is not in [0, 1).
    """
    if not (isinstance(weight, int | float) and 0.0 <= weight < 1.0):
        raise SpecError("robustify", [Problem("robust_weight_range",
                                              f"robust weight {weight!r} not in [0, 1)",
                                              "robust_weight")])
    if weight == 0.0:
        return mix
    scaled = [(1.0 - weight) * w for w in mix.weights] + [weight]
    labels = [*_labels(mix), ROBUST]
    if isinstance(mix, NormalMixture):
        return normal_mixture(scaled, [*mix.mu, mean], [*mix.sigma, sigma], labels)
    return beta_mixture(scaled, [*mix.a, a], [*mix.b, b], labels)
