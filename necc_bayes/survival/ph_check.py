"""The proportional-hazards check run after every fit (``ph_check.csv``).

Method
------
For each model term the question is whether its log hazard ratio drifts over follow-up. The
discrepancy is the efficient score statistic for a linear trend of the log-HR in a time
transform ``g`` (default ``"km"``: ``1 - KM(t-)``, as ``survival::cox.zph``), computed from the
intervals' summed Schoenfeld-type residuals (``ph_score.py``): a chi-square on one degree of
freedom per term, jointly for the dummies of a categorical covariate, and jointly for all
terms (``GLOBAL``). It is calibrated by posterior predictive simulation, draw by draw:

1. take ``n_replicates`` posterior draws ``(beta_s, lambda_s)`` (evenly thinned);
2. compute the statistic on the observed data at ``beta_s``: ``T(y, theta_s)``;
3. simulate a replicate cohort from ``theta_s`` under proportional hazards (same covariates;
   censoring as in the Kaplan–Meier check, ``ppc.py``) and compute ``T(y_rep_s, theta_s)``;
4. ``ppp = P(T(y_rep) >= T(y))`` over the draws; a term is **flagged** when ``ppp < alpha``
   (default 0.05, per row, no multiplicity adjustment — as ``cox.zph`` is read).

Because the statistic is the *efficient* score (the constant log-HRs and the baseline rates
projected out), its distribution hardly depends on where in the posterior it is evaluated, so
this posterior predictive p-value is close to uniform under proportional hazards (Robins, van
der Vaart & Ventura 2000) rather than piled up near 0.5 as posterior predictive p-values of
other statistics are. The simulation, not the chi-square approximation, gives its reference
distribution: the small-sample calibration includes the censoring and the sparse intervals.
Its size and power were measured by simulation (``tests/survival/test_ph_calibration.py``).

The table also gives the plug-in statistic at the posterior mean with its asymptotic
chi-square p-value (``chisq``, ``p_chisq``; comparable with ``cox.zph``) and the one-step trend
estimate (``trend``: change of the log-HR per unit of ``g``; for ``"km"`` roughly the change from
the start to the end of follow-up). The figure data (:attr:`PHCheck.intervals`) are the
per-interval log-HRs one Newton step from the constant fit — approximately the unsmoothed
interval-by-interval Poisson fit — with normal-approximation intervals.

Terms that already have per-interval log-HRs in the model (``covariates.time_varying``) are not
tested (``note`` says so); the others are tested with those deviations as nuisance parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from necc_bayes.survival.intervals import time_in_intervals
from necc_bayes.survival.ph_score import (
    IntervalResiduals,
    Transform,
    efficient_score_test,
    interval_residuals,
    one_step_interval_log_hr,
    time_transform,
)
from necc_bayes.survival.replicates import draw_censoring_times, simulate_event_times
from necc_bayes.survival.time_varying import posterior_draws, time_varying_terms

if TYPE_CHECKING:
    from necc_bayes.survival.result import PEMResult

PH_COLUMNS = [
    "term",
    "scope",
    "statistic",
    "df",
    "chisq",
    "p_chisq",
    "ppp",
    "trend",
    "flagged",
    "alpha",
    "n_replicates",
    "note",
]
"""Columns of ``ph_check.csv`` (DESIGN §8: ``term``, the statistic used, ``flagged``)."""

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

PH_STREAM = 2
"""Second entry of the seed sequence of the replicate cohorts (the baseline draws use 1)."""

_CELLS = 4_000_000  # (chunk x subjects x intervals) floats per batch of draws


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


def _eta(log_hr: np.ndarray, X: np.ndarray, n_int: int) -> np.ndarray:
    """Linear predictor (..., n, J) from log-HRs (..., p) or per-interval (..., J, p)."""
    if log_hr.ndim == 3:
        return np.einsum("sjp,np->snj", log_hr, X)
    eta = log_hr @ X.T
    return np.repeat(eta[..., None], n_int, axis=-1)


def _residual_batches(
    X: np.ndarray,
    exposure: np.ndarray,
    events: np.ndarray,
    log_hr: np.ndarray,
) -> IntervalResiduals:
    """:func:`interval_residuals` over draws in batches (bounded memory)."""
    n, n_int = X.shape[0], exposure.shape[-1]
    chunk = max(1, _CELLS // max(1, n * n_int))
    parts = []
    for start in range(0, log_hr.shape[0], chunk):
        sl = slice(start, start + chunk)
        e = exposure[sl] if exposure.ndim == 3 else exposure
        d = events[sl] if events.ndim == 3 else events
        parts.append(interval_residuals(X, e, d, _eta(log_hr[sl], X, n_int)))
    return IntervalResiduals(
        R=np.concatenate([p.R for p in parts]),
        V=np.concatenate([p.V for p in parts]),
        d=np.concatenate([p.d for p in parts]),
    )


@dataclass(frozen=True)
class PHCheck:
    """The proportional-hazards check of one fit.

    Attributes
    ----------
    table : DataFrame
        ``ph_check.csv``: columns :data:`PH_COLUMNS`.
    intervals : DataFrame
        Per term and interval, the one-step log-HR and its interval (columns
        :data:`INTERVAL_COLUMNS`): the data of the figure of a flagged term.
    transform : str
        The time transform ``g``.
    g : ndarray
        Its value per interval.
    alpha : float
        Flagging level.
    method : str
        One sentence describing the check (for reports).
    """

    table: pd.DataFrame
    intervals: pd.DataFrame
    transform: str
    g: np.ndarray
    alpha: float
    method: str

    @property
    def flagged(self) -> list[str]:
        """Rows (terms, covariates, GLOBAL) flagged as non-proportional."""
        return [str(t) for t in self.table.loc[self.table["flagged"], "term"]]

    def messages(self) -> list[str]:
        """One console line naming every flagged row (empty when nothing is flagged)."""
        rows = self.table[self.table["flagged"]]
        if rows.empty:
            return []
        parts = []
        for term, n, p, slope in zip(
            rows["term"],
            rows["n_replicates"].astype(int),
            rows["ppp"].astype(float),
            rows["trend"].astype(float),
            strict=True,
        ):
            ppp = f"ppp < {1 / n:.2g}" if p == 0 else f"ppp = {p:.3g}"
            trend = f", trend {slope:+.2f}" if np.isfinite(slope) else ""
            parts.append(f"{term} ({ppp}{trend})")
        return [
            f"proportional-hazards check (alpha {self.alpha:g}, g = {self.transform}) flagged "
            + "; ".join(parts)
            + ": the log-HR seems to change over follow-up (ph_check.csv; consider "
            "covariates.time_varying)"
        ]

    def to_dict(self) -> dict[str, object]:
        """Summary for ``diagnostics.json``."""
        return {
            "method": self.method,
            "transform": self.transform,
            "alpha": self.alpha,
            "flagged": self.flagged,
        }


def method_text(transform: str, alpha: float, n_replicates: int) -> str:
    """The sentence describing the check."""
    return (
        f"efficient score statistic for a linear trend of each log-HR in g(t) = {transform} "
        f"(interval-level Schoenfeld residuals), calibrated by {n_replicates} posterior "
        f"predictive replicate cohorts simulated under proportional hazards; flagged when "
        f"the posterior predictive p-value < {alpha:g}"
    )


def ph_check_from_draws(
    lam: np.ndarray,
    log_hr: np.ndarray,
    X: np.ndarray,
    terms: list[str],
    sources: list[str],
    bounds: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    entry: np.ndarray | None = None,
    varying: tuple[int, ...] = (),
    transform: Transform = "km",
    alpha: float = 0.05,
    n_replicates: int = 400,
    ci_prob: float = 0.95,
    seed: int = 0,
) -> PHCheck:
    """Run the check on flattened posterior draws.

    Parameters
    ----------
    lam : ndarray, shape (S, J)
        Baseline-rate draws.
    log_hr : ndarray, shape (S, p) or (S, J, p)
        Log-HR draws (per interval when terms are time-varying).
    X : ndarray, shape (n, p)
        Design in the model's coding.
    terms, sources : list of str
        Term names and the data column of each (dummies of one categorical share it).
    bounds : ndarray, shape (J + 1,)
        Interval boundaries.
    time, event : ndarray, shape (n,)
        Observed data.
    entry : ndarray, shape (n,), optional
        Entry times (delayed entry): replicate rows are drawn given survival to entry.
    varying : tuple of int
        Columns with per-interval log-HRs in the model (not tested).
    transform : {"km", "identity", "log"}
        Time transform of the trend.
    alpha : float
        Flagging level.
    n_replicates : int
        Draws used (each with one replicate cohort).
    ci_prob : float
        Probability of the per-interval intervals in :attr:`PHCheck.intervals`.
    seed : int
        Seed of the replicate cohorts.

    Returns
    -------
    PHCheck
    """
    rng = np.random.default_rng([int(seed), PH_STREAM])
    n_int = bounds.size - 1
    X = np.asarray(X, dtype=float)
    idx = np.unique(np.linspace(0, lam.shape[0] - 1, min(n_replicates, lam.shape[0])).round())
    idx = idx.astype(np.int64)
    lam_s, beta_s = lam[idx], log_hr[idx]
    g = time_transform(time, event, bounds, transform)
    exposure, events = expand_many(np.asarray(time, float), np.asarray(event), bounds, entry)

    T = simulate_event_times(lam_s, beta_s, X, bounds, rng, entry=entry)
    C = draw_censoring_times(time, event, idx.size, rng, entry=entry)
    rep_exposure, rep_events = expand_many(np.minimum(T, C), T <= C, bounds, entry)

    obs = _residual_batches(X, exposure, events, beta_s)
    rep = _residual_batches(X, rep_exposure, rep_events, beta_s)
    mean_beta = log_hr.mean(axis=0)
    at_mean = interval_residuals(X, exposure, events, _eta(mean_beta[None], X, n_int)[0])

    rows = []
    for test in trend_tests(terms, sources, varying):
        t_obs = efficient_score_test(obs, g, test.cols, varying_cols=varying).chisq
        t_rep = efficient_score_test(rep, g, test.cols, varying_cols=varying).chisq
        plug = efficient_score_test(at_mean, g, test.cols, varying_cols=varying)
        ok = np.isfinite(t_obs) & np.isfinite(t_rep)
        ppp = float((t_rep[ok] >= t_obs[ok]).mean()) if ok.any() else np.nan
        chisq = float(plug.chisq)
        rows.append(
            {
                "term": test.term,
                "scope": test.scope,
                "statistic": f"score_trend_{transform}",
                "df": plug.df,
                "chisq": chisq,
                "p_chisq": float(stats.chi2.sf(chisq, plug.df)) if np.isfinite(chisq) else np.nan,
                "ppp": ppp,
                "trend": float(plug.slope[0]) if plug.df == 1 else np.nan,
                "flagged": bool(np.isfinite(ppp) and ppp < alpha),
                "alpha": alpha,
                "n_replicates": int(ok.sum()),
                "note": "",
            }
        )
    for k in varying:
        rows.append(
            {
                "term": terms[k],
                "scope": "term",
                "statistic": f"score_trend_{transform}",
                "df": 0,
                "chisq": np.nan,
                "p_chisq": np.nan,
                "ppp": np.nan,
                "trend": np.nan,
                "flagged": False,
                "alpha": alpha,
                "n_replicates": 0,
                "note": "time-varying in the model (covariates.time_varying): not tested",
            }
        )
    table = pd.DataFrame(rows, columns=PH_COLUMNS)
    return PHCheck(
        table=table,
        intervals=_interval_table(at_mean, mean_beta, terms, bounds, varying, ci_prob),
        transform=transform,
        g=g,
        alpha=alpha,
        method=method_text(transform, alpha, int(idx.size)),
    )


def _interval_table(
    res: IntervalResiduals,
    mean_beta: np.ndarray,
    terms: list[str],
    bounds: np.ndarray,
    varying: tuple[int, ...],
    ci_prob: float,
) -> pd.DataFrame:
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


def ph_check(
    result: PEMResult, *, n_replicates: int | None = None, seed: int | None = None
) -> PHCheck:
    """The proportional-hazards check of a fit (see the module docstring).

    Parameters
    ----------
    result : PEMResult
        The fit.
    n_replicates : int, optional
        Posterior draws used, one replicate cohort each (default: the spec's
        ``ph_check.n_replicates``; ``transform`` and ``alpha`` also come from ``[ph_check]``).
    seed : int, optional
        Defaults to the spec's sampler seed (the check is reproducible).

    Returns
    -------
    PHCheck
    """
    cohort, pp = result.checked.cohort, result.checked.person_period
    if reason := _unsupported(result):
        return not_computed(list(cohort.design.terms), reason)
    lam, beta = posterior_draws(result.idata)  # per-interval log-HRs when time-varying
    design = cohort.design
    settings = result.spec.ph_check
    varying = set(time_varying_terms(result.idata))
    return ph_check_from_draws(
        lam,
        beta,
        design.X_model,
        list(design.terms),
        list(design.source),
        pp.bounds,
        cohort.time,
        cohort.event,
        entry=pp.entry,
        varying=tuple(k for k, t in enumerate(design.terms) if t in varying),
        transform=settings.transform,
        alpha=settings.alpha,
        n_replicates=settings.n_replicates if n_replicates is None else n_replicates,
        ci_prob=result.spec.summaries.ci_prob,
        seed=result.spec.sampler.seed if seed is None else seed,
    )


def _unsupported(result: PEMResult) -> str:
    """Why the check cannot be run on this fit (empty string when it can)."""
    spec, cohort = result.spec, result.checked.cohort
    if spec.covariates.strata is not None:
        return "not computed for a stratified baseline (replicates per stratum not implemented)"
    if spec.frailty is not None:
        return "not computed with a shared frailty (replicates given the frailties not implemented)"
    if cohort.n_subjects < cohort.n:
        return (
            "not computed for (start, stop] pieces: replicate follow-up would need the "
            "covariate path after the observed one"
        )
    return ""


def not_computed(terms: list[str], reason: str) -> PHCheck:
    """A check that was not run: one row per term, never flagged, the reason in ``note``."""
    table = pd.DataFrame(
        {
            "term": terms,
            "scope": "term",
            "statistic": "not computed",
            "df": np.nan,
            "chisq": np.nan,
            "p_chisq": np.nan,
            "ppp": np.nan,
            "trend": np.nan,
            "flagged": False,
            "alpha": np.nan,
            "n_replicates": 0,
            "note": reason,
        },
        columns=PH_COLUMNS,
    )
    return PHCheck(
        table=table,
        intervals=pd.DataFrame(columns=INTERVAL_COLUMNS),
        transform="none",
        g=np.empty(0),
        alpha=float("nan"),
        method=f"proportional-hazards check {reason}",
    )
