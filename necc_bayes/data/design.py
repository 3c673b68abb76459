"""Design matrix: numeric terms as-is, categorical terms dummy-coded against a reference."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
    """

    X: np.ndarray
    terms: list[str]
    source: list[str]
    means: np.ndarray
    center: bool

    @property
    def X_model(self) -> np.ndarray:
        """The matrix the model sees: centred if ``center`` else as coded."""
        return self.X - self.means if self.center else self.X

    @property
    def binary(self) -> list[bool]:
        """Whether each term only takes the values 0 and 1."""
        return [
            bool(np.isin(np.unique(col[~np.isnan(col)]), [0.0, 1.0]).all()) for col in self.X.T
        ]

    @property
    def incomplete(self) -> list[str]:
        """Terms with missing values (NaN; only under ``data.missing = "model"``)."""
        return [t for t, col in zip(self.terms, self.X.T, strict=True) if np.isnan(col).any()]


def categorical_levels(values: pd.Series, reference: str, declared: list[str] | None) -> list[str]:
    """Return the levels of a categorical column, reference first, then declared/sorted order."""
    observed = sorted({str(v) for v in values.dropna()})
    ordered = declared if declared else observed
    return [reference, *[lev for lev in ordered if lev != reference and lev in observed]]


def build_design(frame: pd.DataFrame, spec: ModelSpec) -> Design:
    """Encode the spec's covariate terms from an already-validated frame.

    Parameters
    ----------
    frame : DataFrame
        Validated cohort (no missing values in used columns).
    spec : ModelSpec
        Specification naming the terms and categorical coding.

    Returns
    -------
    Design
        The design matrix and its term names.
    """
    cols: list[np.ndarray] = []
    terms: list[str] = []
    source: list[str] = []
    for term in spec.covariates.terms:
        cat = spec.covariates.categorical.get(term)
        ordinal = spec.covariates.ordinal.get(term)
        if ordinal is not None:
            numeric = pd.to_numeric(frame[term]).to_numpy(dtype=float)
            for cut in ordinal.levels[1:]:
                cols.append((numeric >= cut).astype(float))
                terms.append(ordinal_term(term, cut))
                source.append(term)
            continue
        if cat is None:
            cols.append(pd.to_numeric(frame[term]).to_numpy(dtype=float))
            terms.append(term)
            source.append(term)
            continue
        values = frame[term].astype(str)
        for level in categorical_levels(frame[term], cat.reference, cat.levels)[1:]:
            cols.append((values == level).to_numpy(dtype=float))
            terms.append(f"{term}[{level}]")
            source.append(term)
    X = np.column_stack(cols) if cols else np.zeros((len(frame), 0))
    return Design(
        X=X, terms=terms, source=source, means=_column_means(X), center=spec.covariates.center
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
