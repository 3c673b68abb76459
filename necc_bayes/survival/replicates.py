"""Replicate cohorts from a piecewise-exponential model: event times and censoring times.

Used by the posterior predictive check, the proportional-hazards check, simulation-based
calibration and the test fixtures:

* :func:`simulate_event_times` — one event time per draw and subject by exact inversion of
  the piecewise-linear cumulative hazard (given survival to the entry time with delayed
  entry; per-interval log-HRs for time-varying effects);
* :func:`draw_censoring_times` — a subject who was **censored** keeps the observed follow-up
  as its (administrative) censoring time; for a subject with an **event** the censoring time
  was not observed, only known to exceed the event time, so it is drawn from the reverse
  Kaplan–Meier estimate of the censoring distribution (censorings as "events", events as
  censored) conditioned on exceeding the observed event time; mass the reverse KM leaves
  beyond the last follow-up time is put at the largest follow-up time (nobody was observed
  beyond it). With delayed entry the reverse KM is left-truncated at the entries.
"""

from __future__ import annotations

import numpy as np

from necc_bayes.data.reference import kaplan_meier, kaplan_meier_many
from necc_bayes.survival.intervals import time_in_intervals

LARGE_COHORT = 5_000
"""Above this many subjects the replicate checks use :data:`LARGE_COHORT_REPLICATES` by default."""

LARGE_COHORT_REPLICATES = 100
"""Default replicate cohorts of the PPC and the PH check for cohorts above :data:`LARGE_COHORT`.

Both checks cost ``replicates x subjects x intervals``: at n = 20,000 with 10 intervals the
defaults (500 PPC, 400 PH) took ~20 and ~45 s of a 160 s fit (issue 21). Each replicate is
one posterior draw's cohort, so fewer replicates keep the calibration (the PH check's ``ppp``
is still the fraction of draws whose replicate statistic reaches the observed one, now a
Monte Carlo estimate with standard error <= 0.05 instead of <= 0.025); the report, the
``ph_check.csv`` method text and the resolved ``ph_check.n_replicates`` say how many were
used. An ``n_replicates`` set in the spec is always kept.
"""


def default_replicates(n_subjects: int, small: int) -> int:
    """Replicates for a cohort of ``n_subjects``: ``small`` up to :data:`LARGE_COHORT`."""
    return small if n_subjects <= LARGE_COHORT else min(small, LARGE_COHORT_REPLICATES)


REPLICATE_SUBJECTS = 100_000
"""Default subjects in the replicate cohorts of the PPC and the PH check (above it: a subset).

Both checks cost ``replicates x subjects x intervals`` and hold a few ``replicates x
subjects`` arrays (at 10^6 subjects and 100 replicates: ~230 s and ~0.8 GB per array,
issue 21). Above this many subjects they simulate the replicates of a seeded random subset
of this size (:func:`replicate_subset`; the same subjects for both checks) and compare them
with the same subjects' observed data: a check of the same model, with the power of
100,000 subjects. The resolved ``ph_check.replicate_subjects`` records it; a value set in
the spec is kept.
"""

SUBSET_STREAM = 4
"""Entry of the seed sequence that chooses the replicate checks' subjects."""


def default_replicate_subjects(n_subjects: int) -> int | None:
    """Subjects of the replicate checks: None (all) up to :data:`REPLICATE_SUBJECTS`."""
    return REPLICATE_SUBJECTS if n_subjects > REPLICATE_SUBJECTS else None


def replicate_subset(n: int, size: int | None, seed: int) -> np.ndarray | None:
    """Rows of the replicate checks: None for all, else ``size`` rows in their original order.

    Parameters
    ----------
    n : int
        Rows (subjects) available.
    size : int or None
        Subjects wanted (``ph_check.replicate_subjects``); None or ``>= n`` keeps all.
    seed : int
        The fit's seed (stream :data:`SUBSET_STREAM`): the same rows for the PPC and the PH
        check, and in every run.

    Returns
    -------
    ndarray of int or None
        Sorted row indices.
    """
    if size is None or size >= n:
        return None
    rng = np.random.default_rng([int(seed), SUBSET_STREAM])
    return np.sort(rng.choice(n, size=int(size), replace=False))


def take_rows(keep: np.ndarray | None, *arrays: np.ndarray | None) -> list[np.ndarray | None]:
    """Each array's rows ``keep`` (all rows when ``keep`` is None; None stays None)."""
    return [a if keep is None or a is None else a[keep] for a in arrays]


def subset_note(keep: np.ndarray | None, n: int) -> str:
    """The sentence the checks' method texts add for a subset (empty without one)."""
    if keep is None:
        return ""
    return (
        f"; observed and replicate data of a seeded random {keep.size:,} of the {n:,} "
        "subjects (ph_check.replicate_subjects)"
    )


CENSORING_RULE = (
    "censored subjects: observed follow-up as administrative censoring time; subjects with "
    "events: censoring time drawn from the reverse Kaplan–Meier of the censoring distribution "
    "given it exceeds the event time (residual mass at the largest follow-up time)"
)


def simulate_event_times(
    lam: np.ndarray,
    log_hr: np.ndarray,
    X: np.ndarray,
    bounds: np.ndarray,
    rng: np.random.Generator,
    *,
    entry: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> np.ndarray:
    """Draw one event time per draw and subject from the piecewise-exponential model.

    Exact inversion: with ``E ~ Exp(1)`` the event time solves ``H(t | x) = E``, where the
    cumulative hazard is piecewise linear in ``t``; with an entry time ``e`` (left truncation)
    it solves ``H(t | x) = H(e | x) + E``, a draw given survival to ``e``.

    Parameters
    ----------
    lam : ndarray, shape (R, J) or (R, n, J)
        Baseline rates per draw, or per draw and subject (a stratified baseline, indexed by
        each subject's stratum).
    log_hr : ndarray, shape (R, p) or (R, J, p)
        Log hazard ratios per draw, or per draw and interval (time-varying effects).
    X : ndarray, shape (n, p)
        Design in the model's coding.
    bounds : ndarray, shape (J + 1,)
        ``[0, c_1, ..., c_k, inf]``.
    rng : numpy.random.Generator
        Source of randomness.
    entry : ndarray, shape (n,), optional
        Entry times (default: every subject at risk from 0).
    offset : ndarray, shape (R, n), optional
        Added to the linear predictor (e.g. each subject's cluster log-frailty per draw).

    Returns
    -------
    ndarray, shape (R, n)
        Event times (``inf`` where the remaining hazard is zero).
    """
    if log_hr.ndim == 3 or lam.ndim == 3 or offset is not None:
        return _simulate_general(lam, log_hr, X, bounds, rng, entry, offset)
    widths = np.diff(bounds)[:-1]  # finite widths of the first J - 1 intervals
    H_bounds = np.concatenate(
        [np.zeros((lam.shape[0], 1)), np.cumsum(lam[:, :-1] * widths, axis=1)], axis=1
    )  # (R, J): baseline cumulative hazard at the start of each interval
    target = rng.exponential(size=(lam.shape[0], X.shape[0])) / np.exp(log_hr @ X.T)
    if entry is not None:  # baseline cumulative hazard at entry, per draw and subject
        target = target + lam @ time_in_intervals(entry, bounds).T
    j = (H_bounds[:, None, 1:] <= target[:, :, None]).sum(axis=2)  # (R, n) interval index
    start = np.take_along_axis(H_bounds, j, axis=1)
    rate = np.take_along_axis(lam, j, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = bounds[j] + (target - start) / rate
    return np.where(rate > 0, t, np.inf)


def _simulate_general(
    lam: np.ndarray,
    log_hr: np.ndarray,
    X: np.ndarray,
    bounds: np.ndarray,
    rng: np.random.Generator,
    entry: np.ndarray | None,
    offset: np.ndarray | None,
) -> np.ndarray:
    """:func:`simulate_event_times` with per-subject rates (chunks of draws).

    Handles one log-HR vector per interval (time-varying effects), a baseline per subject
    (strata) and a per-subject offset (frailty): the hazard of subject ``i`` in interval ``j``
    is ``lam[r, (i,) j] exp(x_i' beta_(j) + offset[r, i])``.
    """
    n_draws, n, n_int = lam.shape[0], X.shape[0], lam.shape[-1]
    exp1 = rng.exponential(size=(n_draws, n))  # the same stream as the constant-HR path
    widths = np.diff(bounds)[:-1]
    before_entry = None if entry is None else time_in_intervals(entry, bounds)  # (n, J)
    out = np.empty((n_draws, n))
    chunk = max(1, 2_000_000 // max(1, n * n_int))
    for first in range(0, n_draws, chunk):
        sl = slice(first, first + chunk)
        if log_hr.ndim == 3:
            eta = np.einsum("rjp,np->rnj", log_hr[sl], X)  # (c, n, J)
        else:
            eta = (log_hr[sl] @ X.T)[:, :, None]  # (c, n, 1)
        if offset is not None:
            eta = eta + offset[sl][:, :, None]
        base = lam[sl] if lam.ndim == 3 else lam[sl, None, :]
        rate = base * np.exp(eta)  # (c, n, J)
        H = np.concatenate(
            [np.zeros((*rate.shape[:2], 1)), np.cumsum(rate[..., :-1] * widths, axis=-1)],
            axis=-1,
        )  # cumulative hazard at the start of each interval
        target = exp1[sl] if before_entry is None else exp1[sl] + (rate * before_entry).sum(-1)
        j = (H[..., 1:] <= target[..., None]).sum(axis=-1)
        start = np.take_along_axis(H, j[..., None], axis=-1)[..., 0]
        r = np.take_along_axis(rate, j[..., None], axis=-1)[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[sl] = np.where(r > 0, bounds[j] + (target - start) / r, np.inf)
    return out


def draw_censoring_times(
    time: np.ndarray,
    event: np.ndarray,
    n_replicates: int,
    rng: np.random.Generator,
    *,
    entry: np.ndarray | None = None,
) -> np.ndarray:
    """Censoring times for replicate cohorts (the rule in the module docstring).

    With ``entry`` the reverse Kaplan–Meier of the censoring distribution is left-truncated
    at the entry times (risk sets ``entry < t <= time``).

    Returns
    -------
    ndarray, shape (n_replicates, n)
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    t_max = float(time.max())
    out = np.broadcast_to(time, (n_replicates, time.size)).copy()
    if not event.any():
        return out
    if event.all():
        out[:, event] = t_max
        return out
    if entry is None:
        reverse = kaplan_meier(time, ~event)  # censorings as "events"
        jumps, level = reverse.quantiles, reverse.probabilities  # level non-increasing
        g_at_event = reverse.evaluate(time[event])  # P(C > t_i)
    else:
        jumps = np.unique(time[~event])
        level = kaplan_meier_many(time[None, :], ~event[None, :], jumps, entry)[0]
        g_at_event = kaplan_meier_many(time[None, :], ~event[None, :], time[event], entry)[0]
    u = 1.0 - rng.uniform(size=(n_replicates, int(event.sum())))  # in (0, 1]
    target = g_at_event[None, :] * u
    k = np.searchsorted(-level, -target, side="left")  # first jump with level <= target
    c = np.where(k < jumps.size, jumps[np.minimum(k, jumps.size - 1)], t_max)
    out[:, event] = np.maximum(c, time[event])
    return out
