"""Validation of ``data.missing = "model"``: which missing values the model can integrate out.

Under ``missing = "model"`` missing values stay in the cohort as NaN and are integrated out by
the survival model's covariate models (``necc_bayes.survival.imputation``). That is possible
for numeric covariates only: a 0/1 covariate is summed out exactly, any other numeric one is a
latent continuous value. Missing values anywhere else are refused with a named rule:

* ``missing`` -- in the time, event, entry, id, strata or cluster column (an outcome or the
  data's structure cannot be imputed);
* ``missing_model_type`` -- in a categorical or ordinal covariate (not supported: recode it as
  0/1 indicators, or drop the rows explicitly with ``missing = "drop"``);
* ``missing_model_binary`` -- a subject with more incomplete binary covariates than
  ``imputation.max_missing_binary`` (its ``2**k`` completions are summed).
"""

from __future__ import annotations

import pandas as pd

from necc_bayes.errors import Problem
from necc_bayes.spec.model import ModelSpec


def _rows(mask: pd.Series) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i, v in enumerate(mask.to_numpy()) if v)


def incomplete_problems(
    data: pd.DataFrame,
    spec: ModelSpec,
    covariates: list[str] | None = None,
    categorical: set[str] | None = None,
) -> list[Problem]:
    """Problems with the missing values of ``data`` under ``missing = "model"``.

    ``covariates`` are the covariate columns (default ``covariates.terms``; a formula's
    columns), ``categorical`` the columns coded as categorical (text columns included).
    """
    na = data.isna()
    terms = set(spec.covariates.terms if covariates is None else covariates)
    structured = set(spec.covariates.categorical) | set(spec.covariates.ordinal)
    structured |= categorical or set()
    out = []
    for col in data.columns[na.any()]:
        rows = _rows(na[col])
        if col not in terms:
            out.append(
                Problem(
                    "missing",
                    'missing value in a column that is not a covariate: data.missing = "model" '
                    "integrates out missing covariates only (drop such rows explicitly with "
                    'data.missing = "drop")',
                    column=col,
                    rows=rows,
                )
            )
        elif col in structured:
            out.append(
                Problem(
                    "missing_model_type",
                    'data.missing = "model" integrates out numeric covariates only (0/1 ones '
                    "exactly); recode this categorical/ordinal covariate as 0/1 indicators or "
                    'drop the rows with data.missing = "drop"',
                    column=col,
                    rows=rows,
                )
            )
    if out:
        return out
    limit = spec.imputation.max_missing_binary if spec.imputation else 8
    binary = [
        c
        for c in data.columns[na.any()]
        if set(pd.to_numeric(data[c], errors="coerce").dropna().unique()) <= {0.0, 1.0}
    ]
    per_row = na[binary].sum(axis=1) if binary else pd.Series(0, index=data.index)
    too_many = per_row > limit
    if too_many.any():
        out.append(
            Problem(
                "missing_model_binary",
                f"more than {limit} missing 0/1 covariates in a row: its 2**k completions would "
                "be summed (raise imputation.max_missing_binary, up to 12, or drop the rows)",
                column=", ".join(binary),
                rows=_rows(too_many),
            )
        )
    return out
