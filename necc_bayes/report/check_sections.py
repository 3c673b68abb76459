"""The model-check sections of a fit's report, each from plain data.

Convergence, posterior predictive checks, proportional hazards, prior predictive check and
PSIS-LOO. Split from :mod:`necc_bayes.report.fit_sections` (the result sections); the page of
one fit (:mod:`necc_bayes.report.fit_page`) composes both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from necc_bayes.inference.diagnostics import DiagnosticsReport
from necc_bayes.inference.loo import LooSummary
from necc_bayes.report.figures import (
    PPCView,
    PriorBands,
    labelled_figure,
    ppc_plot,
    prior_predictive_plot,
    trace_rank_plot,
)
from necc_bayes.report.html import Section, details, html_table, paragraph
from necc_bayes.report.ph_figures import group_ppc_plot, ph_interval_plot

TRACE_SVG_MAX_DRAWS = 16_000
"""Draws (over chains and parameters) up to which the trace figure is SVG; PNG beyond.

An SVG trace grows with the draws (~36 bytes of page per draw) and a PNG does not (~0.6 MB at
1100 x 900 px): at 4 parameters x 4 chains x 1,000 draws both are ~0.6 MB, and the SVG takes
half the time to write (no rasterising, no zlib)."""


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
    n_draws = sum(np.asarray(d).size for d in trace_draws.values())
    plot = labelled_figure(
        trace_rank_plot(trace_draws),
        f"Trace and rank histograms of the {len(worst)} parameters furthest from passing "
        f"({', '.join(worst)}). Flat rank histograms and overlapping traces mean the chains "
        "agree.",
        "trace and rank plots",
        label,
        fmt="svg" if n_draws <= TRACE_SVG_MAX_DRAWS else "png",
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
    )
    body += paragraph(
        "p_below_0_01 / p_above_0_99: prior probability that survival at that time is below "
        "1% / above 99% — large values mean the prior pushes survival to an extreme. The "
        "figure is the fitted partition; the table adds the prior with cuts at every event "
        "time: a baseline prior that does not depend on the partition (the default gamma "
        "process) says the same about S(t) in both, an independent gamma per interval does not."
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
