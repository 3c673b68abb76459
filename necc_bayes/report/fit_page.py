"""The HTML report of one fit, rendered from a :class:`FitPage` of plain data.

:class:`FitPage` holds everything the page shows — tables, diagnostics, the figures' data —
computed by the layer that owns the model (:func:`necc_bayes.survival.page.fit_page`);
:func:`render_fit_page` only renders it, from the sections of
:mod:`necc_bayes.report.fit_sections` and
:mod:`necc_bayes.report.check_sections`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from necc_bayes.inference.diagnostics import DiagnosticsReport
from necc_bayes.inference.loo import LooSummary
from necc_bayes.report.check_sections import (
    diagnostics_section,
    group_ppc_section,
    loo_section,
    ph_section,
    ppc_section,
    prior_predictive_section,
)
from necc_bayes.report.figures import PPCView, PriorBands, SurvivalPanel
from necc_bayes.report.fit_sections import (
    cohort_section,
    data_section,
    fragility_section,
    hazard_ratio_section,
    imputation_section,
    informative_prior_section,
    spec_section,
    survival_section,
    time_varying_section,
)
from necc_bayes.report.html import Section, render_page, warnings_section
from necc_bayes.spec.model import ModelSpec


@dataclass(frozen=True)
class FitPage:
    """Everything the report of one fit shows, as plain data.

    Attributes
    ----------
    title : str
        Page title.
    subtitle : list of str
        Lines under the title (description, data, verdict, provenance).
    failures, notes : list of str
        Failed checks (red) and advisory notes (amber).
    hazard_ratios : DataFrame
        ``hazard_ratios.csv``.
    hazard_ratios_by_interval : DataFrame or None
        ``hazard_ratios_by_interval.csv`` when a term is time-varying, else None.
    ci_prob : float
        Credible-interval probability of the tables.
    survival, survival_summary : DataFrame
        ``survival.csv`` and ``survival_summary.csv``.
    survival_panels : list of SurvivalPanel
        Profiles and Kaplan–Meier overlays per panel of the survival figure.
    diagnostics : DiagnosticsReport
        Convergence checks.
    trace_draws : dict of str to ndarray
        Draws (chain, draw) of the parameters furthest from passing, for trace/rank plots.
    ppc : PPCView
        Posterior predictive check.
    ppc_groups, ppc_group_coverage : DataFrame
        The check by covariate level (empty without groups) and each level's coverage.
    ph_table, ph_intervals : DataFrame
        ``ph_check.csv`` and the per-interval one-step log-HRs of the PH check.
    ph_method : str
        One sentence describing the PH check.
    t_max : float
        Largest follow-up time.
    prior : PriorBands
        Prior predictive survival of the first profile (figure).
    prior_table : DataFrame
        Prior predictive ``S(t)`` per profile and summary time.
    loo : LooSummary or None
        PSIS-LOO (None without a log-likelihood).
    data_overview, data_terms, data_intervals : DataFrame
        The data profile, one row per term, and events / at-risk / exposure per interval.
    spec : ModelSpec
        The resolved specification.
    survival_view : DataFrame, optional
        The rows of ``survival`` the figure draws (population-averaged ones with a frailty);
        ``survival`` itself when None.
    cohort_features, curve_notes : list of str
        Delayed entry, pieces, strata and frailty in use, and what the curves are.
    frailty : DataFrame, optional
        ``frailty.csv`` (models with a shared frailty).
    informative_priors : DataFrame or None
        Evidence-based log-HR priors: ESS and prior-data conflict per term
        (:func:`necc_bayes.survival.informative_priors.informative_prior_table`).
    imputation, imputed : DataFrame or None
        With ``data.missing = "model"``: one row per incomplete covariate (counts, means,
        modelled vs complete-case log-HR) and the posterior of every missing value.
    fragility, fragility_messages : DataFrame or None, list of str
        The fragility checks of the design (one row per term) and their sentences.
    data_label : str or None
        Provenance of the data (e.g. ``"SYNTHETIC cohort (not study data)"``), added to the
        title and caption of every figure; None for none.
    """

    title: str
    subtitle: list[str]
    failures: list[str]
    notes: list[str]
    hazard_ratios: pd.DataFrame
    hazard_ratios_by_interval: pd.DataFrame | None
    ci_prob: float
    survival: pd.DataFrame
    survival_summary: pd.DataFrame
    survival_panels: list[SurvivalPanel]
    diagnostics: DiagnosticsReport
    trace_draws: dict[str, np.ndarray]
    ppc: PPCView
    ppc_groups: pd.DataFrame
    ppc_group_coverage: pd.DataFrame
    ph_table: pd.DataFrame
    ph_intervals: pd.DataFrame
    ph_method: str
    t_max: float
    prior: PriorBands
    prior_table: pd.DataFrame
    loo: LooSummary | None
    data_overview: pd.DataFrame
    data_terms: pd.DataFrame
    data_intervals: pd.DataFrame
    spec: ModelSpec
    survival_view: pd.DataFrame | None = None
    cohort_features: list[str] = field(default_factory=list)
    curve_notes: list[str] = field(default_factory=list)
    frailty: pd.DataFrame | None = None
    informative_priors: pd.DataFrame | None = None
    imputation: pd.DataFrame | None = None
    imputed: pd.DataFrame | None = None
    data_label: str | None = None
    fragility: pd.DataFrame | None = None
    fragility_messages: list[str] = field(default_factory=list)


def fit_sections(page: FitPage) -> list[Section]:
    """Every section of one fit's report, in reading order."""
    label = page.data_label
    sections = [
        warnings_section(page.failures, page.notes),
        hazard_ratio_section(page.hazard_ratios, page.ci_prob, label=label),
    ]
    if page.informative_priors is not None and len(page.informative_priors):
        sections.append(informative_prior_section(page.informative_priors))
    if page.hazard_ratios_by_interval is not None:
        sections.append(
            time_varying_section(
                page.hazard_ratios_by_interval, t_max=page.t_max, ci_prob=page.ci_prob, label=label
            )
        )
    view = page.survival if page.survival_view is None else page.survival_view
    sections.append(
        survival_section(
            view,
            page.survival_summary,
            page.survival_panels,
            population_averaged="frailty" in page.survival.columns,
            label=label,
            time_label=f"time ({page.spec.data.time_unit})" if page.spec.data.time_unit else "time",
        )
    )
    structure = cohort_section(page.cohort_features, page.curve_notes, page.frailty)
    if structure is not None:
        sections.append(structure)
    if page.imputation is not None and page.imputed is not None:
        sections.append(imputation_section(page.imputation, page.imputed))
    sections += [
        diagnostics_section(page.diagnostics, page.trace_draws, label=label),
        ppc_section(page.ppc, label=label),
    ]
    group = group_ppc_section(
        page.ppc_groups, page.ppc_group_coverage, ci_prob=page.ci_prob, label=label
    )
    if group is not None:
        sections.append(group)
    sections.append(
        ph_section(
            page.ph_table,
            page.ph_intervals,
            page.ph_method,
            t_max=page.t_max,
            ci_prob=page.ci_prob,
            label=label,
        )
    )
    sections.append(prior_predictive_section(page.prior, page.prior_table, label=label))
    if page.loo is not None:
        sections.append(loo_section(page.loo))
    if page.fragility is not None:
        sections.append(fragility_section(page.fragility, page.fragility_messages))
    sections.append(data_section(page.data_overview, page.data_terms, page.data_intervals))
    sections.append(spec_section(page.spec))
    return sections


def render_fit_page(page: FitPage) -> str:
    """Return the self-contained HTML report of one fit."""
    return render_page(page.title, fit_sections(page), page.subtitle)
