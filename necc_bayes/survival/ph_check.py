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
Its size and power were measured by simulation (``workflows/ph_calibration.py``).

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

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from necc_bayes.survival.imputation_summary import complete_rows
from necc_bayes.survival.ph_score import (
    IntervalResiduals,
    Transform,
    draws_per_batch,
    efficient_score_test,
    expand_many,
    interval_table,
    residuals_for_draws,
    time_transform,
    trend_tests,
)
from necc_bayes.survival.replicates import (
    draw_censoring_times,
    replicate_subset,
    simulate_event_times,
    subset_note,
    take_rows,
)
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

NOT_REPLICABLE = (
    "no posterior predictive replicates for (start, stop] pieces (a replicate would need the "
    "covariate path after the observed one): flagged on p_chisq"
)


@dataclass(frozen=True)
class RowStructure:
    """How the rows relate: strata, cluster frailties, replicability.

    Attributes
    ----------
    strata : ndarray of int, shape (n,), optional
        Stratum code of each row (``lam`` then has a stratum axis): the baseline rates are
        profiled per stratum and interval, replicates use their stratum's rates.
    frailty : ndarray, shape (S, C), optional
        Log-frailty draws of the clusters: an offset in the linear predictor of every draw
        (the check is conditional on the frailties), replicated with the draw's frailties.
    clusters : ndarray of int, shape (n,), optional
        Cluster code of each row (with ``frailty``).
    replicable : bool
        False for ``(start, stop]`` pieces: no replicates; rows are flagged on ``p_chisq``.
    """

    strata: np.ndarray | None = None
    frailty: np.ndarray | None = None
    clusters: np.ndarray | None = None
    replicable: bool = True

    def offset(self, idx: np.ndarray) -> np.ndarray | None:
        """Per-draw, per-row log-frailty ``(len(idx), n)`` (None without a frailty)."""
        if self.frailty is None or self.clusters is None:
            return None
        return self.frailty[idx][:, self.clusters]


PH_STREAM = 2
"""Second entry of the seed sequence of the replicate cohorts (the baseline draws use 1)."""


@dataclass(frozen=True)
class PHCheck:
    """The proportional-hazards check of one fit.

    Attributes
    ----------
    table : DataFrame
        ``ph_check.csv``: columns :data:`PH_COLUMNS`.
    intervals : DataFrame
        Per term and interval, the one-step log-HR and its interval (columns
        :data:`~necc_bayes.survival.ph_score.INTERVAL_COLUMNS`): the figure of a flagged term.
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
    """The sentence describing the check (``n_replicates = 0``: chi-square calibration)."""
    if n_replicates == 0:
        return (
            f"efficient score statistic for a linear trend of each log-HR in g(t) = {transform} "
            "(interval-level Schoenfeld residuals) at the posterior mean; flagged when its "
            f"asymptotic chi-square p-value < {alpha:g} ({NOT_REPLICABLE})"
        )
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
    structure: RowStructure | None = None,
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
    lam : ndarray, shape (S, J) or (S, n_strata, J)
        Baseline-rate draws (per stratum with a stratified baseline).
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
    structure : RowStructure, optional
        Strata, cluster frailties, and whether rows can be replicated (see
        :class:`RowStructure`).
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
    rs = structure or RowStructure()
    X = np.asarray(X, dtype=float)
    idx = np.unique(np.linspace(0, lam.shape[0] - 1, min(n_replicates, lam.shape[0])).round())
    idx = idx.astype(np.int64)
    lam_s, beta_s = lam[idx], log_hr[idx]
    offset_s = rs.offset(idx)
    g = time_transform(time, event, bounds, transform, entry)
    exposure, events = expand_many(np.asarray(time, float), np.asarray(event), bounds, entry)
    obs = residuals_for_draws(X, exposure, events, beta_s, offset=offset_s, strata=rs.strata)
    mean_beta = log_hr.mean(axis=0)
    all_offsets = rs.offset(np.arange(lam.shape[0]))
    mean_offset = None if all_offsets is None else all_offsets.mean(axis=0)
    at_mean = residuals_for_draws(
        X,
        exposure,
        events,
        mean_beta[None],
        offset=None if mean_offset is None else mean_offset[None],
        strata=rs.strata,
    ).first()
    rep = None
    if rs.replicable:
        lam_rep = lam_s if rs.strata is None else lam_s[:, rs.strata, :]
        T = simulate_event_times(lam_rep, beta_s, X, bounds, rng, entry=entry, offset=offset_s)
        C = draw_censoring_times(time, event, idx.size, rng, entry=entry)
        rep = _replicate_residuals(X, T, C, bounds, beta_s, offset_s, rs.strata, entry)

    rows = []
    for test in trend_tests(terms, sources, varying):
        plug = efficient_score_test(at_mean, g, test.cols, varying_cols=varying)
        chisq = float(plug.chisq)
        p_chisq = float(stats.chi2.sf(chisq, plug.df)) if np.isfinite(chisq) else np.nan
        n_ok, ppp = 0, np.nan
        if rep is not None:
            t_obs = efficient_score_test(obs, g, test.cols, varying_cols=varying).chisq
            t_rep = efficient_score_test(rep, g, test.cols, varying_cols=varying).chisq
            ok = np.isfinite(t_obs) & np.isfinite(t_rep)
            n_ok = int(ok.sum())
            ppp = float((t_rep[ok] >= t_obs[ok]).mean()) if n_ok else np.nan
        p_flag = ppp if rep is not None else p_chisq
        rows.append(
            {
                "term": test.term,
                "scope": test.scope,
                "statistic": f"score_trend_{transform}",
                "df": plug.df,
                "chisq": chisq,
                "p_chisq": p_chisq,
                "ppp": ppp,
                "trend": float(plug.slope[0]) if plug.df == 1 else np.nan,
                "flagged": bool(np.isfinite(p_flag) and p_flag < alpha),
                "alpha": alpha,
                "n_replicates": n_ok,
                "note": "" if rep is not None else NOT_REPLICABLE,
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
        intervals=interval_table(at_mean, mean_beta, terms, bounds, varying, ci_prob),
        transform=transform,
        g=g,
        alpha=alpha,
        method=method_text(transform, alpha, int(idx.size) if rep is not None else 0),
    )


def _replicate_residuals(
    X: np.ndarray,
    T: np.ndarray,
    C: np.ndarray,
    bounds: np.ndarray,
    beta: np.ndarray,
    offset: np.ndarray | None,
    strata: np.ndarray | None,
    entry: np.ndarray | None,
) -> IntervalResiduals:
    """Residuals of the replicate cohorts (event times ``T``, censoring ``C``), batch by batch.

    Each batch of draws is expanded to ``(draws, n, J)`` only when its residuals are computed
    (the batches of :func:`residuals_for_draws`, so the numbers are those of expanding all
    replicates at once, without ``2 x S x n x J`` floats in memory: 16 GB at n = 10^6).
    """
    step = draws_per_batch(X.shape[0], bounds.size - 1)
    parts = []
    for start in range(0, T.shape[0], step):
        sl = slice(start, start + step)
        exposure, events = expand_many(np.minimum(T[sl], C[sl]), T[sl] <= C[sl], bounds, entry)
        off = None if offset is None else offset[sl]
        parts.append(residuals_for_draws(X, exposure, events, beta[sl], offset=off, strata=strata))
    return IntervalResiduals(
        R=np.concatenate([p.R for p in parts]),
        V=np.concatenate([p.V for p in parts]),
        d=np.concatenate([p.d for p in parts]),
    )


def ph_check(
    result: PEMResult, *, n_replicates: int | None = None, seed: int | None = None
) -> PHCheck:
    """The proportional-hazards check of a fit (see the module docstring).

    Stratified baselines are profiled per stratum and replicated with each stratum's rates;
    cluster frailties enter as each draw's offsets (a check conditional on the frailties);
    ``(start, stop]`` pieces are not replicated (their rows are flagged on ``p_chisq``).

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
    lam, beta = posterior_draws(result.idata)  # per-interval log-HRs when time-varying
    design, settings = cohort.design, result.spec.ph_check
    varying = set(time_varying_terms(result.idata))
    post = result.idata["posterior"]
    frailty = None
    if "frailty" in post:
        frailty = post["frailty"].stack(s=("chain", "draw")).transpose("s", "cluster").to_numpy()
    structure = RowStructure(
        strata=None if cohort.strata is None else np.asarray(cohort.strata.codes),
        frailty=frailty,
        clusters=None if cohort.clusters is None else np.asarray(cohort.clusters.codes),
        replicable=cohort.n_subjects == cohort.n,
    )
    X, time, event, entry = complete_rows(design.X_model, cohort.time, cohort.event, pp.entry)
    seed, n_rows = result.spec.sampler.seed if seed is None else seed, len(time)
    # above ph_check.replicate_subjects: a seeded subset of subjects (not of (start, stop] rows)
    keep = replicate_subset(n_rows, settings.replicate_subjects, seed)
    keep = keep if structure.replicable else None
    if keep is not None:
        X, time, event = X[keep], time[keep], event[keep]
        entry, strata, clusters = take_rows(keep, entry, structure.strata, structure.clusters)
        structure = replace(structure, strata=strata, clusters=clusters)
    check = ph_check_from_draws(
        lam,
        beta,
        X,
        list(design.terms),
        list(design.source),
        pp.bounds,
        time,
        event,
        entry=entry,
        structure=structure,
        varying=tuple(k for k, t in enumerate(design.terms) if t in varying),
        transform=settings.transform,
        alpha=settings.alpha,
        n_replicates=settings.n_replicates if n_replicates is None else n_replicates,
        ci_prob=result.spec.summaries.ci_prob,
        seed=seed,
    )
    return replace(check, method=check.method + subset_note(keep, n_rows))
