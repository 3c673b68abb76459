"""Frequentist references computed from the data: Kaplan–Meier curves and the Cox model.

One implementation of each, used wherever the package needs one (the fit report's overlays,
the posterior predictive check, the fragility table, the synthetic cohort's acceptance rule):

* Kaplan–Meier: :func:`scipy.stats.ecdf` on :class:`scipy.stats.CensoredData` (right
  censoring), with its Greenwood confidence band;
* Cox proportional hazards with Breslow ties: statsmodels ``PHReg(ties="breslow")``. A PEM
  with a cut at every event time and flat priors approximates exactly this model.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

Z_95 = 1.959964
"""Standard-normal 97.5% quantile (the 95% Wald interval)."""


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> Any:
    """Kaplan–Meier estimate of right-censored data (scipy's ``ecdf(...).sf``).

    Parameters
    ----------
    time : ndarray, shape (n,)
        Follow-up times.
    event : ndarray, shape (n,)
        0/1 (or boolean) event indicators; at least one event.

    Returns
    -------
    scipy.stats._survival.EmpiricalDistributionFunction
        ``.evaluate(t)``, ``.quantiles`` (event times), ``.probabilities`` (S after each)
        and ``.confidence_interval(level)``.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    return stats.ecdf(stats.CensoredData(uncensored=time[event], right=time[~event])).sf


def km_on_grid(
    time: np.ndarray, event: np.ndarray, grid: np.ndarray, entry: np.ndarray | None = None
) -> np.ndarray:
    """Kaplan–Meier survival on a grid of times (all ones when there is no event).

    With ``entry`` the left-truncated product-limit estimator (risk sets ``entry < t <=
    time``, :func:`kaplan_meier_many`).
    """
    grid = np.asarray(grid, dtype=float)
    if entry is not None:
        time, event = np.asarray(time)[None, :], np.asarray(event)[None, :]
        return kaplan_meier_many(time, event, grid, entry)[0]
    if not np.asarray(event).astype(bool).any():
        return np.ones(grid.shape)
    return np.asarray(kaplan_meier(time, event).evaluate(grid))


def km_median(time: np.ndarray, event: np.ndarray) -> float:
    """Kaplan–Meier median: the first time with ``S(t) <= 0.5`` (NaN if never)."""
    sf = kaplan_meier(time, event)
    below = sf.quantiles[sf.probabilities <= 0.5]
    return float(below[0]) if below.size else float("nan")


@dataclass(frozen=True)
class SortedSamples:
    """Many samples of ``(time, event)``, each row in Kaplan–Meier order.

    Rows are sorted by time with events before censorings at tied times
    (:func:`sort_samples`); a subset of subjects keeps that order (:meth:`subset`), so the
    samples of every covariate level reuse one sort.

    Attributes
    ----------
    time, event : ndarray, shape (R, n)
        Sorted times and event flags of each sample.
    order : ndarray of int, shape (R, n), or None
        The subject (column of the unsorted samples) at each sorted position (None for a
        subset, which cannot be subset again).
    """

    time: np.ndarray
    event: np.ndarray
    order: np.ndarray | None

    def subset(self, sel: np.ndarray) -> SortedSamples:
        """The samples of the subjects ``sel`` (a boolean mask over the ``n`` columns)."""
        if self.order is None:
            raise ValueError("a subset of sorted samples cannot be subset again")
        sel = np.asarray(sel, dtype=bool)
        keep = sel[self.order]
        shape = (self.time.shape[0], int(sel.sum()))
        return SortedSamples(
            time=self.time[keep].reshape(shape), event=self.event[keep].reshape(shape), order=None
        )


def sort_samples(time: np.ndarray, event: np.ndarray) -> SortedSamples:
    """Sort each row of ``(R, n)`` samples for :func:`km_sorted` (events first at ties)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    order = np.lexsort((~event, time), axis=-1)
    return SortedSamples(
        time=np.take_along_axis(time, order, axis=-1),
        event=np.take_along_axis(event, order, axis=-1),
        order=order,
    )


def kaplan_meier_many(
    time: np.ndarray, event: np.ndarray, grid: np.ndarray, entry: np.ndarray | None = None
) -> np.ndarray:
    """Kaplan–Meier curves of many samples at once, on a common grid.

    At tied times events are placed before censorings, and tied events are processed one by
    one with at-risk counts ``n, n-1, ...``, whose product is exactly the Kaplan–Meier factor
    ``1 - d/n``. With delayed entry the risk set at the ``k``-th exit time ``t_k`` (in sorted
    order) is ``#{entry < t_k} - k`` (the product-limit estimator under left truncation).

    Parameters
    ----------
    time, event : ndarray, shape (R, n)
        One sample per row.
    grid : ndarray, shape (G,)
        Evaluation times.
    entry : ndarray, shape (n,), optional
        Entry times shared by every sample (``entry < time``); default 0.

    Returns
    -------
    ndarray, shape (R, G)
        ``S(t)`` per sample and grid time.
    """
    return km_sorted(sort_samples(time, event), grid, entry)


def km_sorted(
    samples: SortedSamples, grid: np.ndarray, entry: np.ndarray | None = None
) -> np.ndarray:
    """:func:`kaplan_meier_many` of already sorted samples (the same numbers)."""
    t_sorted, e_sorted = samples.time, samples.event
    n_rows, n = t_sorted.shape
    entered = n if entry is None else np.searchsorted(np.sort(entry), t_sorted, side="left")
    at_risk = entered - np.arange(n)
    with np.errstate(divide="ignore"):
        log_factor = np.where(e_sorted, np.log1p(-1.0 / at_risk), 0.0)
    cum = np.concatenate([np.zeros((n_rows, 1)), np.cumsum(log_factor, axis=1)], axis=1)
    grid = np.asarray(grid, dtype=float)
    # k = #{exit times <= t} per sample: a binary search per row (O(R G log n)), not a pass
    # over every time per grid point (O(R G n): minutes at n = 20,000 with G = event times)
    k = np.stack([np.searchsorted(row, grid, side="right") for row in t_sorted])
    return np.exp(np.take_along_axis(cum, k, axis=1))


@dataclass(frozen=True)
class KMStep:
    """A Kaplan–Meier curve as a step function from time 0 to the last follow-up time.

    Attributes
    ----------
    time : ndarray
        ``0``, each event time, the largest follow-up time.
    surv : ndarray
        ``S`` from each time on (``where="post"`` steps).
    low, high : ndarray or None
        Pointwise confidence band (Greenwood, scipy's default), same length; None when not
        asked for.
    n : int
        Number of subjects.
    """

    time: np.ndarray
    surv: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    n: int


def km_step(
    time: np.ndarray,
    event: np.ndarray,
    *,
    band: float | None = None,
    entry: np.ndarray | None = None,
) -> KMStep | None:
    """The Kaplan–Meier curve of one sample, ready to draw; None without events.

    Parameters
    ----------
    time, event : ndarray, shape (n,)
        Follow-up times and 0/1 event indicators.
    band : float, optional
        Confidence level of the pointwise band (e.g. 0.95); no band when None. Where the
        Greenwood band is undefined (at ``S = 0``) it is taken as ``[0, 1]``.
    entry : ndarray, shape (n,), optional
        Entry times (delayed entry, or (start, stop] rows): the left-truncated product-limit
        curve (:func:`kaplan_meier_many`), drawn without a band.
    """
    time = np.asarray(time, dtype=float)
    if not np.asarray(event).astype(bool).any():
        return None
    if entry is not None:
        ev = np.asarray(event).astype(bool)
        steps = np.concatenate([[0.0], np.unique(time[ev]), [float(time.max())]])
        surv = kaplan_meier_many(time[None, :], ev[None, :], steps, entry)[0]
        return KMStep(time=steps, surv=surv, low=None, high=None, n=int(time.size))
    sf = kaplan_meier(time, event)

    def padded(p: np.ndarray, first: float = 1.0) -> np.ndarray:
        return np.concatenate([[first], p, [p[-1]]])

    low = high = None
    if band is not None:
        with warnings.catch_warnings():
            # where S reaches 0 Greenwood's band is undefined: scipy says so and returns NaN,
            # which is drawn as the band's edge (0 below, 1 above)
            warnings.filterwarnings(
                "ignore", "The confidence interval is undefined", RuntimeWarning
            )
            ci = sf.confidence_interval(band)
        low = np.nan_to_num(padded(ci.low.probabilities))
        high = np.nan_to_num(padded(ci.high.probabilities), nan=1.0)
    return KMStep(
        time=np.concatenate([[0.0], sf.quantiles, [float(time.max())]]),
        surv=padded(sf.probabilities),
        low=low,
        high=high,
        n=int(time.size),
    )


@dataclass(frozen=True)
class CoxFit:
    """A Cox proportional-hazards fit (Breslow ties).

    Attributes
    ----------
    beta, se : ndarray, shape (p,)
        Log hazard ratios and their standard errors.
    converged : bool
        False when the optimiser warned, or an estimate is not finite or beyond
        ``|beta| < 10`` with ``se < 10``: the signs of a monotone likelihood (separation),
        where no finite estimate exists and the printed one is an artefact of where the
        optimiser stopped.
    """

    beta: np.ndarray
    se: np.ndarray
    converged: bool

    def hazard_ratio(self, k: int = 0) -> tuple[float, float, float]:
        """``(HR, low, high)`` of term ``k`` with its 95% Wald interval."""
        b, s = float(self.beta[k]), float(self.se[k])
        with np.errstate(over="ignore"):
            low, high = np.exp(b + np.array([-Z_95, Z_95]) * s)
        return math.exp(b), float(low), float(high)


def cox_breslow(
    time: np.ndarray, event: np.ndarray, X: np.ndarray, entry: np.ndarray | None = None
) -> CoxFit:
    """Fit the Cox model with Breslow ties (statsmodels ``PHReg``).

    Parameters
    ----------
    time, event : ndarray, shape (n,)
        Follow-up times and 0/1 event indicators.
    X : ndarray, shape (n, p)
        Covariates.
    entry : ndarray, shape (n,), optional
        Entry times (delayed entry: row ``i`` at risk on ``(entry_i, time_i]``).

    Returns
    -------
    CoxFit
    """
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning

    model = PHReg(
        np.asarray(time, dtype=float),
        np.asarray(X, dtype=float),
        status=np.asarray(event, dtype=float),
        entry=None if entry is None else np.asarray(entry, dtype=float),
        ties="breslow",
    )
    for method in ("newton", "bfgs"):
        # Newton from 0 overflows on a skewed covariate (pbc's bili: NaN); BFGS then finds
        # the maximum (pbc bili: 0.1418 per mg/dl)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(all="ignore"):
                res = model.fit(method=method)
        beta, se = np.asarray(res.params, dtype=float), np.asarray(res.bse, dtype=float)
        finite = bool(np.all(np.isfinite(beta)) and np.all(np.isfinite(se)))
        if finite:
            break
    warned = any(issubclass(w.category, SMConvergenceWarning) for w in caught)
    converged = not warned and finite and bool(np.all(np.abs(beta) < 10)) and bool(np.all(se < 10))
    return CoxFit(beta=beta, se=se, converged=converged)
