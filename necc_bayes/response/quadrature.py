"""``P(contrast <= t)`` for two independent Beta-distributed response probabilities.

Each contrast of ``p_t ~ Beta(at, bt)`` and ``p_c ~ Beta(ac, bc)`` used here is a difference on
a transformed scale: ``p_t - p_c <= d``; ``p_t / p_c <= r`` iff ``log p_t <= log p_c + log r``;
the odds ratio ``<= k`` iff ``logit p_t <= logit p_c + log k``. So

    P(contrast <= t) = ∫ f_c(y) F_t(g_t(y)) dy,

``F_t`` the treated arm's CDF at the threshold ``g_t(y)`` the control value ``y`` implies. The
integral is taken over ``v = logit y``, where every Beta density is smooth and log-concave
with exponential tails (no endpoint singularity for shapes below 1: Jeffreys priors, 0/N or
N/N responders). The panels are cut at quantiles of *both* arms (the control's in ``v``
directly, the treated arm's mapped through ``g_t``): each panel then holds at most one grid
step of either distribution's mass, so no narrow peak or steep step (counts in the millions,
one arm much more concentrated than the other) can fall between nodes -- the failure modes of
the density-weighted QUADPACK integral this replaces (issue 22).

Probabilities near 1 are never formed as ``1 - q``: quantiles come from whichever of ``p`` and
``q = 1 - p`` is below 1/2 (``betaincinv(a, b, u)`` or ``betaincinv(b, a, 1 - u)``) and each
CDF from the matching tail (``I_p(a, b)`` or ``1 - I_q(b, a)``), so an arm like
Beta(10^6, 0.5), whose ``1 - p`` is mostly below the double precision of ``p``, keeps its
whole mass.

Each panel is integrated by Gauss-Kronrod (10/21 points); panels whose Gauss/Kronrod
difference is too large are bisected (up to :data:`MAX_ROUNDS` times). An integral whose total
error estimate stays above :data:`TOLERANCE` is refused (RuntimeError), never returned
inaccurate. The quantile grid of each arm is cached (it does not depend on the threshold), so
the many CDF evaluations of a root search cost a vectorised ``betainc`` each.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from scipy import special

Contrast = Literal["diff", "ratio", "odds"]

# Gauss-Kronrod 21-point rule on [-1, 1] (QUADPACK's qk21): positive abscissae, Kronrod weights
# and the weights of the embedded 10-point Gauss rule
_XK = np.array(
    [
        0.995657163025808080735527280689003,
        0.973906528517171720077964012084452,
        0.930157491355708226001207180059508,
        0.865063366688984510732096688423493,
        0.780817726586416897063717578345042,
        0.679409568299024406234327365114874,
        0.562757134668604683339000099272694,
        0.433395394129247190799265943165784,
        0.294392862701460198131126603103866,
        0.148874338981631210884826001129720,
        0.0,
    ]
)
_WK = np.array(
    [
        0.011694638867371874278064396062192,
        0.032558162307964727478818972459390,
        0.054755896574351996031381300244580,
        0.075039674810919952767043140916190,
        0.093125454583697605535065465083366,
        0.109387158802297641899210590325805,
        0.123491976262065851077208980223048,
        0.134709217311473325928054001771707,
        0.142775938577060080797094273138717,
        0.147739104901338491374841515972068,
        0.149445554002916905664936468389821,
    ]
)
_WG10 = np.array(
    [
        0.066671344308688137593568809893332,
        0.149451349150580593145776339657697,
        0.219086362515982043995534934228163,
        0.269266719309996355091226921569469,
        0.295524224714752870173892994651338,
    ]
)
_X21 = np.concatenate([-_XK[:-1], _XK[::-1]])
_W21 = np.concatenate([_WK[:-1], _WK[::-1]])
_G21 = np.zeros(21)
_G21[[1, 3, 5, 7, 9]] = _WG10
_G21[[19, 17, 15, 13, 11]] = _WG10

_TAIL = (1e-14, 1e-10, 1e-7, 1e-4, 0.01)
GRID = np.array(sorted({*_TAIL, 0.1, 0.3, 0.5, 0.7, 0.9, *(1.0 - e for e in _TAIL)}))
"""Probabilities at which each arm's quantiles cut the panels (graded towards 0 and 1)."""

TOLERANCE = 1e-10
"""Largest accepted error estimate of one integral (absolute, on a probability)."""

MAX_ROUNDS = 12
"""Bisections of the panels with the largest error estimates before an integral is refused."""


@functools.lru_cache(maxsize=256)
def _log_quantiles(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """``log p`` and ``log(1 - p)`` at the :data:`GRID` quantiles of Beta(a, b), each accurate.

    Cached per (a, b): the grid does not depend on the threshold.
    """
    p = special.betaincinv(a, b, GRID)
    q = special.betaincinv(b, a, 1.0 - GRID)
    with np.errstate(divide="ignore"):
        log_p = np.where(p <= 0.5, np.log(p), np.log1p(-q))
        log_q = np.where(q <= 0.5, np.log(q), np.log1p(-p))
    for arr in (log_p, log_q):
        arr.setflags(write=False)
    return log_p, log_q


def _cdf_from_tails(a: float, b: float, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``F(p)`` of Beta(a, b) given ``p`` and ``q = 1 - p``, from the more accurate tail."""
    p, q = np.clip(p, 0.0, 1.0), np.clip(q, 0.0, 1.0)
    lower = p <= 0.5
    out = np.empty_like(p)
    out[lower] = special.betainc(a, b, p[lower])
    # 1 - I_q(b, a) rather than betaincc(b, a, q): the same value (absolute accuracy is what
    # an integral of probabilities needs) and 10-100x faster in scipy 1.18
    out[~lower] = 1.0 - special.betainc(b, a, q[~lower])
    return out


def _threshold_cdf(kind: Contrast, s: float, at: float, bt: float, v: np.ndarray) -> np.ndarray:
    """``F_t(g_t(y))`` at control values ``y = expit(v)``: P(treated contrast side <= ...)."""
    if kind == "diff":
        p, q = special.expit(v) + s, special.expit(-v) - s
    elif kind == "ratio":
        log_p = np.minimum(special.log_expit(v) + s, 0.0)
        p, q = np.exp(log_p), -np.expm1(log_p)
    else:
        p, q = special.expit(v + s), special.expit(-(v + s))
    return _cdf_from_tails(at, bt, p, q)


def _logit(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    return log_p - log_q


def _treated_grid_in_v(kind: Contrast, s: float, at: float, bt: float) -> np.ndarray:
    """The treated arm's grid quantiles ``x`` as control values ``v = logit g_t^{-1}(x)``.

    In :data:`GRID` order; NaN where ``g_t^{-1}(x)`` falls outside (0, 1).
    """
    log_p, log_q = _log_quantiles(at, bt)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "diff":
            y, one_minus_y = np.exp(log_p) - s, np.exp(log_q) + s
            ok = (y > 0.0) & (one_minus_y > 0.0)
            return np.where(ok, np.log(y) - np.log(one_minus_y), np.nan)
        if kind == "ratio":
            log_y = log_p - s
            return np.where(log_y < 0.0, log_y - np.log(-np.expm1(log_y)), np.nan)
        return _logit(log_p, log_q) - s


def _kinks_in_v(kind: Contrast, s: float) -> list[float]:
    """Control values (as ``v``) where ``g_t`` reaches 0 or 1 and the integrand has a kink."""
    if kind == "diff":
        ys = [y for y in (1.0 - s, -s) if 0.0 < y < 1.0]
        return [math.log(y) - math.log1p(-y) for y in ys]
    if kind == "ratio" and s > 0.0:  # y = exp(-s) < 1
        return [-s - math.log(-math.expm1(-s))]
    return []


def _gauss_kronrod(
    f: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Kronrod-21 integrals and |Kronrod - Gauss-10| error estimates of ``f`` on panels.

    ``f`` maps nodes (panel, 21) to values (m, panel, 21); the results are (m, panel).
    """
    half, mid = (hi - lo)[:, None] / 2.0, (hi + lo)[:, None] / 2.0
    values = f(mid + half * _X21)
    k = np.sum(half * _W21 * values, axis=-1)
    g = np.sum(half * _G21 * values, axis=-1)
    return k, np.abs(k - g)


def shift(kind: Contrast, t: float) -> float:
    """The threshold on the contrast's scale: ``d``, ``log r`` or ``log k``."""
    return t if kind == "diff" else math.log(t)


def pair_cdf(kind: Contrast, t: float, at: float, bt: float, ac: float, bc: float) -> float:
    """``P(contrast <= t)`` for ``p_t ~ Beta(at, bt)`` and ``p_c ~ Beta(ac, bc)``.

    Parameters
    ----------
    kind : {"diff", "ratio", "odds"}
        ``p_t - p_c``, ``p_t / p_c`` or the odds ratio.
    t : float
        Threshold (in (-1, 1) for the difference, > 0 for the ratios).
    at, bt, ac, bc : float
        Beta shapes of the treated and control arm.

    Returns
    -------
    float
        The probability, in [0, 1].

    Raises
    ------
    RuntimeError
        If the error estimate stays above :data:`TOLERANCE` after :data:`MAX_ROUNDS`
        bisections.
    """
    s = shift(kind, t)
    # the control density of v = logit p, up to a constant (its value at the mode log(ac/bc)):
    # normalised numerically below, because scipy's betaln loses ~1e-9 for shapes near 1e6
    mode = math.log(ac / bc)
    log_peak = ac * float(special.log_expit(mode)) + bc * float(special.log_expit(-mode))

    treated = _treated_grid_in_v(kind, s, at, bt)
    # below / above the treated arm's outermost grid quantiles F_t(g_t) is within 1e-14 of 0 / 1
    t_lo = treated[0] if np.isfinite(treated[0]) else -np.inf
    t_hi = treated[-1] if np.isfinite(treated[-1]) else np.inf

    def integrand(v: np.ndarray) -> np.ndarray:
        density = np.exp(ac * special.log_expit(v) + bc * special.log_expit(-v) - log_peak)
        cdf = (v > t_hi).astype(float)
        mid = (v >= t_lo) & (v <= t_hi)
        cdf[mid] = _threshold_cdf(kind, s, at, bt, v[mid])
        return np.stack([density * cdf, density])

    control = _logit(*_log_quantiles(ac, bc))
    lo_end, hi_end = float(control[0]), float(control[-1])  # outside: control mass < 2e-14
    edges = np.concatenate([control, treated, _kinks_in_v(kind, s)])
    edges = np.unique(np.clip(edges[np.isfinite(edges)], lo_end, hi_end))
    lo, hi = edges[:-1], edges[1:]
    err = np.inf
    for _ in range(MAX_ROUNDS):
        k, e = _gauss_kronrod(integrand, lo, hi)
        mass = float(np.sum(k[1]))
        e = (e[0] + e[1]) / mass  # error estimate of the ratio, per panel
        err = float(np.sum(e))
        if err <= TOLERANCE:
            return min(max(float(np.sum(k[0])) / mass, 0.0), 1.0)
        split = e > TOLERANCE / (4.0 * len(e))
        mid = (lo[split] + hi[split]) / 2.0
        lo = np.concatenate([lo[~split], lo[split], mid])
        hi = np.concatenate([hi[~split], mid, hi[split]])
    raise RuntimeError(
        f"quadrature did not converge for P({kind} <= {t:g}) with Beta({at:g}, {bt:g}) vs "
        f"Beta({ac:g}, {bc:g}) (error estimate {err:.2g})"
    )
