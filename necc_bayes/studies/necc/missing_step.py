"""The multivariable model on every patient: missing covariates modelled, not dropped.

``models/prs_multivariable.toml`` drops the patients with a missing covariate (Table 1 N/A:
depth of invasion for 9 of 88, PD-1 inhibitor use for 13; 69 complete cases, as the paper's
complete-case Cox fit). This step refits the same specification with ``data.missing =
"model"`` (folder ``fits/prs_multivariable_imputed``): each incomplete 0/1 covariate gets a
logistic model on the complete ones (chained, fewest missing first) and is summed out per
patient, jointly with the survival model, so all 88 patients count. ``multivariable_missing.csv``
puts, per term, the paper's Table 3 multivariable row (where the paper's final model has the
term), the modelled fit (88) and the complete-case fit (the same model on the 69, with the same
cuts and priors: :meth:`~necc_bayes.survival.result.PEMResult.complete_case_hazard_ratios`)
side by side, with how many values were imputed and their posterior mean.
"""

from __future__ import annotations

import warnings

import pandas as pd
from markupsafe import Markup, escape

from necc_bayes.data.bundled import bundled_path
from necc_bayes.errors import ConvergenceWarning
from necc_bayes.report.html import Section, html_table
from necc_bayes.spec.io import load_spec
from necc_bayes.spec.model import ModelSpec
from necc_bayes.studies.necc import published
from necc_bayes.studies.necc.comparison import PAPER_SOURCE, POSTERIOR_SOURCE, SYNTHETIC_LABEL
from necc_bayes.studies.necc.context import Context
from necc_bayes.survival.fit import fit
from necc_bayes.survival.save import write_fit_files

BASE_MODEL = "prs_multivariable"
MODEL = f"{BASE_MODEL}_imputed"
"""Name (and folder under ``fits/``) of the multivariable fit with modelled missingness."""


def imputed_spec(spec: ModelSpec) -> ModelSpec:
    """The specification with ``data.missing = "model"`` (and ``_imputed`` in its name)."""
    return spec.model_copy(
        update={
            "name": f"{spec.name}_imputed",
            "description": f"{spec.description} (missing covariates modelled)",
            "data": spec.data.model_copy(update={"missing": "model"}),
        }
    )


def missing_comparison(
    hazard_ratios: pd.DataFrame,
    complete_case: pd.DataFrame,
    summary: pd.DataFrame,
    n_all: int,
    n_complete: int,
) -> pd.DataFrame:
    """Per term: the paper's multivariable row, the modelled fit and the complete-case fit."""
    t3 = published.table3(model="multivariable", as_printed=True)
    paper = t3[["term", "hr", "ci_low", "ci_high", "p"]].rename(
        columns={"hr": "paper_hr", "ci_low": "paper_low", "ci_high": "paper_high", "p": "paper_p"}
    )
    cols = ["term", "hr_median", "hr_low", "hr_high", "p_hr_gt_1"]
    modelled = hazard_ratios[cols].rename(columns={c: f"{c}_all" for c in cols[1:]})
    cc = complete_case[cols].rename(columns={c: f"{c}_complete_case" for c in cols[1:]})
    imp = summary[["term", "n_imputed", "observed_mean", "imputed_mean"]]
    out = modelled.merge(cc, on="term").merge(imp, on="term", how="left").merge(
        paper, on="term", how="left"
    )
    out["n_imputed"] = out["n_imputed"].fillna(0).astype(int)
    out.insert(1, "n_all", n_all)
    out.insert(2, "n_complete_case", n_complete)
    out["paper_source"] = PAPER_SOURCE + " multivariable rows (the paper's final model)"
    out["posterior_source"] = POSTERIOR_SOURCE
    return out


def step_missing(ctx: Context) -> None:
    """Fit the multivariable model on all patients with ``missing = "model"``; compare."""
    spec = imputed_spec(load_spec(bundled_path(f"models/{BASE_MODEL}.toml")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fit(
            spec,
            ctx.cohort_path,
            overrides={"draws": ctx.draws, "chains": ctx.chains},
            progressbar=False,
            warn=False,
        )
    ctx.notes += [f"{MODEL}: {w.message}" for w in caught if w.category is ConvergenceWarning]
    ctx.fits[MODEL] = result
    folder = ctx.out / "fits" / MODEL
    folder.mkdir(parents=True, exist_ok=True)
    write_fit_files(result, folder, data_label=SYNTHETIC_LABEL)
    imp, summary = result.imputation, result.imputation_summary()
    complete_case = result.complete_case_hazard_ratios()
    if imp is None or summary is None or complete_case is None:  # nothing missing
        return
    ctx.tables["multivariable_missing"] = missing_comparison(
        result.hazard_ratios(),
        complete_case,
        summary,
        result.checked.cohort.n_subjects,
        int(imp.complete.size),
    )


def missing_section(ctx: Context) -> Section | None:
    """The re-analysis report's section on the multivariable model with every patient."""
    if "multivariable_missing" not in ctx.tables:
        return None
    table = ctx.tables["multivariable_missing"]
    n_all, n_cc = int(table["n_all"].iloc[0]), int(table["n_complete_case"].iloc[0])
    imputed = table[table["n_imputed"] > 0]
    counts = ", ".join(f"{r.term} {r.n_imputed}" for r in imputed.itertuples())
    intro = (
        f"The multivariable model ({BASE_MODEL}) refitted on all {n_all} patients with "
        f'data.missing = "model" (fit {MODEL}) beside the same model on the {n_cc} complete '
        f"cases (same cuts and priors) and the paper's Table 3 multivariable rows (its final "
        f"model: abdominal recurrence and more than one site; the paper fitted complete "
        f"cases). Values imputed: {counts}. Each incomplete 0/1 covariate has a logistic "
        "model on the complete covariates (chained, fewest missing first) and is summed out "
        "per patient jointly with the survival model, so the outcome informs the imputation; "
        "the baseline rates are sampled. Posterior HR medians with 95% equal-tailed "
        "intervals; imputed_mean is the mean posterior probability of 1 of the imputed "
        "values, observed_mean the observed share of ones. On the SYNTHETIC cohort: not the "
        "study's results."
    )
    shown = table.drop(columns=["paper_source", "posterior_source"])
    body = Markup(f'<p class="explain">{escape(intro)}</p>') + html_table(shown)
    return Section(
        f"Multivariable model on all {n_all} patients (missing covariates modelled) — "
        f"{SYNTHETIC_LABEL}",
        "missing-covariates",
        body,
    )
