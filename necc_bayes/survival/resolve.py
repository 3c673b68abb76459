"""Every default of a specification made explicit against the data (the resolved spec).

:func:`resolve_spec` fills in what the data decide: the cut points, the levels of every
categorical column, the formula's columns and terms, numeric baseline-prior parameters, an
explicit log-HR prior for every term (``priors.scale = "per_sd"`` resolved to per-unit
numbers), the survival profiles (real patients: each level of a categorical, each 0/1 term at 0
and 1, the others at their means), the summary times and the RMST horizon (from
``data.time_unit`` or the follow-up distribution).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from necc_bayes.data.columns import as_text
from necc_bayes.data.fragility import Fragility, design_fragility
from necc_bayes.errors import Problem, SpecError
from necc_bayes.evidence.resolve import resolve_map
from necc_bayes.spec.baseline_priors import GammaBaseline, GammaProcessBaseline, resolve_baseline
from necc_bayes.spec.model import CategoricalSection, ModelSpec, ProfileSection, did_you_mean
from necc_bayes.spec.priors import MapPrior, NormalPrior, StudentTPrior
from necc_bayes.survival.inputs import Checked
from necc_bayes.survival.model import PEMPriors
from necc_bayes.survival.replicates import default_replicate_subjects, default_replicates
from necc_bayes.survival.sampling import default_target_accept
from necc_bayes.survival.time_varying import resolve_time_varying_sd

UNITS_PER_YEAR = {"days": 365.25, "weeks": 365.25 / 7.0, "months": 12.0, "years": 1.0}
"""Length of a year in each ``data.time_unit`` (Julian year of 365.25 days)."""
DEFAULT_YEARS = (0.5, 1.0, 2.0, 3.0, 5.0)
"""Default summary times in years, kept when within follow-up."""
FLAT_PER_SD = 5.0
"""A continuous term's default prior is called nearly flat when its SD per SD of the term is
at least this (95% of the prior HR per SD beyond exp(±9.8))."""
TIGHT_PER_SD = 0.25
"""... and very tight when at most this (95% of the prior HR per SD within 0.61-1.63)."""


def fragility_of(checked: Checked) -> Fragility:
    """The fragility checks of the design (sparse cells, separation, events per parameter)."""
    c = checked.cohort
    return design_fragility(c.time, c.event, c.design.X, c.design.terms, c.design.binary,
                            entry=c.entry)


def crude_rate(checked: Checked) -> float:
    """Events divided by total time at risk (per unit of the data's time scale).

    Time at risk is ``sum(time - entry)``: with delayed entry the time before entry is not
    follow-up.
    """
    return checked.cohort.n_events / checked.cohort.time_at_risk


def categorical_groups(checked: Checked) -> dict[str, list[str]]:
    """Columns coded as a set of ``column[level]`` dummies: column -> levels, reference first.

    A set is the dummies of one data column (a text column, a declared categorical, or a
    formula's ``C(x, ...)`` of any column), at most one of them 1 in any row; its reference is
    the one value the column takes where every dummy is 0 (read from the data, so a formula's
    own reference, e.g. ``C(x, contr.treatment("b"))``, is found). Interactions are not sets.
    """
    design, frame = checked.cohort.design, checked.cohort.frame
    dummies: dict[str, list[str]] = {}
    for term, source in zip(design.terms, design.source, strict=True):
        if term.startswith(f"{source}[") and term.endswith("]") and ":" not in term:
            dummies.setdefault(source, []).append(term[len(source) + 1 : -1])
    out = {}
    for column, levels in dummies.items():
        if column not in frame.columns:
            continue
        block = design.X[:, [design.terms.index(f"{column}[{lev}]") for lev in levels]]
        if np.isnan(block).any() or not np.isin(block, [0.0, 1.0]).all():
            continue
        ones = block.sum(axis=1)
        references = sorted(set(as_text(frame[column])[ones == 0].dropna()))
        if (ones <= 1).all() and len(references) == 1:
            out[column] = [references[0], *levels]
    return out


def default_profiles(checked: Checked) -> list[ProfileSection]:
    """Profiles of real patients: each categorical level and each 0/1 term at 0 and 1.

    First the covariate means; then, per categorical column, one profile per level
    (``celltype=large``: that level's dummy 1, the column's other dummies 0); then each 0/1
    term (not a dummy, not an interaction) at 0 and at 1. In these profiles every other
    categorical column is at its reference level (its dummies 0: a patient who exists) and
    every other term at its mean.
    """
    design = checked.cohort.design
    groups = categorical_groups(checked)
    dummies = {f"{c}[{lev}]" for c, levels in groups.items() for lev in levels[1:]}

    def at_reference(skip: str | None) -> dict[str, float]:
        return {d: 0.0 for d in dummies if not d.startswith(f"{skip}[")}

    out = [ProfileSection(name="covariate means", values={})]
    done: set[str] = set()
    for term, source, binary in zip(design.terms, design.source, design.binary, strict=True):
        if term in dummies and source in groups and source not in done:
            done.add(source)
            levels = groups[source]
            for level in levels:
                values = {f"{source}[{lev}]": float(lev == level) for lev in levels[1:]}
                out.append(
                    ProfileSection(name=f"{source}={level}", values=at_reference(source) | values)
                )
        elif binary and term not in dummies and ":" not in term:
            out += [
                ProfileSection(name=f"{term}={v}", values=at_reference(None) | {term: float(v)})
                for v in (0, 1)
            ]
    return out


def default_contrasts(checked: Checked, names: list[str]) -> list[tuple[str, str]]:
    """Each categorical level against its reference, and each ``term=1`` against ``term=0``."""
    out = []
    for column, levels in categorical_groups(checked).items():
        ref = f"{column}={levels[0]}"
        out += [(f"{column}={lev}", ref) for lev in levels[1:] if f"{column}={lev}" in names]
    out += [(n, n[:-1] + "0") for n in names if n.endswith("=1") and n[:-1] + "0" in names]
    return [(a, b) for a, b in out if a in names and b in names]


def _round_sig(x: float, digits: int = 2) -> float:
    if x <= 0:
        return x
    return float(round(x, -math.floor(math.log10(x)) + digits - 1))


def default_times(time: np.ndarray, unit: str | None) -> list[float]:
    """Summary times: 0.5, 1, 2, 3, 5 years in ``unit`` within follow-up, else quartiles.

    With a unit, days and weeks are rounded to whole units (1 year = 365 days); the times up to
    the largest follow-up time are kept. Without a unit (or when none is within follow-up):
    the 25%, 50% and 75% quantiles of the follow-up times, to 2 significant figures.
    """
    t_max = float(np.max(time))
    if unit is not None:
        per_year = UNITS_PER_YEAR[unit]
        times = [y * per_year for y in DEFAULT_YEARS]
        if unit in ("days", "weeks"):
            times = [float(round(t)) for t in times]
        kept = [t for t in times if t <= t_max]
        if kept:
            return kept
    quartiles = [_round_sig(float(q)) for q in np.quantile(time, [0.25, 0.5, 0.75])]
    return sorted({q for q in quartiles if 0 < q <= t_max}) or [t_max / 2.0]


def term_sds(checked: Checked) -> dict[str, float]:
    """Sample SD (n - 1) of every continuous (not 0/1) design term."""
    design = checked.cohort.design
    return {
        t: float(np.std(design.X[:, k], ddof=1))
        for k, (t, binary) in enumerate(zip(design.terms, design.binary, strict=True))
        if not binary
    }


def _per_unit(prior, sd: float):
    """A normal or Student-t prior per SD of a term, as the prior per unit."""
    return prior.model_copy(update={"mu": prior.mu / sd, "sigma": prior.sigma / sd})


def prior_scale_messages(checked: Checked, spec: ModelSpec) -> list[str]:
    """Continuous terms whose default per-unit prior is nearly flat or very tight per SD.

    Only terms that take the default ``priors.log_hr`` per unit (``priors.scale =
    "per_unit"``, no prior of their own, not in a group) and a normal or Student-t default.
    """
    log_hr = spec.priors.log_hr
    if spec.priors.scale != "per_unit" or not isinstance(log_hr, NormalPrior | StudentTPrior):
        return []
    grouped = {t for g in spec.priors.groups.values() for t in g.terms}
    out = []
    for term, sd in term_sds(checked).items():
        if term in spec.priors.terms or term in grouped or sd == 0:
            continue
        per_sd = float(log_hr.sigma) * sd
        if per_sd >= FLAT_PER_SD or per_sd <= TIGHT_PER_SD:
            kind = "nearly flat" if per_sd >= FLAT_PER_SD else "very tight"
            out.append(
                f"term '{term}' (sd {sd:.3g}): the default log-HR prior {log_hr} per unit is "
                f"sigma = {per_sd:.3g} per SD of the term, {kind}; set priors.scale = "
                f"\"per_sd\", rescale the column, or give [priors.terms.{_key(term)}]"
            )
    return out


def _key(term: str) -> str:
    return term if term.replace("_", "").isalnum() else f'"{term}"'


def _check_names(spec: ModelSpec, terms: list[str], source: str) -> None:
    """Formula models: priors and time_varying must name the formula's terms (or columns)."""
    if spec.formula is None:
        return
    design_names = set(terms)
    known = design_names | set(spec.covariates.terms)
    problems = [
        Problem("term_reference", f"is not a term of the formula{did_you_mean(n, design_names)}",
                column=f"priors.terms.{n}")
        for n in spec.priors.terms
        if n not in design_names
    ]
    for gname, group in spec.priors.groups.items():
        problems += [
            Problem("term_reference", f"'{t}' is not a term of the formula"
                    f"{did_you_mean(t, design_names)}", column=f"priors.groups.{gname}")
            for t in group.terms
            if t not in design_names
        ]
    problems += [
        Problem("term_reference", f"'{n}' is not a term or column of the formula"
                f"{did_you_mean(n, known)}", column="covariates.time_varying")
        for n in spec.covariates.time_varying
        if n not in known
    ]
    if problems:
        raise SpecError(source, problems)


def _sampled_baseline(checked: Checked, baseline):
    """``missing = "model"``: the baseline rates are sampled; other features are refused.

    The exact gamma marginal couples every subject through ``S_j``, while the sum over each
    subject's completions of its missing values needs the rates: a marginalised gamma
    baseline becomes ``marginalize = false`` (the resolved spec shows it).
    """
    spec = checked.spec
    used = [
        key
        for key, on in [
            ("covariates.strata", spec.covariates.strata is not None),
            ("[frailty]", spec.frailty is not None),
            ("covariates.time_varying", bool(spec.covariates.time_varying)),
        ]
        if on
    ]
    if used:
        raise SpecError(
            str(checked.cohort.source),
            [
                Problem(
                    "missing_model_combination",
                    f'data.missing = "model" is not combined with {", ".join(used)} yet; use '
                    'data.missing = "drop" (complete cases, reported) for such a model',
                    column="data.missing",
                )
            ],
        )
    if isinstance(baseline, GammaBaseline | GammaProcessBaseline) and baseline.marginalize:
        return baseline.model_copy(update={"marginalize": False})
    return baseline


def resolve_spec(checked: Checked) -> ModelSpec:
    """Return the specification with every default made explicit for these data.

    Fills in: the cut points the rule gives (``intervals.resolved_cuts``), the levels of
    every categorical column (reference first), for a formula the data columns it uses
    (``covariates.terms``) and the design columns it produced (``covariates.formula_terms``),
    numeric baseline-prior parameters (from the crude event rate), an explicit prior for every
    term not in a group (a ``map`` prior becomes its ``normal_mixture``; with ``priors.scale =
    "per_sd"`` a continuous term's default becomes ``log_hr / sd`` per unit, the SDs recorded
    in ``priors.term_sd``), the survival profiles, the summary times, the RMST horizon and
    the PH check's replicates (400, or 100 above 5,000 subjects unless the spec sets them:
    :data:`~necc_bayes.survival.replicates.LARGE_COHORT`) and, above 100,000 subjects, the
    subjects of the replicate checks
    (:data:`~necc_bayes.survival.replicates.REPLICATE_SUBJECTS`).
    """
    spec, cohort = checked.spec, checked.cohort
    design = cohort.design
    _check_names(spec, design.terms, f"spec '{spec.name}' (against data {cohort.source})")
    grouped = {t for g in spec.priors.groups.values() for t in g.terms}
    sds = term_sds(checked)
    scaled = {}
    rescalable = isinstance(spec.priors.log_hr, NormalPrior | StudentTPrior)
    if spec.priors.scale == "per_sd" and rescalable:
        scaled = {
            t: sd for t, sd in sds.items()
            if t not in spec.priors.terms and t not in grouped and sd > 0
        }
    per_term = {}
    for t in design.terms:
        if t in grouped:
            continue
        p = spec.priors.terms.get(t, spec.priors.log_hr)
        if t in scaled:
            p = _per_unit(p, scaled[t])
        per_term[t] = resolve_map(p) if isinstance(p, MapPrior) else p
    categorical = dict(spec.covariates.categorical)
    groups = categorical_groups(checked)  # a formula's C(x, contr.treatment(...)) reference
    for name, levels in design.levels.items():
        declared = spec.covariates.categorical.get(name)
        reference = declared.reference if declared is not None else groups.get(name, levels)[0]
        ordered = [reference, *[lev for lev in levels if lev != reference]]
        categorical[name] = CategoricalSection(reference=reference, levels=ordered)
    t_max = float(cohort.time.max())
    baseline = resolve_baseline(spec.priors.baseline, crude_rate(checked), t_max)
    if design.incomplete and spec.data.missing == "model":
        baseline = _sampled_baseline(checked, baseline)
    tv_sd = resolve_time_varying_sd(spec.priors.time_varying_sd, t_max)
    times = spec.summaries.times or default_times(cohort.time, spec.data.time_unit)
    ph_check = spec.ph_check  # unchanged (same spec hash) unless the large-cohort default applies
    n_rep = default_replicates(cohort.n_subjects, ph_check.n_replicates)
    if "n_replicates" not in ph_check.model_fields_set and n_rep != ph_check.n_replicates:
        ph_check = ph_check.model_copy(update={"n_replicates": n_rep})
    n_sub = default_replicate_subjects(cohort.n_subjects)  # (start, stop] pieces: no replicates
    replicated = cohort.n_subjects == cohort.n
    if "replicate_subjects" not in ph_check.model_fields_set and n_sub and replicated:
        ph_check = ph_check.model_copy(update={"replicate_subjects": n_sub})
    summaries = spec.summaries.model_copy(
        update={
            "times": [float(t) for t in times],
            "profiles": spec.summaries.profiles or default_profiles(checked),
            "rmst_horizon": spec.summaries.rmst_horizon or min(max(times), t_max),
        }
    )
    covariates: dict[str, Any] = {"categorical": categorical}
    if spec.formula is not None:
        covariates |= {"terms": list(design.columns), "formula_terms": list(design.terms)}
    priors = {"terms": per_term, "baseline": baseline, "time_varying_sd": tv_sd}
    if scaled:
        priors["term_sd"] = scaled
    return spec.model_copy(
        update={
            "covariates": spec.covariates.model_copy(update=covariates),
            "intervals": spec.intervals.model_copy(
                update={"resolved_cuts": [float(c) for c in checked.cuts]}
            ),
            "priors": spec.priors.model_copy(update=priors),
            "summaries": summaries,
            "ph_check": ph_check,
            "sampler": spec.sampler.model_copy(
                update={
                    "target_accept": spec.sampler.target_accept
                    or default_target_accept(PEMPriors({}, [], baseline))
                }
            ),
        }
    )
