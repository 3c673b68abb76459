"""SBC of ``data.missing = "model"``: incomplete covariates drawn from their models' priors.

A simulation of a specification with modelled missing covariates must draw everything the
model treats as unknown or as modelled data from the joint prior: the covariate models'
parameters (``alpha ~ Logistic(0, s)`` or ``Normal(0, s)``, slopes ``Normal(0, slope_sigma)``,
per standardised unit for a continuous covariate, residual SD ``HalfNormal(sd_scale)``; see
:mod:`necc_bayes.spec.imputation`), then **every** value (observed or not) of each incomplete
covariate in chain order given its predictors, then the outcomes from the full design. The
real **missingness pattern** is then applied: the same cells are deleted, so the refit has the
real structure (one compilation). Complete covariates stay as observed (the model conditions
on them). The covariate models keep the constants of the real data (predictor means, centre
and scale), so the simulated data come from exactly the prior of the model that is refitted.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.special import expit

from necc_bayes.spec.imputation import CovariateModelSection, ImputationSection
from necc_bayes.survival.imputation import Imputation, build_imputation


def draw_incomplete_covariates(
    X: np.ndarray, imp: Imputation, rng: np.random.Generator
) -> np.ndarray:
    """Uncentred design with every incomplete covariate drawn from its model's prior.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        The model's (centred) design, NaN where a value is missing.
    imp : Imputation
        The real data's covariate models (chain order, predictors, constants).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    ndarray, shape (n, p)
        Uncentred and complete: the incomplete columns drawn, the others as given.
    """
    full = np.asarray(X, dtype=float) + imp.means
    n = full.shape[0]
    for m in imp.models:  # chain order: every predictor is complete or drawn already
        z = full[:, list(m.predictors)] - m.pred_means
        if m.binary:
            alpha = rng.logistic(0.0, m.intercept_scale)
            gamma = rng.normal(0.0, m.slope_sigma, len(m.predictors))
            full[:, m.column] = (rng.uniform(size=n) < expit(alpha + z @ gamma)).astype(float)
        else:
            alpha = rng.normal(0.0, m.intercept_scale)
            gamma = rng.normal(0.0, m.slope_sigma / m.scale, len(m.predictors))
            sigma = abs(rng.normal(0.0, m.sd_scale))
            u = alpha + z @ gamma + sigma * rng.normal(size=n)
            full[:, m.column] = m.center + m.scale * u
    return full


def with_real_pattern(
    full: np.ndarray, X: np.ndarray, imp: Imputation, terms: list[str]
) -> tuple[np.ndarray, Imputation]:
    """The centred design with the real missing cells deleted, and its imputation structure.

    The chain (order, predictors, prior scales) and the constants of the real covariate
    models are kept, so the structure key and the priors equal the real fit's.
    """
    observed = np.where(np.isnan(X), np.nan, full)
    section = ImputationSection(
        order=[m.term for m in imp.models],
        covariates={
            m.term: CovariateModelSection(
                predictors=[terms[j] for j in m.predictors],
                intercept_scale=m.intercept_scale,
                slope_sigma=m.slope_sigma,
                sd_scale=m.sd_scale,
            )
            for m in imp.models
        },
    )
    new = build_imputation(observed, terms, section, means=imp.means)
    return observed - imp.means, replace(new, models=imp.models)
