"""Posterior predictive check of a piecewise-exponential fit against the Kaplan–Meier curve.

For each of ``n_replicates`` posterior draws (evenly thinned) a new cohort is simulated
(:mod:`necc_bayes.survival.replicates`): every subject keeps its covariates, gets an event
time from the PEM with that draw's baseline rates and log hazard ratios (exact
inverse-cumulative-hazard sampling), and a censoring time:

* a subject who was **censored** keeps the observed follow-up as its (administrative)
  censoring time;
* for a subject with an **event** the censoring time was not observed, only known to exceed
  the event time. It is drawn from the reverse Kaplan–Meier estimate of the censoring
  distribution (censorings as "events", events as censored) conditioned on exceeding the
  observed event time; mass the reverse KM leaves beyond the last follow-up time is put at
  the largest follow-up time (nobody was observed beyond it).

The replicate is observed at ``min(T, C)`` with event indicator ``T <= C``. Its Kaplan–Meier
curve is computed on a time grid (vectorised over replicates; exact, ties included) and the
observed Kaplan–Meier curve (:func:`necc_bayes.data.reference.km_on_grid`) is compared with
the pointwise 95% band of the replicate curves. Numbers reported: the share of the grid where
the observed curve lies inside the band, and for every interval of the model the posterior
predictive p-value of the number of events (mid-p: ``P(d_rep > d_obs) + P(d_rep = d_obs) / 2``;
values near 0 or 1 say the model gets that interval's event count wrong).

**Delayed entry**: a subject entering at ``e`` gets its replicate event time from the model
given survival to ``e``, its replicate censoring time from the reverse Kaplan–Meier
left-truncated at the entries, and every Kaplan–Meier curve (observed and replicate) is the
left-truncated product-limit estimator (risk set ``entry < t <= time``).

**By group**: for every covariate whose design columns are all 0/1 (a binary term, the dummies
of a categorical or ordinal covariate) the same replicates give a Kaplan–Meier band per level,
against that level's observed curve. A group whose hazard ratio changes over time (non-
proportional hazards) shows up as its observed curve leaving the band: above it early and
below it late, or the reverse.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from necc_bayes.data.reference import SortedSamples, km_on_grid, km_sorted, sort_samples
from necc_bayes.survival.imputation_summary import complete_rows
from necc_bayes.survival.intervals import PersonPeriod
from necc_bayes.survival.model import interval_labels
from necc_bayes.survival.ppc_groups import GROUP_COLUMNS, covariate_groups
from necc_bayes.survival.ppc_pieces import (
    COUNTING_PROCESS_RULE,
    interval_event_replicates,
    interval_event_table,
)
from necc_bayes.survival.ppc_result import PPCResult
from necc_bayes.survival.replicates import (
    default_replicates,
    draw_censoring_times,
    replicate_subset,
    simulate_event_times,
    subset_note,
    take_rows,
)
from necc_bayes.survival.time_varying import posterior_draws

if TYPE_CHECKING:
    from necc_bayes.survival.result import PEMResult

__all__ = [
    "GROUP_COLUMNS",
    "PPCResult",
    "group_bands",
    "posterior_predictive_check",
    "ppc_from_draws",
]


def ppc_from_draws(
    lam: np.ndarray,
    log_hr: np.ndarray,
    X: np.ndarray,
    bounds: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    interval_labels: list[str] | None = None,
    n_replicates: int = 500,
    n_grid: int = 100,
    ci_prob: float = 0.95,
    seed: int = 0,
    groups: dict[str, np.ndarray] | None = None,
    entry: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    frailty: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
) -> PPCResult:
    """Run the posterior predictive check on flattened posterior draws.

    Parameters
    ----------
    lam : ndarray, shape (S, J)
        Baseline-rate draws.
    log_hr : ndarray, shape (S, p)
        Log-hazard-ratio draws.
    X : ndarray, shape (n, p)
        Design in the model's coding.
    bounds : ndarray, shape (J + 1,)
        Interval boundaries.
    time, event : ndarray, shape (n,)
        Observed data.
    interval_labels : list of str, optional
        Names of the intervals in the events table.
    n_replicates : int
        Simulated cohorts (draws are thinned evenly to this number; all are used if fewer).
    n_grid : int
        Grid points on ``(0, max follow-up]``.
    ci_prob : float
        Probability of the replicate band.
    seed : int
        Random seed (results are reproducible).
    groups : dict, optional
        Covariate name -> level label of every subject (shape (n,)): a Kaplan–Meier band per
        level (:attr:`PPCResult.groups`).
    entry : ndarray, shape (n,), optional
        Delayed entry: replicate event times are drawn given survival to each subject's entry,
        and every Kaplan–Meier curve (observed and replicate) is left-truncated there.
    strata : ndarray of int, shape (n,), optional
        Stratum of each subject; ``lam`` then has shape (S, n_strata, J).
    frailty, clusters : ndarray, optional
        Log-frailty draws (S, C) and each subject's cluster (n,): replicates keep the
        clusters of the data and each draw's frailties.

    Returns
    -------
    PPCResult
    """
    rng = np.random.default_rng(seed)
    idx = np.unique(np.linspace(0, lam.shape[0] - 1, min(n_replicates, lam.shape[0])).round())
    idx = idx.astype(np.int64)
    lam_r = lam[idx] if strata is None else lam[idx][:, np.asarray(strata), :]
    offset = None if frailty is None else frailty[idx][:, np.asarray(clusters)]
    T = simulate_event_times(lam_r, log_hr[idx], X, bounds, rng, entry=entry, offset=offset)
    C = draw_censoring_times(time, event, idx.size, rng, entry=entry)
    rep_time = np.minimum(T, C)
    rep_event = T <= C
    grid = np.linspace(0.0, float(np.max(time)), n_grid + 1)[1:]
    samples = sort_samples(rep_time, rep_event)  # one sort, reused by every covariate level
    curves = km_sorted(samples, grid, entry)
    tail = (1.0 - ci_prob) / 2.0
    low, med, high = np.quantile(curves, [tail, 0.5, 1.0 - tail], axis=0)
    observed = km_on_grid(time, event, grid, entry)
    inside = (observed >= low - 1e-12) & (observed <= high + 1e-12)

    J = bounds.size - 1
    cuts = bounds[1:-1]
    rep_interval = np.searchsorted(cuts, rep_time, side="left")
    rep_d = np.stack([((rep_interval == j) & rep_event).sum(axis=1) for j in range(J)], axis=1)
    obs_interval = np.searchsorted(cuts, time, side="left")
    obs_d = np.bincount(obs_interval[np.asarray(event) == 1], minlength=J)
    ppp = (rep_d > obs_d).mean(axis=0) + 0.5 * (rep_d == obs_d).mean(axis=0)
    labels = interval_labels or [str(j) for j in range(J)]
    events = pd.DataFrame(
        {
            "interval": labels,
            "observed": obs_d,
            "rep_mean": rep_d.mean(axis=0),
            "rep_low": np.quantile(rep_d, tail, axis=0),
            "rep_high": np.quantile(rep_d, 1.0 - tail, axis=0),
            "ppp": ppp,
        }
    )
    return PPCResult(
        grid=grid,
        observed=observed,
        low=low,
        median=med,
        high=high,
        ci_prob=ci_prob,
        coverage=float(inside.mean()),
        events=events,
        n_replicates=int(idx.size),
        groups=group_bands(
            groups or {},
            rep_time,
            rep_event,
            time,
            event,
            grid,
            ci_prob,
            entry=entry,
            samples=samples,
        ),
    )


def group_bands(
    groups: dict[str, np.ndarray],
    rep_time: np.ndarray,
    rep_event: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    grid: np.ndarray,
    ci_prob: float,
    *,
    entry: np.ndarray | None = None,
    samples: SortedSamples | None = None,
) -> pd.DataFrame:
    """Observed KM and replicate band per covariate level (rows of :data:`GROUP_COLUMNS`).

    ``samples``: the replicates already sorted by :func:`sort_samples` (each level's
    replicates are their subset, in the same order: the same curves without sorting again).
    """
    tail = (1.0 - ci_prob) / 2.0
    event = np.asarray(event)
    if groups and samples is None:
        samples = sort_samples(rep_time, rep_event)
    frames = []
    for covariate, labels in groups.items():
        labels = np.asarray(labels)
        for level in dict.fromkeys(labels.tolist()):
            sel = labels == level
            sub_entry = None if entry is None else entry[sel]
            assert samples is not None
            curves = km_sorted(samples.subset(sel), grid, sub_entry)
            low, med, high = np.quantile(curves, [tail, 0.5, 1.0 - tail], axis=0)
            frames.append(
                pd.DataFrame(
                    {
                        "covariate": covariate,
                        "level": str(level),
                        "n": int(sel.sum()),
                        "n_events": int(event[sel].sum()),
                        "time": grid,
                        "observed": km_on_grid(time[sel], event[sel], grid, sub_entry),
                        "low": low,
                        "median": med,
                        "high": high,
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=GROUP_COLUMNS)
    return pd.concat(frames, ignore_index=True)[GROUP_COLUMNS]


PPC_REPLICATES = 500
"""Replicate cohorts of the PPC (up to :data:`~necc_bayes.survival.replicates.LARGE_COHORT`)."""


def posterior_predictive_check(
    result: PEMResult,
    *,
    n_replicates: int | None = None,
    n_grid: int = 100,
    seed: int | None = None,
) -> PPCResult:
    """Posterior predictive check of a fit (see the module docstring).

    Parameters
    ----------
    result : PEMResult
        The fit.
    n_replicates : int, optional
        Replicate cohorts; default :data:`PPC_REPLICATES` (500), or
        :data:`~necc_bayes.survival.replicates.LARGE_COHORT_REPLICATES` (100) above
        :data:`~necc_bayes.survival.replicates.LARGE_COHORT` (5,000) subjects.
    n_grid : int
        Grid size.
    seed : int, optional
        Defaults to the spec's sampler seed, so the check is reproducible.

    Returns
    -------
    PPCResult
    """
    lam, beta = posterior_draws(result.idata)  # per-interval log-HRs when time-varying
    post = result.idata["posterior"]
    frailty = (
        post["frailty"].stack(s=("chain", "draw")).transpose("s", "cluster").to_numpy()
        if "frailty" in post
        else None
    )
    cohort, pp = result.checked.cohort, result.checked.person_period
    strata = None if cohort.strata is None else cohort.strata.codes
    clusters = None if cohort.clusters is None else cohort.clusters.codes
    seed = result.spec.sampler.seed if seed is None else seed
    if n_replicates is None:
        n_replicates = default_replicates(cohort.n_subjects, PPC_REPLICATES)
    if cohort.n_subjects < cohort.n:  # (start, stop] pieces: events given exposure only
        return _counting_process_ppc(
            lam,
            beta,
            cohort.design.X_model,
            pp,
            labels=interval_labels(pp),
            n_replicates=n_replicates,
            ci_prob=result.spec.summaries.ci_prob,
            seed=seed,
            strata=strata,
            frailty=frailty,
            clusters=clusters,
        )
    X, time, event, entry, strata = complete_rows(
        cohort.design.X, cohort.time, cohort.event, cohort.entry, strata
    )  # modelled missing covariates: the rows with every value (the censoring note says so)
    n_rows = len(time)
    # above ph_check.replicate_subjects: the same seeded subset of subjects as the PH check
    keep = replicate_subset(n_rows, result.spec.ph_check.replicate_subjects, seed)
    if keep is not None:
        X, time, event = X[keep], time[keep], event[keep]
        entry, strata, clusters = take_rows(keep, entry, strata, clusters)
    design = replace(cohort.design, X=X)
    out = ppc_from_draws(
        lam,
        beta,
        design.X_model,
        pp.bounds,
        time,
        event,
        interval_labels=interval_labels(pp),
        n_replicates=n_replicates,
        n_grid=n_grid,
        ci_prob=result.spec.summaries.ci_prob,
        seed=seed,
        groups=covariate_groups(
            design,
            {k: c.reference for k, c in result.spec.covariates.categorical.items()},
        ),
        entry=entry,
        strata=strata,
        frailty=frailty,
        clusters=clusters,
    )
    if n_rows < cohort.n:
        note = f"; the {n_rows} of {cohort.n} rows with every covariate observed"
        out = replace(out, censoring=out.censoring + note)
    if keep is not None:
        out = replace(out, censoring=out.censoring + subset_note(keep, n_rows))
    return out


def _counting_process_ppc(
    lam: np.ndarray,
    log_hr: np.ndarray,
    X: np.ndarray,
    pp: PersonPeriod,
    *,
    labels: list[str],
    n_replicates: int,
    ci_prob: float,
    seed: int,
    strata: np.ndarray | None,
    frailty: np.ndarray | None,
    clusters: np.ndarray | None,
) -> PPCResult:
    """The PPC of counting-process rows (:mod:`necc_bayes.survival.ppc_pieces`)."""
    rng = np.random.default_rng(seed)
    idx = np.unique(np.linspace(0, lam.shape[0] - 1, min(n_replicates, lam.shape[0])).round())
    idx = idx.astype(np.int64)
    rep = interval_event_replicates(
        lam[idx],
        log_hr[idx],
        X,
        pp,
        rng,
        strata=strata,
        frailty=None if frailty is None else frailty[idx],
        clusters=clusters,
    )
    empty = np.empty(0)
    return PPCResult(
        grid=empty,
        observed=empty,
        low=empty,
        median=empty,
        high=empty,
        ci_prob=ci_prob,
        coverage=float("nan"),
        events=interval_event_table(rep, pp.events_per_interval, labels, ci_prob),
        n_replicates=int(idx.size),
        censoring=COUNTING_PROCESS_RULE,
    )
