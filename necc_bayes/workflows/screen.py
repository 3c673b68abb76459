"""Univariate screen: one PEM per covariate, all sampled with one compiled model.

Every covariate gets the model ``log h(t | x) = log lambda_j + beta x`` with the same cut
points (the base specification's rule applied to the whole cohort), the base specification's
baseline prior family and ``beta ~ Normal(0, 1.5)``: 95% prior mass on HR 1/19–19
(``exp(1.96 * 1.5) = 18.9``), weakly informative on the scale of published prognostic factors
yet excluding the separation artefacts (HR in the thousands) a flat prior allows.

Missing values, ``missing = "drop"`` (default): each covariate uses the patients with that
covariate recorded; the others are **dropped for that covariate only** and counted
(``n_dropped``). Dropping rows is valid when the values are missing completely at random and
needs no recompilation: the collapsed data change length, which nutpie's ``with_data``
accepts. With ``center = true`` the covariate is centred on the mean of the patients used, and
the data-scaled ("auto") baseline prior is resolved from their crude event rate, exactly as
:func:`necc_bayes.survival.fit.fit` would for a one-covariate specification with
``data.missing = "drop"``.

``missing = "model"``: a covariate with missing values is fitted on **every** patient with
``data.missing = "model"`` (its own covariate model, here with an intercept only since it is
the model's only covariate; a 0/1 covariate's missing values are summed out exactly, so the
outcome informs them; the baseline rates are sampled), exactly as
:func:`~necc_bayes.survival.fit.fit` would for that one-covariate specification;
``n_imputed`` counts its missing values. Complete covariates are fitted as with ``"drop"``.
Such covariates need a second compiled model (one more compilation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from necc_bayes.data.load import read_csv, validate
from necc_bayes.errors import InputError
from necc_bayes.spec.baseline_priors import resolve_baseline
from necc_bayes.spec.io import load_spec
from necc_bayes.spec.model import IntervalSection, ModelSpec
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival.hazard_ratios import HR_COLUMNS
from necc_bayes.survival.inputs import check_inputs, model_inputs, model_priors
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.resolve import resolve_spec
from necc_bayes.workflows.executor import RunStats
from necc_bayes.workflows.refits import RefitSummary, RefitTask, run_refits

SCREEN_PRIOR = NormalPrior(mu=0.0, sigma=1.5)

SCREEN_COLUMNS = [
    *HR_COLUMNS,
    "n_used",
    "n_dropped",
    "n_imputed",
    "n_events",
    "n_exposed",
    "events_exposed",
    "n_divergent",
    "diagnostics_passed",
    "note",
]


@dataclass(frozen=True, kw_only=True)
class ScreenTask(RefitTask):
    """One covariate's refit (picklable): a :class:`RefitTask` with the covariate's counts."""

    term: str
    n_dropped: int = 0
    n_imputed: int = 0
    raw: np.ndarray | None = None  # the covariate as recorded (for the exposed-cell counts)

    def rows(self, summary: RefitSummary) -> pd.DataFrame:
        """One row with :data:`SCREEN_COLUMNS`."""
        hr, diag = summary.hazard_ratios, summary.diagnostics
        event = self.inputs.pp.event
        raw = self.raw if self.raw is not None else np.full(event.size, np.nan)
        seen = np.isfinite(raw)  # missing = "model": cells counted on the recorded values
        binary = bool(seen.any() and np.isin(raw[seen], [0.0, 1.0]).all())
        hr["n_used"] = event.size
        hr["n_dropped"] = self.n_dropped
        hr["n_imputed"] = self.n_imputed
        hr["n_events"] = int(event.sum())
        hr["n_exposed"] = int((raw == 1).sum()) if binary else pd.NA
        hr["events_exposed"] = int(event[raw == 1].sum()) if binary else pd.NA
        hr["n_divergent"] = diag.n_divergent
        hr["diagnostics_passed"] = diag.passed
        hr["note"] = ""
        return hr[SCREEN_COLUMNS]


def _screen_spec(base: ModelSpec, term: str, missing: str = "drop") -> ModelSpec:
    return base.model_copy(
        update={
            "data": base.data.model_copy(update={"missing": missing}),
            "covariates": base.covariates.model_copy(update={"terms": [term], "categorical": {}}),
        }
    )


def _dropped_task(
    base: ModelSpec,
    frame: pd.DataFrame,
    source: str,
    term: str,
    cuts: np.ndarray,
    prior: NormalPrior,
) -> tuple[PEMInputs, PEMPriors, np.ndarray, int]:
    """Inputs and priors of one covariate fitted on the rows where it is recorded."""
    cohort = validate(frame, _screen_spec(base, term), source)
    pp = expand(cohort.time, cohort.event, cuts, entry=cohort.entry)
    rate = cohort.n_events / cohort.time_at_risk
    priors = PEMPriors(
        coefficients={term: prior}, groups=[], baseline=resolve_baseline(base.priors.baseline, rate)
    )
    inputs = PEMInputs(X=cohort.design.X_model, terms=[term], pp=pp, ids=cohort.ids)
    return inputs, priors, cohort.design.X[:, 0], len(cohort.dropped_rows)


def _modelled_task(
    base: ModelSpec, data: str | Path, term: str, cuts: np.ndarray, prior: NormalPrior
) -> tuple[PEMInputs, PEMPriors, np.ndarray]:
    """Inputs and priors of one covariate fitted with ``data.missing = "model"``."""
    spec = _screen_spec(base, term, "model").model_copy(
        update={"intervals": IntervalSection(rule="fixed", cuts=[float(c) for c in cuts])}
    )
    checked = check_inputs(spec, data)
    priors = model_priors(resolve_spec(checked))
    return (
        model_inputs(checked),
        replace(priors, coefficients={term: prior}),
        (checked.cohort.design.X[:, 0]),
    )


def screen_tasks(
    spec: ModelSpec | str | Path,
    data: str | Path,
    covariates: Sequence[str],
    *,
    prior: NormalPrior = SCREEN_PRIOR,
    sampler: SamplerSettings | None = None,
    missing: Literal["drop", "model"] = "drop",
) -> tuple[list[ScreenTask], dict[str, str]]:
    """Build one task per covariate; covariates that cannot be fitted are returned with why.

    Parameters
    ----------
    spec : ModelSpec or path
        Base specification: outcome columns, cut-point rule, baseline prior, centring, seed,
        sampler and diagnostics thresholds (its covariates and coefficient priors are not
        used).
    data : path
        Cohort CSV.
    covariates : sequence of str
        Columns to screen (0/1 or numeric), in the order of the output rows.
    prior : NormalPrior
        Prior on each log-HR.
    sampler : SamplerSettings, optional
        NUTS settings (default: the base specification's).
    missing : {"drop", "model"}
        What to do with a covariate's missing values (module docstring).

    Returns
    -------
    tasks : list of ScreenTask
    skipped : dict
        Covariate -> reason (for example constant after dropping missing values).
    """
    base = spec if isinstance(spec, ModelSpec) else load_spec(spec)
    base = base.model_copy(update={"covariates": base.covariates.model_copy(update={"terms": []})})
    full = check_inputs(base, data)  # cut points from the whole cohort
    frame = read_csv(data)
    s, d = base.sampler, base.diagnostics
    sampler = sampler or s
    tasks, skipped = [], {}
    for term in covariates:
        modelled = missing == "model" and term in frame.columns and frame[term].isna().any()
        try:
            if modelled:
                inputs, priors, raw = _modelled_task(base, data, term, full.cuts, prior)
                n_dropped = 0
            else:
                inputs, priors, raw, n_dropped = _dropped_task(
                    base, frame, str(data), term, full.cuts, prior
                )
        except InputError as err:
            skipped[term] = "; ".join(p.message for p in err.problems)
            continue
        tasks.append(
            ScreenTask(
                term=term,
                inputs=inputs,
                priors=priors,
                seed=s.seed,
                sampler=sampler,
                thresholds=d,
                ci_prob=base.summaries.ci_prob,
                n_dropped=n_dropped,
                n_imputed=int(np.isnan(raw).sum()),
                raw=raw,
            )
        )
    return tasks, skipped


def univariate_screen(
    spec: ModelSpec | str | Path,
    data: str | Path,
    covariates: Sequence[str],
    *,
    prior: NormalPrior = SCREEN_PRIOR,
    sampler: SamplerSettings | None = None,
    missing: Literal["drop", "model"] = "drop",
    scheduler: Any = "serial",
    n_workers: int | None = None,
    quiet: bool = True,
    stats: RunStats | None = None,
) -> pd.DataFrame:
    """Fit one PEM per covariate with a single compiled model.

    Parameters are those of :func:`screen_tasks`, plus the scheduler (see
    :func:`necc_bayes.workflows.executor.run_tasks`), ``quiet`` (no progress display) and ``stats``
    (filled with the number of compilations: 1 per worker).

    Returns
    -------
    DataFrame
        One row per covariate in the order given: the ``hazard_ratios.csv`` columns, then
        ``n_used``, ``n_dropped`` (missing values dropped), ``n_imputed`` (missing values
        modelled), ``n_events``, ``n_exposed`` and
        ``events_exposed`` (0/1 covariates), ``n_divergent``, ``diagnostics_passed`` and
        ``note`` (why a covariate could not be fitted; its numbers are then empty).
    """
    tasks, skipped = screen_tasks(
        spec, data, covariates, prior=prior, sampler=sampler, missing=missing
    )
    frames = run_refits(
        tasks,
        "univariate screen",
        quiet=quiet,
        scheduler=scheduler,
        n_workers=n_workers,
        stats=stats,
    )
    rows = {t.term: f for t, f in zip(tasks, frames, strict=True)}
    out = []
    for term in covariates:
        if term in rows:
            out.append(rows[term])
        else:
            out.append(pd.DataFrame([{"term": term, "note": skipped.get(term, "not fitted")}]))
    return pd.concat(out, ignore_index=True).reindex(columns=SCREEN_COLUMNS)
