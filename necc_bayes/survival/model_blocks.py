"""Blocks of the PEM that only some models have (frailty, tv terms, random walk, large cohorts).

The frailty, the time-varying deviations, the random-walk baseline, and the compact exposure
sum of large cohorts.

Each is created inside the model context of :func:`necc_bayes.survival.model.build_model`;
names and priors as listed in that module's docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

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


COMPACT_EXPOSURE_MIN = 50_000
"""Patterns from which a single fit sums the exposure compactly (:func:`prefix_exposure`).

At 10^6 subjects x 10 intervals the dense ``exp(eta) @ E_u`` (and its gradient) reads the
80 MB exposure matrix twice per gradient: the compact form reads two vectors instead (logp
and gradient 28 -> 19 ms, issue 21). Below this size the dense form is as fast and every
small model keeps its exact graph (and so its draws)."""


def prefix_exposure(E_u: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Each pattern's last interval and its exposure there, if that determines its row of E_u.

    True when every pattern is one follow-up from time 0: whole widths in the intervals
    before its last one, a part of its last, nothing after (no pooled patterns, no delayed
    entry). Checked exactly, element by element.

    Parameters
    ----------
    E_u : ndarray, shape (m, J)
        Exposure per pattern and interval.
    widths : ndarray, shape (J,)
        Interval widths.

    Returns
    -------
    (ndarray of int, ndarray) or None
        ``last`` (m,) and ``partial`` (m,) with ``E_u[u, j] = widths[j]`` for ``j < last[u]``,
        ``partial[u]`` at ``last[u]`` and 0 after; None if some row is not of that form.
    """
    m, J = E_u.shape
    if m == 0:
        return None
    last = (J - 1 - np.argmax(E_u[:, ::-1] > 0, axis=1)).astype(np.int64)
    partial = E_u[np.arange(m), last]
    rebuilt = np.where(np.arange(J)[None, :] < last[:, None], widths[None, :], 0.0)
    rebuilt[np.arange(m), last] = partial
    return (last, partial) if np.array_equal(rebuilt, E_u) else None


def compact_exposure_sum(
    eta: pt.TensorVariable, last: np.ndarray, partial: np.ndarray, widths: np.ndarray
) -> pt.TensorVariable:
    """``S_j = sum_u E_uj exp(eta_u)`` from each pattern's last interval (see above).

    ``S_j = widths_j * sum_{u: last_u > j} w_u + sum_{u: last_u = j} partial_u w_u`` with
    ``w = exp(eta)``: two scatter-adds over the patterns and a reversed cumulative sum, the
    same sum as the dense product in another order (equal up to rounding).
    """
    import pymc as pm
    import pytensor.tensor as pt

    J = widths.shape[0]
    last_d = pm.Data("last_interval", last, dims="pattern")
    partial_d = pm.Data("last_exposure", partial, dims="pattern")
    widths_d = pm.Data("interval_width", widths, dims="interval")
    w = pt.exp(eta)
    ending = pt.inc_subtensor(pt.zeros(J)[last_d], w)  # sum of w over patterns ending in j
    part = pt.inc_subtensor(pt.zeros(J)[last_d], partial_d * w)
    beyond = pt.cumsum(ending[::-1])[::-1] - ending  # patterns still at risk after j
    return widths_d * beyond + part
