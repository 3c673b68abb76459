"""The re-analysis checks proportional hazards in its final and multivariable models.

Every fit already runs the check (``ph_check.csv`` in its folder); this step gathers the rows of
the two models the paper's conclusions rest on (``prs_final``: abdominal recurrence and more
than one site; ``prs_multivariable``) into ``ph_check.csv`` of the re-analysis. For any model
with a flagged term, that model is refitted with the flagged terms in
``covariates.time_varying`` (folder ``fits/<model>_time_varying``) and compared with the PH fit
by PSIS-LOO (``ph_loo.csv``); the per-interval HRs go to ``hazard_ratios_by_interval.csv``.
"""

from __future__ import annotations

import warnings

import pandas as pd
from markupsafe import Markup, escape

from necc_bayes.data.bundled import bundled_path
from necc_bayes.inference.loo import ParetoKWarning, compare_fits
from necc_bayes.report.html import Section, html_table
from necc_bayes.spec.io import load_spec
from necc_bayes.spec.model import ModelSpec
from necc_bayes.studies.necc.comparison import SYNTHETIC_LABEL
from necc_bayes.studies.necc.context import Context
from necc_bayes.survival.fit import fit
from necc_bayes.survival.save import write_fit_files

PH_MODELS = ("prs_final", "prs_multivariable")


def flagged_names(table: pd.DataFrame) -> list[str]:
    """What to make time-varying: the flagged terms and covariates (not the GLOBAL row)."""
    rows = table[table["flagged"] & table["scope"].isin(["term", "covariate"])]
    return list(dict.fromkeys(str(t) for t in rows["term"]))


def time_varying_spec(spec: ModelSpec, names: list[str]) -> ModelSpec:
    """The specification with ``names`` time-varying (and ``_time_varying`` in its name)."""
    covariates = spec.covariates.model_copy(update={"time_varying": names})
    return spec.model_copy(update={"name": f"{spec.name}_time_varying", "covariates": covariates})


def step_ph(ctx: Context) -> None:
    """Gather the PH checks; refit flagged models with time-varying effects, compare by LOO."""
    tables, loo_rows, by_interval = [], [], []
    for name in PH_MODELS:
        result = ctx.fits[name]
        table = result.ph_check().table
        tables.append(table.assign(model=name))
        names = flagged_names(table)
        if not names:
            ctx.notes.append(f"{name}: proportional-hazards check flagged no term")
            continue
        ctx.notes.append(f"{name}: proportional-hazards check flagged {', '.join(names)}")
        spec = time_varying_spec(load_spec(bundled_path(f"models/{name}.toml")), names)
        tv = fit(
            spec,
            ctx.cohort_path,
            overrides={"draws": ctx.draws, "chains": ctx.chains},
            progressbar=False,
            warn=False,
        )
        tv_name = spec.name
        ctx.fits[tv_name] = tv
        folder = ctx.out / "fits" / tv_name
        folder.mkdir(parents=True, exist_ok=True)
        write_fit_files(tv, folder, data_label=SYNTHETIC_LABEL)
        by_interval.append(tv.hazard_ratios_by_interval().assign(model=tv_name))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ParetoKWarning)
            comparison = compare_fits({name: result.idata, tv_name: tv.idata})
        ctx.notes += [f"{tv_name} vs {name}: {w.message}" for w in caught]
        loo_rows.append(comparison.reset_index(names="fit").assign(model=name))
    ctx.tables["ph_check"] = pd.concat(tables, ignore_index=True)
    if loo_rows:
        ctx.tables["ph_loo"] = pd.concat(loo_rows, ignore_index=True)
        ctx.tables["hazard_ratios_by_interval"] = pd.concat(by_interval, ignore_index=True)


def ph_section(ctx: Context) -> Section | None:
    """The re-analysis report's proportional-hazards section (None before the step ran)."""
    if "ph_check" not in ctx.tables:
        return None
    table = ctx.tables["ph_check"]
    shown = table[["model", "term", "scope", "df", "chisq", "p_chisq", "ppp", "trend", "flagged"]]
    flagged = table[table["flagged"]]
    alpha = float(table["alpha"].iloc[0])
    n_terms = table[table["scope"] == "term"].groupby("model").size()
    chance = ", ".join(f"{m}: {1 - (1 - alpha) ** k:.0%} for {k} terms" for m, k in n_terms.items())
    verdict = (
        "No term of the final or the multivariable model is flagged: the data give no sign "
        "that the hazard ratios change over follow-up."
        if flagged.empty
        else "Flagged: "
        + "; ".join(f"{r.model}: {r.term}" for r in flagged.itertuples())
        + ". These models were refitted with the flagged terms time-varying (below). Each "
        f"row is tested at {alpha:g} without multiplicity adjustment: under proportional "
        f"hazards the chance of at least one flagged term is about {chance}."
    )
    intro = (
        "For each term, the efficient score statistic for a trend of its log-HR in 1 - KM(t) "
        "(the statistic of survival::cox.zph, on the model's intervals), calibrated by "
        "posterior predictive replicate cohorts simulated under proportional hazards (ppp); "
        "flagged when ppp < 0.05. Size and power by simulation are in "
        "necc_bayes/workflows/ph_calibration.py. On the SYNTHETIC cohort: the generator "
        "simulates proportional hazards, so this says nothing about the study's own data."
    )
    body = Markup(f'<p class="explain">{escape(intro)}</p><p>{escape(verdict)}</p>')
    body += html_table(shown, row_class=lambda r: "fail" if r["flagged"] else "")
    if "ph_loo" in ctx.tables:
        body += Markup("<h3>Time-varying refits: PSIS-LOO against the PH fit</h3>")
        body += html_table(ctx.tables["ph_loo"])
        body += Markup("<h3>Per-interval hazard ratios</h3>")
        body += html_table(ctx.tables["hazard_ratios_by_interval"])
    return Section(f"Proportional hazards — {SYNTHETIC_LABEL}", "proportional-hazards", body)
