"""Design matrix: numeric terms as-is, categorical terms dummy-coded against a reference.

Terms listed in ``covariates.terms`` are coded here (numeric as-is, ordinal as cumulative
dummies, categorical as ``column[level]`` dummies against the reference); a formula's right
side is coded by formulaic (:mod:`necc_bayes.data.formula_design`). Either way
:func:`encode_rows` codes new rows exactly as the fitted data were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from necc_bayes.data.columns import Columns
from necc_bayes.data.formula_design import formula_columns, materialize, typed_columns
from necc_bayes.spec.model import ModelSpec, ordinal_term


@dataclass(frozen=True)
class Design:
    """The covariates of a model as numbers.

    Attributes
    ----------
    X : ndarray, shape (n, p)
        Uncentred design (0/1 dummies for categorical terms).
    terms : list of str
        Column names of ``X``; a dummy is named ``column[level]``.
    source : list of str
        The data column each term comes from.
    means : ndarray, shape (p,)
        Column means of ``X`` (of the observed values, when ``data.missing = "model"`` leaves
        missing values as NaN).
    center : bool
        Whether the model uses ``X - means`` (baseline refers to the covariate means).
    levels : dict of str to list of str
        Levels of each categorical column, its reference first.
    columns : list of str
        The data columns the covariates come from.
    encoder : formulaic ModelSpec, optional
        For a formula model: codes new rows as the fitted ones (stateful transforms included).
    """

    X: np.ndarray
    terms: list[str]
    source: list[str]
    means: np.ndarray
    center: bool
    levels: dict[str, list[str]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    encoder: Any = field(default=None, repr=False, compare=False)

    @property
    def X_model(self) -> np.ndarray:
        """The matrix the model sees: centred if ``center`` else as coded."""
        return self.X - self.means if self.center else self.X

    @property
    def binary(self) -> list[bool]:
        """Whether each term only takes the values 0 and 1."""
        return list(self._binary)

    @cached_property
    def _binary(self) -> tuple[bool, ...]:
        return tuple(
            bool(np.all((seen == 0.0) | (seen == 1.0)))
            for seen in (col[~np.isnan(col)] for col in self.X.T)
        )

    @property
    def incomplete(self) -> list[str]:
        """Terms with missing values (NaN; only under ``data.missing = "model"``)."""
        return [t for t, col in zip(self.terms, self.X.T, strict=True) if np.isnan(col).any()]


def categorical_levels(values: pd.Series, reference: str, declared: list[str] | None) -> list[str]:
    """Return the levels of a categorical column, reference first, then declared/sorted order."""
    observed = sorted({str(v) for v in values.dropna()})
    ordered = declared if declared else observed
    return [reference, *[lev for lev in ordered if lev != reference and lev in observed]]


def covariate_columns(frame: pd.DataFrame, spec: ModelSpec, source: str = "<data>") -> list[str]:
    """The data columns the covariates use: ``covariates.terms``, or those of the formula."""
    rhs = spec.formula_rhs
    if rhs is None:
        return list(spec.covariates.terms)
    return formula_columns(rhs, [str(c) for c in frame.columns], source)


def coding_levels(
    frame: pd.DataFrame, spec: ModelSpec, columns: list[str], values: Columns | None = None
) -> dict[str, list[str]]:
    """Levels (reference first) of every categorical column among ``columns``.

    A column is categorical when ``covariates.categorical`` declares it or its values are all
    text (:func:`necc_bayes.data.columns.column_kind`); ordinal columns are numeric.
    ``values`` is ``Columns(frame)`` when already made (each column converted once).
    """
    values = Columns(frame) if values is None else values
    out = {}
    for col in columns:
        section = spec.covariates.categorical.get(col)
        if col in spec.covariates.ordinal:
            continue
        if values.kind(col, section is not None) == "categorical":
            out[col] = values.levels(col, section)
    return out


def build_design(
    frame: pd.DataFrame,
    spec: ModelSpec,
    levels: dict[str, list[str]] | None = None,
    *,
    source: str = "<data>",
    encoder: Any = None,
    values: Columns | None = None,
) -> Design:
    """Encode the spec's covariate terms (or formula) from an already-validated frame.

    Parameters
    ----------
    frame : DataFrame
        Validated cohort (no missing values in used columns).
    spec : ModelSpec
        Specification naming the terms (or the formula) and categorical coding.
    levels : dict, optional
        Levels of each categorical column, reference first (default: :func:`coding_levels`
        of ``frame``); pass a fit's levels to code new rows the same way.
    source : str
        Where the data came from (messages).
    encoder : formulaic ModelSpec, optional
        A formula fit's encoder, to code new rows exactly as the fitted data.
    values : Columns, optional
        ``Columns(frame)`` when already made (each column converted once).

    Returns
    -------
    Design
        The design matrix and its term names.
    """
    columns = covariate_columns(frame, spec, source)
    values = Columns(frame) if values is None else values
    if levels is None:
        levels = coding_levels(frame, spec, columns, values)
    rhs = spec.formula_rhs
    if rhs is not None:
        typed = typed_columns(frame, columns, levels, values)
        X_f, terms_f, origin_f, model_spec = materialize(rhs, typed, source, encoder)
        return Design(
            X=X_f,
            terms=terms_f,
            source=origin_f,
            means=_column_means(X_f),
            center=spec.covariates.center,
            levels=levels,
            columns=columns,
            encoder=model_spec,
        )
    cols: list[np.ndarray] = []
    terms: list[str] = []
    origin: list[str] = []
    for term in spec.covariates.terms:
        ordinal = spec.covariates.ordinal.get(term)
        if ordinal is not None:
            numeric = values.numeric(term).to_numpy(dtype=float)
            for cut in ordinal.levels[1:]:
                cols.append((numeric >= cut).astype(float))
                terms.append(ordinal_term(term, cut))
                origin.append(term)
            continue
        if term not in levels:
            cols.append(values.numeric(term).to_numpy(dtype=float))
            terms.append(term)
            origin.append(term)
            continue
        text = values.text(term)
        for level in levels[term][1:]:
            cols.append((text == level).to_numpy(dtype=float))
            terms.append(f"{term}[{level}]")
            origin.append(term)
    X = np.column_stack(cols) if cols else np.zeros((len(frame), 0))
    return Design(
        X=X,
        terms=terms,
        source=origin,
        means=_column_means(X),
        center=spec.covariates.center,
        levels=levels,
        columns=columns,
    )


def _column_means(X: np.ndarray) -> np.ndarray:
    """Column means over the observed (non-NaN) values; plain means when nothing is missing."""
    if X.size and np.isnan(X).any():
        return np.nanmean(X, axis=0)
    return X.mean(axis=0)


def collinear_sets(X: np.ndarray, terms: list[str], tol: float = 1e-8) -> list[list[str]]:
    """Find groups of terms that are exactly linearly dependent (intercept included).

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Design without intercept; constant columns should be removed beforehand.
    terms : list of str
        Column names.
    tol : float
        Relative singular-value tolerance.

    Returns
    -------
    list of list of str
        One list of term names per independent linear dependency.
    """
    if X.shape[1] == 0:
        return []
    Z = np.column_stack([np.ones(X.shape[0]), X])
    Z = Z / np.maximum(np.linalg.norm(Z, axis=0), 1e-300)
    # full V (null space) is needed; the n x n U is not, unless there are fewer rows than columns
    _, s, vt = np.linalg.svd(Z, full_matrices=Z.shape[0] < Z.shape[1])
    s_full = np.concatenate([s, np.zeros(Z.shape[1] - s.size)])
    null = vt[s_full <= tol * s_full.max()]
    out = []
    for v in null:
        involved = [terms[k - 1] for k in range(1, Z.shape[1]) if abs(v[k]) > 1e-6]
        if involved:
            out.append(involved)
    return out
