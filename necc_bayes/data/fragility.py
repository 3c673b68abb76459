"""Small-sample fragility: sparse cells and (quasi-)separation, detected before fitting.

With 88 patients a 0/1 covariate whose rarer level holds a handful of patients, or no
deaths, has no finite Cox estimate (monotone likelihood): the partial likelihood keeps rising
as the log-HR goes to ±infinity, so the software stops at an arbitrary large value with an
enormous standard error (the paper's synaptophysin row, HR 23.4 with 95% CI 0.014–38,678).
This module finds such covariates from cell counts alone, and — for a side-by-side — fits the
frequentist Cox model (:func:`necc_bayes.data.reference.cox_breslow`) to show where it breaks.

:func:`design_fragility` runs the same checks on every term of any fit's design (dummies of
categorical columns included), with the events-per-parameter count, before sampling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from necc_bayes.data.cox_fast import RiskSets, cox_breslow_fast
from necc_bayes.data.reference import CoxFit, cox_breslow

FAST_COX_ROWS = 5_000
"""Above this many rows the check's Cox fits use :func:`cox_breslow_fast` (issue 21).

statsmodels' ``PHReg`` loops over event times in Python: the check's fits took 41 s at
n = 20,000. The vectorised fit maximises the same partial likelihood (the same estimates to
~1e-7, statsmodels' own tolerance, in tests/data/test_cox_fast.py); up to this size the
check is unchanged.
"""


class _CoxFits:
    """The check's Cox fits on subsets of one cohort's rows, sharing the risk sets of all rows."""

    def __init__(self, time: np.ndarray, event: np.ndarray, entry: np.ndarray | None):
        self.time, self.event, self.entry = time, event, entry
        self._all: RiskSets | None = None

    def fit(self, rows: np.ndarray, X: np.ndarray) -> CoxFit:
        """The Cox fit of ``X`` on the rows ``rows`` (boolean mask) of the cohort."""
        t, e = self.time[rows], self.event[rows]
        start = None if self.entry is None else self.entry[rows]
        if t.size <= FAST_COX_ROWS:
            return cox_breslow(t, e, X, entry=start)
        if not rows.all():
            return cox_breslow_fast(t, e, X, entry=start)
        if self._all is None:
            self._all = RiskSets(t, e, start)
        return cox_breslow_fast(t, e, X, entry=start, risk=self._all)


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


MIN_EVENTS_PER_PARAMETER = 10
"""Events per estimated log-HR below which a fit is flagged (Peduzzi et al. 1995)."""


@dataclass(frozen=True)
class Fragility:
    """The fragility checks of one fit, run on the design before sampling.

    Attributes
    ----------
    table : DataFrame
        One row per design term: ``term, kind`` (``binary``/``continuous``), ``n_0, n_1,
        events_0, events_1`` (rows with the term at 0 and 1 and their events; binary terms),
        ``cox_converged`` (the term alone in a Cox model, standardised), ``flags`` (``;``-joined:
        ``separation``, ``sparse``, ``cox_not_converged``).
    events : int
        Number of events.
    n_parameters : int
        Number of log-HRs (design terms).
    joint_cox_converged : bool
        Whether the Cox model of all terms together (standardised) converged; False is the
        usual sign of (quasi-)separation by a combination of terms.
    """

    table: pd.DataFrame
    events: int
    n_parameters: int
    joint_cox_converged: bool

    @property
    def events_per_parameter(self) -> float:
        """Events divided by the number of log-HRs (inf without covariates)."""
        return self.events / self.n_parameters if self.n_parameters else float("inf")

    @property
    def flagged(self) -> pd.DataFrame:
        """The rows with a flag."""
        return self.table[self.table["flags"] != ""]

    def messages(self) -> list[str]:
        """One sentence per flagged term, then the joint and events-per-parameter checks."""
        out = []
        for r in self.flagged.to_dict("records"):
            flags = str(r["flags"]).split(";")
            term = r["term"]
            if r["kind"] == "binary":
                n0, n1, d0, d1 = (int(r[k]) for k in ("n_0", "n_1", "events_0", "events_1"))
                counts = (
                    f"{n1} of {n0 + n1} rows have {term} = 1 with {d1} "
                    f"events; {n0} have {term} = 0 with {d0} events"
                )
            else:
                counts = "a continuous term"
            if "separation" in flags or "cox_not_converged" in flags:
                what = (
                    "quasi-separation: the likelihood keeps rising as the log-HR goes to ±∞ "
                    "(no finite Cox estimate); its posterior is set by the prior"
                )
            else:
                what = (
                    f"sparse: fewer than {MIN_LEVEL_N} rows or {MIN_LEVEL_EVENTS} events on one "
                    "side; its estimate leans on the prior"
                )
            out.append(f"term '{term}' ({counts}): {what}")
        if not self.joint_cox_converged and self.flagged.empty:
            out.append(
                "the Cox model of all terms together did not converge although no single term "
                "is separated: a combination of terms separates the events (check sparse "
                "combinations of levels)"
            )
        epp = self.events_per_parameter
        if epp < MIN_EVENTS_PER_PARAMETER:
            out.append(
                f"{self.events} events for {self.n_parameters} log-HRs = {epp:.3g} events per "
                f"parameter (< {MIN_EVENTS_PER_PARAMETER}): the estimates lean on the priors"
            )
        return out


def _standardised(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def design_fragility(
    time: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    terms: list[str],
    binary: list[bool],
    entry: np.ndarray | None = None,
) -> Fragility:
    """Sparse cells, separation and events per parameter for every term of a design.

    Parameters
    ----------
    time, event : ndarray, shape (n,)
        Follow-up times and 0/1 events of the rows.
    X : ndarray, shape (n, p)
        The design (as coded, not centred).
    terms : list of str
        Its column names.
    binary : list of bool
        Whether each column is 0/1.
    entry : ndarray, optional
        Entry times (delayed entry).

    Returns
    -------
    Fragility
        Missing values (``data.missing = "model"``) are left out: each term is checked on the
        rows where it is observed, the joint Cox fit uses the complete rows.
        Binary terms are flagged by their cell counts (:func:`cell_counts` rules) and by a
        one-term Cox fit; continuous terms by the one-term Cox fit on the standardised term
        (its log-HR per SD must stay below 10 in absolute value, with SE below 10).
    """
    rows = []
    X = np.asarray(X, dtype=float)
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    cox_fits = _CoxFits(t, e, None if entry is None else np.asarray(entry, dtype=float))
    for k, (term, is_binary) in enumerate(zip(terms, binary, strict=True)):
        seen = np.isfinite(X[:, k])  # missing = "model": a term is checked where observed
        cox = cox_fits.fit(seen, _standardised(X[seen, k][:, None]))
        row: dict[str, object] = {"term": term, "kind": "binary" if is_binary else "continuous"}
        flags: list[str] = []
        if is_binary:
            x, ev = X[seen, k], e[seen]
            n0, n1 = int((x == 0).sum()), int((x == 1).sum())
            d0, d1 = int(ev[x == 0].sum()), int(ev[x == 1].sum())
            row |= {"n_0": n0, "n_1": n1, "events_0": d0, "events_1": d1}
            if min(n0, n1) > 0 and (d0 == 0 or d1 == 0 or d0 == n0 or d1 == n1):
                flags.append("separation")
            if min(n0, n1) < MIN_LEVEL_N or min(d0, d1) < MIN_LEVEL_EVENTS:
                flags.append("sparse")
        if not cox.converged and "separation" not in flags:
            flags.append("cox_not_converged")
        row |= {"cox_converged": cox.converged, "flags": ";".join(flags)}
        rows.append(row)
    columns = ["term", "kind", "n_0", "n_1", "events_0", "events_1", "cox_converged", "flags"]
    table = pd.DataFrame(rows, columns=columns)
    for c in ("n_0", "n_1", "events_0", "events_1"):
        table[c] = table[c].astype("Int64")
    complete = np.isfinite(X).all(axis=1)  # the joint fit on the complete rows
    joint = cox_fits.fit(complete, _standardised(X[complete])).converged if len(terms) else True
    return Fragility(table, int(e.sum()), len(terms), joint)
