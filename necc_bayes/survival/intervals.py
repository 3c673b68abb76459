"""Cut-point rules and the person-period (exposure / event) expansion.

Conventions (stated once, used everywhere):

* ``cuts`` are the *interior* breakpoints ``c_1 < ... < c_k``. The intervals are
  ``(0, c_1], (c_1, c_2], ..., (c_k, end of follow-up]``: ``J = k + 1`` intervals, the last
  one open-ended.
* Intervals are closed on the right: an event (or censoring) exactly at a cut belongs to
  the interval that *ends* at that cut, as in R's ``survival::survSplit``.
* A cut ``<= 0`` or ``>=`` the largest follow-up time is refused (the last interval would
  hold no exposure).
* Delayed entry (left truncation) and counting-process rows: a row with entry ``e`` and stop
  ``t`` is at risk on ``(e, t]`` only, so its exposure in interval ``(a_j, b_j]`` is
  ``|(a_j, b_j] ∩ (e, t]| = max(0, min(t, b_j) - max(e, a_j))`` and its event (if any) falls
  in the interval holding ``t``, exactly as ``survSplit(Surv(e, t, event) ~ ., cut = ...)``
  splits it. Several rows of one subject (the ``(start, stop]`` pieces of its follow-up) are
  expanded independently; the sums over rows are then the subject's exposure and events.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from necc_bayes.errors import InputWarning, Problem, SpecError

Rule = Literal["fixed", "event_times", "quantile", "default"]


def default_n_intervals(n: int) -> int:
    """Return the default number of intervals for ``n`` subjects: ``ceil(sqrt(n / log n))``.

    Parameters
    ----------
    n : int
        Number of subjects (>= 2).

    Returns
    -------
    int
        At least 1. For n = 88 this is 5; for n = 432 it is 9.
    """
    if n < 3:
        return 1
    return max(1, math.ceil(math.sqrt(n / math.log(n))))


def check_cuts(cuts: np.ndarray, time: np.ndarray, source: str = "intervals.cuts") -> np.ndarray:
    """Validate interior cut points against the follow-up times.

    Parameters
    ----------
    cuts : array-like of float
        Interior breakpoints.
    time : ndarray
        Follow-up times (> 0).
    source : str
        Where the cuts came from, for the error message.

    Returns
    -------
    ndarray
        The cuts as a sorted float array (an :class:`InputWarning` if they were not).

    Raises
    ------
    SpecError
        If a cut is not finite, is <= 0, is >= the largest follow-up time, or is repeated.
    """
    c = np.asarray(cuts, dtype=float).ravel()
    t_max = float(np.max(time))
    problems = []
    if not np.all(np.isfinite(c)):
        problems.append(Problem("cut_finite", f"cuts must be finite numbers, got {c.tolist()}"))
    else:
        low = c[c <= 0]
        high = c[c >= t_max]
        if low.size:
            problems.append(Problem("cut_positive", f"cuts must be > 0, got {low.tolist()}"))
        if high.size:
            problems.append(
                Problem(
                    "cut_in_follow_up",
                    f"cuts must be < the largest follow-up time {t_max:g}, got {high.tolist()}",
                )
            )
        if np.unique(c).size != c.size:
            problems.append(Problem("cut_unique", f"cuts must be distinct, got {c.tolist()}"))
    if problems:
        raise SpecError(source, problems)
    if np.any(np.diff(c) < 0):
        warnings.warn(
            f"{source} {c.tolist()} are not in increasing order; using them sorted: "
            f"{np.sort(c).tolist()}",
            InputWarning,
            stacklevel=2,
        )
    return np.sort(c)


def event_time_cuts(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Return a cut at every distinct event time below the largest follow-up time.

    With these cuts each interval ends at an event time, so a piecewise-exponential model
    with flat baseline priors approximates the Cox model with Breslow ties.
    """
    t_event = np.unique(time[event == 1])
    return t_event[t_event < np.max(time)]


def quantile_cuts(time: np.ndarray, event: np.ndarray, k: int) -> np.ndarray:
    """Return cuts giving ``k`` intervals with (as near as ties allow) equal numbers of events.

    The cuts are the empirical ``1/k, ..., (k-1)/k`` quantiles of the event times
    (``method="inverted_cdf"``, so each cut is an observed event time and, with right-closed
    intervals, the events up to and including it fall before it). Repeated quantiles (ties)
    are merged, so fewer than ``k`` intervals can result (for a spec's ``rule = "quantile"``,
    :func:`resolve_cuts` says so with an :class:`InputWarning`).
    """
    if k < 1:
        raise SpecError("intervals.n", [Problem("n_positive", f"n must be >= 1, got {k}")])
    t_event = np.sort(time[event == 1])
    if k == 1 or t_event.size == 0:
        return np.empty(0)
    probs = np.arange(1, k) / k
    c = np.unique(np.quantile(t_event, probs, method="inverted_cdf"))
    return c[(c > 0) & (c < np.max(time))]


def _warn_fewer_intervals(k: int, cuts: np.ndarray, time: np.ndarray, event: np.ndarray) -> None:
    """Say so when the quantile rule of a spec gives fewer intervals than its ``n``."""
    if cuts.size + 1 < k:
        t_event = time[event == 1]
        warnings.warn(
            f"intervals: {k} intervals with equal numbers of events were asked for, but the "
            f"{t_event.size} events ({np.unique(t_event).size} distinct times) allow only "
            f"{cuts.size + 1} (at most one cut per distinct event time; tied quantiles are "
            f"merged); using {cuts.size + 1}",
            InputWarning,
            stacklevel=3,
        )


def resolve_cuts(
    rule: Rule,
    time: np.ndarray,
    event: np.ndarray,
    *,
    cuts: list[float] | None = None,
    n: int | None = None,
) -> np.ndarray:
    """Apply a cut-point rule to the data.

    Parameters
    ----------
    rule : {"fixed", "event_times", "quantile", "default"}
        ``fixed`` uses ``cuts``; ``event_times`` cuts at every distinct event time;
        ``quantile`` gives ``n`` intervals with equal event counts; ``default`` is
        ``quantile`` with ``n = default_n_intervals(len(time))``.
    time, event : ndarray
        Follow-up times and 0/1 event indicators.
    cuts : list of float, optional
        Interior breakpoints for ``fixed``.
    n : int, optional
        Number of intervals for ``quantile``.

    Returns
    -------
    ndarray
        Sorted interior cut points, validated by :func:`check_cuts`.
    """
    if rule == "fixed":
        if cuts is None:
            raise SpecError(
                "intervals", [Problem("cuts_required", "rule 'fixed' needs cuts = [...]")]
            )
        return check_cuts(np.asarray(cuts, dtype=float), time)
    if rule == "event_times":
        return event_time_cuts(time, event)
    if rule == "quantile":
        if n is None:
            raise SpecError(
                "intervals", [Problem("n_required", "rule 'quantile' needs n = K intervals")]
            )
        cuts_q = quantile_cuts(time, event, n)
        _warn_fewer_intervals(n, cuts_q, time, event)
        return cuts_q
    if rule == "default":
        return quantile_cuts(time, event, default_n_intervals(len(time)))
    raise SpecError("intervals.rule", [Problem("rule_known", f"unknown rule {rule!r}")])


@dataclass(frozen=True)
class PersonPeriod:
    """The compact person-period expansion of right-censored data.

    Attributes
    ----------
    cuts : ndarray, shape (k,)
        Interior breakpoints.
    exposure : ndarray, shape (n, J)
        Time subject ``i`` spent at risk in interval ``j``.
    interval : ndarray of int, shape (n,)
        Interval in which subject ``i``'s follow-up ends (where the event falls, if any).
    event : ndarray of int, shape (n,)
        0/1 event indicators.
    entry : ndarray, shape (n,), optional
        Start of each row's time at risk (``None``: every row is at risk from 0).
    time : ndarray, shape (n,), optional
        End of each row's time at risk (``None``: the start plus the row's total exposure).
    horizon : float, optional
        Where the last, open interval ends for the baseline prior's widths (``None``: the
        largest exit time ``T``). A cohort simulated from a fit's prior (SBC) keeps the
        observed cohort's, so that the prior it is fitted with is the prior it came from.
    """

    cuts: np.ndarray
    exposure: np.ndarray
    interval: np.ndarray
    event: np.ndarray
    entry: np.ndarray | None = None
    time: np.ndarray | None = None
    horizon: float | None = None

    @property
    def has_entry(self) -> bool:
        """Whether some row enters the risk set after time 0 (delayed entry)."""
        return self.entry is not None and bool(np.any(self.entry > 0))

    @property
    def start(self) -> np.ndarray:
        """Start of each row's time at risk (zeros without delayed entry)."""
        n = self.exposure.shape[0]
        return np.zeros(n) if self.entry is None else np.asarray(self.entry, dtype=float)

    @property
    def stop(self) -> np.ndarray:
        """End of each row's time at risk (the follow-up time of the data)."""
        if self.time is not None:
            return np.asarray(self.time, dtype=float)
        return self.start + self.exposure.sum(axis=1)

    def subset(self, keep: np.ndarray) -> PersonPeriod:
        """The expansion of the rows selected by ``keep`` (boolean mask or indices)."""
        return PersonPeriod(
            cuts=self.cuts,
            exposure=self.exposure[keep],
            interval=self.interval[keep],
            event=self.event[keep],
            entry=None if self.entry is None else self.entry[keep],
            time=None if self.time is None else self.time[keep],
            horizon=self.horizon,
        )

    @property
    def follow_up_max(self) -> float:
        """Where the last, open interval ends for the prior (``horizon``, else the last exit)."""
        return float(self.stop.max()) if self.horizon is None else float(self.horizon)

    @property
    def widths(self) -> np.ndarray:
        """Interval widths ``Delta_j``, the last (open) interval taken to end at ``T``."""
        return np.diff(np.concatenate([[0.0], self.cuts, [self.follow_up_max]]))

    @property
    def n_intervals(self) -> int:
        """Number of intervals ``J``."""
        return self.exposure.shape[1]

    @property
    def bounds(self) -> np.ndarray:
        """Interval boundaries ``[0, c_1, ..., c_k, inf]`` (length ``J + 1``)."""
        return np.concatenate([[0.0], self.cuts, [np.inf]])

    @property
    def events_per_interval(self) -> np.ndarray:
        """Number of events ``d_j`` in each interval."""
        return np.bincount(self.interval[self.event == 1], minlength=self.n_intervals)

    @property
    def at_risk_per_interval(self) -> np.ndarray:
        """Number of rows with positive exposure in each interval.

        Pieces of one subject that share an interval count once each.
        """
        return (self.exposure > 0).sum(axis=0)

    @property
    def event_matrix(self) -> np.ndarray:
        """0/1 matrix (n, J): 1 where subject ``i`` has its event in interval ``j``."""
        out = np.zeros_like(self.exposure, dtype=np.int64)
        rows = np.flatnonzero(self.event == 1)
        out[rows, self.interval[rows]] = 1
        return out

    def long_format(self, ids: np.ndarray | None = None) -> pd.DataFrame:
        """Return one row per data row and interval at risk, as ``survival::survSplit`` does.

        Columns: ``id, interval, tstart, tstop, exposure, event``; with delayed entry a row's
        first ``tstart`` is its entry time (``survSplit(Surv(entry, time, event) ~ .)``).
        """
        n = self.exposure.shape[0]
        ids = np.arange(1, n + 1) if ids is None else np.asarray(ids)
        i_idx, j_idx = np.nonzero(self.exposure > 0)
        bounds = self.bounds
        tstart = np.maximum(bounds[j_idx], self.start[i_idx])
        exposure = self.exposure[i_idx, j_idx]
        return pd.DataFrame(
            {
                "id": ids[i_idx],
                "interval": j_idx,
                "tstart": tstart,
                "tstop": tstart + exposure,
                "exposure": exposure,
                "event": self.event_matrix[i_idx, j_idx],
            }
        )


def time_in_intervals(
    t: np.ndarray, bounds: np.ndarray, entry: np.ndarray | None = None
) -> np.ndarray:
    """Time spent in each interval by a follow-up ``(entry, t]``: the exposure overlap.

    Parameters
    ----------
    t : array-like
        Follow-up (stop) times (any shape).
    bounds : ndarray, shape (J + 1,)
        Interval boundaries ``[0, c_1, ..., c_k, end]`` (``end`` may be ``inf``).
    entry : array-like, optional
        Entry times, same shape as ``t`` (default 0: at risk from time 0).

    Returns
    -------
    ndarray, shape ``t.shape + (J,)``
        ``|(a_j, b_j] ∩ (entry, t]|`` per interval ``j``.
    """
    t = np.asarray(t, dtype=float)[..., None]
    lower, upper = bounds[:-1], bounds[1:]
    start = lower if entry is None else np.maximum(lower, np.asarray(entry, dtype=float)[..., None])
    return np.clip(np.minimum(t, upper) - start, 0.0, None)


def expand(
    time: np.ndarray,
    event: np.ndarray,
    cuts: np.ndarray,
    entry: np.ndarray | None = None,
    *,
    horizon: float | None = None,
) -> PersonPeriod:
    """Split each row's time at risk at the cuts.

    Parameters
    ----------
    time : ndarray, shape (n,)
        Follow-up (stop) times (> 0, already validated).
    event : ndarray, shape (n,)
        0/1 event indicators (an event happens at ``time``).
    cuts : ndarray, shape (k,)
        Sorted interior breakpoints (from :func:`resolve_cuts`).
    entry : ndarray, shape (n,), optional
        Entry times, ``0 <= entry < time`` (already validated): row ``i`` is at risk on
        ``(entry_i, time_i]`` only. ``None`` means entry at 0 for every row.
    horizon : float, optional
        See :class:`PersonPeriod` (default: the largest ``time``).

    Returns
    -------
    PersonPeriod
        Exposure matrix and the interval each row's time at risk ends in.
    """
    t = np.asarray(time, dtype=float)
    c = np.asarray(cuts, dtype=float)
    exposure = time_in_intervals(t, np.concatenate([[0.0], c, [np.inf]]), entry)
    interval = np.searchsorted(c, t, side="left")
    return PersonPeriod(
        cuts=c,
        exposure=exposure,
        interval=interval.astype(np.int64),
        event=np.asarray(event, dtype=np.int64),
        entry=None if entry is None else np.asarray(entry, dtype=float).copy(),
        time=t.copy(),
        horizon=horizon,
    )


def partition_only(cuts: np.ndarray, horizon: float) -> PersonPeriod:
    """The intervals of ``cuts`` with no rows: what a prior needs (bounds, widths to ``horizon``).

    :func:`expand` of the data at the same cuts gives the same ``bounds`` and ``widths`` (with
    ``horizon`` its largest time) but also an ``n x J`` exposure matrix: 2 GB for cuts at
    each of 12,000 event times at n = 20,000 (issue 21), not needed to draw from the prior.
    """
    c = np.asarray(cuts, dtype=float)
    empty = np.zeros(0, dtype=np.int64)
    return PersonPeriod(
        cuts=c,
        exposure=np.zeros((0, c.size + 1)),
        interval=empty,
        event=empty,
        time=np.zeros(0),
        horizon=float(horizon),
    )


def interval_labels(pp: PersonPeriod) -> list[str]:
    """Return labels ``"(0, c1]", ..., "(ck, inf)"`` for the intervals."""
    b = pp.bounds
    labels = [f"({b[j]:g}, {b[j + 1]:g}]" for j in range(pp.n_intervals - 1)]
    return [*labels, f"({b[-2]:g}, inf)"]
