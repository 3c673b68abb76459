"""What the report of one fit shows, computed here and handed to :mod:`necc_bayes.report`.

:func:`fit_page` computes every table and array of the page — the summaries, the
convergence checks and the draws of the worst parameters, the posterior predictive check,
the prior predictive check, PSIS-LOO, the data profile, the Kaplan–Meier overlays — into a
plain :class:`~necc_bayes.report.fit_page.FitPage`; rendering it computes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from necc_bayes._version import __version__
from necc_bayes.data.columns import as_text
from necc_bayes.data.load import Cohort
from necc_bayes.data.profile import data_profile
from necc_bayes.data.reference import KMStep, km_step
from necc_bayes.inference.diagnostics import distinct_worst_parameters, parameter_draws
from necc_bayes.report.figures import KMOverlay, SurvivalPanel, survival_plot
from necc_bayes.report.fit_page import FitPage, render_fit_page
from necc_bayes.spec.cohort import cohort_conventions
from necc_bayes.survival.curve_sets import plot_view
from necc_bayes.survival.informative_priors import informative_prior_table
from necc_bayes.survival.intervals import PersonPeriod
from necc_bayes.survival.model import interval_labels, sparse_interval_messages
from necc_bayes.survival.ph_check import PHCheck
from necc_bayes.survival.ppc import PPCResult
from necc_bayes.survival.prior_predictive import (
    event_time_partition_note,
    prior_bands,
    prior_predictive_for_fit,
)
from necc_bayes.survival.resolve import categorical_groups
from necc_bayes.survival.sampling import LOGLIK_STORE_MAX, stores_log_likelihood

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

    from necc_bayes.survival.result import PEMResult

N_WORST = 4
"""Parameters shown in the trace and rank plots (the furthest from passing)."""


def survival_panels(
    profiles: list[str],
    cohort: Cohort,
    *,
    max_panels: int = 9,
    groups: dict[str, list[str]] | None = None,
) -> list[SurvivalPanel]:
    """The panels of the survival figure with their Kaplan–Meier overlays.

    The first panel is the first profile with the whole cohort's KM curve and 95% band; each
    0/1 term with both a ``term=0`` and a ``term=1`` profile gets a panel with the KM curves
    of the subjects with that term at 0 and at 1 (unadjusted), and each categorical column of
    ``groups`` (column -> levels) with a ``column=level`` profile per level gets one with the
    KM curve of the subjects at each level (never pooled levels). With strata, one panel per
    stratum instead: its first profile (``"... [column=level]"``) and the stratum's KM curve.
    With delayed entry (or (start, stop] rows) every KM curve is left-truncated (no band).
    """
    time, event, design, entry = cohort.time, cohort.event, cohort.design, cohort.entry
    if cohort.strata is not None:
        return _strata_panels(profiles, cohort)[:max_panels]
    first = profiles[0]
    label = "Kaplan–Meier" + (" (left-truncated)" if entry is not None else " (95% CI)")
    whole = KMOverlay(first, label, _plotted(time, event, band=0.95, entry=entry), band=True)
    panels = [SurvivalPanel(first, [whole])]
    for column, levels in (groups or {}).items():
        names = [f"{column}={lev}" for lev in levels]
        if column not in cohort.frame.columns or not all(n in profiles for n in names):
            continue
        text = as_text(cohort.frame[column]).to_numpy()
        overlays = []
        for name, value in zip(names, levels, strict=True):
            at = text == value
            km = _plotted(time[at], event[at], entry=None if entry is None else entry[at])
            overlays.append(KMOverlay(name, f"KM {name} (n={int(at.sum())})", km))
        panels.append(SurvivalPanel(column, overlays))
    for k, term in enumerate(design.terms):
        if f"{term}=0" in profiles and f"{term}=1" in profiles:
            overlays = []
            for level in (0, 1):
                mask = design.X[:, k] == level
                label = f"KM {term}={level} (n={int(mask.sum())})"
                sub = None if entry is None else entry[mask]
                km = _plotted(time[mask], event[mask], entry=sub)
                overlays.append(KMOverlay(f"{term}={level}", label, km))
            panels.append(SurvivalPanel(term, overlays))
    return panels[:max_panels]


PLOT_STEPS_MAX = 2_000
"""Kaplan–Meier overlays with more steps are drawn at this many grid times (registry size)."""


def _plotted(
    time: np.ndarray,
    event: np.ndarray,
    *,
    band: float | None = None,
    entry: np.ndarray | None = None,
) -> KMStep | None:
    """:func:`km_step` as the survival figure draws it (thinned at registry size).

    Above :data:`PLOT_STEPS_MAX` steps the curve is its values at that many equally spaced
    times: a step moves by at most 1/2,000 of the time axis (below a pixel), where 10^6
    subjects would otherwise write ~10^6 points per curve into the page (135 MB).
    """
    km = km_step(time, event, band=band, entry=entry)
    if km is None or km.time.size <= PLOT_STEPS_MAX:
        return km
    grid = np.linspace(0.0, float(km.time[-1]), PLOT_STEPS_MAX)
    at = np.searchsorted(km.time, grid, side="right") - 1  # the step in force at each time

    def pick(v: np.ndarray | None) -> np.ndarray | None:
        return None if v is None else v[at]

    return KMStep(
        time=grid, surv=km.surv[at], low=pick(km.low), high=pick(km.high), n=km.n
    )


def _strata_panels(profiles: list[str], cohort: Cohort) -> list[SurvivalPanel]:
    """One panel per stratum: the first profile of the stratum and the stratum's KM curve."""
    strata = cohort.strata
    assert strata is not None
    base = profiles[0].split(" [", 1)[0]
    panels = []
    for k, level in enumerate(strata.levels):
        mask = strata.codes == k
        sub = None if cohort.entry is None else cohort.entry[mask]
        km = _plotted(cohort.time[mask], cohort.event[mask], entry=sub)
        label = f"Kaplan–Meier (n={int(mask.sum())})"
        overlay = KMOverlay(f"{base} [{strata.column}={level}]", label, km, band=True)
        panels.append(SurvivalPanel(f"{strata.column} = {level}", [overlay]))
    return panels


def survival_figure(result: PEMResult) -> Figure:
    """The fit's posterior survival curves per profile with Kaplan–Meier overlays."""
    surv = plot_view(result.survival())
    panels = survival_panels(
        list(dict.fromkeys(surv["profile"])),
        result.checked.cohort,
        groups=categorical_groups(result.checked),
    )
    return survival_plot(surv, panels)


def data_tables(cohort: Cohort, pp: PersonPeriod) -> tuple[pd.DataFrame, ...]:
    """The data profile, one row per term, and events / at risk / exposure per interval."""
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
    return overview, per_term, intervals


def ppc_notes(ppc: PPCResult, ph: PHCheck) -> list[str]:
    """Advisory notes of the checks: extreme PPC p-values, flagged PH rows, low coverage."""
    extreme = ppc.events[(ppc.events.ppp < 0.025) | (ppc.events.ppp > 0.975)]
    notes = [
        f"posterior predictive p-value {r.ppp:.3f} for events in interval {r.interval}"
        for r in extreme.itertuples()
    ]
    notes += ph.messages()
    if ppc.grid.size and ppc.coverage < 0.9:
        notes.append(
            f"the observed Kaplan–Meier curve is inside the replicate band on only "
            f"{ppc.coverage:.0%} of the time grid"
        )
    return notes


def _subjects(cohort: Cohort) -> str:
    """``"88 subjects"``, or ``"103 subjects (172 rows)"`` with (start, stop] pieces."""
    n, rows = cohort.n_subjects, cohort.n
    return f"{n} subjects" + (f" ({rows} rows)" if rows != n else "")


def loo_not_computed_note(n_rows: int, idata: xr.DataTree) -> str:
    """Why a fit's report has no PSIS-LOO section (its log-likelihood was not stored).

    ``n_rows`` counts the rows the log-likelihood has (subjects, or (start, stop] pieces), as
    :func:`~necc_bayes.survival.sampling.stores_log_likelihood` does when a fit decides.
    """
    post = idata["posterior"]
    n_draws = int(post.sizes["chain"] * post.sizes["draw"])
    how = (
        "`nb.fit(...).loo()` (or `PEMResult.loo()`) computes it from the posterior draws, a "
        "block of subjects at a time, when it is needed (e.g. to compare models)."
    )
    if stores_log_likelihood(n_rows, n_draws):
        return f"PSIS-LOO is not in this report: this fit did not store its log-likelihood. {how}"
    return (
        f"PSIS-LOO is not in this report: {n_rows:,} rows x {n_draws:,} draws exceed the "
        f"{LOGLIK_STORE_MAX:,} per-row log-likelihood values a fit stores. {how}"
    )


def km_thinned_note(cohort: Cohort) -> str | None:
    """The report's note when the survival figure's KM curves are drawn on a grid (large n)."""
    steps = cohort.time if cohort.entry is None else cohort.time[cohort.event.astype(bool)]
    if np.unique(steps).size + 2 <= PLOT_STEPS_MAX:  # the whole cohort's curve (km_step)
        return None
    return (
        f"Kaplan–Meier curves with more than {PLOT_STEPS_MAX:,} steps are drawn at "
        f"{PLOT_STEPS_MAX:,} equally spaced times (their exact values there)."
    )


def fit_page(result: PEMResult, *, data_label: str | None = None) -> FitPage:
    """Compute everything the report of one fit shows.

    Parameters
    ----------
    result : PEMResult
        The fit (its cached summaries, diagnostics and posterior predictive check are used).
    data_label : str, optional
        Provenance of the data (e.g. ``"SYNTHETIC cohort (not study data)"``): in the page
        title, the header and every figure's title and caption.

    Returns
    -------
    FitPage
        Plain data for :func:`necc_bayes.report.fit_page.render_fit_page`.
    """
    diag = result.diagnostics()
    ppc = result.posterior_predictive_check()
    ph = result.ph_check()
    pp = result.checked.person_period
    cohort = result.checked.cohort
    fragility = result.fragility()
    notes = [*fragility.messages(), *result.prior_messages(), *diag.notes]
    notes += sparse_interval_messages(pp) + ppc_notes(ppc, ph)
    loo_summary = None
    if "log_likelihood" in result.idata.children:  # stored: small n x draws
        loo_summary = result.loo()
        if loo_summary.message:
            notes.append(loo_summary.message)
    else:
        notes.append(loo_not_computed_note(cohort.n, result.idata))
    notes += [n for n in (event_time_partition_note(pp), km_thinned_note(cohort)) if n]
    worst = distinct_worst_parameters(diag, result.idata, N_WORST)
    trace = {
        label: np.asarray(
            parameter_draws(result.idata, label).transpose("chain", "draw").to_numpy()
        )
        for label in worst
    }
    prior, prior_table = prior_predictive_for_fit(result)
    profiles = result.profiles()
    overview, per_term, intervals = data_tables(cohort, pp)
    survival = result.survival()
    view = plot_view(survival)
    by_interval = result.hazard_ratios_by_interval() if result.time_varying else None
    attrs = result.idata.attrs
    verdict = "convergence checks passed" if diag.passed else "CONVERGENCE FAILED"
    return FitPage(
        title=f"necc-bayes fit: {result.spec.name}" + (f" — {data_label}" if data_label else ""),
        subtitle=[
            *([f"Data: {data_label}"] if data_label else []),
            result.spec.description,
            f"data: {cohort.source} — {_subjects(cohort)}, {cohort.n_events} events — {verdict}",
            f"spec hash {attrs.get('spec_hash', '')} — seed {attrs.get('seed', '')} — "
            f"necc-bayes {__version__}",
        ],
        failures=[f"convergence: {m}" for m in diag.failures],
        notes=notes,
        hazard_ratios=result.hazard_ratios(),
        hazard_ratios_by_interval=by_interval,
        ci_prob=result.spec.summaries.ci_prob,
        survival=survival,
        survival_summary=result.survival_summary(),
        survival_panels=survival_panels(
            list(dict.fromkeys(view["profile"])), cohort, groups=categorical_groups(result.checked)
        ),
        survival_view=view,
        cohort_features=cohort_conventions(result.spec),
        curve_notes=result.curve_notes(),
        frailty=result.frailty(),
        diagnostics=diag,
        trace_draws=trace,
        ppc=ppc,
        ppc_groups=ppc.groups,
        ppc_group_coverage=ppc.group_coverage,
        ph_table=ph.table,
        ph_intervals=ph.intervals,
        ph_method=ph.method,
        t_max=float(cohort.time.max()),
        prior=prior_bands(
            prior,
            profiles[0],
            float(cohort.time.max()),
            result.spec.summaries.time_points,
        ),
        prior_table=prior_table,
        loo=loo_summary,
        data_overview=overview,
        data_terms=per_term,
        data_intervals=intervals,
        spec=result.spec,
        informative_priors=informative_prior_table(result),
        imputation=result.imputation_summary(),
        imputed=result.imputed_values(),
        data_label=data_label,
        fragility=fragility.table,
        fragility_messages=fragility.messages(),
    )


def render_fit_report(result: PEMResult, *, data_label: str | None = None) -> str:
    """The self-contained HTML report of one fit (``report.html``), optionally labelled."""
    return render_fit_page(fit_page(result, data_label=data_label))
