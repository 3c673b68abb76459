"""Column kinds and the event indicator: how a CSV's text or a DataFrame's values are read.

The same rules hold whether the data come from a CSV file (every column read as text) or a
DataFrame (columns with their dtypes), so both give the same numbers and the same draws:

* a covariate column whose non-missing values are all numbers is **numeric** (a DataFrame's
  ``bool`` column counts as 0/1);
* a column whose values are all text (or a DataFrame column of ``category`` dtype) is
  **categorical**; its levels are the distinct values as text, the reference first: the
  ``covariates.categorical`` reference if given, else (for text) the first level in sorted
  order, or (for a ``category`` dtype) its first category;
* a column mixing numbers and text is refused (rule ``numeric``: a typo such as ``"4O"`` in a
  numeric column must not turn it into a categorical one) unless ``covariates.categorical``
  declares it;
* the event indicator is the 0/1 column, or ``column == value`` (numbers compared as numbers,
  text as text).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from necc_bayes.errors import Problem
from necc_bayes.spec.formula import EventRule
from necc_bayes.spec.model import CategoricalSection


def rows(mask: np.ndarray | pd.Series) -> tuple[int, ...]:
    """Data rows (from 1) where ``mask`` is true."""
    return tuple(int(i) + 1 for i in np.flatnonzero(np.asarray(mask)))


def _is_text_dtype(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def as_text(values: pd.Series) -> pd.Series:
    """Values as stripped text (missing values stay missing); integral floats lose ``.0``."""
    if pd.api.types.is_float_dtype(values.dtype):
        ints = values.dropna()
        if (ints == np.round(ints)).all():
            values = values.astype("Int64")
    return values.astype("string").str.strip().astype(object).where(values.notna(), None)


def column_kind(values: pd.Series, declared: bool) -> str:
    """``"categorical"``, ``"numeric"`` or ``"mixed"`` (numbers and text) for a covariate."""
    if declared or isinstance(values.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return "numeric"
    present = values.dropna()
    numeric = pd.to_numeric(present, errors="coerce").notna()
    if numeric.all():
        return "numeric"
    return "categorical" if not numeric.any() else "mixed"


def levels_of(
    values: pd.Series, section: CategoricalSection | None
) -> tuple[list[str], str | None]:
    """The levels of a categorical column, reference first, and how the reference was chosen.

    Returns
    -------
    levels : list of str
        Observed levels as text: the reference, then the declared order (``section.levels``),
        the ``category`` dtype's order, or sorted order.
    reference_rule : str or None
        ``"given"``, ``"first category"`` or ``"first sorted"``.
    """
    text = as_text(values).dropna()
    observed = sorted(set(text))
    if isinstance(values.dtype, pd.CategoricalDtype):
        order = [str(c).strip() for c in values.cat.categories if str(c).strip() in observed]
        how = "first category"
    else:
        order, how = observed, "first sorted"
    if section is not None and section.levels:
        order = [lev for lev in section.levels if lev in observed]
    if section is not None:
        reference, how = section.reference, "given"
    else:
        reference = order[0]
    return [reference, *[lev for lev in order if lev != reference]], how


def numeric_values(values: pd.Series) -> pd.Series:
    """A numeric column as numbers (``bool`` as 0/1); text that is no number becomes NaN."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float)
    return pd.to_numeric(values, errors="coerce")


def event_indicator(frame: pd.DataFrame, rule: EventRule, problems: list[Problem]) -> pd.Series:
    """The 0/1 event indicator of each row (missing where the column is missing).

    A 0/1 column must hold only 0 and 1 (rule ``event_binary``); ``column == value`` marks the
    rows equal to ``value`` as events (numbers as numbers, text as text) and every other
    non-missing row as censored.
    """
    raw = frame[rule.column]
    target = rule.literal
    if target is None:
        event = numeric_values(raw)
        text = raw.notna() & event.isna()
        if text.any():
            examples = sorted({str(v) for v in raw[text]})[:3]
            problems.append(
                Problem(
                    "event_binary",
                    f"must be 0 or 1, got non-numeric {examples} (for a coded status use an "
                    f"expression, e.g. event = \"{rule.column} == 2\")",
                    column=rule.column,
                    rows=rows(text),
                )
            )
        bad = event.notna() & ~event.isin([0, 1])
        if bad.any():
            problems.append(
                Problem(
                    "event_binary",
                    f"must be 0 or 1, got {sorted(set(event[bad].tolist()))[:3]} (for a coded "
                    f"status use an expression, e.g. event = \"{rule.column} == 2\")",
                    column=rule.column,
                    rows=rows(bad),
                )
            )
        return event
    if isinstance(target, float):
        num = numeric_values(raw)
        hit = num == target
    else:
        hit = as_text(raw) == target
    return hit.astype(float).where(raw.notna())
