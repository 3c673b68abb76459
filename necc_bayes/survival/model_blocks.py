"""Blocks of the PEM that only some models have: frailty, time-varying deviations, random walk.

Each is created inside the model context of :func:`necc_bayes.survival.model.build_model`;
names and priors as listed in that module's docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from necc_bayes.spec.baseline_priors import RandomWalkBaseline
from necc_bayes.survival.intervals import PersonPeriod, interval_labels
from necc_bayes.survival.likelihood import SufficientStats

if TYPE_CHECKING:
    import pytensor.tensor as pt

    from necc_bayes.survival.model import PEMInputs, PEMPriors


def frailty_block(inputs: PEMInputs, priors: PEMPriors) -> pt.TensorVariable:
    """``frailty[c] = frailty_sd * frailty_z[c]`` (log-frailty, non-centred)."""
    import pymc as pm

    if priors.frailty_sd is None:
        raise ValueError("a model with clusters needs PEMPriors.frailty_sd")
    sd = priors.frailty_sd.build("frailty_sd")
    z = pm.Normal("frailty_z", 0.0, 1.0, dims="cluster")
    return pm.Deterministic("frailty", sd * z, dims="cluster")


def time_varying_block(inputs: PEMInputs, priors: PEMPriors) -> pt.TensorVariable:
    """Per-interval deviations ``log_hr_dev`` (term_tv, interval) of the time-varying terms.

    A Brownian motion in time seen at the interval midpoints, started at 0 in the first
    interval: ``dev[k, 0] = 0``, ``dev[k, j] - dev[k, j-1] ~ Normal(0, tv_sd^2 (m_j - m_{j-1}))``
    (non-centred, one ``tv_sd`` per term), so ``log_hr`` is the log-HR of the first interval.
    """
    import pymc as pm
    import pytensor.tensor as pt

    if priors.tv_sd is None:
        raise ValueError("a model with time-varying terms needs PEMPriors.tv_sd")
    model = pm.modelcontext(None)
    pp = inputs.pp
    model.add_coord("term_tv", list(inputs.time_varying))
    model.add_coord("tv_step", interval_labels(pp)[1:])
    scale = pm.Data("tv_step_scale", RandomWalkBaseline.step_scale(pp.widths), dims="tv_step")
    sd = priors.tv_sd.build("tv_sd")
    z = pm.Normal("tv_z", 0.0, 1.0, dims=("term_tv", "tv_step"))
    steps = pt.cumsum(sd * z * scale[None, :], axis=1)
    dev = pt.concatenate([pt.zeros((len(inputs.time_varying), 1)), steps], axis=1)
    return pm.Deterministic("log_hr_dev", dev, dims=("term_tv", "interval"))


def baseline_dims(stats: SufficientStats) -> tuple[str, ...]:
    """Dims of the baseline rates: ``(stratum, interval)`` when stratified, else ``(interval,)``."""
    return ("stratum", "interval") if stats.stratified else ("interval",)


def random_walk_block(
    base: RandomWalkBaseline, pp: PersonPeriod, stats: SufficientStats
) -> pt.TensorVariable:
    """``log lambda`` of the Brownian-motion baseline, shape (J,) or (S, J)."""
    import pymc as pm
    import pytensor.tensor as pt

    model = pm.modelcontext(None)
    init_mu = pm.Data("rw_init_mu", float(base.init_mu))
    init_sigma = pm.Data("rw_init_sigma", float(base.init_sigma))
    sigma_scale = pm.Data("rw_sigma_scale", float(base.sigma_scale))
    model.add_coord("baseline_step", interval_labels(pp)[1:])
    scale = pm.Data("rw_step_scale", base.step_scale(pp.widths), dims="baseline_step")
    sigma = pm.HalfNormal("baseline_sigma", sigma_scale)
    if stats.stratified:
        z0 = pm.Normal("baseline_z0", 0.0, 1.0, dims="stratum")
        steps = pm.Normal("baseline_z", 0.0, 1.0, dims=("stratum", "baseline_step"))
        walk = pt.cumsum(sigma * scale[None, :] * steps, axis=1)
        zeros = pt.zeros((stats.n_strata, 1))
        return init_mu + init_sigma * z0[:, None] + pt.concatenate([zeros, walk], axis=1)
    z0 = pm.Normal("baseline_z0", 0.0, 1.0)
    steps = pm.Normal("baseline_z", 0.0, 1.0, dims="baseline_step")
    walk = pt.cumsum(sigma * scale * steps)
    return init_mu + init_sigma * z0 + pt.concatenate([pt.zeros((1,)), walk])
