"""The standard formulation: long-format Poisson, as in the PyMC survival-analysis example.

One row per subject and interval at risk (``PersonPeriod.long_format``, i.e.
``survival::survSplit``), ``event_ij ~ Poisson(E_ij * lambda_j * exp(x_i' beta))`` with the
baseline rates ``lambda_j`` sampled (``pm.Gamma``, log-transformed by PyMC) and the same
priors as our model: ``Normal(mu, sigma)`` on every log-HR and ``Gamma(alpha, beta)`` on
every ``lambda_j``. The example's ``pm.Deterministic`` for the (n x J) hazard and mean are
left out: stored per draw they would take gigabytes at n = 20,000 and only slow it further.

Its log-density equals our unmarginalised model's plus the constant
``sum_i delta_i log E_{i j_i}`` (``pem_math.poisson_offset_constant``).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from necc_bayes.spec.baseline_priors import GammaBaseline
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.survival.model import PEMInputs, PEMPriors, interval_labels


def build_long_poisson(inputs: PEMInputs, priors: PEMPriors) -> pm.Model:
    """Long-format Poisson PEM with sampled gamma baseline (names as in our model)."""
    base = priors.baseline
    if not isinstance(base, GammaBaseline):
        raise TypeError("the long-format baseline model needs a gamma baseline prior")
    coefs = [priors.coefficients[t] for t in inputs.terms]
    if priors.groups or not all(isinstance(c, NormalPrior) for c in coefs):
        raise TypeError("the long-format baseline model needs a normal prior on every term")
    pp = inputs.pp
    long = pp.long_format()
    rows = long["id"].to_numpy() - 1
    X = np.asarray(inputs.X, dtype=float)
    coords = {
        "term": list(inputs.terms),
        "interval": interval_labels(pp),
        "row": np.arange(len(long)),
    }
    with pm.Model(coords=coords) as model:
        # numpy constants, as in the example: pytensor specialises on them (measured: the
        # same graph with pm.Data containers takes twice as long per log-density + gradient)
        X_long = X[rows]
        interval = long["interval"].to_numpy()
        exposure = long["exposure"].to_numpy()
        event = long["event"].to_numpy()
        mu_b = np.array([c.mu for c in coefs])  # type: ignore[union-attr]
        sd_b = np.array([c.sigma for c in coefs])  # type: ignore[union-attr]
        log_hr = pm.Normal("log_hr", mu_b, sd_b, dims="term")
        lam = pm.Gamma(
            "baseline_hazard", alpha=float(base.alpha), beta=float(base.beta), dims="interval"
        )
        mu = exposure * lam[interval] * pt.exp(pt.dot(X_long, log_hr))
        pm.Poisson("obs", mu=mu, observed=event, dims="row")
    return model
