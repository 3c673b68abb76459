"""Score statistics for a trend of the log hazard ratio over time, in plain numpy.

The arithmetic behind the proportional-hazards check (``ph_check.py``), kept free of posterior
bookkeeping so tests can compare it with hand computations and with ``cox.zph``.

The piecewise-exponential model is a Poisson model for the event counts ``D_ij`` of subject (or
covariate pattern) ``i`` in interval ``j`` with mean ``E_ij lambda_j exp(eta_ij)``. Widen it
by a term ``theta_k g_j x_ik`` in ``eta`` (the log-HR of term ``k`` moves by ``theta_k`` per
unit of a time transform ``g``): proportional hazards is ``theta = 0``. Profiling the baseline
rates (``lambda_j = d_j / sum_i E_ij exp(eta_ij)``) leaves, per interval,

* ``R_j = sum_i D_ij x_i - d_j xbar_j`` — observed minus expected covariate sum over the
  interval's events, ``xbar_j`` the exposure-weighted mean ``sum_i w_ij x_i / sum_i w_ij`` with
  ``w_ij = E_ij exp(eta_ij)``: the interval's summed Schoenfeld residuals;
* ``V_j = d_j Cov_w(x)`` — its information (the weighted covariance of ``x`` in the interval
  times its events).

Every parameter of interest is a linear functional "column ``a`` weighted by ``c_j`` across
intervals" (the constant log-HR: ``c = 1``; a per-interval deviation: ``c = e_j``; the trend:
``c = g``). Its score is ``sum_j c_j R_ja`` and the information between two of them
``sum_j c_j c'_j V_jab``. The efficient score of the trend parameters (nuisance: every
constant log-HR and any per-interval deviations already in the model) and its chi-square
statistic follow from these blocks. With cuts at every event time this is the score test
``cox.zph`` computes from the Cox partial likelihood (Grambsch & Therneau 1994).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from necc_bayes.data.reference import km_on_grid
from necc_bayes.spec.model import PHTransform as Transform
from necc_bayes.survival.intervals import time_in_intervals


@dataclass(frozen=True)
class IntervalResiduals:
    """Per-interval score blocks (leading axes: draws or replicates).

    Attributes
    ----------
    R : ndarray, shape (..., J, p)
        Observed minus expected covariate sums over each interval's events.
    V : ndarray, shape (..., J, p, p)
        Their information: events times the exposure-weighted covariance of ``x``.
    d : ndarray, shape (..., J)
        Events per interval.
    """

    R: np.ndarray
    V: np.ndarray
    d: np.ndarray

    def first(self) -> IntervalResiduals:
        """The residuals of the first draw (drop the leading axis)."""
        return IntervalResiduals(R=self.R[0], V=self.V[0], d=self.d[0])

    def __add__(self, other: IntervalResiduals) -> IntervalResiduals:
        """Sum over independent parts (strata): scores and informations add."""
        return IntervalResiduals(R=self.R + other.R, V=self.V + other.V, d=self.d + other.d)


def interval_residuals(
    X: np.ndarray,
    exposure: np.ndarray,
    events: np.ndarray,
    eta: np.ndarray,
    *,
    outer: np.ndarray | None = None,
) -> IntervalResiduals:
    """Compute :class:`IntervalResiduals` for one or many data sets / parameter draws.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Covariates of the ``n`` subjects or patterns (the model's coding).
    exposure, events : ndarray, shape (..., n, J)
        Time at risk and event counts per subject and interval.
    eta : ndarray, shape (..., n, J)
        Linear predictor (log relative hazard) per subject and interval; broadcast against
        ``exposure``.
    outer : ndarray, shape (n, p * p), optional
        :func:`outer_products` of ``X``, when the caller reuses it across calls.

    Returns
    -------
    IntervalResiduals
        Leading axes of the broadcast of ``exposure`` and ``eta``.
    """
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    # (..., J, n), contiguous, so that the sums over subjects are 2-D matrix products (BLAS):
    # the three-operand einsum took ~2 minutes per fit at n = 20,000 (issue 21)
    w = np.ascontiguousarray(np.swapaxes(np.asarray(exposure, dtype=float) * np.exp(eta), -1, -2))
    lead = w.shape[:-1]  # (..., J)
    events = np.asarray(events, dtype=float)
    total = w.sum(axis=-1)
    safe = np.where(total > 0, total, 1.0)
    flat = w.reshape(-1, n)
    mean = (flat @ X).reshape(*lead, p) / safe[..., None]
    outer = outer_products(X) if outer is None else outer
    second = (flat @ outer).reshape(*lead, p, p) / safe[..., None, None]
    cov = second - mean[..., :, None] * mean[..., None, :]
    d = np.broadcast_to(events.sum(axis=-2), total.shape)
    ev = np.ascontiguousarray(np.swapaxes(events, -1, -2))
    observed = (ev.reshape(-1, n) @ X).reshape(*ev.shape[:-1], p)
    return IntervalResiduals(R=observed - d[..., None] * mean, V=d[..., None, None] * cov, d=d)


def outer_products(X: np.ndarray) -> np.ndarray:
    """Row-wise ``x_i x_i'`` flattened, shape ``(n, p * p)`` (the second-moment design)."""
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    return (X[:, :, None] * X[:, None, :]).reshape(n, p * p)


def expand_many(
    time: np.ndarray, event: np.ndarray, bounds: np.ndarray, entry: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exposure and event matrices of many cohorts at once, shape ``(..., n, J)``.

    Row ``i`` is at risk on ``(entry_i, time_i]`` (``entry`` broadcast against ``time``).
    """
    exposure = time_in_intervals(time, bounds, entry)
    which = np.searchsorted(bounds[1:-1], time, side="left")
    n_int = bounds.size - 1
    events = (np.arange(n_int) == which[..., None]) & np.asarray(event, bool)[..., None]
    return exposure, events.astype(float)


def linear_predictor(
    log_hr: np.ndarray, X: np.ndarray, n_int: int, offset: np.ndarray | None = None
) -> np.ndarray:
    """``eta`` of shape ``(S, n, J)`` from log-HRs ``(S, p)`` or per interval ``(S, J, p)``.

    ``offset`` ``(S, n)`` (a row's log-frailty per draw) is added in every interval.
    """
    if log_hr.ndim == 3:
        eta = np.einsum("sjp,np->snj", log_hr, X)
    else:
        eta = np.repeat((log_hr @ X.T)[..., None], n_int, axis=-1)
    return eta if offset is None else eta + offset[..., None]


_CELLS = 4_000_000  # (draws x rows x intervals) floats per batch


def draws_per_batch(n_rows: int, n_int: int) -> int:
    """Draws per batch of :func:`residuals_for_draws` (at least one)."""
    return max(1, _CELLS // max(1, n_rows * n_int))


def residuals_for_draws(
    X: np.ndarray,
    exposure: np.ndarray,
    events: np.ndarray,
    log_hr: np.ndarray,
    *,
    offset: np.ndarray | None = None,
    strata: np.ndarray | None = None,
) -> IntervalResiduals:
    """:func:`interval_residuals` for every draw, in batches (bounded memory).

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Covariates.
    exposure, events : ndarray, shape (n, J) or (S, n, J)
        Observed data (shared by every draw) or one replicate cohort per draw.
    log_hr : ndarray, shape (S, p) or (S, J, p)
        Log-HR draws.
    offset : ndarray, shape (S, n), optional
        Per-draw offsets of the linear predictor (cluster log-frailties).
    strata : ndarray of int, shape (n,), optional
        Stratum of each row: the baseline is profiled per stratum and interval, so the
        residuals are computed within each stratum and summed.

    Returns
    -------
    IntervalResiduals
        Leading axis: the draws.
    """
    n, n_int = X.shape[0], exposure.shape[-1]
    chunk = draws_per_batch(n, n_int)
    groups = [slice(None)] if strata is None else [strata == s for s in np.unique(strata)]
    outers = [outer_products(X[rows]) for rows in groups]  # shared by every batch
    parts = []
    for start in range(0, log_hr.shape[0], chunk):
        sl = slice(start, start + chunk)
        e = exposure[sl] if exposure.ndim == 3 else exposure
        d = events[sl] if events.ndim == 3 else events
        eta = linear_predictor(log_hr[sl], X, n_int, None if offset is None else offset[sl])
        total: IntervalResiduals | None = None
        for rows, outer in zip(groups, outers, strict=True):
            part = interval_residuals(
                X[rows], e[..., rows, :], d[..., rows, :], eta[:, rows, :], outer=outer
            )
            total = part if total is None else total + part
        assert total is not None
        parts.append(total)
    return IntervalResiduals(
        R=np.concatenate([p.R for p in parts]),
        V=np.concatenate([p.V for p in parts]),
        d=np.concatenate([p.d for p in parts]),
    )


def functionals(n_terms: int, weights: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """Stack parameters "column ``a`` weighted by ``c`` over intervals" into ``(r, J, p)``."""
    n_int = len(weights[0][1]) if weights else 0
    out = np.zeros((len(weights), n_int, n_terms))
    for r, (col, c) in enumerate(weights):
        out[r, :, col] = c
    return out


@dataclass(frozen=True)
class ScoreTest:
    """Efficient score test of trend parameters (leading axes as the residuals').

    Attributes
    ----------
    chisq : ndarray, shape (...)
        ``U' I^{-1} U`` with the efficient score ``U`` and information ``I``.
    slope : ndarray, shape (..., q)
        One-step estimate ``I^{-1} U`` of the trend parameters (change of the log-HR per unit
        of the time transform).
    df : int
        Number of trend parameters ``q``.
    """

    chisq: np.ndarray
    slope: np.ndarray
    df: int


def efficient_score_test(
    res: IntervalResiduals,
    g: np.ndarray,
    test_cols: list[int],
    *,
    varying_cols: tuple[int, ...] = (),
) -> ScoreTest:
    """Score test of ``theta = 0`` in ``log-HR_k(interval j) = beta_k + theta_k g_j``.

    Parameters
    ----------
    res : IntervalResiduals
        From :func:`interval_residuals`.
    g : ndarray, shape (J,)
        The time transform per interval (only its differences matter).
    test_cols : list of int
        Columns whose trend is tested jointly.
    varying_cols : tuple of int
        Columns with per-interval log-HRs already in the model: their deviations in
        intervals ``1..J-1`` are nuisance parameters (none of them may be tested).

    Returns
    -------
    ScoreTest
        NaN where the information is singular (e.g. no events).
    """
    p = res.R.shape[-1]
    n_int = res.R.shape[-2]
    g = np.asarray(g, dtype=float)
    ones = np.ones(n_int)
    nuisance = [(a, ones) for a in range(p)]
    for k in varying_cols:
        nuisance += [(k, np.eye(n_int)[j]) for j in range(1, n_int)]
    B = functionals(p, nuisance + [(k, g) for k in test_cols])
    U = np.einsum("rja,...ja->...r", B, res.R)
    info = np.einsum("rja,...jab,sjb->...rs", B, res.V, B)
    m = len(nuisance)
    U_t, U_n = U[..., m:], U[..., :m]
    I_tt, I_tn, I_nn = info[..., m:, m:], info[..., m:, :m], info[..., :m, :m]
    proj = np.linalg.pinv(I_nn, hermitian=True)  # the nuisance block may be singular
    A = I_tn @ proj  # (..., q, m)
    u_eff = U_t - np.einsum("...qm,...m->...q", A, U_n)
    i_eff = I_tt - A @ np.swapaxes(I_tn, -1, -2)
    q = len(test_cols)
    ok = np.linalg.det(i_eff) > 1e-10 * np.maximum(1.0, np.abs(I_tt).max(axis=(-1, -2))) ** q
    safe = np.where(ok[..., None, None], i_eff, np.eye(q))
    slope = np.linalg.solve(safe, u_eff[..., None])[..., 0]
    chisq = np.einsum("...q,...q->...", u_eff, slope)
    return ScoreTest(
        chisq=np.where(ok, chisq, np.nan), slope=np.where(ok[..., None], slope, np.nan), df=q
    )


def one_step_interval_log_hr(
    res: IntervalResiduals, beta: np.ndarray, col: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-interval log-HR of one column, one Newton step from the constant fit.

    ``b_j = beta_col + R_j,col / V_j,col,col`` with standard error ``V_j,col,col^(-1/2)``
    (the other log-HRs held at ``beta``): approximately the interval-by-interval
    (``factor(interval):x``) Poisson fit. NaN in intervals without events.

    Parameters
    ----------
    res : IntervalResiduals
        Residuals at ``beta`` (no leading axes).
    beta : ndarray, shape (p,)
        The constant log-HRs the residuals were computed at.
    col : int
        The column.

    Returns
    -------
    estimate, se : ndarray, shape (J,)
    """
    info = res.V[:, col, col]
    ok = info > 0
    safe = np.where(ok, info, 1.0)
    est = np.where(ok, beta[col] + res.R[:, col] / safe, np.nan)
    return est, np.where(ok, 1.0 / np.sqrt(safe), np.nan)


def time_transform(
    time: np.ndarray,
    event: np.ndarray,
    bounds: np.ndarray,
    kind: Transform = "km",
    entry: np.ndarray | None = None,
) -> np.ndarray:
    """The time transform ``g_j`` per interval.

    ``G(t)`` is ``1 - KM(t-)`` (``"km"``; left-truncated KM with entry times), ``t``
    (``"identity"``) or ``log t`` (``"log"``); ``g_j`` is its mean over the observed event times
    in interval ``j`` (``G`` at the interval's start when it holds no events: replicate cohorts
    may have events there).

    Parameters
    ----------
    time, event : ndarray, shape (n,)
        Observed follow-up and 0/1 events.
    bounds : ndarray, shape (J + 1,)
        ``[0, c_1, ..., c_k, inf]``.
    kind : {"km", "identity", "log"}
        The transform.
    entry : ndarray, shape (n,), optional
        Entry times (delayed entry, ``(start, stop]`` rows).

    Returns
    -------
    ndarray, shape (J,)
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    t_ev = np.sort(time[event])
    starts = bounds[:-1]

    def G(t: np.ndarray) -> np.ndarray:
        if kind == "km":
            left = np.nextafter(t, -np.inf)  # KM just before t
            return 1.0 - km_on_grid(time, event, np.maximum(left, 0.0), entry)
        if kind == "identity":
            return t
        if kind == "log":
            return np.log(np.maximum(t, np.min(time[time > 0]) / 2.0))
        raise ValueError(f"unknown time transform {kind!r} (km, identity, log)")

    g_events = G(t_ev)
    g_start = G(starts)
    which = np.searchsorted(bounds[1:-1], t_ev, side="left")
    out = np.empty(len(starts))
    for j in range(len(starts)):
        sel = which == j
        out[j] = g_events[sel].mean() if sel.any() else g_start[j]
    return out


INTERVAL_COLUMNS = [
    "term",
    "interval",
    "interval_start",
    "interval_end",
    "events",
    "log_hr",
    "log_hr_low",
    "log_hr_high",
    "log_hr_constant",
]


@dataclass(frozen=True)
class TrendTest:
    """One row of the check: the columns tested jointly."""

    term: str
    scope: Literal["term", "covariate", "global"]
    cols: list[int]


def trend_tests(terms: list[str], sources: list[str], varying: tuple[int, ...]) -> list[TrendTest]:
    """One test per term, one per covariate with several columns, and a global one."""
    tested = [k for k in range(len(terms)) if k not in varying]
    out = [TrendTest(terms[k], "term", [k]) for k in tested]
    for src in dict.fromkeys(sources):
        cols = [k for k in tested if sources[k] == src]
        if len(cols) > 1:
            out.append(TrendTest(src, "covariate", cols))
    if len(tested) > 1:
        out.append(TrendTest("GLOBAL", "global", tested))
    return out


def interval_table(
    res: IntervalResiduals,
    mean_beta: np.ndarray,
    terms: list[str],
    bounds: np.ndarray,
    varying: tuple[int, ...],
    ci_prob: float,
) -> pd.DataFrame:
    """Per term and interval: the one-step log-HR, its normal interval and the constant one."""
    z = stats.norm.ppf(0.5 + ci_prob / 2.0)
    n_int = bounds.size - 1
    constant = mean_beta if mean_beta.ndim == 1 else mean_beta.mean(axis=0)
    frames = []
    for k, term in enumerate(terms):
        if k in varying:
            continue
        est, se = one_step_interval_log_hr(res, constant, k)
        frames.append(
            pd.DataFrame(
                {
                    "term": term,
                    "interval": np.arange(n_int),
                    "interval_start": bounds[:-1],
                    "interval_end": bounds[1:],
                    "events": res.d.astype(int),
                    "log_hr": est,
                    "log_hr_low": est - z * se,
                    "log_hr_high": est + z * se,
                    "log_hr_constant": constant[k],
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=INTERVAL_COLUMNS)
    return pd.concat(frames, ignore_index=True)[INTERVAL_COLUMNS]
