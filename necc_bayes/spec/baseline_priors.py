"""Baseline-hazard prior families: declared data that build themselves (as in ``spec.priors``).

What the baseline refers to depends on ``covariates.center``: with
centring it is the hazard of a subject at the covariate means, otherwise of a subject with
every covariate at 0). ``r`` is the crude event rate (events / total time at risk) and ``T``
the largest follow-up time, both per unit of the data's time scale; interval ``j`` has width
``Delta_j`` (the last, open interval ends at ``T``):

* ``gamma_process`` (default) -- the gamma-process ("histogram") prior of Kalbfleisch (1978):
  ``lambda_j ~ Gamma(c r Delta_j, c Delta_j)`` independently, so that the cumulative hazard
  has the prior ``H(t) ~ Gamma(c r t, c)`` at every interval end, whatever the cut points:
  mean ``r t``, variance ``r t / c``. ``rate = "auto"`` resolves to ``r``;
  ``strength = "auto"`` to ``c = 1 / (r T)``, a prior worth about one event over the whole
  follow-up (``H(T) ~ Gamma(1, 1 / (r T))``: exponential with mean ``r T``).
* ``gamma``       -- independent ``Gamma(alpha, beta)`` on each interval's rate, the same for
  every interval (the pre-0.2 default, ``alpha = 1, beta = 1 / r``; its prior on ``H(t)``
  tightens as intervals are added, coefficient of variation about ``1 / sqrt(J)``).
* ``random_walk`` -- Brownian motion on the log hazard, seen at the interval midpoints
  ``m_j``: ``log lambda_1 ~ Normal(init_mu, init_sigma)``, then
  ``log lambda_j - log lambda_{j-1} ~ Normal(0, sigma^2 (m_j - m_{j-1}))`` with
  ``sigma ~ HalfNormal(sigma_scale)`` per square root of the time unit (non-centred), so the
  smoothness does not change with the number of intervals. ``init_mu = "auto"`` resolves to
  ``log r``; ``sigma_scale = "auto"`` to ``1 / sqrt(T)`` (the prior sd of the change of the
  log hazard over the whole follow-up is then about ``|HalfNormal(1)|``).

With ``marginalize = true`` (default for the gamma families) the rates are integrated out
exactly and drawn afterwards from ``Gamma(a_j + d_j, b_j + S_j(beta))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Self

import numpy as np
from pydantic import Field, PositiveFloat

from necc_bayes.spec.priors import Auto, _fmt, _Prior

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class BaselineFacts:
    """What the data tell a baseline prior's ``"auto"`` parameters.

    Attributes
    ----------
    crude_rate : float
        Events divided by total time at risk (per unit of the data's time scale).
    follow_up_max : float
        Largest follow-up time ``T``.
    """

    crude_rate: float
    follow_up_max: float


class _Baseline(_Prior):
    def resolve(self, facts: BaselineFacts) -> Self:
        """Return a copy with every ``"auto"`` parameter replaced by its number."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int, widths: np.ndarray) -> np.ndarray:
        """Prior draws of the interval rates, shape ``(size, J)`` (``widths``: ``Delta_j``)."""
        raise NotImplementedError


class _GammaFamily(_Baseline):
    """Gamma priors on the interval rates, which can be integrated out exactly.

    Attributes
    ----------
    marginalize : bool
        Integrate the rates out of the likelihood exactly (default) and draw them afterwards
        from their conditional gamma posterior; ``false`` samples them with NUTS.
    """

    marginalize: bool = True

    def shape_rate(self, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-interval gamma shape ``a_j`` and rate ``b_j`` (resolved priors only)."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int, widths: np.ndarray) -> np.ndarray:
        """Independent gamma draws per interval."""
        a, b = self.shape_rate(widths)
        return rng.gamma(a, 1.0 / b, size=(size, a.size))


class GammaProcessBaseline(_GammaFamily):
    """Gamma-process prior: ``lambda_j ~ Gamma(c r Delta_j, c Delta_j)`` (partition-invariant).

    Attributes
    ----------
    rate : float or "auto"
        Prior mean ``r`` of the hazard; ``"auto"``: the crude event rate of the data.
    strength : float or "auto"
        Strength ``c`` (the cumulative hazard has prior variance ``r t / c``); ``"auto"``:
        ``1 / (r T)``, worth about one event over the follow-up ``T``.
    """

    dist: Literal["gamma_process"] = "gamma_process"
    display: ClassVar[str] = "GammaProcess"
    rate: PositiveFloat | Auto = "auto"
    strength: PositiveFloat | Auto = "auto"

    def resolve(self, facts: BaselineFacts) -> Self:
        """``rate = r``; ``strength = 1 / (r T)`` (worth about one event over the follow-up)."""
        r = facts.crude_rate if self.rate == "auto" else float(self.rate)
        c = 1.0 / (r * facts.follow_up_max) if self.strength == "auto" else float(self.strength)
        return self.model_copy(update={"rate": float(r), "strength": float(c)})

    def shape_rate(self, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``a_j = c r Delta_j``, ``b_j = c Delta_j``."""
        w = np.asarray(widths, dtype=float)
        c, r = float(self.strength), float(self.rate)
        return c * r * w, c * w

    def cumulative_hazard_prior(self) -> str:
        """The implied prior on ``H(t)``, in words (for the resolved spec and the report)."""
        c, r = float(self.strength), float(self.rate)
        return (
            f"H(t) ~ Gamma(shape = {_fmt(c * r)} * t, rate = {_fmt(c)}): mean {_fmt(r)} * t, "
            f"variance {_fmt(r / c)} * t, at every interval end whatever the cut points"
        )


class GammaBaseline(_GammaFamily):
    """Independent ``Gamma(alpha, beta)`` priors on the interval rates (same for every interval).

    Attributes
    ----------
    alpha : float or "auto"
        Shape of each interval's gamma prior; ``"auto"``: 1.
    beta : float or "auto"
        Rate of each interval's gamma prior; ``"auto"``: ``alpha / r`` (prior mean ``r``,
        the crude event rate).
    """

    dist: Literal["gamma"] = "gamma"
    display: ClassVar[str] = "Gamma"
    alpha: PositiveFloat | Auto = "auto"
    beta: PositiveFloat | Auto = "auto"

    def resolve(self, facts: BaselineFacts) -> Self:
        """``alpha = 1``, ``beta = alpha / r`` (prior mean ``r``)."""
        alpha = 1.0 if self.alpha == "auto" else float(self.alpha)
        beta = alpha / facts.crude_rate if self.beta == "auto" else float(self.beta)
        return self.model_copy(update={"alpha": float(alpha), "beta": float(beta)})

    def shape_rate(self, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``a_j = alpha``, ``b_j = beta`` for every interval."""
        n = np.asarray(widths).size
        return np.full(n, float(self.alpha)), np.full(n, float(self.beta))


class RandomWalkBaseline(_Baseline):
    """Brownian motion on the log interval rates at the interval midpoints (non-centred).

    PyMC: ``baseline_z0``, ``baseline_sigma``, ``baseline_z`` (dims ``baseline_step``) with
    ``pm.Data`` ``rw_init_mu``, ``rw_init_sigma``, ``rw_sigma_scale`` and ``rw_step_scale``
    (``sqrt(m_j - m_{j-1})``).

    Attributes
    ----------
    init_mu : float or "auto"
        Prior mean of the first interval's log rate; ``"auto"``: ``log r``.
    init_sigma : float
        Prior standard deviation of the first interval's log rate.
    sigma_scale : float or "auto"
        Scale of the walk's SD per square root of the time unit,
        ``sigma ~ HalfNormal(sigma_scale)``; ``"auto"``: ``1 / sqrt(T)``.
    """

    dist: Literal["random_walk"] = "random_walk"
    display: ClassVar[str] = "GaussianRandomWalk"
    init_mu: float | Auto = "auto"
    init_sigma: PositiveFloat = 2.0
    sigma_scale: PositiveFloat | Auto = "auto"

    def resolve(self, facts: BaselineFacts) -> Self:
        """``init_mu = log r``; ``sigma_scale = 1 / sqrt(T)``."""
        mu = math.log(facts.crude_rate) if self.init_mu == "auto" else float(self.init_mu)
        scale = (
            1.0 / math.sqrt(facts.follow_up_max)
            if self.sigma_scale == "auto"
            else float(self.sigma_scale)
        )
        return self.model_copy(update={"init_mu": float(mu), "sigma_scale": float(scale)})

    @staticmethod
    def step_scale(widths: np.ndarray) -> np.ndarray:
        """``sqrt(m_j - m_{j-1})`` for ``j = 2..J`` (``m``: interval midpoints)."""
        w = np.asarray(widths, dtype=float)
        mid = np.cumsum(w) - w / 2.0
        return np.sqrt(np.diff(mid))

    def sample(self, rng: np.random.Generator, size: int, widths: np.ndarray) -> np.ndarray:
        """Random-walk draws of the rates."""
        scale = self.step_scale(widths)
        z0 = rng.standard_normal((size, 1))
        sigma = np.abs(rng.normal(0.0, float(self.sigma_scale), size=(size, 1)))
        steps = np.cumsum(sigma * scale * rng.standard_normal((size, scale.size)), axis=1)
        log_lam = float(self.init_mu) + self.init_sigma * z0
        return np.exp(np.concatenate([log_lam, log_lam + steps], axis=1))


BaselinePrior = Annotated[
    GammaProcessBaseline | GammaBaseline | RandomWalkBaseline, Field(discriminator="dist")
]


def resolve_baseline(
    prior: GammaProcessBaseline | GammaBaseline | RandomWalkBaseline,
    crude_rate: float,
    follow_up_max: float = 1.0,
):
    """Replace ``"auto"`` parameters by numbers derived from the data (see each family).

    Parameters
    ----------
    prior : baseline prior
        Declared baseline prior.
    crude_rate : float
        Events divided by total time at risk (per unit of the data's time scale).
    follow_up_max : float
        Largest follow-up time (used by ``gamma_process`` and ``random_walk``).

    Returns
    -------
    baseline prior
        A new prior with every parameter numeric.
    """
    return prior.resolve(BaselineFacts(crude_rate=crude_rate, follow_up_max=follow_up_max))


DEFAULT_BASELINE = GammaProcessBaseline()
