"""Posterior survival curves, medians, survival at given times and RMST, all exact per draw.

For a covariate profile ``x`` (in the model's coding: centred when the spec centres) the
cumulative hazard of a piecewise-exponential model is piecewise linear,
``H(t | x) = exp(x' beta) * sum_j lambda_j * |(a_j, b_j] ∩ (0, t]|``, so the survival curve,
its median (where ``H = log 2``) and the restricted mean survival time
``RMST(tau) = ∫_0^tau S(t) dt`` are computed in closed form for every posterior draw; the
credible intervals are equal-tailed quantiles over draws.

Time-varying effects: ``log_hr`` may also be given per interval, shape ``(draws, J, p)``; the
profile's hazard in interval ``j`` is then ``lambda_j exp(x' beta_j)`` and every formula below
holds with these hazards.

Delayed entry: when no one is at risk before an origin ``t0 > 0`` (the earliest entry time),
the hazard on ``(0, t0]`` is informed by the prior only, so curves are reported conditional
on survival to ``t0``: ``S(t | T > t0) = exp(-(H(t) - H(t0)))`` for ``t >= t0`` and 1 before.
:func:`condition_on` rewrites the baseline pieces so that every function here computes that
conditional curve, its median and ``RMST(tau) = E[min(T, tau) | T > t0]`` unchanged.

Shared frailty: with ``frailty_sd`` given (one value per draw) the curves are
**population-averaged** (marginal over clusters): ``S_m(t) = E_b[exp(-H(t) e^b)]`` with
``b ~ Normal(0, frailty_sd)``, computed by ``N_NODES``-point Gauss–Hermite quadrature per draw;
its median solves ``S_m(t) = 1/2`` (bisection on ``H``, then the exact inverse of the piecewise
linear ``H``) and its RMST is the quadrature average of the exact conditional RMSTs. Without
``frailty_sd`` the curves are **conditional** on the log-frailty ``b = 0`` (a cluster of median
frailty), as are the hazard ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from necc_bayes.survival.intervals import time_in_intervals

N_NODES = 40
"""Gauss–Hermite nodes for population-averaged (marginal) curves over the frailty."""


def frailty_nodes(frailty_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes ``b`` (draws, K) and weights (K,) of ``b ~ Normal(0, frailty_sd)``."""
    x, w = np.polynomial.hermite.hermgauss(N_NODES)
    sd = np.asarray(frailty_sd, dtype=float)
    return np.sqrt(2.0) * sd[:, None] * x[None, :], w / np.sqrt(np.pi)


def _marginal(H: np.ndarray, frailty_sd: np.ndarray) -> np.ndarray:
    """``E_b[exp(-H e^b)]`` for ``H`` of shape (draws, ...), ``b ~ Normal(0, sd_draw)``."""
    b, w = frailty_nodes(frailty_sd)
    shape = (H.shape[0],) + (1,) * (H.ndim - 1) + (N_NODES,)
    return (np.exp(-H[..., None] * np.exp(b).reshape(shape)) * w).sum(-1)


@dataclass(frozen=True)
class Profile:
    """A named covariate profile in the model's coding (length-p vector)."""

    name: str
    x: np.ndarray


def profile_hazard(lam: np.ndarray, log_hr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Hazard of profile ``x`` per draw and interval, ``(draws, J)``.

    ``log_hr`` is ``(draws, p)`` (proportional hazards) or ``(draws, J, p)`` (per interval).
    """
    if log_hr.ndim == 3:
        return lam * np.exp(np.einsum("sjp,p->sj", log_hr, x))
    return lam * np.exp(log_hr @ x)[:, None]


def condition_log_hr(log_hr: np.ndarray, bounds: np.ndarray, origin: float) -> np.ndarray:
    """Per-interval log-HRs ``(draws, J, p)`` on the bounds :func:`condition_on` returns.

    A boundary inserted at ``origin`` splits an interval in two pieces with the same log-HR.
    ``(draws, p)`` log-HRs are returned unchanged.
    """
    if log_hr.ndim != 3 or origin <= 0:
        return log_hr
    j = int(np.searchsorted(bounds, origin, side="right")) - 1
    if bounds[j] < origin:
        return np.concatenate([log_hr[:, : j + 1], log_hr[:, j:]], axis=1)
    return log_hr


def condition_on(
    lam: np.ndarray, bounds: np.ndarray, origin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Baseline pieces of the survival curve conditional on ``T > origin``.

    Parameters
    ----------
    lam : ndarray, shape (draws, J)
        Baseline rates per draw.
    bounds : ndarray, shape (J + 1,)
        Interval boundaries ``[0, c_1, ..., c_k, inf]``.
    origin : float
        Time the curve is conditioned on (``>= 0``; 0 returns the inputs).

    Returns
    -------
    lam, bounds : ndarray
        ``origin`` inserted as a boundary (if it is not one) and the hazard set to 0 before
        it, so that ``H(t)`` becomes ``H(max(t, origin)) - H(origin)``.
    """
    lam = np.asarray(lam, dtype=float)
    if origin <= 0:
        return lam, bounds
    j = int(np.searchsorted(bounds, origin, side="right")) - 1  # origin in [b_j, b_{j+1})
    if bounds[j] < origin:
        bounds = np.concatenate([bounds[: j + 1], [origin], bounds[j + 1 :]])
        lam = np.concatenate([lam[:, : j + 1], lam[:, j:]], axis=1)
        j += 1
    lam = lam.copy()
    lam[:, :j] = 0.0
    return lam, bounds


def cumulative_hazard(
    t: np.ndarray, lam: np.ndarray, log_hr: np.ndarray, x: np.ndarray, bounds: np.ndarray
) -> np.ndarray:
    """Return ``H(t | x)`` for every draw: shape (draws, len(t)).

    Parameters
    ----------
    t : ndarray
        Times.
    lam : ndarray, shape (draws, J)
        Baseline rates per draw.
    log_hr : ndarray, shape (draws, p) or (draws, J, p)
        Log hazard ratios per draw (per interval for time-varying effects).
    x : ndarray, shape (p,)
        Profile in the model's coding.
    bounds : ndarray, shape (J + 1,)
        Interval boundaries ``[0, c_1, ..., c_k, inf]``.
    """
    h = profile_hazard(lam, log_hr, x)
    return h @ time_in_intervals(np.asarray(t, dtype=float).ravel(), bounds).T


def median_survival(
    lam: np.ndarray,
    log_hr: np.ndarray,
    x: np.ndarray,
    bounds: np.ndarray,
    frailty_sd: np.ndarray | None = None,
):
    """Return the exact median survival time per draw (``inf`` if the hazard is zero after).

    With ``frailty_sd`` the median of the population-averaged curve.
    """
    h = profile_hazard(lam, log_hr, x)  # (draws, J) hazards of the profile
    widths = np.diff(bounds)
    H_end = np.cumsum(np.where(np.isinf(widths), np.inf, h * widths), axis=1)
    H_start = np.concatenate([np.zeros((h.shape[0], 1)), H_end[:, :-1]], axis=1)
    target = np.full(h.shape[0], np.log(2.0))
    if frailty_sd is not None:  # H* with E_b[exp(-H* e^b)] = 1/2, by bisection on log H
        lo, hi = np.full_like(target, -30.0), np.full_like(target, 30.0)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            above = _marginal(np.exp(mid), frailty_sd) > 0.5
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        target = np.exp(0.5 * (lo + hi))
    j = np.argmax(H_end >= target[:, None], axis=1)
    rows = np.arange(h.shape[0])
    with np.errstate(divide="ignore"):
        out = bounds[j] + (target - H_start[rows, j]) / h[rows, j]
    return np.where(np.isfinite(out), out, np.inf)


def survival_curve(
    t: np.ndarray,
    lam: np.ndarray,
    log_hr: np.ndarray,
    x: np.ndarray,
    bounds: np.ndarray,
    frailty_sd: np.ndarray | None = None,
) -> np.ndarray:
    """``S(t | x)`` per draw, shape (draws, len(t)); population-averaged with ``frailty_sd``."""
    H = cumulative_hazard(t, lam, log_hr, x, bounds)
    return np.exp(-H) if frailty_sd is None else _marginal(H, frailty_sd)


def rmst(
    lam: np.ndarray,
    log_hr: np.ndarray,
    x: np.ndarray,
    bounds: np.ndarray,
    tau: float,
    frailty_sd: np.ndarray | None = None,
):
    """Return the restricted mean survival time up to ``tau`` per draw (exact).

    With ``frailty_sd`` that of the population-averaged curve (quadrature over the frailty of
    the exact conditional RMSTs).
    """
    if frailty_sd is not None:
        b, w = frailty_nodes(frailty_sd)
        return sum(
            w[k] * rmst(lam * np.exp(b[:, k])[:, None], log_hr, x, bounds, tau)
            for k in range(N_NODES)
        )
    h = profile_hazard(lam, log_hr, x)
    a = np.minimum(bounds[:-1], tau)
    b = np.minimum(bounds[1:], tau)
    width = b - a
    H_start = np.concatenate(
        [np.zeros((h.shape[0], 1)), np.cumsum(h * np.where(np.isinf(width), 0, width), 1)[:, :-1]],
        axis=1,
    )
    S_start = np.exp(-H_start)
    with np.errstate(divide="ignore", invalid="ignore"):
        piece = np.where(h > 0, S_start * -np.expm1(-h * width) / h, S_start * width)
    return piece.sum(axis=1)


def _quantiles(draws: np.ndarray, ci_prob: float) -> tuple[np.ndarray, ...]:
    tail = (1.0 - ci_prob) / 2.0
    return (
        np.quantile(draws, 0.5, axis=0),
        np.quantile(draws, tail, axis=0),
        np.quantile(draws, 1.0 - tail, axis=0),
    )


def survival_table(
    lam: np.ndarray,
    log_hr: np.ndarray,
    bounds: np.ndarray,
    profiles: list[Profile],
    grid: np.ndarray,
    *,
    ci_prob: float = 0.95,
    frailty_sd: np.ndarray | None = None,
) -> pd.DataFrame:
    """Posterior survival curves on a time grid with pointwise equal-tailed bands.

    ``frailty_sd`` (per draw): population-averaged curves (see the module docstring).

    Returns
    -------
    DataFrame
        Columns ``profile, time, surv_median, surv_low, surv_high, surv_mean``.
    """
    frames = []
    for prof in profiles:
        S = survival_curve(grid, lam, log_hr, prof.x, bounds, frailty_sd)
        med, low, high = _quantiles(S, ci_prob)
        frames.append(
            pd.DataFrame(
                {
                    "profile": prof.name,
                    "time": grid,
                    "surv_median": med,
                    "surv_low": low,
                    "surv_high": high,
                    "surv_mean": S.mean(axis=0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def profile_quantities(
    lam: np.ndarray,
    log_hr: np.ndarray,
    bounds: np.ndarray,
    prof: Profile,
    times: list[float],
    horizon: float,
    frailty_sd: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per-draw median survival, S(t) at each requested time, and RMST up to ``horizon``."""
    out = {"median_survival": median_survival(lam, log_hr, prof.x, bounds, frailty_sd)}
    S = survival_curve(np.asarray(times, float), lam, log_hr, prof.x, bounds, frailty_sd)
    for k, t in enumerate(times):
        out[f"surv_at_{t:g}"] = S[:, k]
    out[f"rmst_{horizon:g}"] = rmst(lam, log_hr, prof.x, bounds, horizon, frailty_sd)
    return out


def _beyond(quantity: str, median: float, follow_up_max: float) -> bool:
    """Whether a summary quantity reads the curve past the largest follow-up time."""
    if quantity.startswith("surv_at_"):
        return float(quantity.removeprefix("surv_at_")) > follow_up_max
    if quantity.startswith("rmst_"):
        return float(quantity.removeprefix("rmst_")) > follow_up_max
    return bool(median > follow_up_max)  # median survival (inf when never reached)


def summary_table(
    lam: np.ndarray,
    log_hr: np.ndarray,
    bounds: np.ndarray,
    profiles: list[Profile],
    *,
    times: list[float],
    horizon: float,
    follow_up_max: float,
    ci_prob: float = 0.95,
    contrasts: list[tuple[str, str]] | None = None,
    frailty_sd: np.ndarray | None = None,
) -> pd.DataFrame:
    """Medians, S at given times and RMST per profile, and differences between profiles.

    Parameters
    ----------
    contrasts : list of (str, str), optional
        Pairs ``(a, b)`` of profile names; the difference ``a - b`` of every quantity is
        reported with its credible interval (profile name ``"a - b"``).
    frailty_sd : ndarray, optional
        Per-draw frailty SD: population-averaged quantities (module docstring).

    Returns
    -------
    DataFrame
        Columns ``profile, quantity, mean, median, low, high, p_beyond_follow_up,
        beyond_follow_up``: ``p_beyond_follow_up`` is, for medians, the share of draws whose
        median lies beyond the largest follow-up time (an extrapolation of the last
        interval's constant hazard); ``beyond_follow_up`` flags every quantity that reads the
        curve past the largest follow-up time (``surv_at_t`` with ``t`` beyond it, an RMST
        horizon beyond it, a posterior median survival beyond it).
    """
    per_profile = {
        p.name: profile_quantities(lam, log_hr, bounds, p, times, horizon, frailty_sd)
        for p in profiles
    }
    rows = []

    def add(name: str, quantities: dict[str, np.ndarray], *, contrast: bool = False) -> None:
        for q, draws in quantities.items():
            finite = draws[np.isfinite(draws)] if q == "median_survival" else draws
            med, low, high = (
                _quantiles(draws, ci_prob) if finite.size == draws.size else (np.nan,) * 3
            )
            if q == "median_survival" and finite.size != draws.size:
                tail = (1.0 - ci_prob) / 2.0
                med, low, high = (np.quantile(draws, p) for p in (0.5, tail, 1 - tail))
            rows.append(
                {
                    "profile": name,
                    "quantity": q,
                    "mean": float(np.mean(finite)) if finite.size else np.nan,
                    "median": float(med),
                    "low": float(low),
                    "high": float(high),
                    "p_beyond_follow_up": float(np.mean(draws > follow_up_max))
                    if q == "median_survival" and not contrast
                    else np.nan,
                    "beyond_follow_up": _beyond(
                        q, -np.inf if contrast else float(med), follow_up_max
                    ),
                }
            )

    for name, quantities in per_profile.items():
        add(name, quantities)
    for a, b in contrasts or []:
        qa, qb = per_profile[a], per_profile[b]
        add(f"{a} - {b}", {q: qa[q] - qb[q] for q in qa}, contrast=True)
    return pd.DataFrame(rows)
