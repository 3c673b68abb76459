"""Survival formulas and event expressions (DESIGN section 8), parsed without the data.

A formula ``"Surv(time, status == 2) ~ celltype + karno10 + trt"`` has two sides:

* the **left** side is ours: ``Surv(time, event)``, ``Surv(time, column == value)`` or
  ``Surv(entry, time, event)`` (delayed entry / counting-process ``(start, stop]`` rows). It
  gives ``data.time``, ``data.event`` and ``data.entry``;
* the **right** side is handed to `formulaic <https://matthewwardrop.github.io/formulaic/>`_
  (the formula engine lifelines uses): numeric columns enter as-is, string columns are
  dummy-coded against a reference (the first level in sorted order unless one is given,
  e.g. ``C(celltype, contr.treatment("squamous"))`` or ``C(x, levels=[...])``), and
  everything else formulaic offers (``I(karno / 10)``, ``np.log(bili)``, interactions) works.
  The design itself is built from the data in :mod:`necc_bayes.data.formula_design`.

An **event expression** (``[data] event``) is a column of 0/1 values, or ``column == value``:
the rows whose ``column`` equals ``value`` are events and every other row is censored
(pbc's ``status == 2``: 2 = death; 0 = censored and 1 = transplant are censored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from necc_bayes.errors import Problem

_NAME = r"(?:`[^`]+`|[^\s,()=`~]+)"
_EVENT = re.compile(rf"^\s*(?P<column>{_NAME})\s*(?:==\s*(?P<value>.+?)\s*)?$")
_SURV = re.compile(r"^\s*Surv\s*\((?P<args>.*)\)\s*$", re.DOTALL)


@dataclass(frozen=True)
class EventRule:
    """Which rows are events: ``column`` is 0/1, or ``column == value``.

    Attributes
    ----------
    column : str
        The data column.
    value : str or None
        The value that marks an event (as written: a number or a quoted string), or None for a
        0/1 column.
    """

    column: str
    value: str | None = None

    @property
    def literal(self) -> float | str | None:
        """``value`` as a number, or as a string without its quotes (None for a 0/1 column)."""
        if self.value is None:
            return None
        v = self.value
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
            return v[1:-1]
        try:
            return float(v)
        except ValueError:
            return v

    def __str__(self) -> str:
        return self.column if self.value is None else f"{self.column} == {self.value}"


def _unquote(name: str) -> str:
    return name[1:-1] if name.startswith("`") and name.endswith("`") else name


def parse_event(text: str) -> EventRule:
    """Parse ``"status"`` or ``"status == 2"`` (``"sex == 'f'"`` for text values).

    Raises
    ------
    ValueError
        If the text is neither a column name nor ``column == value``.
    """
    m = _EVENT.match(text)
    if m is None or not m.group("column"):
        raise ValueError(
            f"event must be a column name or 'column == value' (e.g. 'status == 2'), got {text!r}"
        )
    return EventRule(_unquote(m.group("column")), m.group("value"))


@dataclass(frozen=True)
class SurvFormula:
    """A parsed survival formula.

    Attributes
    ----------
    text : str
        The formula as written.
    time : str
        Follow-up (stop) time column.
    event : str
        Event expression (a column, or ``column == value``).
    entry : str or None
        Entry (start) column of ``Surv(entry, time, event)``.
    rhs : str
        The right-hand side, for formulaic.
    """

    text: str
    time: str
    event: str
    entry: str | None
    rhs: str


def _split_args(args: str) -> list[str]:
    out, depth, current = [], 0, ""
    for ch in args:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += ch
    out.append(current.strip())
    return out


def parse_formula(text: str) -> SurvFormula:
    """Parse ``"Surv(time, event) ~ rhs"``; the right side is checked by formulaic.

    Parameters
    ----------
    text : str
        ``Surv(time, event) ~ ...``, ``Surv(time, column == value) ~ ...`` or
        ``Surv(entry, time, event) ~ ...``.

    Returns
    -------
    SurvFormula

    Raises
    ------
    ValueError
        Naming what is wrong: no ``~``, a left side that is not ``Surv(...)``, the wrong
        number of arguments, or a right side formulaic cannot parse.
    """
    if text.count("~") != 1:
        raise ValueError(
            f"a formula has one '~' between Surv(...) and the covariates, got {text!r}"
        )
    lhs, rhs = (s.strip() for s in text.split("~"))
    m = _SURV.match(lhs)
    if m is None:
        raise ValueError(
            f"the left side must be Surv(time, event), Surv(time, column == value) or "
            f"Surv(entry, time, event), got {lhs!r}"
        )
    args = _split_args(m.group("args"))
    if len(args) not in (2, 3) or not all(args):
        raise ValueError(f"Surv() takes 2 or 3 arguments (time, event or entry, time, event), "
                         f"got {len(args)} in {lhs!r}")
    *cols, event = args
    for col in cols:
        if not re.fullmatch(_NAME, col):
            raise ValueError(f"Surv() time arguments must be column names, got {col!r}")
    rule = parse_event(event)
    if not rhs:
        raise ValueError("the right side of the formula is empty (use '1' for no covariates)")
    check_rhs(rhs)
    entry = _unquote(cols[0]) if len(cols) == 2 else None
    return SurvFormula(text=text, time=_unquote(cols[-1]), event=str(rule), entry=entry, rhs=rhs)


def check_rhs(rhs: str) -> None:
    """Let formulaic parse the right-hand side (no data needed); raise ValueError if it cannot."""
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    try:
        Formula(rhs)
    except FormulaicError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(f"formulaic cannot parse the right side {rhs!r}: {first}") from None


def _same_event(key: str, given: str) -> str:
    """An event expression normalised as the formula writes it (other keys unchanged)."""
    if key != "event":
        return given
    try:
        return str(parse_event(given))
    except ValueError:
        return given


def formula_sides(raw: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """A raw spec with ``data.time`` / ``data.event`` / ``data.entry`` filled from its formula.

    Returns
    -------
    raw : dict
        The spec with its ``[data]`` table completed by the formula's left side.
    problems : list of Problem
        ``formula_syntax`` for a formula that does not parse, ``formula_conflict`` for a
        ``[data]`` key that disagrees with the formula.
    """
    try:
        parsed = parse_formula(raw["formula"])
    except ValueError as exc:
        return raw, [Problem("formula_syntax", str(exc), column="formula")]
    data = dict(raw.get("data") or {})
    problems = []
    sides = {"time": parsed.time, "event": parsed.event, "entry": parsed.entry}
    for key, value in sides.items():
        given = data.get(key)
        if given is not None and isinstance(given, str) and _same_event(key, given) != value:
            problems.append(
                Problem(
                    "formula_conflict",
                    f"'{given}' differs from the formula's {value!r}; the formula gives "
                    "data.time, data.event and data.entry (drop the key or make them agree)",
                    column=f"data.{key}",
                )
            )
        if value is not None:
            data[key] = value
    return {**raw, "data": data}, problems
