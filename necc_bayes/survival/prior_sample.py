"""Joint prior draws of a PEM's parameters in numpy: the mirror of the PyMC model.

Each prior family draws from itself (``sample`` of the classes in :mod:`necc_bayes.spec.priors`),
family by family in the order :func:`necc_bayes.survival.model.build_model` builds them.
Simulation-based calibration is the check that the two agree; SBC, the prior predictive check
and the cut-point sweep's partition priors draw from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from necc_bayes.spec.baseline_priors import RandomWalkBaseline
from necc_bayes.spec.priors import COEFFICIENT_FAMILIES
from necc_bayes.survival.model import PEMInputs, PEMPriors


@dataclass(frozen=True)
class PriorSample:
    """Joint prior draws of a model's parameters (numpy), from each prior's ``sample``.

    Attributes
    ----------
    log_hr : ndarray, shape (size, p)
        Log hazard ratios in term order.
    baseline : ndarray, shape (size, J) or (size, S, J)
        Baseline rates (a stratum axis when stratified).
    frailty : ndarray, shape (size, C), or None
        Log-frailties of the clusters.
    frailty_sd : ndarray, shape (size,), or None
        Their standard deviation.
    dev : ndarray, shape (size, q, J), or None
        Per-interval deviations of the time-varying terms.
    """

    log_hr: np.ndarray
    baseline: np.ndarray
    frailty: np.ndarray | None = None
    frailty_sd: np.ndarray | None = None
    dev: np.ndarray | None = None


def sample_prior(
    inputs: PEMInputs, priors: PEMPriors, rng: np.random.Generator, size: int
) -> PriorSample:
    """Draw ``size`` joint draws from the priors of :func:`build_model`, in numpy.

    The numpy mirror of the model, family by family (simulation-based calibration is the
    check that the two agree): used by SBC and the prior predictive check.
    """
    terms = list(inputs.terms)
    beta = np.zeros((size, len(terms)))
    for family in COEFFICIENT_FAMILIES:
        names = [t for t in terms if type(priors.coefficients.get(t)) is family]
        if names:
            draws = family.sample([priors.coefficients[t] for t in names], rng, size)
            beta[:, [terms.index(t) for t in names]] = draws
    for group in priors.groups:
        beta[:, [terms.index(t) for t in group.terms]] = group.sample(rng, size)
    widths = inputs.pp.widths
    n_strata = len(inputs.strata_labels) if inputs.strata is not None else 1
    lam = np.stack([priors.baseline.sample(rng, size, widths) for _ in range(n_strata)], axis=1)
    frailty = frailty_sd = dev = None
    if inputs.clusters is not None and priors.frailty_sd is not None:
        frailty_sd = priors.frailty_sd.sample(rng, size)
        frailty = frailty_sd[:, None] * rng.standard_normal((size, len(inputs.cluster_labels)))
    if inputs.time_varying and priors.tv_sd is not None:
        q = len(inputs.time_varying)
        scale = RandomWalkBaseline.step_scale(widths)
        sd = np.stack([priors.tv_sd.sample(rng, size) for _ in range(q)], axis=1)
        steps = np.cumsum(sd[:, :, None] * scale * rng.standard_normal((size, q, scale.size)), 2)
        dev = np.concatenate([np.zeros((size, q, 1)), steps], axis=2)
    return PriorSample(
        log_hr=beta,
        baseline=lam if n_strata > 1 else lam[:, 0, :],
        frailty=frailty,
        frailty_sd=frailty_sd,
        dev=dev,
    )
