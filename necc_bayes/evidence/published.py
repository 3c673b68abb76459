"""A prior from one published estimate: a hazard ratio and its confidence interval as printed.

A paper prints ``HR 2.375 (1.230–4.586)``. On the log scale a Wald interval is symmetric,
``log HR ± z·se`` with ``z = Φ^{-1}(1 - (1 - level)/2)`` (1.959964 for 95%), so

    mu = log HR,    sigma = (log high - log low) / (2 z)

and the prior on the term's log hazard ratio is ``Normal(mu, sigma)``. The standard error
comes from the interval's *width* only; the point estimate is taken as printed. Printed
values are rounded, so ``log HR`` rarely sits exactly at the interval's log-midpoint;
:attr:`PublishedEstimate.asymmetry` (the distance in standard errors) is reported so that a
badly asymmetric interval (a profile-likelihood or exact interval, or a typo) is visible.

With ``robust_weight = w > 0`` the prior becomes the two-component mixture
``(1 - w)·Normal(mu, sigma) + w·Normal(0, vague_sigma)``: if the current data conflict with
the published estimate, the posterior weight of the vague component grows and the posterior
follows the data (Schmidli et al. 2014, Biometrics 70:1023, doi:10.1111/biom.12242).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from necc_bayes.errors import Problem, SpecError
from necc_bayes.evidence.mixtures import NormalMixture, normal_mixture, robustify
from necc_bayes.spec.priors import PublishedPrior, log_hr_from_ci

DEFAULT_VAGUE_SIGMA = 10.0
"""Standard deviation of the robust component on the log-HR scale (DESIGN section 8)."""


@dataclass(frozen=True)
class PublishedEstimate:
    """A printed hazard ratio converted to the log scale.

    Attributes
    ----------
    hr, low, high : float
        As printed.
    level : float
        Confidence level of the printed interval (0.95 unless stated).
    mu, sigma : float
        ``log hr`` and ``(log high - log low) / (2 z)``.
    asymmetry : float
        ``(log hr - (log low + log high) / 2) / sigma``: 0 for an exactly symmetric Wald
        interval; rounding of printed values gives a few hundredths.
    """

    hr: float
    low: float
    high: float
    level: float
    mu: float
    sigma: float
    asymmetry: float


def _positive(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def log_hr_normal(
    hr: float, low: float, high: float, level: float = 0.95, source: str = "published estimate"
) -> PublishedEstimate:
    """Convert a printed ``HR (low–high)`` to ``Normal(log HR, se)``.

    Parameters
    ----------
    hr, low, high : float
        Hazard ratio and confidence limits as printed (all > 0, ``low < high``,
        ``low <= hr <= high``).
    level : float
        Confidence level of the interval, in (0, 1).
    source : str
        Named in error messages (e.g. the spec file and term).

    Returns
    -------
    PublishedEstimate

    Raises
    ------
    SpecError
        Rules ``published_positive``, ``published_interval_order``, ``published_hr_inside``,
        ``published_level``; every problem at once.
    """
    problems: list[Problem] = []
    for key, value in (("hr", hr), ("low", low), ("high", high)):
        if not _positive(value):
            problems.append(Problem("published_positive", f"{key} must be finite and > 0, "
                                    f"got {value!r}", key))
    if not (isinstance(level, float) and 0.0 < level < 1.0):
        problems.append(Problem("published_level", f"level must be in (0, 1), got {level!r}",
                                "level"))
    if not problems:
        if not low < high:
            problems.append(Problem("published_interval_order",
                                    f"low ({low}) must be below high ({high})", "low"))
        elif not low <= hr <= high:
            problems.append(Problem("published_hr_inside",
                                    f"hr ({hr}) lies outside its interval ({low}, {high})", "hr"))
    if problems:
        raise SpecError(source, problems)
    lo, hi = math.log(low), math.log(high)
    if level == 0.95:  # the spec family's formula, so both layers give the same numbers
        mu, sigma = log_hr_from_ci(hr, low, high)
    else:
        mu, sigma = math.log(hr), (hi - lo) / (2.0 * float(special.ndtri(0.5 + level / 2.0)))
    return PublishedEstimate(float(hr), float(low), float(high), float(level), mu, sigma,
                             (mu - (lo + hi) / 2.0) / sigma)


def published_prior(
    hr: float, low: float, high: float, robust_weight: float = 0.0,
    vague_sigma: float = DEFAULT_VAGUE_SIGMA, level: float = 0.95,
    source: str = "published estimate",
) -> NormalMixture:
    """Prior on a log hazard ratio from a printed ``HR (low–high)``, optionally robustified.

    Parameters
    ----------
    hr, low, high, level, source
        See :func:`log_hr_normal`.
    robust_weight : float
        Weight ``w`` in [0, 1) of the vague component (0: no robustification).
    vague_sigma : float
        Standard deviation of the vague ``Normal(0, vague_sigma)`` component (> 0).

    Returns
    -------
    NormalMixture
        ``Normal(mu, sigma)`` labelled ``"published"``, or the two-component mixture
        ``(1 - w)·Normal(mu, sigma) + w·Normal(0, vague_sigma)`` (second label ``"robust"``).

    Raises
    ------
    SpecError
        As :func:`log_hr_normal`, and rules ``robust_weight_range``, ``vague_sigma_positive``.

    Examples
    --------
    >>> str(published_prior(2.375, 1.230, 4.586))
    'Normal(0.865, 0.3356)'
    >>> str(published_prior(2.375, 1.230, 4.586, robust_weight=0.2))
    '0.8·Normal(0.865, 0.3356) [published] + 0.2·Normal(0, 10) [robust]'
    """
    est = log_hr_normal(hr, low, high, level, source)
    problems: list[Problem] = []
    if not (isinstance(robust_weight, int | float) and 0.0 <= robust_weight < 1.0):
        problems.append(Problem("robust_weight_range",
                                f"robust_weight must be in [0, 1), got {robust_weight!r}",
                                "robust_weight"))
    if not _positive(vague_sigma):
        problems.append(Problem("vague_sigma_positive",
                                f"vague_sigma must be finite and > 0, got {vague_sigma!r}",
                                "vague_sigma"))
    if problems:
        raise SpecError(source, problems)
    base = normal_mixture([1.0], [est.mu], [est.sigma], ["published"], source)
    return robustify(base, float(robust_weight), mean=0.0, sigma=float(vague_sigma))


def from_spec(prior: PublishedPrior) -> NormalMixture:
    """The :class:`NormalMixture` of a spec's ``dist = "published"`` prior (same numbers)."""
    return published_prior(prior.hr, prior.low, prior.high, prior.robust_weight,
                           prior.vague_sigma, source=prior.source or "published prior")
