"""The fitted piecewise-exponential model: its posterior, summaries, checks and files.

:class:`PEMResult` computes its default summaries, diagnostics, posterior predictive and
proportional-hazards checks once (files, report and CLI all read the same cached values) and
writes the files of ``necc-bayes fit`` with :meth:`PEMResult.save` — the one writer of that
output contract.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from necc_bayes.data.fragility import Fragility
from necc_bayes.errors import ProportionalHazardsWarning
from necc_bayes.inference.diagnostics import (
    DiagnosticsReport,
    check_convergence,
    warn_failures,
)
from necc_bayes.inference.loo import LooSummary, loo, loo_from_blocks, relative_efficiency
from necc_bayes.report.console import result_html, result_text
from necc_bayes.report.survival_figures import Band
from necc_bayes.spec.model import ModelSpec
from necc_bayes.survival.curve_sets import (
    CurveSet,
    curve_notes,
    curve_sets,
    summary_tables,
    survival_tables,
)
from necc_bayes.survival.curves import Profile, condition_log_hr
from necc_bayes.survival.describe import result_description
from necc_bayes.survival.frailty import frailty_table
from necc_bayes.survival.hazard_ratios import hazard_ratio_table
from necc_bayes.survival.imputation import Imputation
from necc_bayes.survival.imputation_summary import (
    complete_case_cohort,
    imputation_summary,
    imputed_values,
)
from necc_bayes.survival.inputs import Checked, model_inputs, model_priors
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.ph_check import PHCheck, ph_check
from necc_bayes.survival.ppc import PPCResult, posterior_predictive_check
from necc_bayes.survival.predict import predict_survival, survival_figure
from necc_bayes.survival.prior_scale import with_prior_scale
from necc_bayes.survival.resolve import default_contrasts, fragility_of, prior_scale_messages
from necc_bayes.survival.sampling import log_likelihood_blocks, sample_posterior
from necc_bayes.survival.save import write_fit_outputs
from necc_bayes.survival.time_varying import (
    hazard_ratio_by_interval_table,
    posterior_draws,
    time_varying_terms,
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

    def __repr__(self) -> str:
        return result_text(result_description(self))

    def _repr_html_(self) -> str:
        return result_html(result_description(self))

    def hazard_ratios(self, *, ci_prob: float | None = None):
        """Posterior hazard ratios (DESIGN §5 ``hazard_ratios.csv``).

        After the section 5 columns and ``effect``: ``prior_sd`` (the term's prior SD on the
        log-HR), ``sd_ratio`` (posterior SD / prior SD) and ``prior_dominated``
        (``sd_ratio >= 1/sqrt(2)``: the prior carries at least as much information as the
        data; :mod:`necc_bayes.survival.prior_scale`).
        """
        ci = ci_prob or self.spec.summaries.ci_prob
        return self._cached(
            ("hazard_ratios", ci),
            lambda: with_prior_scale(hazard_ratio_table(self.idata, ci_prob=ci), self.spec),
        )

    def _keep(self, name: str, value: Any) -> None:
        """Store a summary computed before sampling (``"fragility"``) so it is not redone."""
        self._cache[(name,)] = value

    def fragility(self) -> Fragility:
        """Sparse cells, separation and events per parameter of the design (before sampling)."""
        return self._cached(("fragility",), lambda: fragility_of(self.checked))

    def prior_messages(self) -> list[str]:
        """Continuous terms whose default per-unit prior is nearly flat or very tight per SD."""
        return prior_scale_messages(self.checked, self.checked.spec)

    def predict_survival(
        self,
        new_data: pd.DataFrame,
        times: list[float] | np.ndarray | None = None,
        *,
        ci_prob: float | None = None,
    ) -> pd.DataFrame:
        """Posterior survival of new patients at ``times`` (default: the summary times).

        One row per (new row, time): ``row, time, surv_median, surv_low, surv_high`` (DESIGN
        section 8), then ``surv_mean, sim_low, sim_high, beyond_follow_up``; categorical
        values as level names. See :func:`necc_bayes.survival.predict.predict_survival`.
        """
        grid = self.spec.summaries.time_points if times is None else times
        return predict_survival(self, new_data, grid, ci_prob=ci_prob)

    def plot_survival(
        self,
        by: str | None = None,
        *,
        new_data: pd.DataFrame | None = None,
        standardise: bool = False,
        band: Band = "both",
        times: np.ndarray | list[float] | None = None,
        ci_prob: float | None = None,
        km: bool = True,
    ):
        """Posterior survival curves with pointwise and simultaneous bands (a Figure).

        One curve per level of the categorical column ``by`` (a real patient, or with
        ``standardise=True`` the cohort-averaged curve), per row of ``new_data``, or the
        cohort average. See :func:`necc_bayes.survival.predict.survival_figure`.
        """
        return survival_figure(self, by, new_data=new_data, standardise=standardise, band=band,
                               times=times, ci_prob=ci_prob, km=km)

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
        return value.copy() if isinstance(value, pd.DataFrame) else value

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
        """Baseline rates ``(S, J)`` or ``(S, n_strata, J)`` and log-HRs ``(S, p)``.

        Log-HRs are ``(S, J, p)`` when terms are time-varying.
        """
        return posterior_draws(self.idata)

    @property
    def curve_origin(self) -> float:
        """Time the survival summaries are conditional on surviving to.

        The earliest entry time with delayed entry (no one is at risk before it, so the
        hazard there is the prior's), else 0.
        """
        entry = self.checked.cohort.entry
        return 0.0 if entry is None else float(np.min(entry))

    def curve_sets(self) -> list[CurveSet]:
        """One curve set per stratum and frailty convention (:mod:`.curve_sets`)."""
        lam, _ = self._draws()
        cohort, spec = self.checked.cohort, self.spec
        post = self.idata["posterior"]
        sd = (
            post["frailty_sd"].stack(s=("chain", "draw")).to_numpy()
            if "frailty_sd" in post
            else None
        )
        return curve_sets(
            lam,
            self.checked.person_period.bounds,
            origin=self.curve_origin,
            strata_column=spec.covariates.strata,
            strata_labels=None if cohort.strata is None else list(cohort.strata.levels),
            frailty_sd=sd,
        )

    def _curve_log_hr(self) -> np.ndarray:
        """Log-HR draws on the bounds of the conditioned curves (per interval if time-varying)."""
        _, beta = self._draws()
        return condition_log_hr(beta, self.checked.person_period.bounds, self.curve_origin)

    def survival(self, *, grid: np.ndarray | None = None, ci_prob: float | None = None):
        """Posterior survival curves per profile on a time grid (``survival.csv``).

        With delayed entry the curves are ``P(T > t | T > given_alive_at)`` (see
        :attr:`curve_origin`); the column ``given_alive_at`` says so in every row. With strata
        or a frailty, one curve per profile and curve set (:meth:`curve_sets`; columns
        ``stratum`` and ``frailty``).
        """
        ci = ci_prob or self.spec.summaries.ci_prob
        if grid is None:
            t_max = float(self.checked.cohort.time.max())
            default = np.linspace(0.0, t_max, 201)
            return self._cached(("survival", ci), lambda: self.survival(grid=default, ci_prob=ci))
        return survival_tables(
            self.curve_sets(),
            self._curve_log_hr(),
            self.profiles(),
            grid,
            origin=self.curve_origin,
            ci_prob=ci,
        )

    def survival_summary(self, *, contrasts: list[tuple[str, str]] | None = None):
        """Median survival, S(t) at the spec's times and RMST per profile, with intervals.

        By default every categorical level is contrasted with its reference level and every
        ``term=1`` profile with its ``term=0`` profile (within each curve set).
        """
        if contrasts is None:
            names = [p.name for p in self.profiles()]
            default = default_contrasts(self.checked, names)
            return self._cached(
                ("survival_summary",), lambda: self.survival_summary(contrasts=default)
            )
        s = self.spec.summaries
        return summary_tables(
            self.curve_sets(),
            self._curve_log_hr(),
            self.profiles(),
            origin=self.curve_origin,
            times=s.time_points,
            horizon=float(s.rmst_horizon or max(s.time_points)),
            follow_up_max=float(self.checked.cohort.time.max()),
            ci_prob=s.ci_prob,
            contrasts=contrasts,
        )

    def frailty(self, *, ci_prob: float | None = None) -> pd.DataFrame | None:
        """``frailty.csv``: ``frailty_sd`` and every cluster's log-frailty (None without one)."""
        clusters = self.checked.cohort.clusters
        if clusters is None:
            return None
        ci = ci_prob or self.spec.summaries.ci_prob
        events = np.bincount(
            clusters.codes, weights=self.checked.cohort.event, minlength=clusters.n_levels
        )
        return self._cached(
            ("frailty", ci),
            lambda: frailty_table(
                self.idata, cluster_sizes=clusters.sizes, cluster_events=events, ci_prob=ci
            ),
        )

    def curve_notes(self) -> list[str]:
        """What the reported curves are: origin, strata, frailty convention, fixed paths."""
        spec, cohort = self.spec, self.checked.cohort
        return curve_notes(
            origin=self.curve_origin,
            time_label=f"{spec.data.entry} (the earliest entry)" if spec.data.entry else "0",
            strata_column=spec.covariates.strata,
            frailty_cluster=spec.frailty.cluster if spec.frailty else None,
            counting_process=cohort.n_subjects < cohort.n,
        )

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

    def loo(self) -> LooSummary:
        """PSIS-LOO of the fit (computed once).

        From the stored ``log_likelihood`` group, or — for cohorts too large to store it
        (:data:`~necc_bayes.survival.sampling.LOGLIK_STORE_MAX`) — from the posterior draws,
        a block of subjects at a time (the same numbers, never the whole matrix in memory).
        """

        def compute() -> LooSummary:
            if "log_likelihood" in self.idata.children:
                return loo(self.idata, source=self.spec.name, warn=False)
            inputs = self.model_inputs()
            return loo_from_blocks(
                log_likelihood_blocks(self.idata, inputs),
                relative_efficiency(self.idata),
                [str(v) for v in inputs.subject_ids],
                source=self.spec.name,
                warn=False,
            )

        return self._cached(("loo",), compute)

    def posterior_predictive_check(self) -> PPCResult:
        """The posterior predictive check at its defaults (seeded by the spec's seed)."""
        return self._cached(("ppc",), lambda: posterior_predictive_check(self))

    def model_inputs(self) -> PEMInputs:
        """The design and person-period expansion the model was fitted to."""
        return model_inputs(self.checked)

    def model_priors(self) -> PEMPriors:
        """The resolved priors in the form the model builder takes."""
        return model_priors(self.spec)

    @property
    def imputation(self) -> Imputation | None:
        """The covariate models of ``data.missing = "model"`` (None when nothing is missing)."""
        return self.model_inputs().imputation

    def imputed_values(self) -> pd.DataFrame | None:
        """Posterior of every missing covariate value (``imputation.csv``), or None."""
        imp = self.imputation
        if imp is None:
            return None
        design = self.checked.cohort.design
        return self._cached(
            ("imputed",),
            lambda: imputed_values(
                self.idata,
                imp,
                np.asarray(self.checked.cohort.ids),
                list(design.terms),
                self.spec.summaries.ci_prob,
            ),
        )

    def complete_case_hazard_ratios(self) -> pd.DataFrame | None:
        """Hazard ratios of the same model fitted to the complete cases only, or None.

        The comparison the report shows beside ``data.missing = "model"``: the same priors,
        cut points and sampler settings, on the rows with every covariate observed (what
        ``missing = "drop"`` fits). One more NUTS run, made on first use and cached.
        """
        if self.imputation is None:
            return None

        def refit() -> pd.DataFrame:
            cohort = complete_case_cohort(self.checked.cohort)
            checked = Checked(spec=self.checked.spec, cohort=cohort, cuts=self.checked.cuts)
            idata = sample_posterior(
                model_inputs(checked), self.model_priors(), self.spec.sampler, progressbar=False
            )
            return hazard_ratio_table(idata, ci_prob=self.spec.summaries.ci_prob)

        return self._cached(("complete_case",), refit)

    def imputation_summary(self) -> pd.DataFrame | None:
        """One row per incomplete covariate: counts, means, modelled vs complete-case log-HR."""
        imp, values = self.imputation, self.imputed_values()
        if imp is None or values is None:
            return None
        design = self.checked.cohort.design
        return imputation_summary(
            values,
            imp,
            design.X,
            list(design.terms),
            self.hazard_ratios(),
            self.complete_case_hazard_ratios(),
        )

    def to_netcdf(self, path: str | Path) -> None:
        """Write the DataTree (with provenance attributes) to a netCDF file."""
        self.idata.to_netcdf(path)

    def save(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write the files of ``necc-bayes fit`` (DESIGN §5) into ``out``, all at once.

        The files are :data:`necc_bayes.survival.save.FIT_FILES`; they are written into a
        temporary sibling directory renamed at the end, so a failure leaves no partial
        directory. The command line calls this method.

        Parameters
        ----------
        out : str or Path
            Output directory (new or empty unless ``overwrite``).
        overwrite : bool
            Replace a non-empty ``out``.

        Returns
        -------
        Path
            ``out``.
        """
        return write_fit_outputs(self, out, overwrite=overwrite)
