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

from necc_bayes.errors import ProportionalHazardsWarning
from necc_bayes.inference.diagnostics import (
    DiagnosticsReport,
    check_convergence,
    warn_failures,
)
from necc_bayes.spec.model import ModelSpec
from necc_bayes.survival.curves import (
    Profile,
    condition_log_hr,
    condition_on,
    summary_table,
    survival_table,
)
from necc_bayes.survival.hazard_ratios import hazard_ratio_table
from necc_bayes.survival.inputs import Checked, model_inputs, model_priors
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.ph_check import PHCheck, ph_check
from necc_bayes.survival.ppc import PPCResult, posterior_predictive_check
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

    def hazard_ratios(self, *, ci_prob: float | None = None):
        """Posterior hazard ratios (DESIGN §5 ``hazard_ratios.csv``)."""
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

    def posterior_predictive_check(self) -> PPCResult:
        """The posterior predictive check at its defaults (seeded by the spec's seed)."""
        return self._cached(("ppc",), lambda: posterior_predictive_check(self))

    def model_inputs(self) -> PEMInputs:
        """The design and person-period expansion the model was fitted to."""
        return model_inputs(self.checked)

    def model_priors(self) -> PEMPriors:
        """The resolved priors in the form the model builder takes."""
        return model_priors(self.spec)

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
