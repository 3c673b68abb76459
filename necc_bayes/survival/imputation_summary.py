"""What ``data.missing = "model"`` imputed, and how the fit compares with complete cases.

* :func:`imputed_values` -- one row per missing value: the subject, the covariate, its kind
  and the posterior of the value (for a 0/1 covariate the probability that it is 1, with an
  equal-tailed interval over the draws of that probability; for a continuous one the value);
* :func:`imputation_summary` -- one row per incomplete covariate: values observed and imputed,
  the observed mean (share of ones) and the mean of the imputed values' posteriors, and the
  covariate's log-HR with all subjects (modelled) beside the complete-case fit;
* :func:`complete_case_cohort` -- the rows with every covariate observed, for that comparison
  (the same spec with ``missing = "drop"``, the same cut points and priors).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from necc_bayes.data.load import Cohort
from necc_bayes.survival.imputation import Imputation, cell_labels

if TYPE_CHECKING:
    import xarray as xr

IMPUTED_COLUMNS = ["subject", "term", "kind", "posterior_mean", "low", "high"]
"""Columns of ``imputation.csv``."""


def imputed_values(
    idata: xr.DataTree, imp: Imputation, ids: np.ndarray, terms: list[str], ci_prob: float
) -> pd.DataFrame:
    """Posterior of every missing value (``imputation.csv``)."""
    post = idata["posterior"]
    tail = (1.0 - ci_prob) / 2.0
    rows = []
    for var, cells, kind in (
        ("missing_prob", imp.binary_cells, "binary: P(x = 1)"),
        ("missing_value", imp.continuous_cells, "continuous: value"),
    ):
        if not len(cells) or var not in post:
            continue
        draws = post[var].stack(s=("chain", "draw")).transpose(..., "s").to_numpy()
        labels = cell_labels(imp, ids, terms, cells)
        for k, label in enumerate(labels):
            subject, term = label.split(":", 1)
            rows.append(
                {
                    "subject": subject,
                    "term": term,
                    "kind": kind,
                    "posterior_mean": float(draws[k].mean()),
                    "low": float(np.quantile(draws[k], tail)),
                    "high": float(np.quantile(draws[k], 1.0 - tail)),
                }
            )
    return pd.DataFrame(rows, columns=IMPUTED_COLUMNS)


def imputation_summary(
    values: pd.DataFrame,
    imp: Imputation,
    X: np.ndarray,
    terms: list[str],
    hazard_ratios: pd.DataFrame,
    complete_case: pd.DataFrame | None,
) -> pd.DataFrame:
    """One row per incomplete covariate (the report's imputation table)."""
    def by_term(table: pd.DataFrame, column: str) -> dict[str, float]:
        return {str(t): float(v) for t, v in zip(table["term"], table[column], strict=True)}

    mean, sd = by_term(hazard_ratios, "log_hr_mean"), by_term(hazard_ratios, "log_hr_sd")
    cc_mean = by_term(complete_case, "log_hr_mean") if complete_case is not None else {}
    cc_sd = by_term(complete_case, "log_hr_sd") if complete_case is not None else {}
    rows = []
    for m in imp.models:
        col = X[:, m.column]
        imputed = values[values["term"] == m.term]
        row = {
            "term": m.term,
            "kind": "binary" if m.binary else "continuous",
            "predictors": ", ".join(terms[j] for j in m.predictors) or "(none)",
            "n_observed": int((~np.isnan(col)).sum()),
            "n_imputed": int(np.isnan(col).sum()),
            "observed_mean": float(np.nanmean(col)),
            "imputed_mean": float(imputed["posterior_mean"].mean()) if len(imputed) else np.nan,
            "log_hr_mean": mean[m.term],
            "log_hr_sd": sd[m.term],
            "complete_case_log_hr_mean": cc_mean.get(m.term, np.nan),
            "complete_case_log_hr_sd": cc_sd.get(m.term, np.nan),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def complete_rows(X: np.ndarray, *arrays: np.ndarray | None) -> list:
    """``X`` and ``arrays`` restricted to the rows of ``X`` without NaN (None stays None).

    The posterior predictive and proportional-hazards checks need every covariate value, so
    with modelled missing covariates they use these rows (the report says so).
    """
    keep = ~np.isnan(X).any(axis=1)
    return [X[keep], *(None if a is None else np.asarray(a)[keep] for a in arrays)]


def complete_case_cohort(cohort: Cohort) -> Cohort:
    """The rows of ``cohort`` with every covariate observed (means recomputed on them)."""
    design = cohort.design
    keep = ~np.isnan(design.X).any(axis=1)
    X = design.X[keep]
    idx = np.flatnonzero(keep)
    dropped = tuple(int(i) + 1 for i in np.flatnonzero(~keep))
    return replace(
        cohort,
        frame=cohort.frame.iloc[idx].reset_index(drop=True),
        time=cohort.time[keep],
        event=cohort.event[keep],
        ids=cohort.ids[keep],
        design=replace(design, X=X, means=X.mean(axis=0)),
        dropped_rows=dropped,
        entry=None if cohort.entry is None else cohort.entry[keep],
    )
