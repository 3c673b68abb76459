"""The sections of a fit's report, each from plain data (tables, arrays, checks).

Each ``*_section`` function returns a :class:`~necc_bayes.report.html.Section`; the page of
one fit (:mod:`necc_bayes.report.fit_page`) and the multi-fit page of ``reproduce`` compose
them with their own titles and anchors.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from markupsafe import Markup, escape

from necc_bayes.report.figures import (
    SurvivalPanel,
    forest_plot,
    labelled_figure,
    survival_plot,
)
from necc_bayes.report.html import Section, details, html_table, paragraph
from necc_bayes.report.ph_figures import hr_by_interval_plot
from necc_bayes.spec.io import to_toml
from necc_bayes.spec.model import ModelSpec


def spec_section(spec: ModelSpec, anchor: str = "spec") -> Section:
    """The resolved specification as TOML, and its priors one per line."""
    scale = (
        "per SD of each continuous term (resolved to per-unit priors below), per unit of 0/1 terms"
        if spec.priors.scale == "per_sd"
        else "per unit of each term as coded (0/1 terms: 1 vs 0; a level vs its reference)"
    )
    priors = [("log HR (default)", f"{spec.priors.log_hr} {scale}")]
    priors += [(f"log HR {t}", str(p)) for t, p in spec.priors.terms.items()]
    priors += [(f"group {g}", str(p)) for g, p in spec.priors.groups.items()]
    priors.append(("baseline", str(spec.priors.baseline)))
    table = html_table(pd.DataFrame(priors, columns=["parameter", "prior"]))
    body = Markup("<h3>Priors</h3>") + table
    body += (
        Markup("<h3>Resolved specification</h3><pre>") + escape(to_toml(spec)) + Markup("</pre>")
    )
    return Section("Specification and priors", anchor, body)


def data_section(
    overview: pd.DataFrame,
    per_term: pd.DataFrame,
    intervals: pd.DataFrame,
    anchor: str = "data",
) -> Section:
    """Data profile, one row per term, and the events / at-risk counts per interval."""
    body = html_table(overview) + Markup("<h3>Covariates</h3>") + html_table(per_term)
    body += Markup("<h3>Intervals</h3>") + html_table(
        intervals, row_class=lambda r: "fail" if r["events"] == 0 else ""
    )
    return Section("Data", anchor, body)


def hazard_ratio_section(
    hr: pd.DataFrame, ci_prob: float, anchor: str = "hazard-ratios", *, label: str | None = None
) -> Section:
    """Forest plot and table of the posterior hazard ratios."""
    fig = labelled_figure(
        forest_plot(hr, ci_prob),
        f"Posterior median hazard ratio with {ci_prob:.0%} equal-tailed interval per term "
        "(log scale; dashed line: HR = 1).",
        "hazard ratio forest plot",
        label,
    )
    return Section("Hazard ratios", anchor, fig + html_table(hr))


def informative_prior_section(table: pd.DataFrame, anchor: str = "informative-priors") -> Section:
    """Evidence-based priors: what each is worth (ESS) and whether the data conflict with it."""
    body = paragraph(
        "Log-HR priors taken from other studies. prior_ess_events: effective sample size in "
        "events (expected local information ratio; a Normal(m, s) log-HR prior is worth 4/s² "
        "events). data_hr: the data's own estimate (Cox fit of the model's terms, Breslow "
        "ties, 95% Wald interval). conflict_tail_p / conflict_box_p: prior-predictive "
        "probability of an estimate as extreme as the data's (small = the data conflict with "
        "the prior). robust_weight_prior / _posterior: weight of the vague component before "
        "and after the data (normal approximation of the likelihood)."
    ) + html_table(table.round(4))
    return Section("Priors from other studies: ESS and prior-data conflict", anchor, body)


def time_varying_section(
    table: pd.DataFrame,
    *,
    t_max: float,
    ci_prob: float,
    anchor: str = "time-varying",
    label: str | None = None,
) -> Section:
    """HR(t) of each time-varying term: a figure and the per-interval table."""
    body = paragraph(
        "Terms in covariates.time_varying have one log-HR per interval, smoothed across "
        "intervals by a Brownian-motion prior in time (its sd per square root of the time unit "
        "is in the specification). Their row in the hazard-ratio table is the event-weighted "
        "average over intervals; here is the HR in each interval."
    )
    for term in dict.fromkeys(table["term"]):
        fig = hr_by_interval_plot(table, str(term), t_max=t_max, ci_prob=ci_prob)
        body += labelled_figure(
            fig,
            f"{term}: posterior median hazard ratio per interval with its {ci_prob:.0%} "
            "equal-tailed band (log scale; the last interval is drawn to the largest "
            "follow-up time).",
            f"time-varying hazard ratio of {term}",
            label,
        )
    return Section("Time-varying hazard ratios", anchor, body + html_table(table))


def survival_section(
    surv: pd.DataFrame,
    summary: pd.DataFrame,
    panels: list[SurvivalPanel],
    anchor: str = "survival",
    *,
    population_averaged: bool = False,
    label: str | None = None,
    time_label: str = "time",
) -> Section:
    """Posterior survival curves with bands and Kaplan–Meier overlays, and the summary table.

    ``population_averaged``: the drawn curves are averaged over a shared frailty (every curve
    set is in the tables).
    """
    fig = survival_plot(surv, panels, time_label=time_label)
    which = " (population-averaged over the frailty)" if population_averaged else ""
    body = labelled_figure(
        fig,
        f"Posterior median survival with pointwise bands per covariate profile{which} "
        "(shaded), and Kaplan–Meier curves of the data (black: whole cohort or stratum; "
        "dotted: subgroups). Model curves hold the other covariates at their means; KM curves "
        "are unadjusted.",
        "survival curves with Kaplan-Meier overlay",
        label,
    )
    means = summary[summary["profile"] == summary["profile"].iloc[0]]
    body += Markup(f"<h3>Profile '{escape(summary['profile'].iloc[0])}'</h3>") + html_table(means)
    body += details(f"All profiles and contrasts ({len(summary)} rows)", html_table(summary))
    return Section("Survival", anchor, body)


def cohort_section(
    features: Sequence[str],
    notes: Sequence[str],
    frailty: pd.DataFrame | None,
    *,
    anchor: str = "cohort",
    max_clusters: int = 30,
) -> Section | None:
    """Delayed entry, pieces, strata and frailty in use, what the curves are, the frailties.

    None when the model has none of these (right-censored rows, one baseline, no frailty).
    """
    if not features and not notes and frailty is None:
        return None
    body = paragraph("In use in this model:") + Markup(
        "<ul>" + "".join(f"<li>{escape(f)}</li>" for f in features) + "</ul>"
    )
    if notes:
        body += paragraph("What the survival curves and summaries are:") + Markup(
            "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>"
        )
    if frailty is not None:
        sd = frailty[frailty["parameter"] == "frailty_sd"]
        clusters = frailty[frailty["parameter"] == "frailty"]
        body += Markup("<h3>Frailty SD (posterior)</h3>") + html_table(
            sd[["mean", "median", "low", "high", "r_hat", "ess_bulk", "ess_tail"]]
        )
        order = clusters["median"].abs().sort_values(ascending=False).index
        cols = ["cluster", "n_rows", "n_events", "median", "low", "high", "hr_median", "p_gt_0"]
        shown = clusters.loc[order, cols]
        more = len(clusters) > max_clusters
        title = f"Cluster log-frailties, farthest from 0 first ({len(clusters)} clusters" + (
            f"; {max_clusters} shown, all in frailty.csv)" if more else ")"
        )
        body += Markup(f"<h3>{escape(title)}</h3>") + html_table(shown.head(max_clusters))
        body += paragraph(
            "hr_median: the cluster's hazard relative to a cluster of median frailty with the "
            "same covariates (posterior median of exp(b_c))."
        )
    return Section("Cohort structure", anchor, body)


def imputation_section(
    summary: pd.DataFrame, imputed: pd.DataFrame, anchor: str = "imputation"
) -> Section:
    """``data.missing = "model"``: what was imputed and how the fit compares with complete cases."""
    body = paragraph(
        'Missing covariate values were integrated out inside the model (data.missing = "model"), '
        "not dropped: each incomplete covariate has its own model (logistic for 0/1 covariates, "
        "whose missing values are summed out exactly per subject; normal for continuous ones, "
        "whose missing values are latent), chained in the order below, so the outcome informs "
        "the imputation. The baseline rates are sampled (the exact gamma marginalisation "
        "cannot be combined with the per-subject sums). observed_mean is the share of ones "
        "(or the mean) among the observed values, imputed_mean the mean posterior probability "
        "of 1 (or value) of the imputed ones; the complete-case columns refit the same model on "
        "the subjects with every covariate observed."
    )
    body += html_table(summary.round(4))
    body += paragraph(
        "Posterior of each missing value (0/1 covariates: the probability that it is 1, with "
        "an equal-tailed interval of that probability over the draws)."
    )
    body += html_table(imputed.round(4))
    return Section("Missing covariates (modelled)", anchor, body)


def fragility_section(
    table: pd.DataFrame, messages: list[str], anchor: str = "fragility"
) -> Section:
    """Sparse cells, (quasi-)separation and events per parameter, checked before sampling."""
    intro = paragraph(
        "Checked on the design before sampling: a 0/1 term is flagged 'separation' when all or "
        "none of the subjects on one side have the event (the likelihood keeps rising as the "
        "log-HR goes to ±∞, so its posterior is set by the prior), 'sparse' with fewer than "
        "10 subjects or 5 events on one side; every term is fitted alone in a Cox model "
        "(standardised; 'cox_not_converged' when it does not converge); fewer than 10 events "
        "per log-HR makes every estimate lean on its prior. The hazard-ratio table's "
        "sd_ratio (posterior SD / prior SD) and prior_dominated (sd_ratio >= 0.71) say what "
        "the prior did."
    )
    body = intro
    if messages:
        body += Markup("<ul>") + Markup("").join(
            Markup("<li>") + escape(m) + Markup("</li>") for m in messages
        ) + Markup("</ul>")
    else:
        body += paragraph("No term flagged.")
    body += html_table(table, row_class=lambda r: "fail" if r["flags"] else "")
    return Section("Fragility: sparse cells and separation", anchor, body)
