"""The model specification as data: its sections and the rules across them.

Sections are pydantic models with ``extra="forbid"``; the rules that involve more than one
section (term names used in priors, categorical and ordinal codings) are a validator of
:class:`ModelSpec` itself, so a spec built in Python obeys them as one read from TOML does.
Parsing, overrides, hashing and printing are in :mod:`necc_bayes.spec.io`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    field_validator,
    model_validator,
)

from necc_bayes.errors import Problem
from necc_bayes.spec.baseline_priors import DEFAULT_BASELINE, BaselinePrior
from necc_bayes.spec.cohort import FrailtySection, role_problems
from necc_bayes.spec.formula import EventRule, formula_sides, parse_event, parse_formula
from necc_bayes.spec.imputation import ImputationSection, imputation_problems
from necc_bayes.spec.priors import DEFAULT_LOG_HR, CoefficientPrior, GroupPrior, SDPrior
from necc_bayes.spec.settings import SamplerSettings, Thresholds
from necc_bayes.spec.summaries import PHCheckSection, SummarySection
from necc_bayes.spec.summaries import PHTransform as PHTransform  # re-exported
from necc_bayes.spec.summaries import ProfileSection as ProfileSection  # re-exported

TimeUnit = Literal["days", "weeks", "months", "years"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DataSection(_Section):
    """Which columns hold the survival outcome, and what to do with missing values.

    ``entry`` (optional) names a column of entry times: a row is at risk on
    ``(entry, time]`` only (delayed entry / left truncation). With ``entry`` and ``id``,
    several rows per id are the ``(start, stop]`` pieces of one subject's follow-up, whose
    covariate values may change between pieces (time-varying covariates).

    Attributes
    ----------
    time : str
        Column of follow-up times (> 0): time of the event or of censoring.
    event : str
        Column of event indicators (1 = event, 0 = censored), or an expression
        ``column == value`` (e.g. ``"status == 2"``: rows with status 2 are events, every
        other row is censored; numbers compared as numbers, text as text).
    id : str or None
        Column of subject identifiers (optional); must be unique unless ``entry`` is given,
        in which case rows with the same id are pieces of one follow-up.
    entry : str or None
        Column of entry times (optional): each row is at risk on ``(entry, time]`` only.
    missing : {"error", "drop", "model"}
        What to do with missing values in a used column: ``"error"`` refuses the data
        (naming every row), ``"drop"`` drops those rows and reports how many, ``"model"``
        integrates missing covariate values out with a model per incomplete covariate
        (see ``[imputation]``; the resolved spec states the convention).
    time_unit : {"days", "weeks", "months", "years"} or None
        Unit of the time columns (optional): labels axes and tables, and gives the default
        summary times (0.5, 1, 2, 3 and 5 years, those within follow-up) and RMST horizon.
        Without it the defaults come from the follow-up distribution (its quartiles).
    """

    time: str
    event: str
    id: str | None = None
    entry: str | None = None
    missing: Literal["error", "drop", "model"] = "error"
    time_unit: TimeUnit | None = None

    @field_validator("event")
    @classmethod
    def _event_expression(cls, value: str) -> str:
        return str(parse_event(value))

    @property
    def event_rule(self) -> EventRule:
        """The event column and the value marking an event (None: a 0/1 column)."""
        return parse_event(self.event)

    @property
    def event_column(self) -> str:
        """The data column the event expression reads."""
        return self.event_rule.column


class CategoricalSection(_Section):
    """A categorical covariate, dummy-coded against an explicit reference level.

    Written ``[covariates.categorical.COLUMN]``; the column must be in ``covariates.terms``.
    Each non-reference level gets a 0/1 term named ``COLUMN[level]``.

    Attributes
    ----------
    reference : str
        The reference level (its log-HR is 0; the other levels are compared with it).
    levels : list of str or None
        Order of the non-reference levels (default: sorted); levels not observed in the data
        are left out. The resolved spec lists the levels found.
    """

    reference: str
    levels: list[str] | None = None


class OrdinalSection(_Section):
    """An ordinal numeric covariate, coded as cumulative dummies ``column>=level``.

    ``levels`` are the ordered category values (at least two); values above the last level
    are pooled into it (e.g. ``[1, 2, 3]`` gives 1, 2 and 3+); values below the first are
    refused.

    Attributes
    ----------
    levels : list of float
        Ordered category values; each level above the first gets a cumulative dummy.
    """

    levels: list[float] = Field(min_length=2)

    @model_validator(mode="after")
    def _increasing(self) -> OrdinalSection:
        if any(b <= a for a, b in zip(self.levels, self.levels[1:], strict=False)):
            raise ValueError(f"levels must be strictly increasing, got {self.levels}")
        return self


class CovariateSection(_Section):
    """Model terms and how they are coded.

    ``strata`` (optional) names a column: each of its levels gets its own baseline hazard,
    the covariate effects are shared across strata.

    ``time_varying`` (optional) lists terms with one log-HR per interval, smoothed across
    intervals (``priors.time_varying_sd``). A name may be a covariate (all its design columns,
    e.g. every dummy of a categorical) or one design column (``celltype[adeno]``).

    A term whose values are all text is categorical even without a ``categorical`` table:
    its reference is the first level in sorted order (the resolved spec writes the table).
    With a top-level ``formula``, ``terms`` is filled in from it (the data columns it uses).

    Attributes
    ----------
    terms : list of str
        Covariate columns of the model, used as coded (numeric or 0/1) unless listed under
        ``categorical`` or ``ordinal`` or holding text (then categorical). With a
        ``formula`` the resolved spec lists the columns the formula uses.
    center : bool
        Centre the design at the covariate means (default), so the baseline hazard is that of
        a subject at the means; ``false``: of a subject with every covariate at 0 (every
        categorical at its reference level). Hazard ratios do not change, baseline priors and
        baseline summaries do.
    categorical : dict of str to table
        ``[covariates.categorical.COLUMN]``: categorical columns and their reference levels.
    ordinal : dict of str to table
        ``[covariates.ordinal.COLUMN]``: ordinal columns coded as cumulative dummies.
    strata : str or None
        Column whose levels each get their own baseline hazard (optional).
    time_varying : list of str
        Terms with one log-HR per interval (optional).
    formula_terms : list of str or None
        Written by necc-bayes into the resolved spec of a formula model: the design columns
        the formula produced on the data (informational; the formula is what is fitted).
    """

    terms: list[str] = Field(default_factory=list)
    center: bool = True
    categorical: dict[str, CategoricalSection] = Field(default_factory=dict)
    ordinal: dict[str, OrdinalSection] = Field(default_factory=dict)
    strata: str | None = None
    time_varying: list[str] = Field(default_factory=list)
    # written by necc-bayes into the resolved spec of a formula model: the design columns the
    # formula produced on the data (informational; the formula is what is fitted)
    formula_terms: list[str] | None = None


class IntervalSection(_Section):
    """The cut-point rule of the piecewise-exponential baseline.

    Intervals are ``(0, c1], (c1, c2], ..., (ck, end of follow-up]``; an event exactly at a
    cut belongs to the interval that ends there; cuts <= 0 or >= the largest follow-up time
    are refused.

    Attributes
    ----------
    rule : {"default", "quantile", "fixed", "event_times"}
        ``"default"``: ``quantile`` with ``K = ceil(sqrt(n / log n))`` intervals;
        ``"quantile"``: ``n`` intervals with equal numbers of events; ``"fixed"``: the given
        ``cuts``; ``"event_times"``: a cut at every distinct event time.
    cuts : list of float or None
        Interior cut points of rule ``"fixed"``, in the data's time unit.
    n : int or None
        Number of intervals of rule ``"quantile"``.
    resolved_cuts : list of float or None
        Written by necc-bayes into the resolved spec: the cuts the rule gave on the data
        (ignored on input).
    """

    rule: Literal["fixed", "event_times", "quantile", "default"] = "default"
    cuts: list[float] | None = None
    n: PositiveInt | None = None
    # written by necc-bayes into the resolved spec: the cuts the rule gave on the data
    resolved_cuts: list[float] | None = None

    @model_validator(mode="after")
    def _rule_arguments(self) -> IntervalSection:
        if self.rule == "fixed" and not self.cuts:
            raise ValueError("rule 'fixed' needs cuts = [c1, c2, ...]")
        if self.rule == "quantile" and self.n is None:
            raise ValueError("rule 'quantile' needs n = K (number of intervals)")
        if self.rule in ("event_times", "default") and (self.cuts or self.n):
            raise ValueError(f"rule '{self.rule}' takes neither cuts nor n")
        return self


class PriorSection(_Section):
    """Priors on log hazard ratios (default, per term, per group) and on the baseline.

    Attributes
    ----------
    log_hr : prior
        Prior of every term's log hazard ratio that has no prior of its own (default
        ``Normal(0, 1)`` per unit of the covariate as coded).
    terms : dict of str to prior
        ``[priors.terms.TERM]``: per-term priors (a term is a column or a dummy such as
        ``celltype[adeno]``).
    groups : dict of str to group prior
        ``[priors.groups.NAME]``: jointly structured priors of several terms (partial pooling,
        monotone ordinal effects); without ``dist`` a group is ``hierarchical_normal``.
    baseline : baseline prior
        Prior of the baseline hazard (default: the gamma process, parameters from the data).
    time_varying_sd : sd prior or "auto"
        Smoothing scale of time-varying log-HRs per square root of the time unit;
        ``"auto"`` is ``HalfNormal(1 / sqrt(T))``.
    scale : {"per_unit", "per_sd"}
        How ``log_hr`` is read for continuous (not 0/1) terms: ``"per_unit"`` (default) per
        unit of the term as coded; ``"per_sd"`` per standard deviation of the term in the data
        (rstanarm's autoscale idea), resolved to explicit per-unit priors in ``priors.terms``
        of the written spec (``log_hr`` with mu and sigma divided by the term's SD). 0/1 terms
        and terms with a prior of their own are not rescaled.
    term_sd : dict of str to float or None
        Written by necc-bayes with ``scale = "per_sd"``: the SD of each continuous term the
        default prior was divided by.
    """

    log_hr: CoefficientPrior = DEFAULT_LOG_HR
    # "per_unit": log_hr is the prior per unit of each term as coded; "per_sd": for continuous
    # (not 0/1) terms log_hr is per standard deviation of the term, resolved to explicit
    # per-unit priors in priors.terms (rstanarm's autoscale idea)
    scale: Literal["per_unit", "per_sd"] = "per_unit"
    terms: dict[str, CoefficientPrior] = Field(default_factory=dict)
    # written by necc-bayes with scale = "per_sd": the SD of each continuous term that the
    # default prior was divided by (priors.terms then holds the per-unit result)
    term_sd: dict[str, float] | None = None
    groups: dict[str, GroupPrior] = Field(default_factory=dict)
    baseline: BaselinePrior = DEFAULT_BASELINE
    # smoothing scale of time-varying log-HRs, per square root of the time unit; "auto" is
    # HalfNormal(1 / sqrt(T)): the change of a log-HR over the follow-up T has prior sd ~ |N(0,1)|
    time_varying_sd: SDPrior | Literal["auto"] = "auto"

    @field_validator("groups", mode="before")
    @classmethod
    def _default_group_family(cls, value: Any) -> Any:
        """A group table without ``dist`` is a hierarchical normal group."""
        if isinstance(value, dict):
            return {
                k: {"dist": "hierarchical_normal", **v} if isinstance(v, dict) else v
                for k, v in value.items()
            }
        return value


class ModelSpec(_Section):
    """A complete model specification (DESIGN §3).

    Attributes
    ----------
    name : str
        Name of the model (used in outputs and reports).
    description : str
        Free text describing the model.
    formula : str or None
        Optional survival formula, e.g. ``"Surv(time, status == 2) ~ celltype + karno"``:
        the left side (``Surv(time, event)``, ``Surv(time, column == value)`` or
        ``Surv(entry, time, event)``) gives ``data.time``, ``data.event`` and ``data.entry``;
        the right side, coded by formulaic, replaces ``covariates.terms`` (numeric columns
        as-is, text columns as ``column[level]`` dummies against the first sorted level
        unless the formula gives one, e.g. ``C(celltype, contr.treatment("squamous"))``).
    data : table
        ``[data]``: the outcome columns.
    covariates : table
        ``[covariates]``: the model terms and their coding.
    intervals : table
        ``[intervals]``: the cut points of the piecewise-constant baseline.
    priors : table
        ``[priors]``: log-HR and baseline priors.
    sampler : table
        ``[sampler]``: NUTS settings and the seed.
    summaries : table
        ``[summaries]``: interval probability, summary times, profiles.
    diagnostics : table
        ``[diagnostics]``: convergence thresholds.
    frailty : table or None
        ``[frailty]``: a shared frailty per cluster (optional).
    ph_check : table
        ``[ph_check]``: settings of the proportional-hazards check.
    imputation : table or None
        ``[imputation]``: the covariate models of ``data.missing = "model"`` (chain order,
        predictors, prior scales; optional).
    """

    name: str
    description: str = ""
    formula: str | None = None
    data: DataSection
    covariates: CovariateSection = Field(default_factory=CovariateSection)
    intervals: IntervalSection = Field(default_factory=IntervalSection)
    priors: PriorSection = Field(default_factory=PriorSection)
    sampler: SamplerSettings = Field(default_factory=SamplerSettings)
    summaries: SummarySection = Field(default_factory=SummarySection)
    diagnostics: Thresholds = Field(default_factory=Thresholds)
    frailty: FrailtySection | None = None
    imputation: ImputationSection | None = None
    ph_check: PHCheckSection = Field(default_factory=PHCheckSection)

    @model_validator(mode="before")
    @classmethod
    def _formula_sides(cls, raw: Any) -> Any:
        """A formula fills data.time / data.event / data.entry (and must agree with them)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("formula"), str):
            return raw
        filled, problems = formula_sides(raw)
        if problems:
            raise ValueError(CROSS_MARK + json.dumps([dataclasses.asdict(p) for p in problems]))
        return filled

    @property
    def formula_rhs(self) -> str | None:
        """The right-hand side of the formula (None without a formula)."""
        return None if self.formula is None else parse_formula(self.formula).rhs

    @model_validator(mode="after")
    def _cross_section_rules(self) -> ModelSpec:
        """Rules that involve more than one section (checked however the spec was built)."""
        problems = [Problem("term_reference", msg) for msg in _cross_problems(self)]
        problems += role_problems(self)
        if problems:
            raise ValueError(CROSS_MARK + json.dumps([dataclasses.asdict(p) for p in problems]))
        return self


def _cross_problems(spec: ModelSpec) -> list[str]:
    """Return the rules that involve more than one section (term names across sections).

    With a formula the design's term names are known only once the data are seen: the rules
    on names in priors.terms, priors.groups, covariates.categorical and
    covariates.time_varying are then checked when the design is built.
    """
    terms = spec.covariates.terms
    out = []
    dupes = sorted({t for t in terms if terms.count(t) > 1})
    if dupes:
        out.append(f"covariates.terms lists {dupes} more than once")
    for col in (spec.data.time, spec.data.event_column):
        if col in terms:
            out.append(f"outcome column '{col}' cannot also be a covariate")
    if spec.formula is not None:
        return out
    for name in spec.covariates.categorical:
        if name not in terms:
            out.append(f"covariates.categorical.{name} is not in covariates.terms")
    for name in spec.covariates.ordinal:
        if name not in terms:
            out.append(f"covariates.ordinal.{name} is not in covariates.terms")
        if name in spec.covariates.categorical:
            out.append(f"'{name}' cannot be both categorical and ordinal")
    known = set(terms) | _dummy_names(spec)
    for name in spec.priors.terms:
        if name not in known:
            out.append(f"priors.terms.{name} is not a model term{did_you_mean(name, known)}")
    grouped: list[str] = []
    for gname, group in spec.priors.groups.items():
        for t in group.terms:
            if t not in known:
                out.append(
                    f"priors.groups.{gname} term '{t}' is not a model term{did_you_mean(t, known)}"
                )
            if t in spec.priors.terms:
                out.append(f"term '{t}' has both a per-term prior and group '{gname}'")
        grouped += group.terms
    again = sorted({t for t in grouped if grouped.count(t) > 1})
    if again:
        out.append(f"terms {again} are in more than one prior group")
    varying = spec.covariates.time_varying
    for name in varying:
        if name not in known:
            out.append(
                f"covariates.time_varying '{name}' is not a model term{did_you_mean(name, known)}"
            )
    if len(set(varying)) != len(varying):
        out.append(f"covariates.time_varying lists {varying} with repeats")
    out += imputation_problems(spec.imputation, spec.data.missing, list(terms))
    return out


def ordinal_term(name: str, level: float) -> str:
    """Name of the cumulative dummy ``name>=level`` of an ordinal covariate."""
    return f"{name}>={level:g}"


def _dummy_names(spec: ModelSpec) -> set[str]:
    out = {
        ordinal_term(name, lev)
        for name, o in spec.covariates.ordinal.items()
        for lev in o.levels[1:]
    }
    for name, cat in spec.covariates.categorical.items():
        for level in cat.levels or []:
            if level != cat.reference:
                out.add(f"{name}[{level}]")
    return out


def did_you_mean(word: str, choices: set[str] | list[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


CROSS_MARK = "[cross-section] "
"""Prefix of the validation error raised by the cross-section rules: the problems follow as
JSON (``spec.io`` turns them back into :class:`~necc_bayes.errors.Problem` objects)."""
