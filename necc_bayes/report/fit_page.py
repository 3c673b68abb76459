"""Self-contained HTML report of a fit: one page, figures embedded, readable without a server.

The page is built from *sections*: each ``*_section`` function returns a :class:`Section`
(title, anchor, HTML body) from plain inputs, and :func:`render_page` puts any list of them
into the template ``templates/report.html.j2``. :func:`render_fit_report` is the report of one
fit; a multi-fit report (``reproduce``) reuses the same sections with its own titles/anchors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from necc_bayes._version import __version__
from necc_bayes.inference.diagnostics import DiagnosticsReport, distinct_worst_parameters
from necc_bayes.report.figures import (
    forest_plot,
    ppc_plot,
    prior_predictive_plot,
    survival_plot,
    to_data_uri,
    trace_rank_plot,
)
from necc_bayes.report.ph_figures import group_ppc_plot, hr_by_interval_plot, ph_interval_plot

if TYPE_CHECKING:
    import xarray as xr

    from necc_bayes.data.load import Cohort
    from necc_bayes.inference.loo import LooSummary
    from necc_bayes.spec.model import ModelSpec
    from necc_bayes.survival.curves import Profile
    from necc_bayes.survival.fit import PEMResult
    from necc_bayes.survival.intervals import PersonPeriod
    from necc_bayes.survival.ph_check import PHCheck
    from necc_bayes.survival.ppc import PPCResult
    from necc_bayes.survival.prior_predictive import PriorDraws


@dataclass(frozen=True)
class Section:
    """One section of a report page."""

    title: str
    anchor: str
    body: Markup


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("necc_bayes", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )


def render_page(title: str, sections: Sequence[Section], subtitle: Sequence[str] = ()) -> str:
    """Render sections into one self-contained HTML page."""
    template = _env().get_template("report.html.j2")
    return template.render(
        title=title, subtitle=list(subtitle), sections=list(sections), version=__version__
    )


def _fmt(v: object) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        x = float(v)
        if np.isnan(x):
            return "–"
        return f"{x:.0f}" if abs(x) >= 100 else f"{x:.4g}"
    return str(v)


def html_table(
    df: pd.DataFrame,
    *,
    row_class: Callable[[pd.Series], str] | None = None,
    cell_class: Callable[[str, pd.Series], str] | None = None,
) -> Markup:
    """Render a DataFrame as an escaped HTML table with optional row / cell classes."""
    head = "".join(f"<th>{escape(c)}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cls = row_class(r) if row_class else ""
        cells = []
        for c in df.columns:
            cc = cell_class(str(c), r) if cell_class else ""
            attr = f' class="{cc}"' if cc else ""
            cells.append(f"<td{attr}>{escape(_fmt(r[c]))}</td>")
        rows.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def figure(uri: str, caption: str, alt: str) -> Markup:
    """An embedded figure (``data:`` URI) with its caption."""
    return Markup(
        f'<figure><img src="{escape(uri)}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def details(summary: str, body: Markup) -> Markup:
    """A collapsed block (long tables)."""
    return Markup(f"<details><summary>{escape(summary)}</summary>") + body + Markup("</details>")


def _p(text: str) -> Markup:
    return Markup(f'<p class="explain">{escape(text)}</p>')


def warnings_section(failures: Sequence[str], notes: Sequence[str] = ()) -> Section:
    """Failed checks (red) and advisory notes (amber); says so when there are none."""
    if not failures and not notes:
        body = Markup("<p>No warnings.</p>")
    else:
        items = "".join(f"<li>{escape(m)}</li>" for m in failures)
        note_items = "".join(f"<li>{escape(m)}</li>" for m in notes)
        body = Markup(f'<ul class="warnings">{items}</ul><ul class="notes">{note_items}</ul>')
    return Section("Warnings", "warnings", body)


def spec_section(spec: ModelSpec, anchor: str = "spec") -> Section:
    """The resolved specification as TOML, and its priors one per line."""
    from necc_bayes.spec.io import to_toml

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


def data_section(cohort: Cohort, pp: PersonPeriod, anchor: str = "data") -> Section:
    """Data profile (``load.data_profile``) and the events / at-risk counts per interval."""
    from necc_bayes.data.load import data_profile
    from necc_bayes.survival.model import interval_labels

    profile = data_profile(cohort)
    terms = dict(profile.pop("terms"))  # type: ignore[call-overload]
    overview = pd.DataFrame({"item": list(profile), "value": [str(v) for v in profile.values()]})
    per_term = pd.DataFrame({"term": list(terms), "values": list(terms.values())})
    intervals = pd.DataFrame(
        {
            "interval": interval_labels(pp),
            "at risk": pp.at_risk_per_interval,
            "events": pp.events_per_interval,
            "exposure": pp.exposure.sum(axis=0),
        }
    )
    body = html_table(overview) + Markup("<h3>Covariates</h3>") + html_table(per_term)
    body += Markup("<h3>Intervals</h3>") + html_table(
        intervals, row_class=lambda r: "fail" if r["events"] == 0 else ""
    )
    return Section("Data", anchor, body)


def hazard_ratio_section(
    hr: pd.DataFrame, ci_prob: float, anchor: str = "hazard-ratios"
) -> Section:
    """Forest plot and table of the posterior hazard ratios."""
    fig = figure(
        to_data_uri(forest_plot(hr, ci_prob)),
        f"Posterior median hazard ratio with {ci_prob:.0%} equal-tailed interval per term "
        "(log scale; dashed line: HR = 1).",
        "hazard ratio forest plot",
    )
    return Section("Hazard ratios", anchor, fig + html_table(hr))


def time_varying_section(
    table: pd.DataFrame, *, t_max: float, ci_prob: float, anchor: str = "time-varying"
) -> Section:
    """HR(t) of each time-varying term: a figure and the per-interval table."""
    body = _p(
        "Terms in covariates.time_varying have one log-HR per interval, smoothed across "
        "intervals by a Brownian-motion prior in time (its sd per square root of the time unit "
        "is in the specification). Their row in the hazard-ratio table is the event-weighted "
        "average over intervals; here is the HR in each interval."
    )
    for term in dict.fromkeys(table["term"]):
        fig = hr_by_interval_plot(table, str(term), t_max=t_max, ci_prob=ci_prob)
        body += figure(
            to_data_uri(fig),
            f"{term}: posterior median hazard ratio per interval with its {ci_prob:.0%} "
            "equal-tailed band (log scale; the last interval is drawn to the largest "
            "follow-up time).",
            f"time-varying hazard ratio of {term}",
        )
    return Section("Time-varying hazard ratios", anchor, body + html_table(table))


def survival_section(
    surv: pd.DataFrame,
    summary: pd.DataFrame,
    cohort: Cohort,
    anchor: str = "survival",
) -> Section:
    """Posterior survival curves with bands and Kaplan–Meier overlays, and the summary table."""
    design = cohort.design
    fig = survival_plot(surv, cohort.time, cohort.event, design.X, list(design.terms))
    body = figure(
        to_data_uri(fig),
        "Posterior median survival with pointwise bands per covariate profile (shaded), and "
        "Kaplan–Meier curves of the data (black: whole cohort with 95% CI; dotted: subgroups). "
        "Model curves hold the other covariates at their means; KM curves are unadjusted.",
        "survival curves with Kaplan-Meier overlay",
    )
    means = summary[summary["profile"] == summary["profile"].iloc[0]]
    body += Markup(f"<h3>Profile '{escape(summary['profile'].iloc[0])}'</h3>") + html_table(means)
    body += details(f"All profiles and contrasts ({len(summary)} rows)", html_table(summary))
    return Section("Survival", anchor, body)


def diagnostics_section(
    diag: DiagnosticsReport, idata: xr.DataTree, *, n_worst: int = 4, anchor: str = "diagnostics"
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
    worst = distinct_worst_parameters(diag, idata, n_worst)
    plot = figure(
        to_data_uri(trace_rank_plot(idata, worst), fmt="png"),
        f"Trace and rank histograms of the {len(worst)} parameters furthest from passing "
        f"({', '.join(worst)}). Flat rank histograms and overlapping traces mean the chains "
        "agree.",
        "trace and rank plots",
    )
    body = Markup("<p>Verdict: ") + badge + Markup("</p>") + summary
    n_fail = int((~flagged["ok"]).sum())
    body += plot + details(
        f"Every parameter, worst first ({len(flagged)} rows, {n_fail} failing)", per_param
    )
    return Section("Convergence diagnostics", anchor, body)


def ppc_section(ppc: PPCResult, anchor: str = "ppc") -> Section:
    """Posterior predictive check: KM band plot, coverage, per-interval event p-values."""
    body = figure(
        to_data_uri(ppc_plot(ppc)),
        f"Left: observed Kaplan–Meier curve over the {ppc.ci_prob:.0%} pointwise band of "
        f"{ppc.n_replicates} replicate cohorts' KM curves. Right: observed events per interval "
        "against the replicates.",
        "posterior predictive check",
    )
    body += _p(
        f"The observed KM curve lies inside the band on {ppc.coverage:.1%} of the time grid. "
        f"Replicate censoring: {ppc.censoring}. Posterior predictive p-values (mid-p) near 0 or "
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
    body = verdict + _p(
        f"Method: {method}. ppp: posterior predictive p-value; chisq / p_chisq: the same "
        "statistic at the posterior mean with its asymptotic chi-square p-value (comparable "
        "with survival::cox.zph); trend: one-step estimate of the change of the log-HR per "
        "unit of the time transform. A flagged term can be given one log-HR per interval "
        "with covariates.time_varying."
    )
    body += html_table(table, row_class=lambda r: "fail" if r["flagged"] else "")
    for term in flagged.loc[flagged["scope"] == "term", "term"]:
        fig = ph_interval_plot(intervals, str(term), t_max=t_max, ci_prob=ci_prob)
        body += figure(
            to_data_uri(fig),
            f"{term}: log-HR per interval, one Newton step from the proportional-hazards fit "
            "(approximately the unsmoothed interval-by-interval Poisson fit), against the "
            "constant posterior-mean log-HR (dashed). A trend across intervals is what the "
            "check detects.",
            f"per-interval log hazard ratio of {term}",
        )
    return Section("Proportional hazards", anchor, body)


def group_ppc_section(
    groups: pd.DataFrame, coverage: pd.DataFrame, *, ci_prob: float, anchor: str = "ppc-groups"
) -> Section | None:
    """Kaplan–Meier per covariate level against the replicate bands (None without groups)."""
    if groups.empty:
        return None
    body = figure(
        to_data_uri(group_ppc_plot(groups, ci_prob=ci_prob)),
        "Posterior predictive check by group: each level's observed Kaplan–Meier curve over "
        f"the {ci_prob:.0%} pointwise band of the same replicate cohorts. Under "
        "non-proportional hazards a level's curve leaves its band (above early and below "
        "late, or the reverse). Pointwise KM bands are wide: this check is weaker than the "
        "proportional-hazards score check.",
        "posterior predictive check by group",
    )
    body += html_table(coverage, row_class=lambda r: "fail" if r["coverage"] < 0.9 else "")
    return Section("Posterior predictive check by group", anchor, body)


def prior_predictive_section(
    prior: PriorDraws,
    table: pd.DataFrame,
    profile: Profile,
    t_max: float,
    times: list[float],
    anchor: str = "prior-predictive",
) -> Section:
    """What the priors alone imply for survival (plot for one profile, table for all)."""
    fig = prior_predictive_plot(prior, profile, t_max, times)
    body = figure(
        to_data_uri(fig, fmt="png"),
        "Survival curves drawn from the priors only (before seeing the outcomes), with 50% and "
        "95% bands and a few single draws; dotted lines mark the summary times.",
        "prior predictive survival",
    )
    body += _p(
        "p_below_0_01 / p_above_0_99: prior probability that survival at that time is below "
        "1% / above 99% — large values mean the prior pushes survival to an extreme."
    )
    first = table[table["profile"] == profile.name]
    body += html_table(first) + details(f"All profiles ({len(table)} rows)", html_table(table))
    return Section("Prior predictive check", anchor, body)


def loo_section(summary: LooSummary, anchor: str = "loo") -> Section:
    """PSIS-LOO numbers and the Pareto-k diagnostic."""
    d = summary.to_dict()
    table = html_table(pd.DataFrame({"quantity": list(d), "value": list(d.values())}))
    msg = summary.message or "Every Pareto k is below the threshold: PSIS-LOO is reliable."
    return Section("Leave-one-out cross-validation", anchor, table + _p(msg))


def fit_sections(
    result: PEMResult, *, ppc: PPCResult | None = None, ph: PHCheck | None = None
) -> list[Section]:
    """Every section of one fit's report, in reading order."""
    from necc_bayes.inference.loo import loo
    from necc_bayes.survival.model import sparse_interval_messages
    from necc_bayes.survival.ppc import posterior_predictive_check
    from necc_bayes.survival.prior_predictive import prior_predictive_for_fit

    diag = result.diagnostics()
    ppc = ppc or posterior_predictive_check(result)
    ph = ph or result.ph_check()
    pp = result.checked.person_period
    cohort = result.checked.cohort
    failures = [f"convergence: {m}" for m in diag.failures]
    notes = list(diag.notes) + sparse_interval_messages(pp)
    extreme = ppc.events[(ppc.events.ppp < 0.025) | (ppc.events.ppp > 0.975)]
    notes += [
        f"posterior predictive p-value {r.ppp:.3f} for events in interval {r.interval}"
        for r in extreme.itertuples()
    ]
    notes += [f"{m}" for m in ph.messages()]
    if ppc.coverage < 0.9:
        notes.append(
            f"the observed Kaplan–Meier curve is inside the replicate band on only "
            f"{ppc.coverage:.0%} of the time grid"
        )
    sections = []
    loo_summary = None
    if "log_likelihood" in result.idata.children:
        loo_summary = loo(result.idata, source=result.spec.name, warn=False)
        if loo_summary.message:
            notes.append(loo_summary.message)
    sections.append(warnings_section(failures, notes))
    ci = result.spec.summaries.ci_prob
    sections.append(hazard_ratio_section(result.hazard_ratios(), ci))
    if result.time_varying:
        sections.append(
            time_varying_section(
                result.hazard_ratios_by_interval(), t_max=float(cohort.time.max()), ci_prob=ci
            )
        )
    sections.append(survival_section(result.survival(), result.survival_summary(), cohort))
    sections.append(diagnostics_section(diag, result.idata))
    sections.append(ppc_section(ppc))
    group = group_ppc_section(ppc.groups, ppc.group_coverage, ci_prob=ci)
    if group is not None:
        sections.append(group)
    sections.append(
        ph_section(ph.table, ph.intervals, ph.method, t_max=float(cohort.time.max()), ci_prob=ci)
    )
    prior, prior_table = prior_predictive_for_fit(result)
    profiles = result.profiles()
    sections.append(
        prior_predictive_section(
            prior,
            prior_table,
            profiles[0],
            float(cohort.time.max()),
            list(result.spec.summaries.times),
        )
    )
    if loo_summary is not None:
        sections.append(loo_section(loo_summary))
    sections.append(data_section(cohort, pp))
    sections.append(spec_section(result.spec))
    return sections


def render_fit_report(
    result: PEMResult, *, ppc: PPCResult | None = None, ph: PHCheck | None = None
) -> str:
    """Return the self-contained HTML report of one fit.

    Parameters
    ----------
    result : PEMResult
        The fit.
    ppc : PPCResult, optional
        A posterior predictive check already computed (computed here otherwise).
    ph : PHCheck, optional
        The proportional-hazards check (the result's cached one otherwise).
    """
    diag_ok = "convergence checks passed" if result.diagnostics().passed else "CONVERGENCE FAILED"
    attrs = result.idata.attrs
    subtitle = [
        result.spec.description,
        f"data: {result.checked.cohort.source} — {result.checked.cohort.n} subjects, "
        f"{result.checked.cohort.n_events} events — {diag_ok}",
        f"spec hash {attrs.get('spec_hash', '')} — seed {attrs.get('seed', '')} — "
        f"necc-bayes {__version__}",
    ]
    return render_page(
        f"necc-bayes fit: {result.spec.name}", fit_sections(result, ppc=ppc, ph=ph), subtitle
    )
