"""Prior families as declared data: validated, printable, serialisable.

Priors are plain pydantic models (``extra="forbid"``, finite numbers only), so an impossible
prior (``sigma <= 0``, an unknown family, a typo in a parameter name) is refused when the
specification is read, long before any model is built. ``str(prior)`` prints the prior the
way it is written in a paper (``Normal(mu=0, sigma=1)``) and ``prior.to_dict()`` gives the
TOML table written to the resolved ``spec.toml``.

Families
--------
Coefficient (log hazard ratio) priors:

* ``normal``      -- ``Normal(mu, sigma)``
* ``student_t``   -- ``StudentT(nu, mu, sigma)``
* ``horseshoe``   -- regularised horseshoe (Piironen & Vehtari 2017), shared across every
  term that uses it: ``beta_k = z_k * tau * lambda~_k`` with
  ``tau ~ HalfStudentT(1, global_scale)``,
  ``lambda_k ~ HalfCauchy(1)``, slab ``c^2 ~ InvGamma(slab_df/2, slab_df * slab_scale^2 / 2)``.

Group priors (partial pooling across overlapping indicators, e.g. recurrence sites):

* ``hierarchical_normal`` -- ``beta_k = mu + tau * z_k``, ``mu ~ Normal(0, mu_sigma)``,
  ``tau ~ HalfNormal(tau_sigma)``, ``z_k ~ Normal(0, 1)`` (non-centred).
* ``monotonic`` -- a monotone effect over the cumulative dummies of an ordinal covariate:
  ``beta_k = b * zeta_k``, ``b ~ Normal(0, sigma)``, ``zeta ~ Dirichlet(concentration)``.

Baseline-hazard priors (what the baseline refers to depends on ``covariates.center``: with
centring it is the hazard of a subject at the covariate means, otherwise of a subject with
every covariate at 0):

* ``gamma``       -- independent ``Gamma(alpha, beta)`` on each interval's rate ``lambda_j``
  (rate per unit of the data's time scale). ``"auto"`` parameters are resolved from the
  data's crude event rate ``r = events / total follow-up`` to ``alpha = 1, beta = 1 / r``
  (prior mean ``r``; 95% of the mass between 0.025 r and 3.7 r). With ``marginalize = true``
  (default) the rates are integrated out exactly and drawn afterwards from their conditional
  posterior ``Gamma(alpha + d_j, beta + S_j(beta))``.
* ``random_walk`` -- ``log lambda_1 ~ Normal(init_mu, init_sigma)``, then Gaussian steps
  ``log lambda_j - log lambda_{j-1} ~ Normal(0, sigma)`` with ``sigma ~ HalfNormal(sigma_scale)``
  (non-centred). ``init_mu = "auto"`` resolves to ``log r``.

Frailty standard-deviation priors (``[frailty] sd``; the log-frailty of cluster ``c`` is
``b_c = sd * z_c``, ``z_c ~ Normal(0, 1)``, non-centred):

* ``exponential`` -- ``sd ~ Exponential(rate)`` (prior mean ``1 / rate``); the default,
  ``rate = 1``, puts 95% of the mass below sd = 3.0 (``-log 0.05``) and its mode at 0 (no
  clustering), without excluding large between-cluster variation.
* ``halfnormal``  -- ``sd ~ HalfNormal(sigma)``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

Auto = Literal["auto"]


class _Prior(BaseModel):
    """Common behaviour: frozen, no unknown keys, finite numbers, printable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    dist: str

    def to_dict(self) -> dict[str, Any]:
        """Return the prior as the TOML table it is written as."""
        return self.model_dump(exclude_none=True)

    def __str__(self) -> str:
        params = ", ".join(
            f"{k}={_fmt(v)}" for k, v in self.model_dump(exclude_none=True).items() if k != "dist"
        )
        return f"{_DISPLAY.get(self.dist, self.dist)}({params})"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


_DISPLAY = {
    "normal": "Normal",
    "student_t": "StudentT",
    "horseshoe": "RegularisedHorseshoe",
    "hierarchical_normal": "HierarchicalNormal",
    "monotonic": "Monotonic",
    "gamma": "Gamma",
    "random_walk": "GaussianRandomWalk",
    "exponential": "Exponential",
    "halfnormal": "HalfNormal",
}


class NormalPrior(_Prior):
    """``Normal(mu, sigma)`` on a log hazard ratio."""

    dist: Literal["normal"] = "normal"
    mu: float = 0.0
    sigma: PositiveFloat = 1.0


class StudentTPrior(_Prior):
    """``StudentT(nu, mu, sigma)`` on a log hazard ratio."""

    dist: Literal["student_t"] = "student_t"
    nu: PositiveFloat = 3.0
    mu: float = 0.0
    sigma: PositiveFloat = 1.0


class HorseshoePrior(_Prior):
    """Regularised horseshoe shared by every term that uses it."""

    dist: Literal["horseshoe"] = "horseshoe"
    global_scale: PositiveFloat = 0.5
    slab_scale: PositiveFloat = 2.0
    slab_df: PositiveFloat = 4.0


CoefficientPrior = Annotated[
    NormalPrior | StudentTPrior | HorseshoePrior, Field(discriminator="dist")
]


class HierarchicalGroup(_Prior):
    """Partially pooled effects for a group of terms (non-centred normal hierarchy)."""

    dist: Literal["hierarchical_normal"] = "hierarchical_normal"
    terms: list[str] = Field(min_length=2)
    mu_sigma: PositiveFloat = 1.0
    tau_sigma: PositiveFloat = 0.5

    def __str__(self) -> str:
        return (
            f"HierarchicalNormal(terms={self.terms}, mu~Normal(0, {_fmt(self.mu_sigma)}), "
            f"tau~HalfNormal({_fmt(self.tau_sigma)}))"
        )


class MonotonicGroup(_Prior):
    """Monotone effect of an ordinal covariate (brms ``mo()``), on its cumulative dummies.

    For an ordinal covariate coded as cumulative dummies ``x>=2, ..., x>=K`` (see
    ``[covariates.ordinal]``), the log-HRs are ``beta_k = b * zeta_k`` with
    ``b ~ Normal(0, sigma)`` the log-HR of the top category against the bottom one and
    ``zeta ~ Dirichlet(concentration)`` the share of that effect gained at each step, so the
    effect is monotone in the category (all steps share the sign of ``b``).
    """

    dist: Literal["monotonic"] = "monotonic"
    terms: list[str] = Field(min_length=2)
    sigma: PositiveFloat = 1.5
    concentration: PositiveFloat = 1.0

    def __str__(self) -> str:
        return (
            f"Monotonic(terms={self.terms}, total~Normal(0, {_fmt(self.sigma)}), "
            f"steps~Dirichlet({_fmt(self.concentration)}))"
        )


GroupPrior = Annotated[HierarchicalGroup | MonotonicGroup, Field(discriminator="dist")]


class GammaBaseline(_Prior):
    """Independent ``Gamma(alpha, beta)`` priors on the interval rates."""

    dist: Literal["gamma"] = "gamma"
    alpha: PositiveFloat | Auto = "auto"
    beta: PositiveFloat | Auto = "auto"
    marginalize: bool = True


class RandomWalkBaseline(_Prior):
    """Gaussian random walk on the log interval rates (non-centred)."""

    dist: Literal["random_walk"] = "random_walk"
    init_mu: float | Auto = "auto"
    init_sigma: PositiveFloat = 2.0
    sigma_scale: PositiveFloat = 0.5


BaselinePrior = Annotated[GammaBaseline | RandomWalkBaseline, Field(discriminator="dist")]


class ExponentialScalePrior(_Prior):
    """``Exponential(rate)`` on a standard deviation (e.g. the frailty SD)."""

    dist: Literal["exponential"] = "exponential"
    rate: PositiveFloat = 1.0


class HalfNormalScalePrior(_Prior):
    """``HalfNormal(sigma)`` on a standard deviation (e.g. the frailty SD)."""

    dist: Literal["halfnormal"] = "halfnormal"
    sigma: PositiveFloat = 1.0


ScalePrior = Annotated[ExponentialScalePrior | HalfNormalScalePrior, Field(discriminator="dist")]


def resolve_baseline(prior: GammaBaseline | RandomWalkBaseline, crude_rate: float):
    """Replace ``"auto"`` parameters by numbers derived from the crude event rate.

    Parameters
    ----------
    prior : GammaBaseline or RandomWalkBaseline
        Declared baseline prior.
    crude_rate : float
        Events divided by total follow-up time (per unit of the data's time scale).

    Returns
    -------
    GammaBaseline or RandomWalkBaseline
        A new prior with every parameter numeric.
    """
    if isinstance(prior, GammaBaseline):
        alpha = 1.0 if prior.alpha == "auto" else prior.alpha
        beta = alpha / crude_rate if prior.beta == "auto" else prior.beta
        return prior.model_copy(update={"alpha": float(alpha), "beta": float(beta)})
    init_mu = math.log(crude_rate) if prior.init_mu == "auto" else prior.init_mu
    return prior.model_copy(update={"init_mu": float(init_mu)})


DEFAULT_LOG_HR = NormalPrior(mu=0.0, sigma=1.0)
DEFAULT_BASELINE = GammaBaseline()
DEFAULT_FRAILTY_SD = ExponentialScalePrior(rate=1.0)
