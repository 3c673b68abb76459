"""Fit one piecewise-exponential model: ``fit(spec, data) -> PEMResult``.

The steps are those of DESIGN §2: validate the specification and the data together, resolve
every default against the data (cut points, the scale-aware baseline prior, per-term priors,
survival profiles), build and sample the PyMC model, then check convergence and
proportional hazards. The result type is :class:`~necc_bayes.survival.result.PEMResult`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from necc_bayes.errors import Problem, SpecError
from necc_bayes.evidence.resolve import resolve_map
from necc_bayes.spec.baseline_priors import GammaBaseline, GammaProcessBaseline, resolve_baseline
from necc_bayes.spec.cohort import cohort_features_attr
from necc_bayes.spec.io import load_spec, spec_hash, with_sampler_overrides
from necc_bayes.spec.model import ModelSpec, ProfileSection
from necc_bayes.spec.priors import MapPrior
from necc_bayes.survival.inputs import (
    Checked,
    check_fittable,
    check_inputs,
    model_inputs,
    model_priors,
)
from necc_bayes.survival.model import PEMPriors, build_model
from necc_bayes.survival.result import PEMResult
from necc_bayes.survival.sampling import (
    default_target_accept,
    sample_posterior,
    stores_log_likelihood,
)
from necc_bayes.survival.time_varying import resolve_time_varying_sd

__all__ = [
    "PEMResult",
    "crude_rate",
    "default_profiles",
    "fit",
    "model_inputs",
    "model_priors",
    "resolve_spec",
    "sample_resolved",
]


def crude_rate(checked: Checked) -> float:
    """Events divided by total time at risk (per unit of the data's time scale).

    Time at risk is ``sum(time - entry)``: with delayed entry the time before entry is not
    follow-up.
    """
    return checked.cohort.n_events / checked.cohort.time_at_risk


def default_profiles(checked: Checked) -> list[ProfileSection]:
    """The covariate means, then each 0/1 term at 0 and at 1 with the others at their means."""
    design = checked.cohort.design
    out = [ProfileSection(name="covariate means", values={})]
    for term, binary in zip(design.terms, design.binary, strict=True):
        if binary:
            out += [
                ProfileSection(name=f"{term}=0", values={term: 0.0}),
                ProfileSection(name=f"{term}=1", values={term: 1.0}),
            ]
    return out


def resolve_spec(checked: Checked) -> ModelSpec:
    """Return the specification with every default made explicit for these data.

    Fills in: the cut points the rule gives (``intervals.resolved_cuts``), the observed levels
    of categorical terms, numeric baseline-prior parameters (from the crude event rate), an
    explicit prior for every term not in a group (a ``map`` prior becomes the
    ``normal_mixture`` it stands for), the survival profiles and the RMST horizon.
    """
    spec, design = checked.spec, checked.cohort.design
    grouped = {t for g in spec.priors.groups.values() for t in g.terms}
    per_term = {t: spec.priors.terms.get(t, spec.priors.log_hr) for t in design.terms}
    per_term = {t: resolve_map(p) if isinstance(p, MapPrior) else p
                for t, p in per_term.items() if t not in grouped}
    categorical = {}
    for name, cat in spec.covariates.categorical.items():
        observed = [t.split("[", 1)[1][:-1] for t in design.terms if t.startswith(f"{name}[")]
        categorical[name] = cat.model_copy(update={"levels": [cat.reference, *observed]})
    t_max = float(checked.cohort.time.max())
    baseline = resolve_baseline(spec.priors.baseline, crude_rate(checked), t_max)
    if checked.cohort.design.incomplete and spec.data.missing == "model":
        baseline = _sampled_baseline(checked, baseline)
    tv_sd = resolve_time_varying_sd(spec.priors.time_varying_sd, t_max)
    summaries = spec.summaries.model_copy(
        update={
            "profiles": spec.summaries.profiles or default_profiles(checked),
            "rmst_horizon": spec.summaries.rmst_horizon or min(max(spec.summaries.times), t_max),
        }
    )
    return spec.model_copy(
        update={
            "covariates": spec.covariates.model_copy(update={"categorical": categorical}),
            "intervals": spec.intervals.model_copy(
                update={"resolved_cuts": [float(c) for c in checked.cuts]}
            ),
            "priors": spec.priors.model_copy(
                update={
                    "terms": per_term,
                    "baseline": baseline,
                    "time_varying_sd": tv_sd,
                }
            ),
            "summaries": summaries,
            "sampler": spec.sampler.model_copy(
                update={
                    "target_accept": spec.sampler.target_accept
                    or default_target_accept(PEMPriors({}, [], baseline))
                }
            ),
        }
    )


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


def fit(
    spec: ModelSpec | str | Path,
    data: str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    progressbar: bool = True,
    warn: bool = True,
) -> PEMResult:
    """Validate, resolve, build, sample and check one piecewise-exponential model.

    Parameters
    ----------
    spec : ModelSpec or path
        Model specification (TOML path or parsed).
    data : path
        Cohort CSV.
    overrides : dict, optional
        Sampler settings that replace the spec's (``draws``, ``tune``, ``chains``, ``seed``,
        ``sampler``); they are recorded in the resolved spec.
    progressbar : bool
        Show the sampler's progress.
    warn : bool
        Emit warnings for sparse intervals and failed convergence checks.

    Returns
    -------
    PEMResult
        The fitted model; ``result.diagnostics()`` says whether it can be trusted.
    """
    if overrides:
        spec = spec if isinstance(spec, ModelSpec) else load_spec(spec)
        spec = with_sampler_overrides(spec, overrides)
    checked = check_inputs(spec, data)
    check_fittable(checked, source=str(spec) if not isinstance(spec, ModelSpec) else spec.name)
    resolved = resolve_spec(checked)
    return sample_resolved(resolved, checked, progressbar=progressbar, warn=warn)


def sample_resolved(
    resolved: ModelSpec, checked: Checked, *, progressbar: bool = True, warn: bool = True
) -> PEMResult:
    """Build and sample the model of an already-resolved specification."""
    inputs = model_inputs(checked)
    priors = model_priors(resolved)
    model = build_model(inputs, priors, warn=warn)
    s = resolved.sampler
    keep_loglik = stores_log_likelihood(inputs.X.shape[0], s.draws * s.chains)
    idata = sample_posterior(
        inputs, priors, s, model=model, progressbar=progressbar, log_likelihood=keep_loglik
    )
    idata.attrs["spec_hash"] = spec_hash(resolved)
    idata.attrs["spec_name"] = resolved.name
    idata.attrs["data_source"] = checked.cohort.source
    idata.attrs["cohort_features"] = cohort_features_attr(resolved)
    result = PEMResult(idata=idata, spec=resolved, checked=checked)
    if warn:
        result.diagnostics(warn=True)
        result.ph_check(warn=True)
    return result
