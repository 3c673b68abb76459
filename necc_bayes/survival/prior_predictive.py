"""Prior predictive check: what the priors alone imply for survival.

Draws come from the model's priors before the likelihood is seen, from each prior family's
own numpy sampler (:func:`necc_bayes.survival.prior_sample.sample_prior`, the mirror of the PyMC
model that simulation-based calibration checks).

With delayed entry the curves are conditional on survival to the earliest entry, with strata
every stratum has the same prior (one set is shown), with a frailty they are
population-averaged over the frailty prior, like the posterior curves they are compared with.

The baseline prior is the *resolved* one: its ``"auto"`` parameters were set from the data's
crude event rate (``priors.resolve_baseline``), which is the prior the fit used.

Reported per covariate profile and time (the spec's ``summaries.times``, resolved from the data):
prior quantiles of ``S(t)`` and the prior mass at the extremes (``S < 0.01`` and
``S > 0.99``) — a prior that piles its mass there says "everyone dies at once" or "no one
ever dies", which is rarely what was meant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from necc_bayes.report.figures import PriorBands
from necc_bayes.survival.curves import Profile, condition_on, survival_curve
from necc_bayes.survival.intervals import PersonPeriod, event_time_cuts, partition_only
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.prior_sample import sample_prior

if TYPE_CHECKING:
    from necc_bayes.survival.result import PEMResult

EVENT_TIME_PARTITION_MAX = 5_000
"""The report's prior on ``S(t)`` at cuts at every event time is drawn up to this many intervals.

Its cost is ``draws x intervals`` (1,000 x ~600,000 gamma draws and a 5 GB array at a
registry's 10^6 subjects, issue 21); above it the table holds the fitted partition only and
the report says why (:func:`event_time_partition_note`)."""

PRIOR_STREAM = 2
"""Second entry of the seed sequence of the prior draws (1 is the baseline's posterior draws)."""


@dataclass(frozen=True)
class PriorDraws:
    """Flattened prior draws.

    Attributes
    ----------
    lam : ndarray, shape (S, J)
        Baseline rates.
    log_hr : ndarray, shape (S, p)
        Log hazard ratios.
    bounds : ndarray, shape (J + 1,)
        Interval boundaries.
    frailty_sd : ndarray, shape (S,), optional
        Frailty SD draws (models with a frailty): the curves are then population-averaged
        over the frailty, as the posterior's are.
    """

    lam: np.ndarray
    log_hr: np.ndarray
    bounds: np.ndarray
    frailty_sd: np.ndarray | None = None


def draw_prior(
    inputs: PEMInputs, priors: PEMPriors, *, draws: int = 1000, seed: int = 0
) -> PriorDraws:
    """Draw baseline rates and log hazard ratios from the priors.

    Parameters
    ----------
    inputs : PEMInputs
        Design and person-period expansion (only the structure is used).
    priors : PEMPriors
        Resolved priors.
    draws : int
        Number of prior draws.
    seed : int
        Random seed.

    Returns
    -------
    PriorDraws
    """
    sample = sample_prior(inputs, priors, np.random.default_rng([int(seed), PRIOR_STREAM]), draws)
    # strata share one baseline prior: the first stratum's draws stand for every stratum
    lam = sample.baseline[:, 0, :] if sample.baseline.ndim == 3 else sample.baseline
    return PriorDraws(
        lam=lam, log_hr=sample.log_hr, bounds=inputs.pp.bounds, frailty_sd=sample.frailty_sd
    )


def prior_survival_table(
    prior: PriorDraws, profiles: list[Profile], times: list[float], *, ci_prob: float = 0.95
) -> pd.DataFrame:
    """Prior distribution of ``S(t)`` per profile and time.

    Returns
    -------
    DataFrame
        Columns ``profile, time, median, low, high, mean, p_below_0_01, p_above_0_99``.
    """
    tail = (1.0 - ci_prob) / 2.0
    rows = []
    t = np.asarray(times, dtype=float)
    for prof in profiles:
        S = survival_curve(t, prior.lam, prior.log_hr, prof.x, prior.bounds, prior.frailty_sd)
        for k, time in enumerate(t):
            s = S[:, k]
            rows.append(
                {
                    "profile": prof.name,
                    "time": float(time),
                    "median": float(np.median(s)),
                    "low": float(np.quantile(s, tail)),
                    "high": float(np.quantile(s, 1.0 - tail)),
                    "mean": float(s.mean()),
                    "p_below_0_01": float((s < 0.01).mean()),
                    "p_above_0_99": float((s > 0.99).mean()),
                }
            )
    return pd.DataFrame(rows)


def prior_survival_curves(prior: PriorDraws, profile: Profile, grid: np.ndarray) -> np.ndarray:
    """Prior survival curves of one profile on a grid, shape (S, len(grid))."""
    return survival_curve(grid, prior.lam, prior.log_hr, profile.x, prior.bounds, prior.frailty_sd)


def prior_bands(
    prior: PriorDraws, profile: Profile, t_max: float, times: list[float], *, n_lines: int = 40
) -> PriorBands:
    """Prior survival of one profile on a grid to the last follow-up or summary time.

    Central 95% and 50% bands, the pointwise median and ``n_lines`` single draws (chosen
    with ``default_rng(0)``, so the figure is reproducible).
    """
    grid = np.linspace(0.0, max(t_max, *times), 200)
    S = prior_survival_curves(prior, profile, grid)
    bands = [
        (hi - lo, np.quantile(S, lo, 0), np.quantile(S, hi, 0))
        for lo, hi in [(0.025, 0.975), (0.25, 0.75)]
    ]
    rng = np.random.default_rng(0)
    pick = rng.choice(S.shape[0], size=min(n_lines, S.shape[0]), replace=False)
    return PriorBands(
        profile=profile.name,
        grid=grid,
        median=np.median(S, 0),
        bands=bands,
        lines=S[pick],
        t_max=float(t_max),
        times=list(times),
    )


def _every_event_partition(pp: PersonPeriod) -> tuple[np.ndarray, str]:
    """Cuts at every event time and what the table does with them.

    ``"fitted"`` (the fit already cuts there), ``"drawn"``, or ``"too fine"`` (more than
    :data:`EVENT_TIME_PARTITION_MAX` intervals: left out, with a note).
    """
    cuts = event_time_cuts(pp.stop, pp.event)
    if np.array_equal(cuts, pp.bounds[1:-1]):
        return cuts, "fitted"
    return cuts, "drawn" if cuts.size + 1 <= EVENT_TIME_PARTITION_MAX else "too fine"


def event_time_partition_note(pp: PersonPeriod) -> str | None:
    """The report's note when the every-event-time partition is left out (too many intervals)."""
    cuts, use = _every_event_partition(pp)
    if use != "too fine":
        return None
    return (
        f"The prior predictive table shows the fitted partition only: cuts at every event time "
        f"would make {cuts.size + 1:,} intervals (drawn up to {EVENT_TIME_PARTITION_MAX:,})."
    )


def prior_predictive_for_fit(
    result: PEMResult, *, draws: int = 1000
) -> tuple[PriorDraws, pd.DataFrame]:
    """Prior draws and the survival table for a fit's resolved spec, data and profiles.

    The table holds the prior on ``S(t)`` for the fit's partition (``partition = "fitted
    (J=...)"``) and, unless the fit already cuts at every event time, for cuts at every event
    time (``"every event time (J=...)"``, up to :data:`EVENT_TIME_PARTITION_MAX` intervals),
    with the same resolved priors. Under the gamma
    process ``H(t)`` has the same prior at every cut point of either partition; between cuts
    each partition interpolates linearly, and beyond follow-up the last interval extrapolates.

    Parameters
    ----------
    result : PEMResult
        The fit (only its spec, data and profiles are used; nothing is sampled by NUTS).
    draws : int
        Number of prior draws.

    Returns
    -------
    (PriorDraws, DataFrame)
        The fitted partition's draws (for the figure) and the table of every partition.
    """
    inputs, priors = result.model_inputs(), result.model_priors()
    s = result.spec.summaries
    pp = inputs.pp
    event_cuts, use = _every_event_partition(pp)
    partitions = {f"fitted (J={pp.n_intervals})": inputs}
    if use == "drawn":
        # only the intervals matter to the prior draws: no n x J expansion at these cuts
        every = replace(inputs, pp=partition_only(event_cuts, float(pp.stop.max())))
        partitions[f"every event time (J={every.pp.n_intervals})"] = every
    draws_of = {}
    tables = []
    for name, part in partitions.items():
        prior = draw_prior(part, priors, draws=draws, seed=result.spec.sampler.seed)
        # curves conditional on survival to the earliest entry, as the posterior's
        lam, bounds = condition_on(prior.lam, prior.bounds, result.curve_origin)
        draws_of[name] = replace(prior, lam=lam, bounds=bounds)
        table = prior_survival_table(
            draws_of[name], result.profiles(), s.time_points, ci_prob=s.ci_prob
        )
        table.insert(1, "partition", name)
        tables.append(table)
    return next(iter(draws_of.values())), pd.concat(tables, ignore_index=True)
