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

:class:`Columns` converts each column of a frame once (``pd.to_numeric`` of a text column of
10^6 rows takes ~0.5 s, and validation reads every used column several times: issue 21).
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


def column_kind(
    values: pd.Series,
    declared: bool,
    coerced: pd.Series | None = None,
    present: pd.Series | None = None,
) -> str:
    """``"categorical"``, ``"numeric"`` or ``"mixed"`` (numbers and text) for a covariate.

    ``coerced`` and ``present`` are ``pd.to_numeric(values, errors="coerce")`` and
    ``values.notna()`` when already computed.
    """
    if declared or isinstance(values.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return "numeric"
    if coerced is None:
        coerced = pd.to_numeric(values, errors="coerce")
    numeric = coerced[values.notna() if present is None else present].notna()
    if numeric.all():
        return "numeric"
    return "categorical" if not numeric.any() else "mixed"


def levels_of(
    values: pd.Series, section: CategoricalSection | None, text: pd.Series | None = None
) -> tuple[list[str], str | None]:
    """The levels of a categorical column, reference first, and how the reference was chosen.

    Returns
    -------
    levels : list of str
        Observed levels as text: the reference, then the declared order (``section.levels``),
        the ``category`` dtype's order, or sorted order.
    reference_rule : str or None
        ``"given"``, ``"first category"`` or ``"first sorted"``.

    ``text`` is ``as_text(values)`` when already computed.
    """
    observed = sorted(set((as_text(values) if text is None else text).dropna()))
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


class Columns:
    """The columns of a frame, each converted once when first asked for and then reused.

    Validation reads a column as numbers, as text and for its kind several times (the checks,
    the design, the cohort's arrays); this is the one place that converts it. The frame and
    the returned Series must not be modified.

    Parameters
    ----------
    frame : DataFrame
        The data (not copied).
    """

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._coerced: dict[str, pd.Series] = {}
        self._text: dict[str, pd.Series] = {}
        self._present: dict[str, pd.Series] = {}

    def __getitem__(self, col: str) -> pd.Series:
        return self.frame[col]

    def coerced(self, col: str) -> pd.Series:
        """``pd.to_numeric(frame[col], errors="coerce")``: text that is no number is NaN."""
        if col not in self._coerced:
            self._coerced[col] = pd.to_numeric(self.frame[col], errors="coerce")
        return self._coerced[col]

    def numeric(self, col: str) -> pd.Series:
        """The column as numbers (:func:`numeric_values`: ``bool`` as 0/1)."""
        values = self.frame[col]
        if pd.api.types.is_bool_dtype(values.dtype):
            return values.astype(float)
        return self.coerced(col)

    def present(self, col: str) -> pd.Series:
        """``frame[col].notna()``: where the column has a value."""
        if col not in self._present:
            self._present[col] = self.frame[col].notna()
        return self._present[col]

    def text(self, col: str) -> pd.Series:
        """The column as stripped text (:func:`as_text`)."""
        if col not in self._text:
            self._text[col] = as_text(self.frame[col])
        return self._text[col]

    def kind(self, col: str, declared: bool) -> str:
        """The column's kind as a covariate (:func:`column_kind`)."""
        values = self.frame[col]
        if declared or not _is_text_dtype(values):
            return column_kind(values, declared)
        return column_kind(values, declared, self.coerced(col), self.present(col))

    def levels(self, col: str, section: CategoricalSection | None) -> list[str]:
        """The levels of a categorical column, reference first (:func:`levels_of`)."""
        return levels_of(self.frame[col], section, self.text(col))[0]


def event_indicator(
    frame: pd.DataFrame, rule: EventRule, problems: list[Problem], columns: Columns | None = None
) -> pd.Series:
    """The 0/1 event indicator of each row (missing where the column is missing).

    A 0/1 column must hold only 0 and 1 (rule ``event_binary``); ``column == value`` marks the
    rows equal to ``value`` as events (numbers as numbers, text as text) and every other
    non-missing row as censored. ``columns`` is ``Columns(frame)`` when already made.
    """
    columns = Columns(frame) if columns is None else columns
    raw = frame[rule.column]
    target = rule.literal
    if target is None:
        event = columns.numeric(rule.column)
        text = columns.present(rule.column) & event.isna()
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
        hit = columns.numeric(rule.column) == target
    else:
        hit = columns.text(rule.column) == target
    return hit.astype(float).where(columns.present(rule.column))
