"""Fit one piecewise-exponential model: ``fit(spec, data) -> PEMResult``.

The steps are those of DESIGN §2: validate the specification and the data together, resolve
every default against the data (cut points, the scale-aware baseline prior, per-term priors,
survival profiles), build and sample the PyMC model, then check convergence.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from necc_bayes.errors import Problem, ProportionalHazardsWarning, SpecError
from necc_bayes.inference.diagnostics import (
    DiagnosticsReport,
    check_convergence,
    warn_failures,
)
from necc_bayes.spec.io import load_spec, spec_hash, with_sampler_overrides
from necc_bayes.spec.model import ModelSpec, ProfileSection
from necc_bayes.spec.priors import HorseshoePrior, NormalPrior, StudentTPrior, resolve_baseline
from necc_bayes.survival.curves import Profile
from necc_bayes.survival.inputs import Checked, check_inputs
from necc_bayes.survival.model import PEMInputs, PEMPriors, build_model
from necc_bayes.survival.ph_check import PHCheck, ph_check
from necc_bayes.survival.sampling import default_target_accept, sample_posterior
from necc_bayes.survival.time_varying import (
    design_time_varying,
    hazard_ratio_by_interval_table,
    posterior_draws,
    resolve_time_varying_sd,
    time_varying_terms,
)

CoefPrior = NormalPrior | StudentTPrior | HorseshoePrior


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
    explicit prior for every term not in a group, the survival profiles and the RMST horizon.
    """
    spec, design = checked.spec, checked.cohort.design
    grouped = {t for g in spec.priors.groups.values() for t in g.terms}
    per_term = {t: spec.priors.terms.get(t, spec.priors.log_hr) for t in design.terms}
    per_term = {t: p for t, p in per_term.items() if t not in grouped}
    categorical = {}
    for name, cat in spec.covariates.categorical.items():
        observed = [t.split("[", 1)[1][:-1] for t in design.terms if t.startswith(f"{name}[")]
        categorical[name] = cat.model_copy(update={"levels": [cat.reference, *observed]})
    t_max = float(checked.cohort.time.max())
    baseline = resolve_baseline(spec.priors.baseline, crude_rate(checked), t_max)
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


def model_priors(resolved: ModelSpec) -> PEMPriors:
    """The resolved spec's priors in the form the model builder takes."""
    coefs: dict[str, CoefPrior] = dict(resolved.priors.terms)
    tv_sd = resolved.priors.time_varying_sd
    return PEMPriors(
        coefficients=coefs,
        groups=list(resolved.priors.groups.values()),
        baseline=resolved.priors.baseline,
        tv_sd=None if tv_sd == "auto" else tv_sd,
    )


def model_inputs(checked: Checked) -> PEMInputs:
    """The design (centred if the spec says so) and person-period expansion for the model."""
    spec = checked.spec
    unsupported = [
        Problem(
            "not_supported",
            "accepted by the spec but not yet used by the model (issue 17): refusing rather "
            "than fitting without it",
            column=key,
        )
        for key, value in (("covariates.strata", spec.covariates.strata), ("frailty", spec.frailty))
        if value is not None
    ]
    if unsupported:
        raise SpecError(f"spec '{spec.name}'", unsupported)
    design = checked.cohort.design
    return PEMInputs(
        X=design.X_model,
        terms=design.terms,
        pp=checked.person_period,
        ids=checked.cohort.ids,
        time_varying=design_time_varying(spec.covariates.time_varying, design),
    )


@dataclass
class PEMResult:
    """A fitted piecewise-exponential model.

    Attributes
    ----------
    idata : DataTree
        Posterior, sample statistics, log-likelihood and data, with provenance in ``attrs``.
    spec : ModelSpec
        The resolved specification (every default explicit).
    checked : Checked
        The validated inputs.
    """

    idata: xr.DataTree
    spec: ModelSpec
    checked: Checked
    # summaries at the spec's defaults, computed once (files, report and CLI all read them)
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    def hazard_ratios(self, *, ci_prob: float | None = None):
        """Posterior hazard ratios (DESIGN §5 ``hazard_ratios.csv``)."""
        from necc_bayes.survival.hazard_ratios import hazard_ratio_table

        ci = ci_prob or self.spec.summaries.ci_prob
        return self._cached(
            ("hazard_ratios", ci), lambda: hazard_ratio_table(self.idata, ci_prob=ci)
        )

    def hazard_ratios_by_interval(self, *, ci_prob: float | None = None):
        """Per-interval HRs of the time-varying terms (``hazard_ratios_by_interval.csv``).

        Empty (columns only) when no term is time-varying.
        """
        ci = ci_prob or self.spec.summaries.ci_prob
        return self._cached(
            ("hazard_ratios_by_interval", ci),
            lambda: hazard_ratio_by_interval_table(self.idata, ci_prob=ci),
        )

    @property
    def time_varying(self) -> list[str]:
        """Terms with per-interval log-HRs in this fit."""
        return time_varying_terms(self.idata)

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """Compute a default summary once; DataFrames are returned as copies."""
        if key not in self._cache:
            self._cache[key] = compute()
        value = self._cache[key]
        return value.copy() if hasattr(value, "copy") else value

    def profiles(self) -> list[Profile]:
        """The summary profiles as vectors in the model's coding."""
        design = self.checked.cohort.design
        out = []
        for prof in self.spec.summaries.profiles or []:
            x = design.means.copy()
            for term, value in prof.values.items():
                x[design.terms.index(term)] = value
            out.append(Profile(prof.name, x - design.means if design.center else x))
        return out

    def _draws(self) -> tuple[np.ndarray, np.ndarray]:
        """Baseline rates ``(S, J)`` and log-HRs ``(S, p)`` (``(S, J, p)`` if time-varying)."""
        return posterior_draws(self.idata)

    @property
    def curve_origin(self) -> float:
        """Time the survival summaries are conditional on surviving to.

        The earliest entry time with delayed entry (no one is at risk before it, so the
        hazard there is the prior's), else 0.
        """
        entry = self.checked.cohort.entry
        return 0.0 if entry is None else float(np.min(entry))

    def _curve_draws(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Baseline rates, log-HRs and bounds of the curves conditional on the origin."""
        from necc_bayes.survival.curves import condition_log_hr, condition_on

        lam, beta = self._draws()
        bounds = self.checked.person_period.bounds
        beta = condition_log_hr(beta, bounds, self.curve_origin)
        lam, bounds = condition_on(lam, bounds, self.curve_origin)
        return lam, beta, bounds

    def survival(self, *, grid: np.ndarray | None = None, ci_prob: float | None = None):
        """Posterior survival curves per profile on a time grid (``survival.csv``).

        With delayed entry the curves are ``P(T > t | T > given_alive_at)`` (see
        :attr:`curve_origin`); the column ``given_alive_at`` says so in every row.
        """
        from necc_bayes.survival.curves import survival_table

        ci = ci_prob or self.spec.summaries.ci_prob
        if grid is None:
            t_max = float(self.checked.cohort.time.max())
            default = np.linspace(0.0, t_max, 201)
            return self._cached(("survival", ci), lambda: self.survival(grid=default, ci_prob=ci))
        lam, beta, bounds = self._curve_draws()
        table = survival_table(lam, beta, bounds, self.profiles(), grid, ci_prob=ci)
        return table.assign(given_alive_at=self.curve_origin)

    def survival_summary(self, *, contrasts: list[tuple[str, str]] | None = None):
        """Median survival, S(t) at the spec's times and RMST per profile, with intervals.

        By default every ``term=1`` profile is contrasted with its ``term=0`` profile.
        """
        from necc_bayes.survival.curves import summary_table

        if contrasts is None:
            names = [p.name for p in self.profiles()]
            default = [
                (n, n[:-1] + "0") for n in names if n.endswith("=1") and n[:-1] + "0" in names
            ]
            return self._cached(
                ("survival_summary",), lambda: self.survival_summary(contrasts=default)
            )
        lam, beta, bounds = self._curve_draws()
        s = self.spec.summaries
        table = summary_table(
            lam,
            beta,
            bounds,
            self.profiles(),
            times=list(s.times),
            horizon=float(s.rmst_horizon or max(s.times)),
            follow_up_max=float(self.checked.cohort.time.max()),
            ci_prob=s.ci_prob,
            contrasts=contrasts,
        )
        return table.assign(given_alive_at=self.curve_origin)

    def diagnostics(self, *, warn: bool = False) -> DiagnosticsReport:
        """Convergence checks against the spec's thresholds."""
        d = self.spec.diagnostics
        report = self._cached(
            ("diagnostics",),
            lambda: check_convergence(
                self.idata,
                thresholds=d,
                warn=False,
            ),
        )
        if warn:
            warn_failures(report)
        return report

    def ph_check(self, *, warn: bool = False) -> PHCheck:
        """The proportional-hazards check (``ph_check.csv``; see ``survival/ph_check.py``).

        With ``warn``, one :class:`~necc_bayes.errors.ProportionalHazardsWarning` per flagged
        row.
        """
        check = self._cached(("ph_check",), lambda: ph_check(self))
        if warn:
            for msg in check.messages():
                warnings.warn(msg, ProportionalHazardsWarning, stacklevel=2)
        return check

    def to_netcdf(self, path: str | Path) -> None:
        """Write the DataTree (with provenance attributes) to a netCDF file."""
        self.idata.to_netcdf(path)


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
    resolved = resolve_spec(checked)
    return sample_resolved(resolved, checked, progressbar=progressbar, warn=warn)


def sample_resolved(
    resolved: ModelSpec, checked: Checked, *, progressbar: bool = True, warn: bool = True
) -> PEMResult:
    """Build and sample the model of an already-resolved specification."""
    inputs = model_inputs(checked)
    priors = model_priors(resolved)
    model = build_model(inputs, priors, warn=warn)
    idata = sample_posterior(inputs, priors, resolved.sampler, model=model, progressbar=progressbar)
    idata.attrs["spec_hash"] = spec_hash(resolved)
    idata.attrs["spec_name"] = resolved.name
    idata.attrs["data_source"] = checked.cohort.source
    result = PEMResult(idata=idata, spec=resolved, checked=checked)
    if warn:
        result.diagnostics(warn=True)
        result.ph_check(warn=True)
    return result
