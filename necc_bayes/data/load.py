"""Read a cohort CSV and validate it against a specification, reporting every problem.

Nothing is dropped or imputed silently: missing values in a used column are an error unless
the spec says ``data.missing = "drop"``, in which case the dropped rows are recorded on the
returned :class:`Cohort` (and printed by the command line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from necc_bayes.data.columns import Columns, event_indicator
from necc_bayes.data.csv_file import read_csv
from necc_bayes.data.design import (
    Design,
    build_design,
    categorical_levels,
    coding_levels,
    collinear_sets,
    covariate_columns,
)
from necc_bayes.data.incomplete import incomplete_problems
from necc_bayes.data.structure import (
    Grouping,
    check_entry,
    check_levels,
    check_pieces,
    grouping,
)
from necc_bayes.data.time_range import check_time_range
from necc_bayes.errors import DataError, Problem
from necc_bayes.spec.model import ModelSpec, did_you_mean


@dataclass(frozen=True)
class Cohort:
    """A validated cohort: the used columns, outcome arrays and design matrix.

    Attributes
    ----------
    frame : DataFrame
        Copy of the used columns of the rows kept (the caller's data is never modified).
    time, event : ndarray
        Follow-up (stop) times (> 0) and 0/1 event indicators, one per row.
    ids : ndarray
        Subject ids (data row numbers, from 1, when the spec names no id column); with
        ``data.entry`` several rows may share an id (the pieces of one subject).
    design : Design
        The covariates as numbers.
    source : str
        Where the data came from.
    dropped_rows : tuple of int
        Data rows (from 1) dropped for missing values under ``data.missing = "drop"``.
    entry : ndarray, optional
        Entry times (``data.entry``): row ``i`` is at risk on ``(entry_i, time_i]``.
    strata : Grouping, optional
        Stratum of each row (``covariates.strata``).
    clusters : Grouping, optional
        Frailty cluster of each row (``[frailty] cluster``).
    """

    frame: pd.DataFrame
    time: np.ndarray
    event: np.ndarray
    ids: np.ndarray
    design: Design
    source: str
    dropped_rows: tuple[int, ...] = field(default_factory=tuple)
    entry: np.ndarray | None = None
    strata: Grouping | None = None
    clusters: Grouping | None = None

    @property
    def n(self) -> int:
        """Number of rows (subjects, unless rows are the pieces of subjects' follow-up)."""
        return int(self.time.size)

    @property
    def n_subjects(self) -> int:
        """Number of distinct subjects (ids)."""
        return int(np.unique(self.ids).size)

    @property
    def start(self) -> np.ndarray:
        """Start of each row's time at risk (the entry times, or zeros)."""
        return np.zeros_like(self.time) if self.entry is None else self.entry

    @property
    def time_at_risk(self) -> float:
        """Total time at risk, ``sum(time - entry)``."""
        return float((self.time - self.start).sum())

    @property
    def n_events(self) -> int:
        """Number of events."""
        return int(self.event.sum())


def _rows(mask: np.ndarray | pd.Series) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i in np.flatnonzero(np.asarray(mask)))


def _used_columns(spec: ModelSpec, covariates: list[str]) -> list[str]:
    cols = [spec.data.time, spec.data.event_column]
    optional = [
        spec.data.id,
        spec.data.entry,
        spec.covariates.strata,
        spec.frailty.cluster if spec.frailty else None,
    ]
    return cols + [c for c in optional if c] + covariates


def _numeric(values: Columns, col: str, problems: list[Problem], rule: str) -> pd.Series:
    raw = values[col]
    num = values.coerced(col)
    bad = num.isna() & values.present(col)
    if bad.any():
        examples = sorted(set(raw[bad].tolist()))[:3]
        msg = (
            f"must be 0 or 1, got non-numeric {examples}"
            if rule == "event_binary"
            else f"must be numeric, got {examples}"
        )
        if any(re.fullmatch(r"\s*-?\d+,\d+\s*", str(v)) for v in examples):
            msg += " (decimal commas: write numbers with a decimal point)"
        problems.append(Problem(rule, msg, column=col, rows=_rows(bad)))
    return num


def _check_outcome(values: Columns, spec: ModelSpec, problems: list[Problem]) -> None:
    t_col = spec.data.time
    time = _numeric(values, t_col, problems, "numeric")
    inf = np.isinf(time)
    if inf.any():
        problems.append(Problem("time_finite", "must be finite", column=t_col, rows=_rows(inf)))
    nonpos = time <= 0
    if nonpos.any():
        problems.append(
            Problem(
                "time_positive",
                f"must be > 0, got {sorted(set(time[nonpos].tolist()))[:3]}",
                column=t_col,
                rows=_rows(nonpos),
            )
        )
    check_time_range(time, t_col, problems)
    rule = spec.data.event_rule
    event = event_indicator(values.frame, rule, problems, values)
    if not event.isna().all() and event.notna().all() and (event == 1).sum() == 0:
        what = "no events (all rows censored)" if rule.value is None else f"no row has {rule}"
        problems.append(Problem("min_events", what, column=rule.column))


def _check_covariates(
    data: Columns, spec: ModelSpec, columns: list[str], problems: list[Problem]
) -> None:
    frame = data.frame
    for term in columns:
        cat = spec.covariates.categorical.get(term)
        kind = data.kind(term, cat is not None)
        if kind != "categorical" or term in spec.covariates.ordinal:
            values = _numeric(data, term, problems, "numeric")
            if kind == "mixed" and problems and problems[-1].column == term:
                problems[-1] = Problem(
                    "numeric",
                    problems[-1].message + " (mixed numbers and text: a column of text is "
                    f"categorical; declare [covariates.categorical.{term}] if it is one)",
                    column=term,
                    rows=problems[-1].rows,
                )
            ordinal = spec.covariates.ordinal.get(term)
            below = values < ordinal.levels[0] if ordinal else pd.Series(False, index=values.index)
            if below.any():
                problems.append(
                    Problem(
                        "ordinal_levels",
                        f"values below the lowest declared level {ordinal.levels[0]:g}",  # type: ignore[union-attr]
                        column=term,
                        rows=_rows(below),
                    )
                )
            continue
        if cat is None:
            continue
        text = data.text(term).dropna()
        if cat.reference not in set(text):
            problems.append(
                Problem(
                    "categorical_reference",
                    f"reference level '{cat.reference}' does not occur "
                    f"(levels: {sorted(set(text))})",
                    column=term,
                )
            )
        if cat.levels is not None:
            unknown = frame[term].notna() & ~data.text(term).isin(cat.levels)
            if unknown.any():
                problems.append(
                    Problem(
                        "categorical_levels",
                        f"values {sorted(set(frame[term][unknown]))[:3]} are not in the "
                        f"declared levels {cat.levels}",
                        column=term,
                        rows=_rows(unknown),
                    )
                )


def _check_structure(values: Columns, spec: ModelSpec, problems: list[Problem]) -> None:
    """Entry times, pieces per id (or unique ids), strata and cluster levels."""
    d, frame = spec.data, values.frame
    if d.entry:
        entry = _numeric(values, d.entry, problems, "numeric")
        time = values.coerced(d.time)
        check_entry(entry, time, d.entry, problems)
    if d.id:
        ids = frame[d.id]
        dup = ids.duplicated(keep=False) & ids.notna()
        if dup.any() and not d.entry:
            problems.append(
                Problem(
                    "id_unique",
                    "duplicated ids (several rows per id are the (start, stop] pieces of one "
                    "subject only with data.entry naming the start column)",
                    column=d.id,
                    rows=_rows(dup),
                )
            )
        elif dup.any():
            problems += _pieces_problems(frame, ids, spec, problems)
    if spec.covariates.strata:
        problems += check_levels(
            frame[spec.covariates.strata], spec.covariates.strata, "strata_levels", "strata"
        )
    if spec.frailty:
        problems += check_levels(
            frame[spec.frailty.cluster], spec.frailty.cluster, "cluster_levels", "clusters"
        )


def _pieces_problems(
    frame: pd.DataFrame, ids: pd.Series, spec: ModelSpec, found: list[Problem]
) -> list[Problem]:
    """Overlapping pieces and misplaced events, among the ids whose rows are all valid.

    Pieces are checked on valid entry, time and event values, so an id with a row already
    reported (a missing or non-numeric value, entry >= time, ...) is left out, and nothing is
    checked while a problem concerns a whole column. The other ids are still checked, so
    one run of ``validate-data`` lists both kinds of problem.
    """
    if any(not p.rows for p in found):
        return []
    d = spec.data
    bad_rows = np.array(sorted({r for p in found for r in p.rows}), dtype=int) - 1
    flagged = np.zeros(len(frame), dtype=bool)
    flagged[bad_rows[(bad_rows >= 0) & (bad_rows < len(frame))]] = True
    keep = ~ids.isin(ids[flagged].dropna().unique()).to_numpy() & ~flagged
    if not keep.any():
        return []
    sub = frame[keep]
    return check_pieces(
        ids[keep],
        pd.to_numeric(sub[d.entry]),
        pd.to_numeric(sub[d.time]),
        event_indicator(sub, d.event_rule, []),
        spec,
        row_numbers=np.flatnonzero(keep) + 1,
    )


def _check_design(
    data: Columns, spec: ModelSpec, source: str, problems: list[Problem]
) -> Design:
    """The design of the validated data, with its constant and collinear terms reported."""
    design = build_design(data.frame, spec, source=source, values=data)
    keep = []
    observed = ~np.isnan(design.X)
    for k, term in enumerate(design.terms):
        values = design.X[observed[:, k], k]
        if values.size == 0 or values.min() == values.max():  # a single value
            shown = f"{values[0]:g}" if values.size else "nothing (all missing)"
            problems.append(
                Problem(
                    "constant",
                    f"takes the single value {shown} in all {values.size} rows observed",
                    column=term,
                )
            )
        else:
            keep.append(k)
    complete = observed.all(axis=1)  # collinearity among the rows with every value observed
    X_complete = design.X[np.ix_(complete, keep)]
    for group in collinear_sets(X_complete, [design.terms[k] for k in keep]):
        problems.append(
            Problem(
                "collinear",
                f"terms {group} are perfectly collinear (one is a linear combination of the "
                "others and the intercept); drop one of them",
                column=", ".join(group),
            )
        )
    return design


def validate(frame: pd.DataFrame, spec: ModelSpec, source: str) -> Cohort:
    """Check a data frame against a specification and return the validated cohort.

    Parameters
    ----------
    frame : DataFrame
        Data as read by :func:`read_csv` (text columns), or a DataFrame with its own dtypes
        (the same rules apply: :mod:`necc_bayes.data.columns`). Not modified.
    spec : ModelSpec
        The model specification.
    source : str
        File name for messages.

    Returns
    -------
    Cohort
        The validated data.

    Raises
    ------
    DataError
        Listing every rule violated, each with column and rows.
    """
    problems: list[Problem] = []
    try:
        covariates = covariate_columns(frame, spec, source)
    except DataError as err:
        problems += err.problems
        covariates = []
    used = _used_columns(spec, covariates)
    missing_cols = [c for c in dict.fromkeys(used) if c not in frame.columns]
    for col in missing_cols:
        problems.append(
            Problem(
                "column_exists", f"not in the file{did_you_mean(col, list(frame.columns))}", col
            )
        )
    if problems:
        raise DataError(source, problems)
    data = frame.loc[:, list(dict.fromkeys(used))].reset_index(drop=True)
    na = data.isna()
    values = Columns(data)
    dropped: tuple[int, ...] = ()
    if na.any().any():
        if spec.data.missing == "model" and spec.formula is not None:
            problems.append(
                Problem(
                    "missing_model_formula",
                    'data.missing = "model" is not combined with a formula yet: list the '
                    'columns in covariates.terms, or use data.missing = "drop" (reported)',
                    column="data.missing",
                )
            )
        elif spec.data.missing == "model":
            categorical = set(coding_levels(data, spec, covariates, values))
            problems += incomplete_problems(data, spec, covariates, categorical)
        elif spec.data.missing == "drop":
            dropped = _rows(na.any(axis=1))
            data = data.loc[~na.any(axis=1)].reset_index(drop=True)
            values = Columns(data)
        else:
            for col in data.columns[na.any()]:
                problems.append(
                    Problem(
                        "missing",
                        "missing value in a used column (set data.missing = 'drop' in the spec "
                        "to drop such rows explicitly; they are then counted and reported)",
                        column=col,
                        rows=_rows(na[col]),
                    )
                )
    if len(data) < 2:
        problems.append(Problem("min_rows", f"{len(data)} usable row(s); at least 2 are needed"))
        raise DataError(source, problems)
    _check_outcome(values, spec, problems)
    _check_structure(values, spec, problems)
    _check_covariates(values, spec, covariates, problems)
    if problems:
        raise DataError(source, problems)
    design = _check_design(values, spec, source, problems)
    if problems:
        raise DataError(source, problems)
    ids = (
        data[spec.data.id].to_numpy()
        if spec.data.id
        else np.setdiff1d(np.arange(1, len(frame) + 1), np.asarray(dropped, dtype=np.int64))
    )
    entry_col, strata_col = spec.data.entry, spec.covariates.strata
    cluster_col = spec.frailty.cluster if spec.frailty else None
    return Cohort(
        frame=data,
        time=values.coerced(spec.data.time).to_numpy(dtype=float),
        event=event_indicator(data, spec.data.event_rule, [], values).to_numpy().astype(np.int64),
        ids=ids,
        design=design,
        source=source,
        dropped_rows=dropped,
        entry=values.coerced(entry_col).to_numpy(dtype=float) if entry_col else None,
        strata=grouping(data[strata_col], strata_col) if strata_col else None,
        clusters=grouping(data[cluster_col], cluster_col) if cluster_col else None,
    )


DATAFRAME_SOURCE = "DataFrame"
"""How messages name data given as a DataFrame (rows are positions from 1, not index labels)."""


def load_cohort(data: str | Path | pd.DataFrame, spec: ModelSpec) -> Cohort:
    """Validate a CSV file or a DataFrame against a specification (see :func:`validate`).

    A DataFrame is not modified; a CSV file and a DataFrame with the same values give the same
    cohort (:mod:`necc_bayes.data.columns`).
    """
    if isinstance(data, pd.DataFrame):
        return validate(data, spec, DATAFRAME_SOURCE)
    return validate(read_csv(data), spec, str(data))


__all__ = ["Cohort", "categorical_levels", "load_cohort", "read_csv", "validate"]
