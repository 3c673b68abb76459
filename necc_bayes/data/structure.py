"""Cohort structure beyond one right-censored row per subject: checks, codes and profile.

* **Delayed entry** (``data.entry``): row ``i`` is at risk on ``(entry_i, time_i]``; entry
  must be a finite number with ``0 <= entry < time`` (rules ``entry_nonnegative``,
  ``entry_before_time``).
* **Counting-process pieces** (``data.entry`` and ``data.id``): the rows of one id are the
  ``(start, stop]`` pieces of one subject's follow-up. Pieces may leave gaps (not at risk in
  between) but may not overlap (``pieces_overlap``); a subject has at most one event, on the
  piece that ends last (``event_last_piece``). Several rows per id without ``data.entry``
  are refused (``id_unique``), since their pieces could not be placed in time.
* **Strata** (``covariates.strata``) and **clusters** (``[frailty] cluster``): a column of
  labels coded as integers :class:`Grouping`; at least two levels are needed
  (``strata_levels``, ``cluster_levels``). Missing labels follow ``data.missing`` like every
  used column.

Nothing is reordered: the checks sort a copy, the cohort keeps the file's row order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from necc_bayes.errors import Problem
from necc_bayes.spec.model import ModelSpec


@dataclass(frozen=True)
class Grouping:
    """A column of labels (strata or clusters) coded ``0..k-1``.

    Attributes
    ----------
    column : str
        The data column.
    codes : ndarray of int, shape (n_rows,)
        Level of each row.
    levels : list of str
        Labels in code order: numeric labels in numeric order, otherwise sorted as text.
    """

    column: str
    codes: np.ndarray
    levels: list[str]

    @property
    def n_levels(self) -> int:
        """Number of levels."""
        return len(self.levels)

    @property
    def sizes(self) -> np.ndarray:
        """Rows per level."""
        return np.bincount(self.codes, minlength=self.n_levels)


def grouping(values: pd.Series, column: str) -> Grouping:
    """Code a label column (no missing values) as integers in a stable level order."""
    text = values.astype(str).str.strip()
    levels = sorted(set(text))
    numeric = pd.to_numeric(pd.Series(levels), errors="coerce")
    if numeric.notna().all():
        levels = [levels[k] for k in np.argsort(numeric.to_numpy(dtype=float), kind="stable")]
    index = {lev: k for k, lev in enumerate(levels)}
    return Grouping(column, np.array([index[v] for v in text], dtype=np.int64), levels)


def _rows(mask: np.ndarray | pd.Series) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i in np.flatnonzero(np.asarray(mask)))


def check_entry(entry: pd.Series, time: pd.Series, column: str, problems: list[Problem]) -> None:
    """Entry times: finite, >= 0 and before the row's time (both already numeric)."""
    bad = np.isinf(entry)
    if bad.any():
        problems.append(Problem("time_finite", "must be finite", column=column, rows=_rows(bad)))
    neg = entry < 0
    if neg.any():
        problems.append(
            Problem(
                "entry_nonnegative",
                f"entry times must be >= 0, got {sorted(set(entry[neg].tolist()))[:3]}",
                column=column,
                rows=_rows(neg),
            )
        )
    late = (entry >= time) & entry.notna() & time.notna()
    if late.any():
        pairs = [f"({e:g}, {t:g}]" for e, t in zip(entry[late][:3], time[late][:3], strict=True)]
        problems.append(
            Problem(
                "entry_before_time",
                f"entry must be < the row's time (an empty interval at risk), got {pairs}",
                column=column,
                rows=_rows(late),
            )
        )


def check_pieces(
    ids: pd.Series,
    entry: pd.Series,
    time: pd.Series,
    event: pd.Series,
    spec: ModelSpec,
    *,
    row_numbers: np.ndarray | None = None,
) -> list[Problem]:
    """Pieces of one id: no overlap, at most one event, and only on the last piece.

    Parameters
    ----------
    ids, entry, time, event : Series
        The id column and the numeric entry, time and event columns (validated values).
    spec : ModelSpec
        For the column names in the messages.
    row_numbers : ndarray, optional
        The data rows (counted from 1) of these values when they are a subset of the file's
        rows (default ``1..n``).

    Returns
    -------
    list of Problem
        ``pieces_overlap`` and ``event_last_piece`` problems (rows of the offending ids).
    """
    d = spec.data
    frame = pd.DataFrame(
        {"id": ids.to_numpy(), "start": entry.to_numpy(), "stop": time.to_numpy()}
    ).assign(
        event=event.to_numpy(),
        row=np.arange(1, len(ids) + 1) if row_numbers is None else np.asarray(row_numbers),
    )
    frame = frame.sort_values(["id", "start", "stop"], kind="stable")
    prev_stop = frame.groupby("id", sort=False)["stop"].shift()
    overlap = frame["start"] < prev_stop
    out = []
    if overlap.any():
        bad_ids = frame.loc[overlap, "id"].unique()
        rows = tuple(sorted(frame.loc[frame["id"].isin(bad_ids), "row"].tolist()))
        out.append(
            Problem(
                "pieces_overlap",
                f"the ({d.entry}, {d.time}] pieces of {d.id} {list(bad_ids[:3])} overlap "
                "(a subject cannot be at risk twice at the same time)",
                column=f"{d.entry}, {d.time}",
                rows=rows,
            )
        )
    last_stop = frame.groupby("id", sort=False)["stop"].transform("max")
    n_events = frame.groupby("id", sort=False)["event"].transform("sum")
    wrong = (frame["event"] == 1) & ((frame["stop"] < last_stop) | (n_events > 1))
    if wrong.any():
        bad_ids = frame.loc[wrong, "id"].unique()
        rows = tuple(sorted(frame.loc[frame["id"].isin(bad_ids), "row"].tolist()))
        out.append(
            Problem(
                "event_last_piece",
                f"{d.id} {list(bad_ids[:3])} have an event before their last piece or more "
                "than one event (at most one event per subject, at the end of its follow-up)",
                column=d.event_column,
                rows=rows,
            )
        )
    return out


def check_levels(values: pd.Series, column: str, rule: str, what: str) -> list[Problem]:
    """At least two levels in a strata or cluster column."""
    levels = values.dropna().astype(str).str.strip().unique()
    if len(levels) < 2:
        return [
            Problem(
                rule,
                f"{what} need at least two levels, got {list(levels)} (drop the setting for "
                "a single group)",
                column=column,
            )
        ]
    return []


def structure_profile(
    *,
    ids: np.ndarray,
    entry: np.ndarray | None,
    event: np.ndarray,
    strata: Grouping | None,
    clusters: Grouping | None,
) -> dict[str, object]:
    """Profile of the cohort's structure for ``validate-data``.

    Returns
    -------
    dict
        ``subjects``, ``pieces_per_subject`` (min/median/max, when rows outnumber subjects),
        ``entering_late`` (subjects whose first entry is > 0, and the range of those
        entries), ``strata`` and ``clusters`` (rows and events per level; for many clusters a
        summary of sizes).
    """
    out: dict[str, object] = {}
    _, per_id = np.unique(ids, return_counts=True)
    out["subjects"] = int(per_id.size)
    if per_id.size < ids.size:
        out["pieces_per_subject"] = (
            f"min {per_id.min()}, median {np.median(per_id):g}, max {per_id.max()}; "
            f"{int((per_id > 1).sum())} subjects with more than one piece"
        )
    if entry is not None:
        first = pd.Series(entry).groupby(ids).min().to_numpy()
        late = first > 0
        out["entering_late"] = f"{int(late.sum())} of {first.size} subjects enter after time 0" + (
            f" (first entry {first[late].min():g} to {first[late].max():g})" if late.any() else ""
        )
    for name, g in (("strata", strata), ("clusters", clusters)):
        if g is None:
            continue
        events = np.bincount(g.codes, weights=event, minlength=g.n_levels).astype(int)
        if g.n_levels <= 12:
            out[name] = {
                f"{g.column}={lev}": f"{size} rows, {ev} events"
                for lev, size, ev in zip(g.levels, g.sizes, events, strict=True)
            }
        else:
            out[name] = (
                f"{g.n_levels} levels of {g.column}; rows per level min {g.sizes.min()}, "
                f"median {np.median(g.sizes):g}, max {g.sizes.max()}; "
                f"{int((events == 0).sum())} levels without events"
            )
    return out
