"""The design of a formula model, built by formulaic from validated columns.

The right-hand side of a formula (:mod:`necc_bayes.spec.formula`) is materialised by
formulaic on a copy of the used columns, each typed by :mod:`necc_bayes.data.columns`
(numbers as numbers; categorical columns as a pandas ``Categorical`` whose first category is
the reference, so formulaic's treatment coding drops it). Then:

* the intercept formulaic adds is dropped (the baseline hazard plays its part); a formula
  without one (``0 + ...`` or ``- 1``) is refused, since formulaic would then code every level
  of the first categorical;
* treatment-coded columns are renamed from formulaic's ``x[T.level]`` and
  ``C(x, ...)[T.level]`` to ``x[level]`` (DESIGN section 8); other names are kept;
* formulaic's model spec is kept, so new rows (predictions) are encoded exactly as the fitted
  data were, stateful transforms included.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from necc_bayes.data.columns import Columns
from necc_bayes.errors import DataError, Problem, SpecError
from necc_bayes.spec.model import did_you_mean

_TOKEN = re.compile(r"`([^`]+)`|([A-Za-z_.][A-Za-z0-9_.]*)")
_TREATMENT = re.compile(r"^(?P<expr>.+)\[T\.(?P<level>.*)\]$")
_CALL = re.compile(r"^C\(\s*`?(?P<col>[^,`)]+?)`?\s*[,)]")


def formula_columns(rhs: str, columns: list[str], source: str) -> list[str]:
    """The data columns a formula's right side uses, in the order they first appear.

    Raises
    ------
    DataError
        Rule ``column_exists`` for a name formulaic would look up in the data that the data
        do not have (with a "did you mean" hint).
    """
    from formulaic import Formula

    found: list[str] = []
    for m in _TOKEN.finditer(rhs):
        name = m.group(1) or m.group(2)
        if name in columns and name not in found:
            found.append(name)
    missing = []
    for var in sorted(str(v) for v in Formula(rhs).required_variables):
        covered = any(c == var or c.startswith(var + ".") for c in found)
        if not covered:
            missing.append(var)
    if missing:
        raise DataError(
            source,
            [
                Problem(
                    "column_exists",
                    f"used by the formula but not in the data{did_you_mean(v, columns)}",
                    column=v,
                )
                for v in missing
            ],
        )
    return found


def _rename(name: str) -> str:
    parts = []
    for part in name.split(":"):
        m = _TREATMENT.match(part)
        if m is None:
            parts.append(part)
            continue
        expr = m.group("expr")
        call = _CALL.match(expr)
        column = call.group("col").strip() if call else expr.strip("`")
        parts.append(f"{column}[{m.group('level')}]")
    return ":".join(parts)


def typed_columns(
    frame: pd.DataFrame,
    columns: list[str],
    levels: dict[str, list[str]],
    values: Columns | None = None,
) -> pd.DataFrame:
    """The used columns typed for formulaic: categorical with ``levels`` order, else numbers.

    Integral numbers become integers, so that a CSV's ``"1"`` and a DataFrame's ``1.0`` give
    the same level names (``trt[1]``) under ``C(trt)``. ``values`` is ``Columns(frame)`` when
    already made.
    """
    values = Columns(frame) if values is None else values
    out: dict[str, Any] = {}
    for col in columns:
        if col in levels:
            out[col] = pd.Categorical(values.text(col), categories=levels[col])
            continue
        num = values.numeric(col)
        integral = num.notna().all() and bool((num == np.round(num)).all())
        out[col] = (num.astype(np.int64) if integral else num.astype(float)).to_numpy()
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def materialize(
    rhs: str, typed: pd.DataFrame, source: str, encoder: Any = None
) -> tuple[np.ndarray, list[str], list[str], Any]:
    """Encode typed columns: ``(X, term names, source column per term, formulaic ModelSpec)``.

    With ``encoder`` (the ModelSpec of a fit), new rows are encoded as the fit's data were.

    Raises
    ------
    SpecError
        Rule ``formula_intercept`` for a formula without an intercept, ``formula_terms`` for
        a right side formulaic cannot evaluate on these data (e.g. an unknown function).
    """
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    try:
        mm = (
            model_matrix(rhs, typed, na_action="raise")
            if encoder is None
            else encoder.get_model_matrix(typed, na_action="raise")
        )
    except (FormulaicError, NameError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(
            source, [Problem("formula_terms", f"formulaic could not build {rhs!r}: {first}",
                             column="formula")]
        ) from None
    spec = mm.model_spec
    names = [str(c) for c in mm.columns]
    if "Intercept" not in names:
        raise SpecError(
            source,
            [
                Problem(
                    "formula_intercept",
                    "the formula removes the intercept ('0 +' or '- 1'); the baseline hazard "
                    "is the intercept of a survival model: leave it in",
                    column="formula",
                )
            ],
        )
    keep = [k for k, n in enumerate(names) if n != "Intercept"]
    # C order, as the TOML path's column_stack: the same numbers in the same memory layout give
    # the same floating-point sums downstream (an F-ordered copy differed at 1e-13 in draws)
    X = np.ascontiguousarray(np.asarray(mm.to_numpy(), dtype=float)[:, keep])
    origin = {}
    for structure in spec.structure:
        term_vars = [str(v) for v in sorted(spec.term_variables[structure.term], key=str)]
        data_cols = [v for v in term_vars if v in typed.columns]
        label = data_cols[0] if len(data_cols) == 1 else str(structure.term)
        for col in structure.columns:
            origin[col] = label
    terms = [_rename(names[k]) for k in keep]
    sources = [origin[names[k]] for k in keep]
    dupes = sorted({t for t in terms if terms.count(t) > 1})
    if dupes:
        raise SpecError(
            source,
            [Problem("formula_terms", f"the formula gives the columns {dupes} twice",
                     column="formula")],
        )
    return X, terms, sources, spec
