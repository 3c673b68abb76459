"""Closed-form beta-binomial maths for comparing two response rates.

Everything here is exact up to numerical quadrature and root finding; nothing is sampled
(no MCMC is needed for two independent binomial arms with Beta or Beta-mixture priors).

* A prior or posterior for one arm's response probability is a :class:`BetaMixture`
  ``sum_k w_k Beta(a_k, b_k)`` (a single Beta is the one-component case); the type is
  :class:`necc_bayes.evidence.mixtures.BetaMixture`, shared with the evidence layer's MAP
  priors (so a MAP or robustified prior is used here as it is).
* Conjugate update (:func:`posterior`): each component becomes ``Beta(a_k + x, b_k + n - x)``
  and its weight becomes ``w_k' ∝ w_k · m_k(x)`` with ``m_k`` the beta-binomial marginal
  likelihood of the data under component ``k`` -- the update of RBesT's ``postmix``.
* ``P(p_t - p_c > δ)`` (:func:`prob_diff_greater`) is the one-dimensional integral
  ``∫ f_t(x) F_c(x - δ) dx`` evaluated with :func:`scipy.integrate.quad`;
  :func:`prob_greater_closed_form` is the independent finite sum for an integer first shape
  parameter (Evan Miller, "Formulas for Bayesian A/B testing", 2015; J. D. Cook, "Exact
  calculation of beta inequalities", 2005), used to check the quadrature.
* Quantiles of the difference, the risk ratio ``p_t / p_c`` and the odds ratio are found by
  root finding on their exact CDFs, each again a one-dimensional integral over ``p_c``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import integrate, optimize, special

from necc_bayes.errors import Problem, SpecError
from necc_bayes.evidence.mixtures import BetaMixture

_QUAD_EPSABS = 1e-12
_QUAD_EPSREL = 1e-10
_QUAD_TOL = 1e-7  # an integral whose error estimate exceeds this is refused
_ROOT_XTOL = 1e-10


def _as_real(value: object) -> float | None:
    """Return ``value`` as a float if it is a real number (not bool or str), else None."""
    if isinstance(value, bool | str) or not isinstance(value, int | float | np.number):
        return None
    return float(value)


def _check_shape(value: float, name: str, problems: list[Problem]) -> None:
    v = _as_real(value)
    if v is None or not (math.isfinite(v) and v > 0):
        problems.append(
            Problem("beta_shape_positive", f"{name} must be finite and > 0, got {value!r}", name)
        )


def beta(a: float, b: float, source: str = "prior") -> BetaMixture:
    """Return a validated single ``Beta(a, b)``.

    Raises
    ------
    SpecError
        Rule ``beta_shape_positive`` if a shape is not finite and > 0.
    """
    return mixture([(1.0, a, b)], source=source)


def mixture(components: Sequence[tuple[float, float, float]], source: str = "prior") -> BetaMixture:
    """Return a validated mixture from ``(weight, a, b)`` triples.

    Raises
    ------
    SpecError
        Rules ``mixture_nonempty``, ``beta_shape_positive``, ``weight_in_unit_interval``,
        ``weights_sum_to_one`` (tolerance 1e-9); every problem is reported at once.
    """
    problems: list[Problem] = []
    if not components:
        problems.append(Problem("mixture_nonempty", "a mixture needs at least one component"))
    for i, (w, a, b) in enumerate(components):
        _check_shape(a, f"a[{i}]" if len(components) > 1 else "a", problems)
        _check_shape(b, f"b[{i}]" if len(components) > 1 else "b", problems)
        wv = _as_real(w)
        if wv is None or not (math.isfinite(wv) and 0.0 <= wv <= 1.0):
            problems.append(
                Problem(
                    "weight_in_unit_interval", f"weight must be in [0, 1], got {w!r}", f"w[{i}]"
                )
            )
    if not problems and abs(sum(w for w, _, _ in components) - 1.0) > 1e-9:
        total = sum(w for w, _, _ in components)
        problems.append(Problem("weights_sum_to_one", f"weights sum to {total:.6g}, not 1"))
    if problems:
        raise SpecError(source, problems)
    return BetaMixture(
        weights=tuple(float(w) for w, _, _ in components),
        a=tuple(float(a) for _, a, _ in components),
        b=tuple(float(b) for _, _, b in components),
    )


def log_marginal_likelihood(prior: BetaMixture, x: int, n: int) -> np.ndarray:
    """Per-component log beta-binomial probability of ``x`` responders out of ``n``.

    ``log C(n, x) + log B(a + x, b + n - x) - log B(a, b)`` for each component.
    """
    _, a, b = prior._arrays()
    log_choose = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
    return log_choose + special.betaln(a + x, b + n - x) - special.betaln(a, b)


def posterior(prior: BetaMixture, x: int, n: int) -> BetaMixture:
    """Conjugate posterior after ``x`` responders out of ``n`` (counts already validated).

    Components ``Beta(a_k + x, b_k + n - x)``; weights ``w_k' ∝ w_k · BetaBinomial(x | n,
    a_k, b_k)`` (RBesT ``postmix``). Zero-weight components keep weight zero.
    """
    w, a, b = prior._arrays()
    with np.errstate(divide="ignore"):
        logw = np.log(w) + log_marginal_likelihood(prior, x, n)
    new_w = np.exp(logw - special.logsumexp(logw))
    return BetaMixture(
        weights=tuple(float(v) for v in new_w),
        a=tuple(float(v) for v in a + x),
        b=tuple(float(v) for v in b + n - x),
        labels=prior.labels,
    )


def _check_quad(res: tuple[float, ...]) -> float:
    value, abserr = float(res[0]), float(res[1])
    if abserr > _QUAD_TOL:
        raise RuntimeError(f"quadrature did not converge (error estimate {abserr:.2g})")
    return value


def _cdf_fn(dist: BetaMixture) -> Callable[[float], float]:
    """Fast scalar CDF (0 below 0, 1 above 1)."""
    comps = list(zip(dist.weights, dist.a, dist.b, strict=True))

    def cdf(x: float) -> float:
        x = min(max(x, 0.0), 1.0)
        return sum(w * float(special.betainc(a, b, x)) for w, a, b in comps)

    return cdf


def _integrate_against(
    dist: BetaMixture, g: Callable[[float], float], lo: float, hi: float, points: Sequence[float]
) -> float:
    """Return ``∫_lo^hi f(x) g(x) dx`` with ``f`` the density of ``dist``, one quad per component.

    A component with a shape below 1 has an integrable singularity at 0 or 1; when that end
    is an end of the range, the singular factor ``x^(a-1)`` or ``(1-x)^(b-1)`` is handed to
    QUADPACK's algebraic-weight rule (QAWS, ``weight="alg"``) so that it is integrated
    exactly; otherwise adaptive QAGS/QAGP is used with the component means as break points.
    """
    if hi <= lo:
        return 0.0
    inner = sorted({p for p in points if lo < p < hi}) or None
    total = 0.0
    for w, a, b in zip(dist.weights, dist.a, dist.b, strict=True):
        if w > 0.0:
            total += w * _component_integral(a, b, g, lo, hi, inner)
    return total


def _component_integral(
    a: float,
    b: float,
    g: Callable[[float], float],
    lo: float,
    hi: float,
    inner: list[float] | None,
) -> float:
    """Return ``∫_lo^hi Beta(x; a, b) g(x) dx`` (see :func:`_integrate_against`)."""
    alpha = a - 1.0 if (a < 1.0 and lo == 0.0) else 0.0
    beta_ = b - 1.0 if (b < 1.0 and hi == 1.0) else 0.0
    log_norm = float(special.betaln(a, b))

    def f(x: float) -> float:
        if not 0.0 < x < 1.0:
            return 0.0
        logf = (a - 1.0 - alpha) * math.log(x) + (b - 1.0 - beta_) * math.log1p(-x) - log_norm
        return math.exp(logf) * g(x)

    opts = {"epsabs": _QUAD_EPSABS, "epsrel": _QUAD_EPSREL, "limit": 400, "full_output": 1}
    if alpha or beta_:
        res = integrate.quad(f, lo, hi, weight="alg", wvar=(alpha, beta_), **opts)
    else:
        res = integrate.quad(f, lo, hi, points=inner, **opts)
    return _check_quad(res)


def _landmarks(*dists: BetaMixture) -> list[float]:
    """Posterior means of every component: help quad find narrow peaks."""
    return [a / (a + b) for d in dists for a, b in zip(d.a, d.b, strict=True)]


def prob_diff_greater(treated: BetaMixture, control: BetaMixture, delta: float = 0.0) -> float:
    """Exact ``P(p_t - p_c > delta)`` for independent ``p_t ~ treated``, ``p_c ~ control``.

    ``P = ∫ f_t(x) F_c(x - delta) dx`` over ``x`` in ``[max(0, delta), min(1, 1 + delta)]``,
    plus ``1 - F_t(1 + delta)`` when ``delta < 0`` (where ``F_c = 1``); or the same
    probability as ``∫ f_c(y) [1 - F_t(y + delta)] dy`` (plus ``F_c(-delta)`` when
    ``delta < 0``), whichever integrates against the less singular density.

    Parameters
    ----------
    treated, control : BetaMixture
        Posteriors (or priors) of the two response probabilities.
    delta : float
        Margin in (-1, 1); 0 gives ``P(p_t > p_c)``.

    Returns
    -------
    float
    """
    if _smallest_shape(treated) >= _smallest_shape(control):
        lo, hi = max(0.0, delta), min(1.0, 1.0 + delta)
        marks = _landmarks(treated) + [m + delta for m in _landmarks(control)]
        cdf_c = _cdf_fn(control)
        body = _integrate_against(treated, lambda x: cdf_c(x - delta), lo, hi, marks)
        rest = 1.0 - float(treated.cdf(hi))
    else:  # the same integral over p_c: integrate against the less singular density
        lo, hi = max(0.0, -delta), min(1.0, 1.0 - delta)
        marks = _landmarks(control) + [m - delta for m in _landmarks(treated)]
        cdf_t = _cdf_fn(treated)
        body = _integrate_against(control, lambda y: 1.0 - cdf_t(y + delta), lo, hi, marks)
        rest = float(control.cdf(lo))
    return float(min(max(body + rest, 0.0), 1.0))


def _smallest_shape(dist: BetaMixture) -> float:
    """Smallest shape parameter of the components with positive weight."""
    return min(min(a, b) for w, a, b in zip(dist.weights, dist.a, dist.b, strict=True) if w > 0.0)


def prob_greater_closed_form(a_t: int, b_t: float, a_c: float, b_c: float) -> float:
    """``P(p_t > p_c)`` for ``Beta(a_t, b_t)`` vs ``Beta(a_c, b_c)`` by a finite sum.

    Needs an integer ``a_t``: ``sum_{i=0}^{a_t-1} B(a_c+i, b_c+b_t) / ((b_t+i) B(1+i, b_t)
    B(a_c, b_c))`` (Miller 2015, eq. for ``P(p_B > p_A)``). Independent of the quadrature;
    used in tests.
    """
    if a_t != int(a_t) or a_t < 1:
        raise ValueError("the closed form needs a positive integer a_t")
    i = np.arange(int(a_t), dtype=float)
    terms = (
        special.betaln(a_c + i, b_c + b_t)
        - np.log(b_t + i)
        - special.betaln(1 + i, b_t)
        - special.betaln(a_c, b_c)
    )
    return float(np.sum(np.exp(terms)))


def diff_cdf(treated: BetaMixture, control: BetaMixture, d: float) -> float:
    """``P(p_t - p_c <= d)``."""
    return 1.0 - prob_diff_greater(treated, control, d)


def ratio_cdf(treated: BetaMixture, control: BetaMixture, r: float) -> float:
    """``P(p_t / p_c <= r) = ∫ f_c(y) F_t(r y) dy`` for ``r > 0``."""
    marks = _landmarks(control) + [1.0 / r] + [m / r for m in _landmarks(treated)]
    cdf_t = _cdf_fn(treated)
    return _integrate_against(control, lambda y: cdf_t(r * y), 0.0, 1.0, marks)


def odds_ratio_cdf(treated: BetaMixture, control: BetaMixture, k: float) -> float:
    """``P(OR <= k)``: ``OR <= k`` iff ``p_t <= k p_c / (1 - p_c + k p_c)``."""

    def g(y: float) -> float:
        return k * y / (1.0 - y + k * y)

    marks = _landmarks(control) + [m / (k - k * m + m) for m in _landmarks(treated)]
    cdf_t = _cdf_fn(treated)
    return _integrate_against(control, lambda y: cdf_t(g(y)), 0.0, 1.0, marks)


def _root_log_scale(cdf: Callable[[float], float], q: float) -> float:
    """Solve ``cdf(exp(u)) = q`` for a positive quantity, expanding the bracket as needed."""
    lo, hi = -2.0, 2.0
    while cdf(math.exp(lo)) > q and lo > -60:
        lo *= 2
    while cdf(math.exp(hi)) < q and hi < 60:
        hi *= 2
    u = optimize.brentq(lambda v: cdf(math.exp(v)) - q, lo, hi, xtol=_ROOT_XTOL)
    return math.exp(u)


def diff_quantile(treated: BetaMixture, control: BetaMixture, q: float) -> float:
    """Quantile of ``p_t - p_c`` (root of the exact CDF)."""
    return float(
        optimize.brentq(lambda d: diff_cdf(treated, control, d) - q, -1.0, 1.0, xtol=_ROOT_XTOL)
    )


def ratio_quantile(treated: BetaMixture, control: BetaMixture, q: float) -> float:
    """Quantile of the risk ratio ``p_t / p_c``."""
    return _root_log_scale(lambda r: ratio_cdf(treated, control, r), q)


def odds_ratio_quantile(treated: BetaMixture, control: BetaMixture, q: float) -> float:
    """Quantile of the odds ratio ``[p_t / (1 - p_t)] / [p_c / (1 - p_c)]``."""
    return _root_log_scale(lambda k: odds_ratio_cdf(treated, control, k), q)
