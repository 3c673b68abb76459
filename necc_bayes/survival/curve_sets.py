"""Which survival curves a fit reports: per stratum, conditional or population-averaged.

A curve needs one baseline hazard and one convention for the frailty, so a fit reports one
**curve set** per (stratum, frailty convention):

* **strata**: one set per level of ``covariates.strata`` (its own baseline); profile names get
  the suffix ``" [column=level]"`` and the column ``stratum`` holds the level;
* **frailty**: two sets, ``conditional`` (log-frailty 0: a cluster of median frailty, the
  scale the hazard ratios are on) and ``marginal`` (population-averaged over
  ``b ~ Normal(0, frailty_sd)``, what a new patient from a new cluster can expect); suffix
  ``" | frailty 0"`` or ``" | population-averaged"``, column ``frailty``;
* **delayed entry**: every set is conditional on surviving to the earliest entry time
  (column ``given_alive_at``; see :func:`~necc_bayes.survival.curves.condition_on`).

Counting-process rows with covariates that change between pieces: a curve is defined only for
a **fixed covariate path** (a profile whose covariates stay at its values from the origin on);
:func:`curve_notes` says so in the report. The survival of an observed subject whose
covariate changed (e.g. after a transplant) would need a model of the covariate process and is
not reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from necc_bayes.survival.curves import Profile, condition_on, summary_table, survival_table


@dataclass(frozen=True)
class CurveSet:
    """One baseline and one frailty convention.

    Attributes
    ----------
    suffix : str
        Appended to every profile name ("" for the plain case).
    stratum : str or None
        Stratum level (None without strata).
    frailty : str or None
        ``"conditional"``, ``"marginal"`` or None (no frailty).
    lam : ndarray, shape (draws, J')
        Baseline rates, conditioned on the origin.
    bounds : ndarray, shape (J' + 1,)
        Their interval boundaries.
    frailty_sd : ndarray, shape (draws,), or None
        Set for population-averaged curves.
    """

    suffix: str
    stratum: str | None
    frailty: str | None
    lam: np.ndarray
    bounds: np.ndarray
    frailty_sd: np.ndarray | None = None


FRAILTY_SUFFIX = {"conditional": " | frailty 0", "marginal": " | population-averaged"}


def curve_sets(
    lam: np.ndarray,
    bounds: np.ndarray,
    *,
    origin: float,
    strata_column: str | None = None,
    strata_labels: list[str] | None = None,
    frailty_sd: np.ndarray | None = None,
) -> list[CurveSet]:
    """The curve sets of a fit.

    Parameters
    ----------
    lam : ndarray, shape (draws, J) or (draws, S, J)
        Posterior baseline rates (a stratum axis when stratified).
    bounds : ndarray
        Interval boundaries of the fit.
    origin : float
        Curves are conditional on survival to ``origin`` (0: from time 0).
    strata_column, strata_labels : optional
        Name and levels of the strata (required when ``lam`` has a stratum axis).
    frailty_sd : ndarray, shape (draws,), optional
        Posterior draws of the frailty SD (models with a frailty).
    """
    per_stratum: list[tuple[str, str | None, np.ndarray]] = [("", None, lam)]
    if lam.ndim == 3:
        labels = strata_labels or [str(k) for k in range(lam.shape[1])]
        per_stratum = [
            (f" [{strata_column}={lev}]", lev, lam[:, k]) for k, lev in enumerate(labels)
        ]
    out = []
    for suffix, level, lam_s in per_stratum:
        lam_c, bounds_c = condition_on(lam_s, bounds, origin)
        if frailty_sd is None:
            out.append(CurveSet(suffix, level, None, lam_c, bounds_c))
            continue
        for kind, extra in FRAILTY_SUFFIX.items():
            sd = frailty_sd if kind == "marginal" else None
            out.append(CurveSet(suffix + extra, level, kind, lam_c, bounds_c, sd))
    return out


def _label(table: pd.DataFrame, cs: CurveSet, origin: float) -> pd.DataFrame:
    table = table.assign(profile=table["profile"] + cs.suffix)
    if cs.stratum is not None:
        table["stratum"] = cs.stratum
    if cs.frailty is not None:
        table["frailty"] = cs.frailty
    return table.assign(given_alive_at=origin)


def survival_tables(
    sets: list[CurveSet],
    log_hr: np.ndarray,
    profiles: list[Profile],
    grid: np.ndarray,
    *,
    origin: float,
    ci_prob: float,
) -> pd.DataFrame:
    """``survival.csv``: every profile in every curve set (profile names carry the set)."""
    frames = [
        _label(
            survival_table(
                cs.lam, log_hr, cs.bounds, profiles, grid, ci_prob=ci_prob, frailty_sd=cs.frailty_sd
            ),
            cs,
            origin,
        )
        for cs in sets
    ]
    return pd.concat(frames, ignore_index=True)


def summary_tables(
    sets: list[CurveSet],
    log_hr: np.ndarray,
    profiles: list[Profile],
    *,
    origin: float,
    times: list[float],
    horizon: float,
    follow_up_max: float,
    ci_prob: float,
    contrasts: list[tuple[str, str]],
) -> pd.DataFrame:
    """``survival_summary.csv``: medians, S(t), RMST and contrasts within every curve set."""
    frames = [
        _label(
            summary_table(
                cs.lam,
                log_hr,
                cs.bounds,
                profiles,
                times=times,
                horizon=horizon,
                follow_up_max=follow_up_max,
                ci_prob=ci_prob,
                contrasts=contrasts,
                frailty_sd=cs.frailty_sd,
            ),
            cs,
            origin,
        )
        for cs in sets
    ]
    return pd.concat(frames, ignore_index=True)


def curve_notes(
    *,
    origin: float,
    time_label: str,
    strata_column: str | None,
    frailty_cluster: str | None,
    counting_process: bool,
) -> list[str]:
    """Sentences that say what the reported curves are (for the report and the CLI)."""
    out = []
    if origin > 0:
        out.append(
            f"Survival curves, medians and RMST are conditional on surviving to {time_label} "
            f"= {origin:g} (the earliest entry: no one is at risk before it): "
            f"S(t | T > {origin:g})."
        )
    if strata_column is not None:
        out.append(
            f"One set of curves per level of {strata_column} (each stratum has its own baseline "
            "hazard; the hazard ratios are shared)."
        )
    if frailty_cluster is not None:
        out.append(
            f"With a shared frailty per {frailty_cluster}: curves marked 'frailty 0' are "
            "conditional on a cluster of median frailty (the scale of the hazard ratios); "
            "'population-averaged' curves average over the frailty distribution "
            "Normal(0, frailty_sd) of the clusters at risk at the origin."
        )
    if counting_process:
        out.append(
            "Rows are (start, stop] pieces with covariates that may change over follow-up: each "
            "curve is for a fixed covariate path (the profile's values held from the origin "
            "on). The survival of a subject whose covariates changed is not reported: it would "
            "need a model of how the covariates change."
        )
    return out


def plot_view(surv: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``survival.csv`` to draw beside Kaplan–Meier curves, frailty suffix removed.

    With a frailty these are the population-averaged curves (the Kaplan–Meier curve of the
    pooled clusters estimates marginal survival); otherwise every row. Stratum suffixes stay
    (one figure panel per stratum).
    """
    if "frailty" not in surv.columns:
        return surv
    out = surv[surv["frailty"] == "marginal"].copy()
    out["profile"] = out["profile"].str.replace(FRAILTY_SUFFIX["marginal"], "", regex=False)
    return out
