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

import numpy as np

from necc_bayes.data.reference import km_on_grid
from necc_bayes.spec.model import PHTransform as Transform


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


def interval_residuals(
    X: np.ndarray, exposure: np.ndarray, events: np.ndarray, eta: np.ndarray
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
    outer = (X[:, :, None] * X[:, None, :]).reshape(n, p * p)
    second = (flat @ outer).reshape(*lead, p, p) / safe[..., None, None]
    cov = second - mean[..., :, None] * mean[..., None, :]
    d = np.broadcast_to(events.sum(axis=-2), total.shape)
    ev = np.ascontiguousarray(np.swapaxes(events, -1, -2))
    observed = (ev.reshape(-1, n) @ X).reshape(*ev.shape[:-1], p)
    return IntervalResiduals(R=observed - d[..., None] * mean, V=d[..., None, None] * cov, d=d)


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
    time: np.ndarray, event: np.ndarray, bounds: np.ndarray, kind: Transform = "km"
) -> np.ndarray:
    """The time transform ``g_j`` per interval.

    ``G(t)`` is ``1 - KM(t-)`` (``"km"``), ``t`` (``"identity"``) or ``log t`` (``"log"``);
    ``g_j`` is its mean over the observed event times in interval ``j`` (``G`` at the interval's
    start when it holds no events: replicate cohorts may have events there).

    Parameters
    ----------
    time, event : ndarray, shape (n,)
        Observed follow-up and 0/1 events.
    bounds : ndarray, shape (J + 1,)
        ``[0, c_1, ..., c_k, inf]``.
    kind : {"km", "identity", "log"}
        The transform.

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
            return 1.0 - km_on_grid(time, event, np.maximum(left, 0.0))
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
