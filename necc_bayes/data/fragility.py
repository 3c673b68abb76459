"""Small-sample fragility: sparse cells and (quasi-)separation, detected before fitting.

With 88 patients a 0/1 covariate whose rarer level holds a handful of patients, or no
deaths, has no finite Cox estimate (monotone likelihood): the partial likelihood keeps rising
as the log-HR goes to ±infinity, so the software stops at an arbitrary large value with an
enormous standard error (the paper's synaptophysin row, HR 23.4 with 95% CI 0.014–38,678).
This module finds such covariates from cell counts alone, and — for a side-by-side — fits the
frequentist Cox model (:func:`necc_bayes.data.reference.cox_breslow`) to show where it breaks.
"""

from __future__ import annotations

import pandas as pd

from necc_bayes.data.reference import cox_breslow

MIN_LEVEL_N = 10
MIN_LEVEL_EVENTS = 5


def cell_counts(frame: pd.DataFrame, term: str, *, time: str, event: str) -> dict[str, object]:
    """Count patients and events in each level of a 0/1 covariate (missing rows excluded).

    Returns
    -------
    dict
        ``term, n_used, n_missing, n_0, n_1, events_0, events_1``, and ``flags`` (list of str):
        ``separation`` when a level has no events or only events (no finite Cox estimate),
        ``sparse`` when a level has fewer than ``MIN_LEVEL_N`` patients or
        ``MIN_LEVEL_EVENTS`` events.
    """
    used = frame[[term, time, event]].dropna()
    x = used[term].astype(float).to_numpy()
    e = used[event].astype(float).to_numpy()
    n0, n1 = int((x == 0).sum()), int((x == 1).sum())
    d0, d1 = int(e[x == 0].sum()), int(e[x == 1].sum())
    flags = []
    if min(n0, n1) > 0 and (d0 == 0 or d1 == 0 or d0 == n0 or d1 == n1):
        flags.append("separation")
    if min(n0, n1) < MIN_LEVEL_N or min(d0, d1) < MIN_LEVEL_EVENTS:
        flags.append("sparse")
    return {
        "term": term,
        "n_used": len(used),
        "n_missing": len(frame) - len(used),
        "n_0": n0,
        "n_1": n1,
        "events_0": d0,
        "events_1": d1,
        "flags": flags,
    }


def cox_univariate(
    frame: pd.DataFrame, term: str, *, time: str, event: str
) -> dict[str, float | bool]:
    """Fit a one-covariate Cox model (Breslow ties) and report whether it converged.

    Returns
    -------
    dict
        ``cox_hr``, ``cox_low``, ``cox_high`` (95% Wald interval), ``cox_se`` and
        ``cox_converged`` (:attr:`necc_bayes.data.reference.CoxFit.converged`: False is the
        usual sign of a monotone likelihood).
    """
    used = frame[[term, time, event]].dropna()
    fit = cox_breslow(
        used[time].astype(float).to_numpy(),
        used[event].astype(float).to_numpy(),
        used[[term]].astype(float).to_numpy(),
    )
    hr, low, high = fit.hazard_ratio(0)
    return {
        "cox_hr": hr,
        "cox_low": low,
        "cox_high": high,
        "cox_se": float(fit.se[0]),
        "cox_converged": fit.converged,
    }


def fragility_table(
    frame: pd.DataFrame, terms: list[str], *, time: str, event: str
) -> pd.DataFrame:
    """Cell counts, flags and the frequentist Cox fit for each 0/1 covariate.

    Parameters
    ----------
    frame : DataFrame
        The cohort (numeric columns; missing values allowed and counted).
    terms : list of str
        0/1 covariates to check.
    time, event : str
        Outcome columns.

    Returns
    -------
    DataFrame
        One row per term; ``flags`` is a ``;``-joined string (empty when nothing is fragile).
    """
    rows = []
    for term in terms:
        row = cell_counts(frame, term, time=time, event=event)
        row.update(cox_univariate(frame, term, time=time, event=event))
        if not row["cox_converged"] and "separation" not in row["flags"]:  # type: ignore[operator]
            row["flags"] = [*row["flags"], "cox_not_converged"]  # type: ignore[misc]
        row["flags"] = ";".join(row["flags"])  # type: ignore[arg-type]
        rows.append(row)
    return pd.DataFrame(rows)
