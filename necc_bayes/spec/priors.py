"""Prior families as declared data that build themselves.

Priors are plain pydantic models (``extra="forbid"``, finite numbers only), so an impossible
prior (``sigma <= 0``, an unknown family, a typo in a parameter name) is refused when the
specification is read, long before any model is built. Each family is **one class** holding
everything about it:

* its parameters (the pydantic fields) and how it prints (``str(prior)``, the way it is
  written in a paper: ``Normal(mu=0, sigma=1)``) and serialises (:meth:`_Prior.to_dict`, the
  TOML table of the resolved ``spec.toml``);
* ``build(...)``: its PyMC variables, created inside the model context of
  :func:`necc_bayes.survival.model.build_model`, with hyperparameters held in ``pm.Data`` so a
  compiled model can be re-sampled with other values;
* ``sample(...)``: a numpy sampler of the same distribution (simulation-based calibration and
  the prior predictive check draw from it; SBC is the test that ``build`` and ``sample``
  agree).

Adding a family means adding one class here and its name to the union (and, for coefficient
families, to :data:`COEFFICIENT_FAMILIES`, which fixes the order in which families are built:
that order is part of what makes a seed reproduce the same draws).

Families
--------
Coefficient (log hazard ratio) priors, built together for all terms of one family:

* ``normal``      -- ``Normal(mu, sigma)``
* ``student_t``   -- ``StudentT(nu, mu, sigma)``
* ``horseshoe``   -- regularised horseshoe (Piironen & Vehtari 2017), shared across every
  term that uses it: ``beta_k = z_k * tau * lambda~_k`` with
  ``tau ~ HalfStudentT(1, global_scale)``, ``lambda_k ~ HalfCauchy(1)``, slab
  ``c^2 ~ InvGamma(slab_df/2, slab_df * slab_scale^2 / 2)``.
* ``normal_mixture`` -- ``sum_k weights_k Normal(mu_k, sigma_k)`` (what ``map`` resolves to).
* ``map``         -- a meta-analytic-predictive prior from a table of other studies'
  printed HRs (``studies = "file.csv"``), resolved at fit time to a ``normal_mixture``.
* ``published``   -- a prior from another study's printed ``HR (low–high)`` (95% CI):
  ``Normal(mu, sigma)`` with ``mu = log hr``, ``sigma = (log high - log low) / (2 * 1.96)``;
  with ``robust_weight = w > 0`` the mixture
  ``(1 - w) Normal(mu, sigma) + w Normal(0, vague_sigma)`` (DESIGN section 8; the maths,
  ESS and conflict checks are in :mod:`necc_bayes.evidence`).

Group priors (partial pooling across overlapping indicators, e.g. recurrence sites):

* ``hierarchical_normal`` -- ``beta_k = mu + tau * z_k``, ``mu ~ Normal(0, mu_sigma)``,
  ``tau ~ HalfNormal(tau_sigma)``, ``z_k ~ Normal(0, 1)`` (non-centred).
* ``monotonic`` -- a monotone effect over the cumulative dummies of an ordinal covariate:
  ``beta_k = b * zeta_k``, ``b ~ Normal(0, sigma)``, ``zeta ~ Dirichlet(concentration)``.

Baseline-hazard priors (``gamma_process``, the default; ``gamma``; ``random_walk``) are in
:mod:`necc_bayes.spec.baseline_priors`.

Standard-deviation priors (a frailty's SD, the scale of a smoothing prior). For ``[frailty]
sd`` the log-frailty of cluster ``c`` is ``b_c = sd * z_c``, ``z_c ~ Normal(0, 1)``
(non-centred):

* ``exponential`` -- ``sd ~ Exponential(rate)`` (prior mean ``1 / rate``); the frailty
  default, ``rate = 1``, puts 95% of the mass below sd = 3.0 (``-log 0.05``) and its mode at 0
  (no clustering), without excluding large between-cluster variation.
* ``halfnormal``  -- ``sd ~ HalfNormal(sigma)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator

if TYPE_CHECKING:
    import pytensor.tensor as pt

Auto = Literal["auto"]


class _Prior(BaseModel):
    """Common behaviour: frozen, no unknown keys, finite numbers, printable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    dist: str
    display: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the prior as the TOML table it is written as."""
        return self.model_dump(exclude_none=True)

    def __str__(self) -> str:
        params = ", ".join(
            f"{k}={_fmt(v)}" for k, v in self.model_dump(exclude_none=True).items() if k != "dist"
        )
        return f"{self.display or self.dist}({params})"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# ---------------------------------------------------------------------------------------------
# coefficient families


class _CoefficientPrior(_Prior):
    """A prior on one term's log hazard ratio; all terms of a family are built together."""

    @classmethod
    def build(cls, terms: list[str], priors: list[Self]) -> pt.TensorVariable:
        """Create the family's PyMC variables for ``terms``; return their log-HRs (in order)."""
        raise NotImplementedError

    @classmethod
    def sample(cls, priors: list[Self], rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` joint prior draws of the terms' log-HRs, shape ``(size, len(priors))``."""
        raise NotImplementedError


class NormalPrior(_CoefficientPrior):
    """``Normal(mu, sigma)`` on a log hazard ratio.

    PyMC: ``log_hr_normal`` (dims ``term_normal``) with ``pm.Data`` ``normal_mu`` and
    ``normal_sigma``.

    Attributes
    ----------
    mu : float
        Prior mean of the log-HR (0: no effect).
    sigma : float
        Prior standard deviation of the log-HR (> 0), per unit of the covariate as coded.
    """

    dist: Literal["normal"] = "normal"
    display: ClassVar[str] = "Normal"
    mu: float = 0.0
    sigma: PositiveFloat = 1.0

    @classmethod
    def build(cls, terms: list[str], priors: list[Self]) -> pt.TensorVariable:
        """``log_hr_normal ~ Normal(normal_mu, normal_sigma)`` over ``term_normal``."""
        import pymc as pm

        pm.modelcontext(None).add_coord("term_normal", terms)
        mu = pm.Data("normal_mu", np.array([p.mu for p in priors]), dims="term_normal")
        sd = pm.Data("normal_sigma", np.array([p.sigma for p in priors]), dims="term_normal")
        return pm.Normal("log_hr_normal", mu, sd, dims="term_normal")

    @classmethod
    def sample(cls, priors: list[Self], rng: np.random.Generator, size: int) -> np.ndarray:
        """Independent normal draws."""
        mu = np.array([p.mu for p in priors])
        sd = np.array([p.sigma for p in priors])
        return mu + sd * rng.standard_normal((size, len(priors)))


class StudentTPrior(_CoefficientPrior):
    """``StudentT(nu, mu, sigma)`` on a log hazard ratio.

    PyMC: ``log_hr_student_t`` (dims ``term_student_t``) with ``pm.Data``
    ``student_t_nu``, ``student_t_mu`` and ``student_t_sigma``.

    Attributes
    ----------
    nu : float
        Degrees of freedom (> 0; small values give heavy tails).
    mu : float
        Location of the log-HR.
    sigma : float
        Scale of the log-HR (> 0).
    """

    dist: Literal["student_t"] = "student_t"
    display: ClassVar[str] = "StudentT"
    nu: PositiveFloat = 3.0
    mu: float = 0.0
    sigma: PositiveFloat = 1.0

    @classmethod
    def build(cls, terms: list[str], priors: list[Self]) -> pt.TensorVariable:
        """``log_hr_student_t ~ StudentT(nu, mu, sigma)`` over ``term_student_t``."""
        import pymc as pm

        dims = "term_student_t"
        pm.modelcontext(None).add_coord(dims, terms)
        nu = pm.Data("student_t_nu", np.array([p.nu for p in priors]), dims=dims)
        mu = pm.Data("student_t_mu", np.array([p.mu for p in priors]), dims=dims)
        sd = pm.Data("student_t_sigma", np.array([p.sigma for p in priors]), dims=dims)
        return pm.StudentT("log_hr_student_t", nu=nu, mu=mu, sigma=sd, dims=dims)

    @classmethod
    def sample(cls, priors: list[Self], rng: np.random.Generator, size: int) -> np.ndarray:
        """Independent Student-t draws."""
        nu = np.array([p.nu for p in priors])
        mu = np.array([p.mu for p in priors])
        sd = np.array([p.sigma for p in priors])
        return mu + sd * rng.standard_t(nu, size=(size, len(priors)))


class HorseshoePrior(_CoefficientPrior):
    """Regularised horseshoe shared by every term that uses it (non-centred).

    PyMC: ``hs_tau``, ``hs_lambda`` (``term_horseshoe``), ``hs_c2``, ``hs_z`` with
    ``pm.Data`` ``hs_global_scale``, ``hs_slab_scale``, ``hs_slab_df``.

    Attributes
    ----------
    global_scale : float
        Scale of the global shrinkage ``tau ~ HalfStudentT(1, global_scale)``.
    slab_scale : float
        Scale of the slab: the largest log-HRs are regularised towards ``Normal(0, slab_scale)``.
    slab_df : float
        Degrees of freedom of the slab's inverse-gamma prior.
    """

    dist: Literal["horseshoe"] = "horseshoe"
    display: ClassVar[str] = "RegularisedHorseshoe"
    global_scale: PositiveFloat = 0.5
    slab_scale: PositiveFloat = 2.0
    slab_df: PositiveFloat = 4.0

    @classmethod
    def _shared(cls, terms: list[str], priors: list[Self]) -> Self:
        first = priors[0]
        if any(p != first for p in priors):
            raise ValueError(
                f"the horseshoe is shared by terms {terms}: they must use the same "
                f"global_scale, slab_scale and slab_df, got {[str(p) for p in priors]}"
            )
        return first

    @classmethod
    def build(cls, terms: list[str], priors: list[Self]) -> pt.TensorVariable:
        """``beta_k = z_k tau lambda~_k`` (Piironen & Vehtari 2017)."""
        import pymc as pm
        import pytensor.tensor as pt

        hs = cls._shared(terms, priors)
        pm.modelcontext(None).add_coord("term_horseshoe", terms)
        global_scale = pm.Data("hs_global_scale", float(hs.global_scale))
        slab_scale = pm.Data("hs_slab_scale", float(hs.slab_scale))
        slab_df = pm.Data("hs_slab_df", float(hs.slab_df))
        tau = pm.HalfStudentT("hs_tau", nu=1.0, sigma=global_scale)
        lam = pm.HalfCauchy("hs_lambda", beta=1.0, dims="term_horseshoe")
        c2 = pm.InverseGamma("hs_c2", alpha=slab_df / 2.0, beta=slab_df * slab_scale**2 / 2.0)
        z = pm.Normal("hs_z", 0.0, 1.0, dims="term_horseshoe")
        lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
        return z * tau * lam_tilde

    @classmethod
    def sample(cls, priors: list[Self], rng: np.random.Generator, size: int) -> np.ndarray:
        """Draws with a shared global scale and slab per draw."""
        hs = cls._shared([str(i) for i in range(len(priors))], priors)
        k = len(priors)
        tau = np.abs(rng.standard_t(1.0, size=(size, 1))) * hs.global_scale
        lam = np.abs(rng.standard_cauchy((size, k)))
        shape, scale = hs.slab_df / 2.0, 1.0 / (hs.slab_df * hs.slab_scale**2 / 2.0)
        c2 = 1.0 / rng.gamma(shape, scale, size=(size, 1))
        z = rng.standard_normal((size, k))
        return z * tau * np.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))


Z_975 = 1.959963984540054
"""``Phi^{-1}(0.975)``: a printed 95% interval is ``log HR ± Z_975 se`` on the log scale."""


def log_hr_from_ci(hr: float, low: float, high: float) -> tuple[float, float]:
    """``(log hr, (log high - log low) / (2 Z_975))``: a printed HR and 95% CI on the log scale."""
    return math.log(hr), (math.log(high) - math.log(low)) / (2.0 * Z_975)


class PublishedPrior(_CoefficientPrior):
    """A prior from a published hazard ratio and its 95% CI, optionally robustified.

    ``(1 - w) Normal(mu, sigma) + w Normal(0, vague_sigma)`` with ``mu, sigma`` from
    :func:`log_hr_from_ci` and ``w = robust_weight`` (0: a plain normal). ``source`` (optional)
    cites where the numbers were printed.

    PyMC: ``log_hr_published`` (dims ``term_published``), a two-component normal mixture per
    term with ``pm.Data`` ``published_weights``, ``published_mu``, ``published_sigma`` (dims
    ``(term_published, published_component)``, components ``informative`` and ``robust``), so
    a sweep over ``robust_weight`` re-uses the compiled model.

    Attributes
    ----------
    hr : float
        The published hazard ratio (> 0).
    low, high : float
        The published 95% confidence interval (``low < high``, ``low <= hr <= high``).
    robust_weight : float
        Weight ``w`` of the vague component, in ``[0, 1)`` (0: the plain normal prior).
    vague_sigma : float
        Standard deviation of the vague component ``Normal(0, vague_sigma)``.
    source : str or None
        Citation of the publication the numbers were printed in.
    """

    dist: Literal["published"] = "published"
    display: ClassVar[str] = "Published"
    hr: PositiveFloat
    low: PositiveFloat
    high: PositiveFloat
    robust_weight: float = Field(default=0.0, ge=0.0, lt=1.0)
    vague_sigma: PositiveFloat = 10.0
    source: str | None = None

    @model_validator(mode="after")
    def _interval(self) -> Self:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if not self.low <= self.hr <= self.high:
            raise ValueError(f"hr ({self.hr}) lies outside its interval ({self.low}, {self.high})")
        return self

    @property
    def mu(self) -> float:
        """``log hr``."""
        return log_hr_from_ci(self.hr, self.low, self.high)[0]

    @property
    def sigma(self) -> float:
        """``(log high - log low) / (2 * 1.96)``."""
        return log_hr_from_ci(self.hr, self.low, self.high)[1]

    def components(self) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
        """``(weights, means, sds)`` of the two components (informative, robust)."""
        w = float(self.robust_weight)
        return (1.0 - w, w), (self.mu, 0.0), (self.sigma, float(self.vague_sigma))

    def converted(self) -> str:
        """The prior as it enters the model, e.g. ``0.8·Normal(0.412, 0.0607) + 0.2·Normal(0, 10)``.

        Returns
        -------
        str
        """
        informative = f"Normal({self.mu:.4g}, {self.sigma:.4g})"
        if self.robust_weight == 0.0:
            return informative
        w = self.robust_weight
        return f"{1 - w:.3g}·{informative} + {w:.3g}·Normal(0, {_fmt(float(self.vague_sigma))})"

    def __str__(self) -> str:
        printed = f"HR {_fmt(self.hr)} ({_fmt(self.low)}–{_fmt(self.high)})"
        return f"Published({printed}) = {self.converted()}"

    @classmethod
    def _arrays(cls, priors: list[Self]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        comps = [p.components() for p in priors]
        return (np.array([c[0] for c in comps]), np.array([c[1] for c in comps]),
                np.array([c[2] for c in comps]))

    @classmethod
    def build(cls, terms: list[str], priors: list[Self]) -> pt.TensorVariable:
        """``log_hr_published ~ NormalMixture(weights, mu, sigma)`` over ``term_published``."""
        import pymc as pm

        model = pm.modelcontext(None)
        model.add_coord("term_published", terms)
        model.add_coord("published_component", ["informative", "robust"])
        w, mu, sd = cls._arrays(priors)
        dims = ("term_published", "published_component")
        return pm.NormalMixture(
            "log_hr_published",
            w=pm.Data("published_weights", w, dims=dims),
            mu=pm.Data("published_mu", mu, dims=dims),
            sigma=pm.Data("published_sigma", sd, dims=dims),
            dims="term_published",
        )

    @classmethod
    def sample(cls, priors: list[Self], rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw the component per term (robust with probability ``w``), then the normal."""
        w, mu, sd = cls._arrays(priors)
        robust = rng.random((size, len(priors))) < w[:, 1]
        k = robust.astype(int)
        cols = np.arange(len(priors))
        return mu[cols, k] + sd[cols, k] * rng.standard_normal((size, len(priors)))


class NormalMixturePrior(_CoefficientPrior):
    """A normal mixture on a log hazard ratio, ``sum_k weights_k Normal(mu_k, sigma_k)``.

    What a meta-analytic-predictive prior (``dist = "map"``) resolves to, so the resolved
    ``spec.toml`` holds its numbers; it can also be written directly (e.g. a mixture fitted
    elsewhere). ``labels`` (optional) name the components (``"robust"`` marks the vague one,
    whose posterior weight the conflict check reports); ``source`` says where it came from.

    PyMC: ``log_hr_normal_mixture`` (dims ``term_normal_mixture``) with ``pm.Data``
    ``normal_mixture_weights``, ``normal_mixture_mu``, ``normal_mixture_sigma`` (dims
    ``(term_normal_mixture, normal_mixture_component)``; terms with fewer components are
    padded with zero-weight components).

    Attributes
    ----------
    weights : list of float
        Component weights in ``[0, 1]``, summing to 1.
    mu : list of float
        Component means of the log-HR.
    sigma : list of float
        Component standard deviations (> 0).
    labels : list of str or None
        Component names (``"robust"`` marks the vague component).
    source : str or None
        Where the mixture came from.
    """

    dist: Literal["normal_mixture"] = "normal_mixture"
    display: ClassVar[str] = "NormalMixture"
    weights: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(min_length=1)
    mu: list[float] = Field(min_length=1)
    sigma: list[PositiveFloat] = Field(min_length=1)
    labels: list[str] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.labels is not None and len(self.labels) != len(self.weights):
            raise ValueError(f"{len(self.labels)} labels for {len(self.weights)} components")
        if not len(self.weights) == len(self.mu) == len(self.sigma):
            raise ValueError(f"weights, mu and sigma need one value per component, got "
                             f"{len(self.weights)}, {len(self.mu)} and {len(self.sigma)}")
        if abs(sum(self.weights) - 1.0) > 1e-6:
            raise ValueError(f"weights must sum to 1, got {sum(self.weights):.6g}")
        return self

    def __str__(self) -> str:
        parts = [f"{w:.3g}·Normal({m:.4g}, {s:.4g})"
                 for w, m, s in zip(self.weights, self.mu, self.sigma, strict=True)]
        return " + ".join(parts)

    @classmethod
    def _arrays(cls, priors: list[Self]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = max(len(p.weights) for p in priors)
        w, mu, sd = (np.zeros((len(priors), k)), np.zeros((len(priors), k)),
                     np.ones((len(priors), k)))
        for i, p in enumerate(priors):
            n = len(p.weights)
            w[i, :n], mu[i, :n], sd[i, :n] = p.weights, p.mu, p.sigma
        return w, mu, sd

    @classmethod
    def build(cls, terms: list[str], priors: list[Self]) -> pt.TensorVariable:
        """``log_hr_normal_mixture ~ NormalMixture(weights, mu, sigma)``."""
        import pymc as pm

        w, mu, sd = cls._arrays(priors)
        model = pm.modelcontext(None)
        model.add_coord("term_normal_mixture", terms)
        model.add_coord("normal_mixture_component", [str(i) for i in range(w.shape[1])])
        dims = ("term_normal_mixture", "normal_mixture_component")
        return pm.NormalMixture(
            "log_hr_normal_mixture",
            w=pm.Data("normal_mixture_weights", w / w.sum(axis=1, keepdims=True), dims=dims),
            mu=pm.Data("normal_mixture_mu", mu, dims=dims),
            sigma=pm.Data("normal_mixture_sigma", sd, dims=dims),
            dims="term_normal_mixture",
        )

    @classmethod
    def sample(cls, priors: list[Self], rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw a component per term and draw, then the normal."""
        w, mu, sd = cls._arrays(priors)
        w = w / w.sum(axis=1, keepdims=True)
        u = rng.random((size, len(priors)))
        k = (u[:, :, None] > np.cumsum(w, axis=1)[None, :, :]).sum(axis=2)
        k = np.minimum(k, w.shape[1] - 1)
        cols = np.arange(len(priors))
        return mu[cols, k] + sd[cols, k] * rng.standard_normal((size, len(priors)))


class MapPrior(_CoefficientPrior):
    """A meta-analytic-predictive (MAP) prior from other studies' published hazard ratios.

    ``studies`` is a CSV or TOML table (``study, source, hr, low, high``; see
    :func:`necc_bayes.evidence.study_table.read_study_table`), relative to the working
    directory. At fit time the normal–normal model (``tau ~ HalfNormal(tau_scale)``,
    ``mu ~ Normal(0, mu_sd)`` on the log-HR) gives the predictive of a new study's log-HR,
    fitted by a normal mixture (EM) and robustified with ``robust_weight·Normal(0,
    vague_sigma)``; the resolved spec holds the result as ``dist = "normal_mixture"``
    (:mod:`necc_bayes.evidence.meta_normal`). Never built directly.

    Attributes
    ----------
    studies : str
        Path of the table of studies (CSV or TOML: ``study, source, hr, low, high``).
    tau_scale : float
        Scale of the between-study SD prior ``tau ~ HalfNormal(tau_scale)``.
    mu_sd : float
        Standard deviation of the prior on the mean log-HR, ``mu ~ Normal(0, mu_sd)``.
    robust_weight : float
        Weight of the vague component added to the fitted mixture, in ``[0, 1)``.
    vague_sigma : float
        Standard deviation of the vague component ``Normal(0, vague_sigma)``.
    """

    dist: Literal["map"] = "map"
    display: ClassVar[str] = "MAP"
    studies: str
    tau_scale: PositiveFloat = 0.5
    mu_sd: PositiveFloat = 2.0
    robust_weight: float = Field(default=0.0, ge=0.0, lt=1.0)
    vague_sigma: PositiveFloat = 10.0

    @classmethod
    def build(cls, terms: list[str], priors: list[Self]) -> pt.TensorVariable:
        """Refused: a MAP prior is resolved to a normal mixture before the model is built."""
        raise ValueError(f"MAP priors of {terms} must be resolved (survival.fit.resolve_spec) "
                         "before the model is built")

    @classmethod
    def sample(cls, priors: list[Self], rng: np.random.Generator, size: int) -> np.ndarray:
        """Refused, as :meth:`build`."""
        raise ValueError("MAP priors must be resolved to a normal mixture before sampling")


def published_conventions(terms: dict[str, Any], log_hr: Any = None) -> list[str]:
    """One sentence per published-estimate prior: the printed numbers and the converted prior.

    Written as comments at the top of the resolved ``spec.toml`` (the converted ``mu``,
    ``sigma`` and weights are derived, not keys) and stated in the reports.

    Parameters
    ----------
    terms : dict
        ``[priors.terms]`` (term -> prior).
    log_hr : prior, optional
        ``priors.log_hr`` (the default for terms without their own prior).
    """
    keyed = {"log_hr": log_hr, **{f"terms.{t}": p for t, p in terms.items()}}
    out = []
    for key, p in keyed.items():
        if isinstance(p, NormalMixturePrior):
            cite = f" [{p.source}]" if p.source else ""
            out.append(f"priors.{key}: normal-mixture log-HR prior {p}{cite}")
        if isinstance(p, PublishedPrior):
            cite = f" [{p.source}]" if p.source else ""
            out.append(
                f"priors.{key}: published HR {_fmt(p.hr)} ({_fmt(p.low)}–{_fmt(p.high)})"
                f"{cite} -> log-HR prior {p.converted()} (mu = log hr = {p.mu:.6g}, sigma = "
                f"(log high - log low) / (2 * 1.96) = {p.sigma:.6g}, weights "
                f"{1 - p.robust_weight:.6g} / {p.robust_weight:.6g})"
            )
    return out


CoefficientPrior = Annotated[
    NormalPrior | StudentTPrior | HorseshoePrior | PublishedPrior | NormalMixturePrior | MapPrior,
    Field(discriminator="dist"),
]

COEFFICIENT_FAMILIES: tuple[type[_CoefficientPrior], ...] = (
    NormalPrior,
    StudentTPrior,
    HorseshoePrior,
    PublishedPrior,
    NormalMixturePrior,
    MapPrior,
)
"""Coefficient families in the order the model builds them (new families are appended, so
existing seeds keep reproducing the same draws)."""


# ---------------------------------------------------------------------------------------------
# group families


class _GroupPrior(_Prior):
    """Partially pooled (or jointly structured) log-HRs of several terms.

    Attributes
    ----------
    terms : list of str
        The model terms of the group (at least two; a term is in at most one group and has no
        per-term prior).
    """

    terms: list[str] = Field(min_length=2)

    def build(self, g: int) -> pt.TensorVariable:
        """Create group ``g``'s PyMC variables; return the terms' log-HRs (in ``terms`` order)."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` prior draws of the group's log-HRs, shape ``(size, len(terms))``."""
        raise NotImplementedError


class HierarchicalGroup(_GroupPrior):
    """Partially pooled effects for a group of terms (non-centred normal hierarchy).

    PyMC: ``group{g}_mu``, ``group{g}_tau``, ``group{g}_z`` (dims ``group{g}_term``) with
    ``pm.Data`` ``group{g}_mu_sigma``, ``group{g}_tau_sigma``.

    Attributes
    ----------
    mu_sigma : float
        Standard deviation of the group mean, ``mu ~ Normal(0, mu_sigma)``.
    tau_sigma : float
        Scale of the between-term SD, ``tau ~ HalfNormal(tau_sigma)``.
    """

    dist: Literal["hierarchical_normal"] = "hierarchical_normal"
    mu_sigma: PositiveFloat = 1.0
    tau_sigma: PositiveFloat = 0.5

    def __str__(self) -> str:
        return (
            f"HierarchicalNormal(terms={self.terms}, mu~Normal(0, {_fmt(self.mu_sigma)}), "
            f"tau~HalfNormal({_fmt(self.tau_sigma)}))"
        )

    def build(self, g: int) -> pt.TensorVariable:
        """``beta_k = mu + tau z_k``."""
        import pymc as pm

        dim = f"group{g}_term"
        pm.modelcontext(None).add_coord(dim, self.terms)
        mu_sigma = pm.Data(f"group{g}_mu_sigma", float(self.mu_sigma))
        tau_sigma = pm.Data(f"group{g}_tau_sigma", float(self.tau_sigma))
        mu = pm.Normal(f"group{g}_mu", 0.0, mu_sigma)
        tau = pm.HalfNormal(f"group{g}_tau", tau_sigma)
        z = pm.Normal(f"group{g}_z", 0.0, 1.0, dims=dim)
        return mu + tau * z

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draws of ``mu + tau z``."""
        mu = rng.normal(0.0, self.mu_sigma, size=(size, 1))
        tau = np.abs(rng.normal(0.0, self.tau_sigma, size=(size, 1)))
        return mu + tau * rng.standard_normal((size, len(self.terms)))


class MonotonicGroup(_GroupPrior):
    """Monotone effect of an ordinal covariate (brms ``mo()``), on its cumulative dummies.

    For an ordinal covariate coded as cumulative dummies ``x>=2, ..., x>=K`` (see
    ``[covariates.ordinal]``), the log-HRs are ``beta_k = b * zeta_k`` with
    ``b ~ Normal(0, sigma)`` the log-HR of the top category against the bottom one and
    ``zeta ~ Dirichlet(concentration)`` the share of that effect gained at each step, so the
    effect is monotone in the category (all steps share the sign of ``b``).

    PyMC: ``group{g}_total``, ``group{g}_zeta`` (dims ``group{g}_term``) with ``pm.Data``
    ``group{g}_sigma``.

    Attributes
    ----------
    sigma : float
        Standard deviation of the total effect, ``b ~ Normal(0, sigma)``.
    concentration : float
        Concentration of the Dirichlet prior on the step shares (1: uniform).
    """

    dist: Literal["monotonic"] = "monotonic"
    sigma: PositiveFloat = 1.5
    concentration: PositiveFloat = 1.0

    def __str__(self) -> str:
        return (
            f"Monotonic(terms={self.terms}, total~Normal(0, {_fmt(self.sigma)}), "
            f"steps~Dirichlet({_fmt(self.concentration)}))"
        )

    def build(self, g: int) -> pt.TensorVariable:
        """``beta_k = b zeta_k``."""
        import pymc as pm

        dim = f"group{g}_term"
        pm.modelcontext(None).add_coord(dim, self.terms)
        sigma = pm.Data(f"group{g}_sigma", float(self.sigma))
        total = pm.Normal(f"group{g}_total", 0.0, sigma)
        conc = np.full(len(self.terms), float(self.concentration))
        zeta = pm.Dirichlet(f"group{g}_zeta", a=conc, dims=dim)
        return total * zeta

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draws of ``b zeta``."""
        total = rng.normal(0.0, self.sigma, size=(size, 1))
        zeta = rng.dirichlet(np.full(len(self.terms), self.concentration), size=size)
        return total * zeta


GroupPrior = Annotated[HierarchicalGroup | MonotonicGroup, Field(discriminator="dist")]


# ---------------------------------------------------------------------------------------------
# standard-deviation priors


class ExponentialSD(_Prior):
    """``Exponential(rate)`` on a standard deviation.

    Attributes
    ----------
    rate : float
        Rate of the exponential (prior mean ``1 / rate``).
    """

    dist: Literal["exponential"] = "exponential"
    display: ClassVar[str] = "Exponential"
    rate: PositiveFloat = 1.0

    def build(self, name: str) -> pt.TensorVariable:
        """The PyMC variable ``name`` (its rate in ``pm.Data`` ``{name}_rate``)."""
        import pymc as pm

        return pm.Exponential(name, lam=pm.Data(f"{name}_rate", float(self.rate)))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws."""
        return rng.exponential(1.0 / self.rate, size=size)


class HalfNormalSD(_Prior):
    """``HalfNormal(sigma)`` on a standard deviation.

    Attributes
    ----------
    sigma : float
        Scale of the half-normal.
    """

    dist: Literal["halfnormal"] = "halfnormal"
    display: ClassVar[str] = "HalfNormal"
    sigma: PositiveFloat = 1.0

    def build(self, name: str) -> pt.TensorVariable:
        """The PyMC variable ``name`` (its scale in ``pm.Data`` ``{name}_sigma``)."""
        import pymc as pm

        return pm.HalfNormal(name, sigma=pm.Data(f"{name}_sigma", float(self.sigma)))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws."""
        return np.abs(rng.normal(0.0, self.sigma, size=size))


SDPrior = Annotated[ExponentialSD | HalfNormalSD, Field(discriminator="dist")]


DEFAULT_LOG_HR = NormalPrior(mu=0.0, sigma=1.0)
DEFAULT_FRAILTY_SD = ExponentialSD(rate=1.0)
