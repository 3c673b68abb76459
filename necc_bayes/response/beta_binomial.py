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
* ``P(p_t - p_c > δ)`` (:func:`prob_diff_greater`) and the CDFs of the difference, risk ratio
  ``p_t / p_c`` and odds ratio (:func:`contrast_cdf`) are one-dimensional integrals
  ``∫ f_c(y) F_t(g(y)) dy``, evaluated over the *quantiles* of one arm
  (:mod:`necc_bayes.response.quadrature`): the integrand is bounded and monotone, so the same
  rule works for shapes below 1 (Jeffreys, 0/N or N/N) and for counts in the millions.
  :func:`prob_greater_closed_form` is the independent finite sum for an integer first shape
  parameter (Evan Miller, "Formulas for Bayesian A/B testing", 2015; J. D. Cook, "Exact
  calculation of beta inequalities", 2005), used to check the quadrature; the corners are
  checked against mpmath at 30 digits (``tests/reference/orr_corners.json``).
* Quantiles of the contrasts are found by root finding on their exact CDFs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize, special

from necc_bayes.errors import Problem, SpecError
from necc_bayes.evidence.mixtures import BetaMixture
from necc_bayes.response.quadrature import Contrast, pair_cdf

_ROOT_XTOL = 1e-15
"""Absolute tolerance of the quantile roots (on the log scale for the ratios). 1e-10 left the
median difference of 1/10^6 vs 0/10^6 (Jeffreys), whose posterior lives on a 10^-6 scale, at a
reference CDF of 0.5 + 3.6e-6 (tests/response/test_orr_reference_corners.py)."""


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
    if prior.n_components == 1:
        new_w = w
    else:
        with np.errstate(divide="ignore"):
            logw = np.log(w) + log_marginal_likelihood(prior, x, n)
        new_w = np.exp(logw - special.logsumexp(logw))
    return BetaMixture(
        weights=tuple(float(v) for v in new_w),
        a=tuple(float(v) for v in a + x),
        b=tuple(float(v) for v in b + n - x),
        labels=prior.labels,
    )


def contrast_cdf(kind: Contrast, treated: BetaMixture, control: BetaMixture, t: float) -> float:
    """``P(contrast <= t)`` for the difference, risk ratio or odds ratio of two mixtures.

    Parameters
    ----------
    kind : {"diff", "ratio", "odds"}
        ``p_t - p_c``, ``p_t / p_c`` or ``[p_t / (1 - p_t)] / [p_c / (1 - p_c)]``.
    treated, control : BetaMixture
        Independent distributions of the two response probabilities.
    t : float
        Threshold (in (-1, 1) for the difference, > 0 for the ratios).

    Returns
    -------
    float
        The probability: the weighted sum over component pairs of
        :func:`~necc_bayes.response.quadrature.pair_cdf`.
    """
    total = 0.0
    for wt, at, bt in zip(treated.weights, treated.a, treated.b, strict=True):
        for wc, ac, bc in zip(control.weights, control.a, control.b, strict=True):
            if wt > 0.0 and wc > 0.0:
                total += wt * wc * pair_cdf(kind, t, at, bt, ac, bc)
    return min(max(total, 0.0), 1.0)


def prob_diff_greater(treated: BetaMixture, control: BetaMixture, delta: float = 0.0) -> float:
    """Exact ``P(p_t - p_c > delta)`` for independent ``p_t ~ treated``, ``p_c ~ control``.

    ``1 - P(p_t <= p_c + delta)``, the integral computed by :func:`contrast_cdf`.

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
    return 1.0 - contrast_cdf("diff", treated, control, delta)


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
    return contrast_cdf("diff", treated, control, d)


def ratio_cdf(treated: BetaMixture, control: BetaMixture, r: float) -> float:
    """``P(p_t / p_c <= r)`` for ``r > 0``."""
    return contrast_cdf("ratio", treated, control, r)


def odds_ratio_cdf(treated: BetaMixture, control: BetaMixture, k: float) -> float:
    """``P(OR <= k)``: ``OR <= k`` iff ``p_t <= k p_c / (1 - p_c + k p_c)``."""
    return contrast_cdf("odds", treated, control, k)


_LOG_LIMIT = 700.0  # exp(700) ~ 1e304: beyond it a ratio's quantile is not a finite double


def _root_log_scale(cdf: Callable[[float], float], q: float) -> float:
    """Solve ``cdf(exp(u)) = q`` for a positive quantity, expanding the bracket as needed.

    Returns 0.0 or ``inf`` when the quantile lies beyond ``exp(-700)`` or ``exp(700)``.
    """
    lo, hi = -2.0, 2.0
    while cdf(math.exp(lo)) > q:
        if lo <= -_LOG_LIMIT:
            return 0.0
        lo = max(2.0 * lo, -_LOG_LIMIT)
    while cdf(math.exp(hi)) < q:
        if hi >= _LOG_LIMIT:
            return math.inf
        hi = min(2.0 * hi, _LOG_LIMIT)
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
