"""The HTML report of ``necc-bayes reproduce``.

One self-contained page composed from the building blocks of :mod:`necc_bayes.report`
(:mod:`~necc_bayes.report.html` and the sections of :mod:`~necc_bayes.report.fit_page`),
linking every per-model report. What the survival sections show is computed by
:mod:`necc_bayes.survival.page`. Every section and figure computed from the cohort carries the
SYNTHETIC label in its title; the paper's numbers quoted in the text are read from
:mod:`necc_bayes.studies.necc.published`, never typed in.
"""

from __future__ import annotations

import base64

import pandas as pd
from markupsafe import Markup, escape

from necc_bayes.report.fit_sections import hazard_ratio_section, survival_section
from necc_bayes.report.html import (
    Section,
    details,
    figure,
    html_table,
    paragraph,
    render_page,
    warnings_section,
)
from necc_bayes.studies.necc import published
from necc_bayes.studies.necc.cohort_steps import inclusion_section, ttr_section
from necc_bayes.studies.necc.comparison import SYNTHETIC_LABEL
from necc_bayes.studies.necc.context import Context
from necc_bayes.studies.necc.missing_step import missing_section
from necc_bayes.studies.necc.ph_step import ph_section
from necc_bayes.survival.page import survival_panels

SYNTHETIC_NOTE = (
    "The study publishes aggregate tables only. Every posterior on this page is computed on a "
    "SYNTHETIC individual-level cohort generated to match those tables (data/README.md). The "
    "paper's own numbers are shown beside the posteriors and labelled as published; nothing "
    "computed here is a result of the study."
)


def _synthetic(title: str) -> str:
    """A section title for results computed from the cohort."""
    return f"{title} — {SYNTHETIC_LABEL}"


def _printed(key: str) -> str:
    """One outcome number of the paper's text, formatted as in outcomes.json (12.2, 66.5)."""
    return f"{published.outcome(key):g}"


def _syn_printed() -> str:
    """Table 3's univariate synaptophysin row as printed: the paper's separation artefact."""
    row = published.table3("univariate").set_index("term").loc["syn"]
    return f"{row['hr_printed']}, 95% CI {row['ci_printed']}"


def _counts(counts: tuple[int, int]) -> str:
    return f"{counts[0]}/{counts[1]}"


def _table_section(ctx: Context, key: str, title: str, intro: str) -> Section | None:
    if key not in ctx.tables:
        return None
    return Section(title, key.replace("_", "-"), paragraph(intro) + html_table(ctx.tables[key]))


def _ci(hr: float, low: float, high: float) -> str:
    return f"{hr:.3g} ({low:.3g}–{high:.3g})"


def _table3_section(ctx: Context) -> Section | None:
    if "table3_comparison" not in ctx.tables:
        return None
    t = ctx.tables["table3_comparison"]
    compact = pd.DataFrame(
        {
            "row": t["row"],
            "Table 3 row (as printed)": t["label_as_printed"],
            "model": t["model"],
            "paper HR (95% CI), as printed": [
                f"{h} ({c})" for h, c in zip(t.hr_printed, t.ci_printed, strict=True)
            ],
            "paper p": t["paper_p"],
            "posterior HR (95% CrI), synthetic": [
                _ci(*v)
                for v in zip(
                    t.posterior_hr_median, t.posterior_hr_low, t.posterior_hr_high, strict=True
                )
            ],
            "P(HR > 1)": t["posterior_p_hr_gt_1"].round(3),
            "fragility": t.get("fragility_flags", pd.Series([""] * len(t))).fillna(""),
        }
    )
    body = paragraph(
        "Paper columns: hazard ratio, 95% CI and p as printed in the published Table 3. "
        "Posterior columns: median HR, 95% equal-tailed credible interval and P(HR > 1) "
        "computed on the SYNTHETIC cohort — univariate rows from the univariate screen "
        "(Normal(0, 1.5) prior on each log-HR; a covariate with N/A is fitted on all 88 "
        "patients with its missing values modelled, data.missing = \"model\": n_imputed in "
        "screen.csv), multivariable rows from models/prs_final.toml. "
        "Full columns (sources, synthetic Cox fit) in table3_comparison.csv."
    ) + html_table(compact, row_class=lambda r: "fail" if "separation" in r["fragility"] else "")
    return Section(_synthetic("Table 3: published Cox HRs beside posterior HRs"), "table3", body)


def _group_section(ctx: Context, model: str, title: str, intro: str) -> Section:
    fit = ctx.fits[model]
    surv = fit.survival()
    panels = survival_panels(list(dict.fromkeys(surv["profile"])), fit.checked.cohort)
    inner = survival_section(surv, fit.survival_summary(), panels, label=SYNTHETIC_LABEL)
    body = paragraph(intro) + inner.body
    if model == "prs_by_abdominal" and "prs_by_abdominal" in ctx.tables:
        body += Markup(
            "<h3>Paper beside posterior (posterior: SYNTHETIC cohort; full columns in "
            "prs_by_abdominal.csv)</h3>"
        ) + html_table(ctx.tables["prs_by_abdominal"].drop(columns=["posterior_source"]))
    return Section(_synthetic(title), model.replace("_", "-"), body)


def _hierarchical_section(ctx: Context) -> Section:
    fit = ctx.fits["prs_sites_hierarchical"]
    inner = hazard_ratio_section(
        fit.hazard_ratios(), fit.spec.summaries.ci_prob, label=SYNTHETIC_LABEL
    )
    body = paragraph(
        "All seven site indicators with partially pooled log-HRs (Normal(mu, tau)), plus more "
        "than one site. Sites overlap and, with the count, are nearly collinear: the table "
        "below gives the posterior correlation between the count's log-HR and each site's — "
        "strongly negative values mean the data cannot separate 'many sites' from 'these sites'."
    )
    body += inner.body
    if "site_count_correlation" in ctx.tables:
        body += html_table(ctx.tables["site_count_correlation"])
    return Section(_synthetic("Hierarchical site model"), "sites", body)


def _png(ctx: Context, name: str, caption: str, alt: str) -> Markup:
    png = ctx.out / "figures" / name
    if not png.exists():
        return Markup("")
    uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    return figure(uri, caption, alt)


def _sensitivity_section(ctx: Context) -> Section | None:
    if "sensitivity" not in ctx.tables:
        return None
    body = paragraph(
        "Refits of models/prs_final.toml under other log-HR prior scales, baseline priors, "
        "cut-point rules, and without the most influential patients (largest PSIS-LOO Pareto "
        "k); one compiled model per model structure."
    ) + _png(
        ctx,
        "sensitivity.png",
        f"Posterior HR and 95% interval per setting and term. Data: {SYNTHETIC_LABEL}.",
        "sensitivity of the hazard ratios",
    )
    body += Markup("<h3>Conclusion flags</h3>") + html_table(ctx.tables["sensitivity_flags"])
    for key, label in (
        ("sensitivity", "All settings"),
        ("sensitivity_psense", "Power-scaling sensitivity (ArviZ psense)"),
        ("sensitivity_case_deletion", "Case deletion of influential patients"),
        ("sensitivity_pareto_k", "Pareto k per patient"),
    ):
        if key in ctx.tables:
            body += details(label, html_table(ctx.tables[key]))
    return Section(_synthetic("Sensitivity of the final model"), "sensitivity", body)


def _orr_section(ctx: Context) -> Section | None:
    if "orr_priors" not in ctx.tables:
        return None
    priors = ctx.tables["orr_priors"]
    treated, control = priors["treated"].iloc[0], priors["control"].iloc[0]
    body = paragraph(
        f"Counts: ICI {treated} vs non-ICI {control} — {ctx.orr_counts_note}. The published "
        "counts only, no synthetic data involved."
    ) + paragraph(
        "Closed-form beta-binomial posteriors, exact P(p_ICI > p_non-ICI), 95% equal-tailed "
        "intervals, under each built-in prior."
    )
    body += html_table(priors.drop(columns=["treated", "control", "delta", "interval_prob"]))
    if "orr_definitions" in ctx.tables:
        defs = ctx.tables["orr_definitions"]
        best = defs.loc[defs["definition"] == "best", "treated"].iloc[0]
        body += Markup("<h3>Responder definition: final status beside best response</h3>")
        body += paragraph(
            f"Table 5 gives each ICI patient's best response and final status: by best response "
            f"the ICI arm is {best} instead of {treated}. The conclusion depends on the "
            "definition, so both are shown (orr_definitions.csv)."
        )
        shown = defs.pivot(index="prior", columns="treated", values="p_treated_better")
        shown = shown.reindex(index=list(dict.fromkeys(defs["prior"])), columns=[treated, best])
        shown.columns = [
            f"P(p_ICI > p_non-ICI), ICI {c} ({d})"
            for c, d in zip(shown.columns, ("final status", "best response"), strict=True)
        ]
        body += html_table(shown.map(lambda v: f"{v:.4f}").reset_index())
    oc = ctx.tables.get("orr_oc")
    if oc is not None:
        n_t, n_c = int(oc["n_treated"].iloc[0]), int(oc["n_control"].iloc[0])
        body += _png(
            ctx,
            "orr_operating_characteristics.png",
            f"Probability of declaring benefit (P(p_t > p_c) > c) at {n_t} vs {n_c} patients "
            "assessed (the published arm sizes).",
            "operating characteristics of the decision rule",
        )
        body += details("Operating characteristics table", html_table(oc))
    return Section("Objective response rate (published counts)", "orr", body)


def _evidence_section(ctx: Context) -> Section | None:
    if "evidence_comparison" not in ctx.tables:
        return None
    body = paragraph(
        "The final model's two site effects under three priors: weakly informative "
        "(Normal(0, 1.5), models/prs_final.toml), informed by other studies' published "
        "hazard ratios taken at face value (models/prs_final_informed.toml) and the same "
        "robustified with a vague Normal(0, 10) component of weight 0.5 "
        "(models/prs_final_robust.toml). The published numbers are real and cited (sources, "
        "quotes and how each study differs from recurrent NECC: data/literature/README.md); "
        "the cohort they are combined with is SYNTHETIC, so this shows how much a conclusion "
        "can rest on borrowed evidence, not the study's result."
    ) + _png(ctx, "evidence_priors.png",
             "Prior, likelihood (normal approximation of the Cox estimate on the synthetic "
             f"cohort) and posterior of each informed term. Data: {SYNTHETIC_LABEL}.",
             "prior, likelihood and posterior of each informed term")
    comp = ctx.tables["evidence_comparison"]
    body += Markup("<h3>Posterior hazard ratios: weakly informative vs informed vs robust</h3>")
    body += html_table(comp[["term", "analysis", "HR median (95% CrI)", "P(HR > 1)",
                             "CrI excludes 1", "conclusion moves"]].round(3))
    body += Markup("<h3>The priors: effective sample size and prior-data conflict</h3>")
    body += paragraph(
        "ESS in events by the expected local information ratio (Neuenschwander et al. 2020; "
        "a Normal(m, s) log-HR prior is worth 4 / s² events). Conflict: prior-predictive tail "
        "probability and Box's p of the data's own Cox estimate, and the weight of the robust "
        "component before and after the data (normal approximation of the likelihood)."
    ) + html_table(ctx.tables["evidence_priors"].round(4))
    if "evidence_robust_weight" in ctx.tables:
        body += details("Sweep of the robust weight (0, 0.1, 0.2, 0.5, 0.8)",
                        html_table(ctx.tables["evidence_robust_weight"].round(4)))
    if "evidence_orr" in ctx.tables:
        body += Markup("<h3>ICI response rate with a meta-analytic-predictive prior</h3>")
        body += paragraph(
            f"ICI arm {_counts(published.table5_counts('final'))} vs non-ICI "
            f"{_counts(published.non_ici_counts())} (the paper's numbers; no synthetic data). "
            "The ICI arm's prior is the MAP prior of published ICI trials in neuroendocrine "
            "carcinoma (binomial–normal model, tau ~ HalfNormal(1), fitted by a beta mixture) "
            "plain or robustified with 0.2 Beta(1, 1); the non-ICI arm keeps Beta(1, 1). "
            "Single-agent "
            "PD-1 trials report 0–7% responses: under that MAP the NECC arm is in conflict "
            "with the prior, and the robust version lets the data speak."
        ) + html_table(ctx.tables["evidence_orr"].round(4))
    return Section(_synthetic("Evidence from other studies as priors"), "evidence", body)


def _fits_section(ctx: Context) -> Section:
    links = Markup("").join(
        Markup(f"<li><a href='fits/{escape(n)}/report.html'>{escape(n)}</a></li>") for n in ctx.fits
    )
    body = Markup(f"<ul>{links}</ul>")
    if "diagnostics_summary" in ctx.tables:
        table = ctx.tables["diagnostics_summary"]
        body += html_table(table, row_class=lambda r: "" if r["passed"] else "fail")
    return Section(_synthetic("Models and their diagnostics"), "models", body)


def render_reproduce_report(ctx: Context) -> str:
    """Return the re-analysis report as one HTML page (figures embedded, links relative)."""
    sections: list[Section | None] = [
        Section(
            "Synthetic data",
            "synthetic",
            Markup('<p class="synthetic">') + escape(SYNTHETIC_NOTE) + Markup("</p>"),
        ),
        _table3_section(ctx),
        missing_section(ctx),
        _group_section(
            ctx,
            "prs_by_abdominal",
            "Post-recurrence survival by abdominal recurrence",
            f"Paper: median PRS {_printed('prs_median_abdominal_pos')} vs "
            f"{_printed('prs_median_abdominal_neg')} months and 3-year PRS "
            f"{_printed('prs_3y_percent_abdominal_pos')}% vs "
            f"{_printed('prs_3y_percent_abdominal_neg')}% (the paper's "
            f"{_printed('prs_3y_percent_abdominal_neg')}% is inconsistent with its own "
            f"{_printed('prs_median_abdominal_neg')}-month median: data/README.md). Posterior "
            "curves, medians and S(t) are conditional on surviving 60 days after recurrence "
            "(the study's inclusion rule; Kaplan–Meier curves left-truncated there).",
        ),
        inclusion_section(ctx),
        _group_section(
            ctx,
            "prs_by_sites",
            "Post-recurrence survival by number of recurrent sites",
            "More than one initial recurrence site vs one; conditional on surviving 60 days "
            "after recurrence (the inclusion rule).",
        ),
        _table_section(
            ctx,
            "fragility",
            _synthetic("Small-sample fragility: sparse cells and separation"),
            "Per 0/1 covariate: patients and deaths in each level, and a frequentist Cox fit "
            "(statsmodels, Breslow ties) on the synthetic cohort. 'separation' means a level "
            "without deaths: no finite Cox estimate exists (the paper's Syn HR "
            f"{_syn_printed()}), while the posterior stays finite and prior-dominated.",
        ),
        _hierarchical_section(ctx),
        ph_section(ctx),
        _table_section(
            ctx,
            "count_model_comparison",
            _synthetic("Number of recurrent sites: binary vs monotone ordinal"),
            "PSIS-LOO comparison of the count entered as >1 vs 1 (the paper) and as a monotone "
            "effect over 1, 2, 3+ sites.",
        ),
        ttr_section(ctx),
        _sensitivity_section(ctx),
        _orr_section(ctx),
        _evidence_section(ctx),
        _fits_section(ctx),
        warnings_section([], ctx.notes),
    ]
    return render_page(
        "Bayesian re-analysis of the recurrent NECC study (SYNTHETIC cohort)",
        [s for s in sections if s is not None],
        subtitle=[SYNTHETIC_NOTE],
    )
