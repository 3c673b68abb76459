"""The sections of a fit's report, each from plain data (tables, arrays, checks).

Each ``*_section`` function returns a :class:`~necc_bayes.report.html.Section`; the page of
one fit (:mod:`necc_bayes.report.fit_page`) and the multi-fit page of ``reproduce`` compose
them with their own titles and anchors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from necc_bayes.inference.diagnostics import DiagnosticsReport
from necc_bayes.inference.loo import LooSummary
from necc_bayes.report.figures import (
    PPCView,
    PriorBands,
    SurvivalPanel,
    forest_plot,
    label_figure,
    ppc_plot,
    prior_predictive_plot,
    survival_plot,
    to_data_uri,
    trace_rank_plot,
)
from necc_bayes.report.html import Section, details, figure, html_table, paragraph
from necc_bayes.report.ph_figures import group_ppc_plot, hr_by_interval_plot, ph_interval_plot
from necc_bayes.spec.io import to_toml
from necc_bayes.spec.model import ModelSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def labelled_figure(
    fig: Figure, caption: str, alt: str, label: str | None = None, fmt: str = "svg"
) -> Markup:
    """Embed a matplotlib figure; a ``label`` (the data's provenance) joins title and caption."""
    label_figure(fig, label)
    text = f"{caption} Data: {label}." if label else caption
    return figure(to_data_uri(fig, fmt=fmt), text, alt)


def spec_section(spec: ModelSpec, anchor: str = "spec") -> Section:
    """The resolved specification as TOML, and its priors one per line."""
    priors = [("log HR (default)", str(spec.priors.log_hr))]
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
) -> Section:
    """Posterior survival curves with bands and Kaplan–Meier overlays, and the summary table.

    ``population_averaged``: the drawn curves are averaged over a shared frailty (every curve
    set is in the tables).
    """
    fig = survival_plot(surv, panels)
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


def diagnostics_section(
    diag: DiagnosticsReport,
    trace_draws: dict[str, np.ndarray],
    *,
    anchor: str = "diagnostics",
    label: str | None = None,
) -> Section:
    """Verdict, summary numbers against thresholds, per-parameter table, worst-parameter plots."""
    th = diag.thresholds
    badge = (
        Markup('<span class="badge pass">PASSED</span>')
        if diag.passed
        else Markup('<span class="badge fail">FAILED</span>')
    )
    checks = pd.DataFrame(
        [
            ("max R-hat", diag.max_r_hat, f"< {th.r_hat_max}", diag.max_r_hat < th.r_hat_max),
            (
                "min bulk ESS",
                diag.min_ess_bulk,
                f">= {th.ess_min:g}",
                diag.min_ess_bulk >= th.ess_min,
            ),
            (
                "min tail ESS",
                diag.min_ess_tail,
                f">= {th.ess_min:g}",
                diag.min_ess_tail >= th.ess_min,
            ),
            (
                "divergences",
                diag.n_divergent,
                f"<= {th.max_divergences}",
                diag.n_divergent <= th.max_divergences,
            ),
            (
                "min E-BFMI",
                diag.min_bfmi,
                f">= {th.bfmi_min}",
                bool(np.isnan(diag.min_bfmi) or diag.min_bfmi >= th.bfmi_min),
            ),
            ("max tree depth hits", diag.max_tree_depth_hits, "(advisory)", True),
        ],
        columns=["check", "value", "threshold", "pass"],
    )
    summary = html_table(
        checks, cell_class=lambda c, r: ("pass" if r["pass"] else "fail") if c == "pass" else ""
    )
    flagged = diag.flagged_table()
    shown = flagged[["parameter", "r_hat", "ess_bulk", "ess_tail", "ok"]]
    failed = {
        c: set(flagged.loc[~flagged[f"{c}_ok"], "parameter"])
        for c in ("r_hat", "ess_bulk", "ess_tail")
    }
    per_param = html_table(
        shown,
        row_class=lambda r: "" if r["ok"] else "fail",
        cell_class=lambda c, r: "fail" if r["parameter"] in failed.get(c, set()) else "",
    )
    worst = list(trace_draws)
    plot = labelled_figure(
        trace_rank_plot(trace_draws),
        f"Trace and rank histograms of the {len(worst)} parameters furthest from passing "
        f"({', '.join(worst)}). Flat rank histograms and overlapping traces mean the chains "
        "agree.",
        "trace and rank plots",
        label,
        fmt="png",
    )
    body = Markup("<p>Verdict: ") + badge + Markup("</p>") + summary
    n_fail = int((~flagged["ok"]).sum())
    body += plot + details(
        f"Every parameter, worst first ({len(flagged)} rows, {n_fail} failing)", per_param
    )
    return Section("Convergence diagnostics", anchor, body)


def ppc_section(ppc: PPCView, anchor: str = "ppc", *, label: str | None = None) -> Section:
    """Posterior predictive check: KM band plot, coverage, per-interval event p-values."""
    body = labelled_figure(
        ppc_plot(ppc),
        f"Left: observed Kaplan–Meier curve over the {ppc.ci_prob:.0%} pointwise band of "
        f"{ppc.n_replicates} replicate cohorts' KM curves. Right: observed events per interval "
        "against the replicates.",
        "posterior predictive check",
        label,
    )
    band = (
        f"The observed KM curve lies inside the band on {ppc.coverage:.1%} of the time grid. "
        if ppc.grid.size
        else "No Kaplan–Meier band. "
    )
    body += paragraph(
        f"{band}Replicates: {ppc.censoring}. Posterior predictive p-values (mid-p) near 0 or "
        "1 mean the model gets that interval's number of events wrong."
    )
    table = html_table(
        ppc.events, row_class=lambda r: "fail" if r["ppp"] < 0.025 or r["ppp"] > 0.975 else ""
    )
    return Section("Posterior predictive check", anchor, body + table)


def ph_section(
    table: pd.DataFrame,
    intervals: pd.DataFrame,
    method: str,
    *,
    t_max: float,
    ci_prob: float,
    anchor: str = "ph-check",
    label: str | None = None,
) -> Section:
    """The proportional-hazards check: table, and a figure per flagged term.

    Parameters
    ----------
    table : DataFrame
        ``ph_check.csv``.
    intervals : DataFrame
        Per-interval one-step log-HRs (``PHCheck.intervals``).
    method : str
        One sentence describing the check.
    t_max : float
        Largest follow-up time.
    ci_prob : float
        Probability of the per-interval intervals.
    label : str, optional
        The data's provenance, added to each figure's title and caption.
    """
    flagged = table[table["flagged"]]
    if flagged.empty:
        verdict = Markup('<p>Verdict: <span class="badge pass">no term flagged</span></p>')
    else:
        names = ", ".join(str(t) for t in flagged["term"])
        verdict = (
            Markup('<p>Verdict: <span class="badge fail">flagged</span> ')
            + escape(names)
            + Markup("</p>")
        )
    body = verdict + paragraph(
        f"Method: {method}. ppp: posterior predictive p-value; chisq / p_chisq: the same "
        "statistic at the posterior mean with its asymptotic chi-square p-value (comparable "
        "with survival::cox.zph); trend: one-step estimate of the change of the log-HR per "
        "unit of the time transform. A flagged term can be given one log-HR per interval "
        "with covariates.time_varying."
    )
    body += html_table(table, row_class=lambda r: "fail" if r["flagged"] else "")
    for term in flagged.loc[flagged["scope"] == "term", "term"]:
        fig = ph_interval_plot(intervals, str(term), t_max=t_max, ci_prob=ci_prob)
        body += labelled_figure(
            fig,
            f"{term}: log-HR per interval, one Newton step from the proportional-hazards fit "
            "(approximately the unsmoothed interval-by-interval Poisson fit), against the "
            "constant posterior-mean log-HR (dashed). A trend across intervals is what the "
            "check detects.",
            f"per-interval log hazard ratio of {term}",
            label,
        )
    return Section("Proportional hazards", anchor, body)


def group_ppc_section(
    groups: pd.DataFrame,
    coverage: pd.DataFrame,
    *,
    ci_prob: float,
    anchor: str = "ppc-groups",
    label: str | None = None,
) -> Section | None:
    """Kaplan–Meier per covariate level against the replicate bands (None without groups)."""
    if groups.empty:
        return None
    body = labelled_figure(
        group_ppc_plot(groups, ci_prob=ci_prob),
        "Posterior predictive check by group: each level's observed Kaplan–Meier curve over "
        f"the {ci_prob:.0%} pointwise band of the same replicate cohorts. Under "
        "non-proportional hazards a level's curve leaves its band (above early and below "
        "late, or the reverse). Pointwise KM bands are wide: this check is weaker than the "
        "proportional-hazards score check.",
        "posterior predictive check by group",
        label,
    )
    body += html_table(coverage, row_class=lambda r: "fail" if r["coverage"] < 0.9 else "")
    return Section("Posterior predictive check by group", anchor, body)


def prior_predictive_section(
    prior: PriorBands,
    table: pd.DataFrame,
    anchor: str = "prior-predictive",
    *,
    label: str | None = None,
) -> Section:
    """What the priors alone imply for survival (plot for one profile, table for all)."""
    fig = prior_predictive_plot(prior)
    body = labelled_figure(
        fig,
        "Survival curves drawn from the priors only (before seeing the outcomes), with 50% and "
        "95% bands and a few single draws; dotted lines mark the summary times.",
        "prior predictive survival",
        label,
        fmt="png",
    )
    body += paragraph(
        "p_below_0_01 / p_above_0_99: prior probability that survival at that time is below "
        "1% / above 99% — large values mean the prior pushes survival to an extreme."
    )
    first = table[table["profile"] == prior.profile]
    body += html_table(first) + details(f"All profiles ({len(table)} rows)", html_table(table))
    return Section("Prior predictive check", anchor, body)


def loo_section(summary: LooSummary, anchor: str = "loo") -> Section:
    """PSIS-LOO numbers and the Pareto-k diagnostic."""
    d = summary.to_dict()
    table = html_table(pd.DataFrame({"quantity": list(d), "value": list(d.values())}))
    msg = summary.message or "Every Pareto k is below the threshold: PSIS-LOO is reliable."
    return Section("Leave-one-out cross-validation", anchor, table + paragraph(msg))


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
