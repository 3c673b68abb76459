"""Read a small table of other studies' estimates (CSV or TOML) for a MAP or published prior.

Two kinds of table, told apart by their columns:

* hazard ratios -- ``study, source, hr, low, high`` (optional ``level``, default 0.95): each
  row becomes ``log_hr`` and ``se`` (:func:`necc_bayes.evidence.published.log_hr_normal`);
* response rates -- ``study, source, r, n``: responders and patients.

A TOML table is a list of ``[[study]]`` tables with the same keys. Other columns are kept
(e.g. the bundled ``data/literature/*.csv`` carry the quote, DOI and URL of each number).
Every problem is reported at once as a :class:`~necc_bayes.errors.DataError` naming the
file, the column and the rows (counted from 1 after the header) -- before any model runs.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from necc_bayes.errors import DataError, Problem, SpecError
from necc_bayes.evidence.published import log_hr_normal

Kind = Literal["hr", "rate"]
_COLUMNS: dict[str, tuple[str, ...]] = {"hr": ("hr", "low", "high"), "rate": ("r", "n")}


def _read(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".toml":
        with path.open("rb") as fh:
            rows = tomllib.load(fh).get("study", [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DataError(str(path), [Problem("toml_study_list",
                                                "expected a list of [[study]] tables")])
        return pd.DataFrame(rows)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _kind(frame: pd.DataFrame, path: str) -> Kind:
    has = {k: all(c in frame.columns for c in cols) for k, cols in _COLUMNS.items()}
    if has["hr"] and not has["rate"]:
        return "hr"
    if has["rate"] and not has["hr"]:
        return "rate"
    raise DataError(path, [Problem("study_table_kind", "need columns hr, low, high (hazard "
                                   "ratios) or r, n (response rates), not both")])


def _numbers(frame: pd.DataFrame, column: str, problems: list[Problem]) -> np.ndarray:
    values = pd.to_numeric(frame[column].astype(str).str.strip(), errors="coerce").to_numpy(float)
    bad = [i + 1 for i, v in enumerate(values) if not math.isfinite(v)]
    if bad:
        problems.append(Problem("value_numeric", "must be a finite number", column, tuple(bad)))
    return values


def read_study_table(path: str | Path, kind: Kind | None = None) -> pd.DataFrame:
    """Read and validate a study table.

    Parameters
    ----------
    path : str or Path
        CSV file, or TOML file with ``[[study]]`` entries.
    kind : {"hr", "rate"}, optional
        Expected kind; inferred from the columns if omitted.

    Returns
    -------
    pandas.DataFrame
        The table (row order kept) with numeric ``hr, low, high, log_hr, se`` or integer
        ``r, n``; every other column as read.

    Raises
    ------
    DataError
        Rules ``file_exists``, ``study_table_empty``, ``study_table_kind``, ``missing_column``,
        ``value_numeric``, ``study_unique``, ``source_present``, ``counts_valid``, and the
        published-estimate rules (``published_positive``, ``published_interval_order``,
        ``published_hr_inside``) per row.
    """
    path = Path(path)
    src = str(path)
    if not path.is_file():
        raise DataError(src, [Problem("file_exists", "study table not found")])
    frame = _read(path)
    if frame.empty:
        raise DataError(src, [Problem("study_table_empty", "the table has no rows")])
    found = _kind(frame, src) if kind is None else kind
    problems: list[Problem] = [
        Problem("missing_column", "required column is missing", c)
        for c in ("study", "source", *_COLUMNS[found]) if c not in frame.columns
    ]
    if problems:
        raise DataError(src, problems)
    out = frame.copy()
    names = out["study"].astype(str).str.strip()
    dup = [i + 1 for i, d in enumerate(names.duplicated(keep=False)) if d]
    if dup:
        problems.append(Problem("study_unique", "study names must be unique", "study", tuple(dup)))
    empty = [i + 1 for i, s in enumerate(out["source"].astype(str).str.strip()) if not s]
    if empty:
        problems.append(Problem("source_present", "every estimate needs its source", "source",
                                tuple(empty)))
    values = {c: _numbers(out, c, problems) for c in _COLUMNS[found]}
    if found == "rate":
        r, n = values["r"], values["n"]
        bad = [i + 1 for i in range(len(out)) if math.isfinite(r[i]) and math.isfinite(n[i])
               and not (r[i] == int(r[i]) and n[i] == int(n[i]) and 0 <= r[i] <= n[i]
                        and n[i] >= 1)]
        if bad:
            problems.append(Problem("counts_valid", "need integers 0 <= r <= n, n >= 1", "r",
                                    tuple(bad)))
        if problems:
            raise DataError(src, problems)
        out["r"], out["n"] = r.astype(int), n.astype(int)
        return out
    log_hr, se = np.full(len(out), np.nan), np.full(len(out), np.nan)
    level = _numbers(out, "level", problems) if "level" in out.columns else np.full(len(out), 0.95)
    for i in range(len(out)):
        args = (values["hr"][i], values["low"][i], values["high"][i])
        if not all(math.isfinite(v) for v in args) or not math.isfinite(level[i]):
            continue
        try:
            est = log_hr_normal(*args, level=float(level[i]), source=src)
        except SpecError as err:
            problems.extend(Problem(p.rule, p.message, p.column, (i + 1,)) for p in err.problems)
            continue
        log_hr[i], se[i] = est.mu, est.sigma
    if problems:
        raise DataError(src, problems)
    for c in _COLUMNS["hr"]:
        out[c] = values[c]
    out["log_hr"], out["se"] = log_hr, se
    return out
