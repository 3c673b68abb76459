"""The model specification as data: parse, validate, resolve defaults, hash, print.

A specification is a TOML file (DESIGN §3). It is parsed into pydantic models with
``extra="forbid"``; every problem is collected into one :class:`~necc_bayes.errors.SpecError`
with "did you mean" hints, so a user sees all mistakes at once.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from necc_bayes.errors import Problem, SpecError
from necc_bayes.spec.cohort import FrailtySection, cohort_conventions, role_problems
from necc_bayes.spec.priors import (
    DEFAULT_BASELINE,
    DEFAULT_LOG_HR,
    BaselinePrior,
    CoefficientPrior,
    GroupPrior,
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DataSection(_Section):
    """Which columns hold the survival outcome, and what to do with missing values.

    ``entry`` (optional) names a column of entry times: a row is at risk on
    ``(entry, time]`` only (delayed entry / left truncation). With ``entry`` and ``id``,
    several rows per id are the ``(start, stop]`` pieces of one subject's follow-up, whose
    covariate values may change between pieces (time-varying covariates).
    """

    time: str
    event: str
    id: str | None = None
    entry: str | None = None
    missing: Literal["error", "drop"] = "error"


class CategoricalSection(_Section):
    """A categorical covariate, dummy-coded against an explicit reference level."""

    reference: str
    levels: list[str] | None = None


class OrdinalSection(_Section):
    """An ordinal numeric covariate, coded as cumulative dummies ``column>=level``.

    ``levels`` are the ordered category values (at least two); values above the last level
    are pooled into it (e.g. ``[1, 2, 3]`` gives 1, 2 and 3+); values below the first are
    refused.
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
    """

    terms: list[str] = Field(default_factory=list)
    center: bool = True
    categorical: dict[str, CategoricalSection] = Field(default_factory=dict)
    ordinal: dict[str, OrdinalSection] = Field(default_factory=dict)
    strata: str | None = None


class IntervalSection(_Section):
    """The cut-point rule of the piecewise-exponential baseline."""

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
    """Priors on log hazard ratios (default, per term, per group) and on the baseline."""

    log_hr: CoefficientPrior = DEFAULT_LOG_HR
    terms: dict[str, CoefficientPrior] = Field(default_factory=dict)
    groups: dict[str, GroupPrior] = Field(default_factory=dict)
    baseline: BaselinePrior = DEFAULT_BASELINE

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


class SamplerSection(_Section):
    """Sampler settings."""

    draws: PositiveInt = 1000
    tune: PositiveInt = 1000
    chains: PositiveInt = 4
    seed: int = 20260101
    sampler: Literal["nutpie", "pymc"] = "nutpie"
    target_accept: float = Field(default=0.9, gt=0.5, lt=1.0)


class ProfileSection(_Section):
    """A covariate profile for survival curves; unnamed terms are set to their means."""

    name: str
    values: dict[str, float] = Field(default_factory=dict)


class SummarySection(_Section):
    """What the posterior summaries report."""

    ci_prob: float = Field(default=0.95, gt=0.0, lt=1.0)
    interval: Literal["equal_tailed"] = "equal_tailed"
    times: list[float] = Field(default_factory=lambda: [12.0, 36.0, 60.0])
    rmst_horizon: float | None = Field(default=None, gt=0.0)
    profiles: list[ProfileSection] | None = None


class DiagnosticsSection(_Section):
    """Pass/fail thresholds of the convergence diagnostics."""

    r_hat_max: float = Field(default=1.01, gt=1.0)
    ess_min: float = Field(default=400.0, gt=0.0)
    max_divergences: int = Field(default=0, ge=0)
    bfmi_min: float = Field(default=0.3, gt=0.0)


class ModelSpec(_Section):
    """A complete model specification (DESIGN §3)."""

    name: str
    description: str = ""
    data: DataSection
    covariates: CovariateSection = Field(default_factory=CovariateSection)
    intervals: IntervalSection = Field(default_factory=IntervalSection)
    priors: PriorSection = Field(default_factory=PriorSection)
    sampler: SamplerSection = Field(default_factory=SamplerSection)
    summaries: SummarySection = Field(default_factory=SummarySection)
    diagnostics: DiagnosticsSection = Field(default_factory=DiagnosticsSection)
    frailty: FrailtySection | None = None


def _cross_problems(spec: ModelSpec) -> list[str]:
    """Return the rules that involve more than one section (term names across sections)."""
    terms = spec.covariates.terms
    out = []
    dupes = sorted({t for t in terms if terms.count(t) > 1})
    if dupes:
        out.append(f"covariates.terms lists {dupes} more than once")
    for col in (spec.data.time, spec.data.event):
        if col in terms:
            out.append(f"outcome column '{col}' cannot also be a covariate")
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


_FIELDS_BY_SECTION = {
    "": list(ModelSpec.model_fields),
    "data": list(DataSection.model_fields),
    "covariates": list(CovariateSection.model_fields),
    "intervals": list(IntervalSection.model_fields),
    "priors": list(PriorSection.model_fields),
    "sampler": list(SamplerSection.model_fields),
    "summaries": list(SummarySection.model_fields),
    "diagnostics": list(DiagnosticsSection.model_fields),
    "frailty": list(FrailtySection.model_fields),
}


def _problem_from_pydantic(err: Any) -> Problem:
    loc = [str(x) for x in err["loc"] if not _UNION_MEMBER.match(str(x))]
    key = ".".join(loc) if loc else "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        section = loc[0] if len(loc) == 2 else ""
        hint = did_you_mean(loc[-1], _FIELDS_BY_SECTION.get(section, []))
        return Problem("unknown_key", f"unknown key{hint}", column=key)
    if err["type"] == "missing":
        return Problem("required_key", "required key is missing", column=key)
    if err["type"] == "union_tag_invalid":
        return Problem("prior_family", msg, column=key)
    got = err.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    return Problem("invalid_value", f"{msg}{shown}", column=key)


_UNION_MEMBER = re.compile(r"^(function-\w+|constrained-\w+|literal\[.*\]|float|int|str|bool)$")


def _merge(problems: list[Problem]) -> list[Problem]:
    """Merge the per-member errors pydantic gives for a union field into one problem."""
    merged: dict[tuple[str | None, str], Problem] = {}
    for p in problems:
        key = (p.column, p.rule)
        if key in merged:
            merged[key] = Problem(p.rule, f"{merged[key].message}, or {p.message}", p.column)
        else:
            merged[key] = p
    return list(merged.values())


def parse_spec(raw: dict[str, Any], source: str = "<spec>") -> ModelSpec:
    """Validate a specification given as a dict (e.g. parsed TOML).

    Parameters
    ----------
    raw : dict
        The specification.
    source : str
        File name for error messages.

    Returns
    -------
    ModelSpec
        The validated specification with defaults filled in.

    Raises
    ------
    SpecError
        Listing every problem found.
    """
    try:
        spec = ModelSpec.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem_from_pydantic(e) for e in exc.errors()]
        raise SpecError(source, _merge(problems)) from None
    cross = [Problem("term_reference", msg) for msg in _cross_problems(spec)]
    cross += role_problems(spec)
    if cross:
        raise SpecError(source, cross)
    return spec


def load_spec(path: str | Path) -> ModelSpec:
    """Read and validate a TOML specification file.

    Raises
    ------
    SpecError
        If the file is missing, is not valid TOML, or violates any rule.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(str(path), [Problem("file_exists", "specification file not found")])
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), [Problem("toml_syntax", str(exc))]) from None
    return parse_spec(raw, str(path))


def spec_to_dict(spec: ModelSpec) -> dict[str, Any]:
    """Return the specification as plain data (``None`` values dropped)."""
    return spec.model_dump(mode="json", exclude_none=True)


def spec_hash(spec: ModelSpec) -> str:
    """Return the SHA-256 (hex) of the canonical JSON of the specification."""
    canonical = json.dumps(spec_to_dict(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


CONVENTIONS = """\
# Conventions that change the answer (necc-bayes):
# - intervals: cuts are interior breakpoints; intervals are (0, c1], (c1, c2], ..., (ck, end];
#   an event exactly at a cut belongs to the interval that ends there (survival::survSplit).
# - baseline: with covariates.center = true the baseline hazard is that of a subject at the
#   covariate means (0/1 terms at their proportions); with false, of a subject with every
#   covariate at 0 / its reference level. Baseline rates are per unit of the data's time scale.
# - gamma baseline "auto": alpha = 1, beta = 1 / crude event rate (events / total follow-up);
#   marginalize = true integrates the rates out exactly and draws them afterwards.
# - intervals in summaries are equal-tailed with probability summaries.ci_prob.
# - hazard ratios are per one unit of each term as coded (0/1 terms: 1 vs 0).
"""


def to_toml(spec: ModelSpec, header: str = "") -> str:
    """Render the specification as TOML, preceded by the conventions it implies.

    Parameters
    ----------
    spec : ModelSpec
        The (resolved) specification.
    header : str
        Extra comment lines to put first (each must start with ``#``).

    Returns
    -------
    str
        TOML text that :func:`load_spec` reads back to an equal specification.
    """
    body = tomli_w.dumps(spec_to_dict(spec))
    extra = "".join(f"# - {line}.\n" for line in cohort_conventions(spec))
    head = header + CONVENTIONS + extra + f"# spec_hash = {spec_hash(spec)}\n\n"
    return (head + body).lstrip("\n")
