"""How much do the hazard ratios depend on the choices made? Prior, cut-point and case sweeps.

Every sweep is a list of :class:`Setting` (inputs + priors + sampler settings) refitted through
the compile-once machinery of :mod:`necc_bayes.survival.refit` and summarised per term:

* **prior scale** — every log-HR prior replaced by ``Normal(mu, sd)`` over a grid of ``sd``
  (default 0.25, 0.5, 1, 2, 5, 10; hierarchical groups are replaced too), baseline as fitted;
  one compilation for the whole grid;
* **baseline prior** — the fitted coefficient priors with the data-scaled gamma
  (``Gamma(1, 1/crude rate)``), a vague ``Gamma(0.01, 0.01)`` (both integrated out: same
  compiled model as the grid) and a Gaussian random walk on the log rates (another structure,
  its own compilation);
* **cut points** — fixed cuts at 6, 12, 24, 36 (data time units; months here) clipped to the
  follow-up, quantile cuts with K = 3…10 intervals, and a cut at every event time. With the
  integrated-out gamma baseline the number of intervals is data of the compiled model, so the
  whole sweep is one compilation; with sampled baseline rates (random walk, unmarginalised
  gamma) each distinct number of intervals is compiled once;
* **case deletion** — the ``k`` patients with the largest PSIS-LOO Pareto k (``az.loo``)
  each left out in turn (same compiled model: only the collapsed data change);
* **robust weight** — every ``dist = "published"`` prior's ``robust_weight`` set to each of
  0, 0.1, 0.2, 0.5 and 0.8 (from "trust the other study" to "mostly ignore it"); the weights
  are ``pm.Data`` of the published family, so the whole sweep is one compilation. Empty when
  the fit has no published prior.

All settings use the fit's seed (common random numbers: differences between settings are
not sampler noise). Power-scaling sensitivity (``az.psense_summary``) is computed on the fit
itself. A term's conclusion *changes* across a sweep when the 95% CrI excludes 1 under some
settings and not others, or P(HR > 1) falls in different bands (> 0.95, 0.05–0.95, < 0.05).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from necc_bayes.spec.baseline_priors import GammaBaseline, RandomWalkBaseline, resolve_baseline
from necc_bayes.spec.priors import CoefficientPrior, NormalPrior, PublishedPrior
from necc_bayes.spec.settings import SamplerSettings, Thresholds
from necc_bayes.survival.fit import PEMResult, crude_rate, model_inputs, model_priors
from necc_bayes.survival.influence import case_deletion_changes, drop_subjects, pareto_k_table
from necc_bayes.survival.intervals import event_time_cuts, expand, quantile_cuts
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.workflows.executor import RunStats
from necc_bayes.workflows.refits import RefitSummary, RefitTask, run_refits
from necc_bayes.workflows.sensitivity.flags import flag_conclusions, power_scaling
from necc_bayes.workflows.sensitivity.partition_prior import partition_priors
from necc_bayes.workflows.sensitivity.result import SensitivityReport

if TYPE_CHECKING:
    pass

DEFAULT_SCALES = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
DEFAULT_ROBUST_WEIGHTS = (0.0, 0.1, 0.2, 0.5, 0.8)
SWEEPS = ("prior_scale", "baseline", "cut_points", "case_deletion", "robust_weight")
"""Every sweep :func:`sensitivity_analysis` knows (the CLI's ``--sweeps`` choices)."""
ROUND_CUTS = (6.0, 12.0, 24.0, 36.0)
QUANTILE_KS = tuple(range(3, 11))
SENSITIVITY_COLUMNS = [
    "sweep",
    "setting",
    "term",
    "hr_median",
    "hr_low",
    "hr_high",
    "p_hr_gt_1",
    "log_hr_mean",
    "log_hr_sd",
    "r_hat",
    "ess_bulk",
    "n_divergent",
    "diagnostics_passed",
    "n_intervals",
    "n_subjects",
]


@dataclass(frozen=True, kw_only=True)
class Setting(RefitTask):
    """One refit of a sweep (picklable): a :class:`RefitTask` with its sweep and name."""

    sweep: str
    name: str

    def rows(self, summary: RefitSummary) -> pd.DataFrame:
        """Hazard-ratio summary with the convergence verdict (columns as the CSV)."""
        hr, diag = summary.hazard_ratios, summary.diagnostics
        hr.insert(0, "setting", self.name)
        hr.insert(0, "sweep", self.sweep)
        hr["n_divergent"] = diag.n_divergent
        hr["diagnostics_passed"] = diag.passed
        hr["n_intervals"] = self.inputs.pp.n_intervals
        hr["n_subjects"] = self.inputs.X.shape[0]
        return hr[SENSITIVITY_COLUMNS]


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Base:
    """What every sweep starts from: the fit's inputs, priors and settings."""

    inputs: PEMInputs
    priors: PEMPriors
    seed: int
    sampler: SamplerSettings
    thresholds: Thresholds
    crude_rate: float
    ci_prob: float = 0.95

    def setting(self, sweep: str, name: str, **changes: Any) -> Setting:
        """A setting with ``inputs`` and/or ``priors`` replaced."""
        return Setting(
            sweep=sweep,
            name=name,
            inputs=changes.get("inputs", self.inputs),
            priors=changes.get("priors", self.priors),
            seed=self.seed,
            sampler=self.sampler,
            thresholds=self.thresholds,
            ci_prob=self.ci_prob,
        )


def base_from_result(result: PEMResult, sampler: SamplerSettings | None = None) -> Base:
    """The starting point of every sweep for a fitted model (its spec's sampler by default)."""
    s, d = result.spec.sampler, result.spec.diagnostics
    return Base(
        inputs=model_inputs(result.checked),
        priors=model_priors(result.spec),
        seed=s.seed,
        sampler=sampler or s,
        thresholds=d,
        crude_rate=crude_rate(result.checked),
        ci_prob=result.spec.summaries.ci_prob,
    )


def prior_scale_settings(base: Base, scales: tuple[float, ...] = DEFAULT_SCALES) -> list[Setting]:
    """Every log-HR prior set to ``Normal(mu, sd)`` for each ``sd`` (``mu`` kept if normal)."""
    out = []
    for sd in scales:
        coefs: dict[str, CoefficientPrior] = {}
        for t in base.inputs.terms:
            old = base.priors.coefficients.get(t)
            mu = old.mu if isinstance(old, NormalPrior) else 0.0
            coefs[t] = NormalPrior(mu=mu, sigma=float(sd))
        # group priors become one Normal per term; frailty and smoothing SD priors as fitted
        priors = replace(base.priors, coefficients=coefs, groups=[])
        out.append(base.setting("prior_scale", f"log-HR Normal sd={sd:g}", priors=priors))
    return out


def robust_weight_settings(
    base: Base, weights: tuple[float, ...] = DEFAULT_ROBUST_WEIGHTS
) -> list[Setting]:
    """Every published-estimate prior with ``robust_weight = w`` for each ``w`` (see module)."""
    published = {t: p for t, p in base.priors.coefficients.items()
                 if isinstance(p, PublishedPrior)}
    out = []
    for w in weights if published else ():
        coefs = dict(base.priors.coefficients)
        coefs |= {t: p.model_copy(update={"robust_weight": float(w)}) for t, p in published.items()}
        priors = replace(base.priors, coefficients=coefs)
        out.append(base.setting("robust_weight", f"published priors robust_weight={w:g}",
                                priors=priors))
    return out


def baseline_settings(base: Base) -> list[Setting]:
    """The fit's coefficient priors with three baseline priors (see the module docstring)."""
    auto = resolve_baseline(GammaBaseline(), base.crude_rate)
    assert isinstance(auto, GammaBaseline)
    options = {
        f"Gamma(1, {float(auto.beta):.3g}) data-scaled": auto,
        "Gamma(0.01, 0.01) vague": GammaBaseline(alpha=0.01, beta=0.01),
        "random walk on log rates": resolve_baseline(RandomWalkBaseline(), base.crude_rate),
    }
    out = []
    for name, prior in options.items():
        priors = replace(base.priors, baseline=prior)
        out.append(base.setting("baseline", f"baseline {name}", priors=priors))
    return out


def cut_point_rules(time: np.ndarray, event: np.ndarray) -> dict[str, np.ndarray]:
    """Cut points of each rule of the cut-point sweep, by a readable name.

    Round cuts at or beyond the largest follow-up time are dropped; quantile rules giving the
    same cuts as an earlier one (ties) are kept once.
    """
    t_max = float(np.max(time))
    rules = {}
    fixed = np.array([c for c in ROUND_CUTS if 0 < c < t_max])
    rules[f"fixed {', '.join(f'{c:g}' for c in fixed)}"] = fixed
    seen: list[np.ndarray] = []
    for k in QUANTILE_KS:
        cuts = quantile_cuts(time, event, k)
        if any(np.array_equal(cuts, s) for s in seen):
            continue
        seen.append(cuts)
        rules[f"quantile K={k}"] = cuts
    rules["every event time"] = event_time_cuts(time, event)
    return rules


def cut_point_settings(base: Base) -> list[Setting]:
    """One setting per cut-point rule (:func:`cut_point_rules`), priors as fitted."""
    pp = base.inputs.pp
    time = pp.stop
    out = []
    for name, cuts in cut_point_rules(time, pp.event).items():
        # strata, clusters, time-varying terms and the imputation model as fitted
        inputs = replace(base.inputs, pp=expand(time, pp.event, cuts, entry=pp.entry))
        label = f"{name} (J={len(cuts) + 1})"
        out.append(base.setting("cut_points", label, inputs=inputs))
    return out


def case_deletion_settings(base: Base, subjects: list[Any]) -> list[Setting]:
    """One setting per subject left out (priors and cuts as fitted)."""
    return [
        base.setting(
            "case_deletion", f"without subject {s}", inputs=drop_subjects(base.inputs, [s])
        )
        for s in subjects
    ]


# --------------------------------------------------------------------------- running


def run_settings(
    settings: list[Setting],
    *,
    scheduler: Any = "serial",
    n_workers: int | None = None,
    quiet: bool = True,
    stats: RunStats | None = None,
) -> pd.DataFrame:
    """Refit every setting (compile once per structure per worker); rows as the CSV."""
    frames = run_refits(
        settings,
        "sensitivity refits",
        quiet=quiet,
        scheduler=scheduler,
        n_workers=n_workers,
        stats=stats,
    )
    if not frames:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def sensitivity_analysis(
    result: PEMResult,
    *,
    sweeps: tuple[str, ...] = ("prior_scale", "baseline", "cut_points", "case_deletion"),
    scales: tuple[float, ...] = DEFAULT_SCALES,
    influential_k: int = 5,
    sampler: SamplerSettings | None = None,
    scheduler: Any = "serial",
    n_workers: int | None = None,
    quiet: bool = True,
) -> SensitivityReport:
    """Run the sweeps on a fitted model.

    Parameters
    ----------
    result : PEMResult
        The fit (its spec, data, seed and sampler settings are the starting point).
    sweeps : tuple of str
        Any of :data:`SWEEPS` (``"robust_weight"`` needs a published-estimate prior).
    scales : tuple of float
        Prior SDs of the log-HR grid.
    influential_k : int
        Subjects with the largest Pareto k refitted without them.
    sampler : SamplerSettings, optional
        NUTS settings of the refits (default: the spec's).
    scheduler : {"serial", "processes"}, str or distributed.Client
        See :func:`necc_bayes.workflows.executor.run_tasks`.
    n_workers : int, optional
        Worker processes for ``"processes"``.
    quiet : bool
        No progress display.

    Returns
    -------
    SensitivityReport
    """
    base = base_from_result(result, sampler)
    pk = pareto_k_table(result.idata)
    settings: list[Setting] = []
    if "prior_scale" in sweeps:
        settings += prior_scale_settings(base, scales)
    if "baseline" in sweeps:
        settings += baseline_settings(base)
    partition_prior = pd.DataFrame()
    if "cut_points" in sweeps:
        cut_settings = cut_point_settings(base)
        settings += cut_settings
        t_max = float(base.inputs.pp.stop.max())
        times = [t for t in result.spec.summaries.time_points if t < t_max] or [t_max / 2]
        partition_prior = partition_priors(
            {s.name: s.inputs for s in cut_settings}, base.priors, times, seed=base.seed
        )
    if "case_deletion" in sweeps:
        settings += case_deletion_settings(base, list(pk["subject"].head(influential_k)))
    if "robust_weight" in sweeps:
        settings += robust_weight_settings(base)
    stats = RunStats(scheduler="")
    start = time.perf_counter()
    table = run_settings(
        settings, scheduler=scheduler, n_workers=n_workers, quiet=quiet, stats=stats
    )
    seconds = time.perf_counter() - start
    full = result.hazard_ratios(ci_prob=base.ci_prob)
    cd = table[table["sweep"] == "case_deletion"]
    cd = case_deletion_changes(cd, full) if len(cd) else cd
    if len(cd):
        cd = cd.assign(subject=cd["setting"].str.removeprefix("without subject "))
        cd = cd.merge(pk[["subject", "pareto_k"]], on="subject", how="left")
    return SensitivityReport(
        table=table,
        flags=flag_conclusions(table, prob=base.ci_prob),
        psense=power_scaling(result.idata),
        pareto_k=pk,
        case_deletion=cd,
        seconds=seconds,
        stats=stats,
        partition_prior=partition_prior,
    )
