"""The covariate models of ``data.missing = "model"`` (issue 19), as spec data.

With ``[data] missing = "model"`` every covariate with missing values gets a model of its own
and is integrated out jointly with the survival model, so that the outcome informs the
imputation (nothing is dropped or filled in beforehand). Defaults:

* an incomplete **binary** (0/1) covariate: logistic regression on its predictors,
  ``logit P(x = 1) = alpha + gamma' (z - mean z)``, ``alpha ~ Logistic(0, intercept_scale)``
  (``intercept_scale = 1``: a uniform prior on the prevalence at the predictors' means, and
  exactly so when there are no predictors), ``gamma ~ Normal(0, slope_sigma)`` per unit of each
  predictor (``slope_sigma = 2.5``). Missing values are summed out exactly, per subject;
* an incomplete **continuous** covariate: normal linear regression on its predictors, on the
  covariate's standardised scale ``u = (x - mean) / sd`` (mean and sd of the observed values):
  ``u ~ Normal(alpha + gamma' (z - mean z), sigma)``, ``alpha ~ Normal(0, intercept_scale)``,
  ``gamma ~ Normal(0, slope_sigma / sd(x))`` per unit of each predictor, ``sigma ~
  HalfNormal(sd_scale)``; missing values are latent, sampled non-centred.

Several incomplete covariates are modelled **sequentially** (a chained factorisation): in
``order`` (default: fewest missing values first, ties in term order), each covariate's default
predictors are every complete covariate and every incomplete one earlier in the order. A
table ``[imputation.covariates.X]`` overrides ``predictors`` and the prior scales of ``X``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat


class CovariateModelSection(BaseModel):
    """Overrides for one incomplete covariate's model.

    Attributes
    ----------
    predictors : list of str or None
        Terms that predict this covariate; default every complete term and every incomplete
        term earlier in the chain order.
    intercept_scale : float
        Scale of the intercept prior: ``Logistic(0, scale)`` for a 0/1 covariate (1 is uniform
        on the prevalence at the predictors' means), ``Normal(0, scale)`` on the standardised
        scale for a continuous one.
    slope_sigma : float
        SD of the ``Normal(0, slope_sigma)`` prior on each predictor's coefficient (per unit of
        the predictor; divided by the covariate's observed SD for a continuous covariate).
    sd_scale : float
        Scale of the ``HalfNormal`` prior on a continuous covariate's residual SD
        (standardised scale); unused for 0/1 covariates.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    predictors: list[str] | None = None
    intercept_scale: PositiveFloat = 1.0
    slope_sigma: PositiveFloat = 2.5
    sd_scale: PositiveFloat = 1.0


class ImputationSection(BaseModel):
    """``[imputation]``: the chain order and per-covariate overrides.

    Attributes
    ----------
    order : list of str or None
        Order of the chained covariate models; default fewest missing values first, ties in
        term order.
    max_missing_binary : int
        Most incomplete 0/1 covariates one subject may have (their ``2**k`` combinations are
        summed out exactly per subject); a subject with more is refused.
    covariates : table of tables
        ``[imputation.covariates.X]``: overrides for covariate ``X``'s model.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    order: list[str] | None = None
    max_missing_binary: int = Field(default=8, ge=1, le=12)
    covariates: dict[str, CovariateModelSection] = Field(default_factory=dict)


def missing_conventions(missing: str) -> list[str]:
    """The missing-data convention of ``data.missing`` (a line of the resolved spec's header)."""
    if missing == "drop":
        return [
            'missing = "drop": rows with a missing value in a used column are dropped '
            "(complete cases; the number dropped is reported)"
        ]
    if missing == "model":
        return [
            'missing = "model": every incomplete covariate has a covariate model and is '
            "integrated out with the survival model (0/1: summed out exactly per subject; "
            "continuous: latent, sampled, slopes ~ Normal(0, slope_sigma / sd(x)) on the "
            "standardised scale, i.e. slope_sigma units of x per unit of each predictor, so "
            "this prior depends on the unit of x); chained in [imputation] order (default: fewest "
            "missing first); the baseline rates are sampled; the posterior predictive and "
            "proportional-hazards checks use the complete rows"
        ]
    return []


def imputation_problems(
    section: ImputationSection | None, missing: str, terms: list[str]
) -> list[str]:
    """Cross-section rules of ``[imputation]`` (messages; the caller names the rule)."""
    if section is None:
        return []
    out = []
    if missing != "model":
        out.append('[imputation] applies only with data.missing = "model"')
    named = list(section.order or []) + list(section.covariates)
    for name in named:
        if name not in terms:
            out.append(f"imputation: '{name}' is not in covariates.terms")
    for name, cov in section.covariates.items():
        for pred in cov.predictors or []:
            if pred not in terms:
                out.append(f"imputation.covariates.{name}.predictors: '{pred}' is not a term")
            if pred == name:
                out.append(f"imputation.covariates.{name} cannot predict itself")
    if section.order and len(set(section.order)) != len(section.order):
        out.append(f"imputation.order {section.order} has repeats")
    return out
