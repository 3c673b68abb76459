"""Reading, validating, overriding, hashing and printing specifications.

A specification is a TOML file (DESIGN §3) or a dict. It is parsed into the pydantic models of
:mod:`necc_bayes.spec.model` (``extra="forbid"``); every problem is collected into one
:class:`~necc_bayes.errors.SpecError` with "did you mean" hints, so a user sees all mistakes
at once. Command-line overrides go through the same validation
(:func:`with_sampler_overrides`).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from necc_bayes.errors import Problem, SpecError
from necc_bayes.spec.cohort import FrailtySection, cohort_conventions, comment_lines
from necc_bayes.spec.imputation import ImputationSection, missing_conventions
from necc_bayes.spec.model import (
    CROSS_MARK,
    CovariateSection,
    DataSection,
    IntervalSection,
    ModelSpec,
    PHCheckSection,
    PriorSection,
    SummarySection,
    did_you_mean,
)
from necc_bayes.spec.priors import published_conventions
from necc_bayes.spec.settings import SamplerSettings, Thresholds

_FIELDS_BY_SECTION = {
    "": list(ModelSpec.model_fields),
    "data": list(DataSection.model_fields),
    "covariates": list(CovariateSection.model_fields),
    "intervals": list(IntervalSection.model_fields),
    "priors": list(PriorSection.model_fields),
    "sampler": list(SamplerSettings.model_fields),
    "summaries": list(SummarySection.model_fields),
    "diagnostics": list(Thresholds.model_fields),
    "frailty": list(FrailtySection.model_fields),
    "ph_check": list(PHCheckSection.model_fields),
    "imputation": list(ImputationSection.model_fields),
}

_UNION_MEMBER = re.compile(r"^(function-\w+|constrained-\w+|literal\[.*\]|float|int|str|bool)$")


def _problems_from_pydantic(err: Any) -> list[Problem]:
    loc = [str(x) for x in err["loc"] if not _UNION_MEMBER.match(str(x))]
    key = ".".join(loc) if loc else "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if msg.startswith(CROSS_MARK):
        found = json.loads(msg[len(CROSS_MARK) :])
        return [Problem(p["rule"], p["message"], p["column"], tuple(p["rows"])) for p in found]
    if err["type"] == "extra_forbidden":
        section = loc[0] if len(loc) == 2 else ""
        hint = did_you_mean(loc[-1], _FIELDS_BY_SECTION.get(section, []))
        return [Problem("unknown_key", f"unknown key{hint}", column=key)]
    if err["type"] == "missing":
        return [Problem("required_key", "required key is missing", column=key)]
    if err["type"] == "union_tag_invalid":
        return [Problem("prior_family", msg, column=key)]
    got = err.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    return [Problem("invalid_value", f"{msg}{shown}", column=key)]


def _merge(problems: list[Problem]) -> list[Problem]:
    """Merge the per-member errors pydantic gives for a union field into one problem."""
    merged: dict[tuple[str | None, str, str], Problem] = {}
    for p in problems:
        key = (p.column, p.rule, p.message if p.column is None else "")
        if key in merged:
            merged[key] = Problem(p.rule, f"{merged[key].message}, or {p.message}", p.column)
        else:
            merged[key] = p
    return list(merged.values())


def spec_problems(exc: ValidationError) -> list[Problem]:
    """Turn a pydantic validation error of a :class:`ModelSpec` into named-rule problems."""
    return _merge([p for e in exc.errors() for p in _problems_from_pydantic(e)])


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
        return ModelSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(source, spec_problems(exc)) from None


def load_spec(path: str | Path) -> ModelSpec:
    """Read and validate a TOML specification file (UTF-8, with or without a byte-order mark).

    Raises
    ------
    SpecError
        If the file is missing, is not valid TOML, or violates any rule.
    """
    path = Path(path)
    return parse_spec(_read_toml(path), str(path))


def with_sampler_overrides(
    spec: ModelSpec, overrides: dict[str, Any], *, source: str = "command line"
) -> ModelSpec:
    """Return ``spec`` with ``[sampler]`` values replaced, validated like a spec file.

    Parameters
    ----------
    spec : ModelSpec
        The specification.
    overrides : dict
        ``draws``, ``tune``, ``chains``, ``seed``, ``sampler``, ``target_accept``, ``cores``;
        ``None`` values are ignored.
    source : str
        Where the overrides came from, for error messages.

    Returns
    -------
    ModelSpec
        A new specification (``spec`` is not modified).

    Raises
    ------
    SpecError
        Naming the key as ``--draws (sampler.draws)`` and the rule, e.g. for ``--draws 0``.
    """
    where = f"{source} overrides of spec '{spec.name}'"
    sampler = override_settings(spec.sampler, overrides, source=where)
    return spec if sampler is spec.sampler else spec.model_copy(update={"sampler": sampler})


def override_settings(
    settings: SamplerSettings, overrides: dict[str, Any], *, source: str = "command line"
) -> SamplerSettings:
    """Return ``settings`` with the non-``None`` ``overrides`` applied and re-validated.

    Raises
    ------
    SpecError
        Naming the key as ``--draws (sampler.draws)`` and the rule.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return settings
    try:
        return SamplerSettings.model_validate({**settings.model_dump(), **given})
    except ValidationError as exc:
        problems = []
        for p in spec_problems(exc):
            key = p.column if p.column and p.column != "(top level)" else None
            label = f"--{key.replace('_', '-')} (sampler.{key})" if key else "--draws/--chains"
            problems.append(Problem(p.rule, p.message, column=label))
        raise SpecError(source, problems) from None


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
# - default baseline prior: gamma process, lambda_j ~ Gamma(c r Delta_j, c Delta_j) with
#   r = crude event rate (events / total time at risk) and c = 1 / (r T), T = largest follow-up:
#   the prior on H(t) is Gamma(c r t, c) whatever the cut points (about one event's worth).
#   marginalize = true integrates the rates out exactly and draws them afterwards.
# - default log-HR prior: Normal(0, 1) per unit of each term as coded (0/1 terms: 1 vs 0; a
#   categorical level against its reference); priors.scale = "per_sd" puts it per standard
#   deviation of each continuous term instead (resolved to explicit per-unit priors below).
# - a term whose values are all text is categorical; its reference is the first level in
#   sorted order unless covariates.categorical (or the formula) gives one; its design columns
#   are named column[level].
# - data.event = "column == value": rows with that value are events, all others censored.
# - sampler.target_accept: 0.95 for the random-walk baseline, 0.9 otherwise, unless set.
# - intervals in summaries are equal-tailed with probability summaries.ci_prob.
# - proportional-hazards check (ph_check.csv): a term is flagged when the posterior predictive
#   p-value of the score statistic for a trend of its log-HR in ph_check.transform is below
#   ph_check.alpha (per row, no multiplicity adjustment). Replicates: ph_check.n_replicates
#   (default 400, 100 above 5,000 subjects); the posterior predictive check uses 500 (100).
#   Above 100,000 subjects both checks use a seeded random 100,000 of them
#   (ph_check.replicate_subjects; not for (start, stop] pieces, which are not replicated).
# - covariates.time_varying: log-HR in interval j = log_hr + log_hr_dev[j], log_hr_dev a
#   Brownian motion at the interval midpoints with log_hr_dev[0] = 0 (log_hr alone is the first
#   interval's effect; hazard_ratios.csv gives the event-weighted average over intervals);
#   priors.time_varying_sd is its sd per square root of the time unit (auto: 1 / sqrt(T)).
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
    lines = [
        *cohort_conventions(spec),
        *missing_conventions(spec.data.missing),
        *published_conventions(spec.priors.terms, spec.priors.log_hr),
    ]
    extra = comment_lines(lines)
    head = header + CONVENTIONS + extra + f"# spec_hash = {spec_hash(spec)}\n\n"
    return (head + body).lstrip("\n")


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in: tables merged key by key, other values replaced."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def is_formula(model: object) -> bool:
    """Whether ``model`` is a formula string (``"Surv(...) ~ ..."``) rather than a file path."""
    return isinstance(model, str) and "~" in model and not Path(model).is_file()


def compose_spec(
    model: ModelSpec | str | Path, sections: dict[str, Any] | None = None
) -> ModelSpec:
    """Build the specification of ``nb.fit(model, data=..., spec=...)``.

    Parameters
    ----------
    model : ModelSpec, path or formula
        A parsed specification, a TOML file, or a formula such as
        ``"Surv(time, status == 2) ~ celltype + karno10 + trt"`` (DESIGN section 8).
    sections : dict, optional
        Any TOML sections or top-level keys as a dict, e.g.
        ``{"intervals": {"rule": "quantile", "n": 8}, "data": {"time_unit": "days"}}``:
        tables are merged key by key into the model's (a value given here wins), then the
        whole specification is validated as a TOML file would be.

    Returns
    -------
    ModelSpec

    Raises
    ------
    SpecError
        Naming every problem (the source is the file, ``formula`` or ``spec=``).
    """
    if isinstance(model, ModelSpec):
        base, source = spec_to_dict(model), f"spec '{model.name}'"
    elif is_formula(model):
        base, source = {"name": "formula", "formula": str(model)}, "formula"
    else:
        path = Path(model)
        if sections is None:
            return load_spec(path)
        base, source = _read_toml(path), str(path)
    if not sections:
        return model if isinstance(model, ModelSpec) else parse_spec(base, source)
    if not isinstance(sections, dict):
        raise SpecError(
            "spec=", [Problem("invalid_value", f"spec= takes a dict of sections, got "
                                               f"{type(sections).__name__}")]
        )
    return parse_spec(_deep_merge(base, sections), f"{source} with spec=")


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SpecError(str(path), [Problem("file_exists", "specification file not found")])
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), [Problem("toml_syntax", str(exc))]) from None
