"""Operating characteristics of the proportional-hazards check, by simulation.

Cohorts are simulated with a 0/1 term ``trt`` (Bernoulli 0.5, log-HR 0.5 throughout) and a
standard-normal term ``z`` whose log-HR is ``log_hr_early`` before ``change_time`` and
``log_hr_late`` after (equal: proportional hazards). Baseline hazard ``base_rate`` per unit
time; censoring uniform on ``censor_range`` (about 30-40% censored with the defaults). Each
cohort is cut by the default rule (event-time quantiles), fitted with the package's default
priors by one compiled model (:mod:`necc_bayes.survival.refit`), and checked with
:func:`necc_bayes.survival.ph_check.ph_check_from_draws`.

Measured on this machine with the package defaults (gamma-process baseline, Normal(0, 1)
log-HR priors; 2 chains x 300 draws after 300 tuning steps; 300 replicates per check;
``g = 1 - KM``; flagged when ppp < 0.05; each cell the share of simulations flagged):

==========================================  =====  =====  ======  ======
scenario                                    n      trt    z       GLOBAL
==========================================  =====  =====  ======  ======
PH true (300 sims): size                    120    0.070  0.060   0.077
z: -0.9 then 0 at t = 6 (150 sims): power   120    0.080  0.873   0.773
PH true (200 sims, Gamma(1, 1/r) baseline)  88     0.065  0.040   0.020
z: -0.9 then 0 (100 sims, Gamma(1, 1/r))    88     0.050  0.780   0.620
==========================================  =====  =====  ======  ======

(The n = 88 rows, and an earlier 300-simulation run at n = 120 that gave sizes 0.043 / 0.060 /
0.047, used the previous ``Gamma(1, 1/r)`` baseline default; the Monte Carlo SE of a size near
0.05 from 300 simulations is 0.013.) The asymptotic chi-square p-value of the same statistic at
the posterior mean gave nearly the same rates (0.083 / 0.063 / 0.077 and 0.073 / 0.873 /
0.787 in the two n = 120 runs).

Time-varying fit (:func:`run_tv_recovery`, :class:`TVScenario`: n = 200, cuts 3, 6, 12, 20,
true log-HR of ``z`` -0.9, -0.6, -0.3, 0, 0; 60 simulations): coverage of the 90% intervals of
the per-interval log-HRs 0.913 overall (0.78, 0.93, 0.95, 0.92, 0.98 by interval; posterior
means -0.82, -0.61, -0.34, -0.08, -0.04: the smoothing prior pulls the first, steepest
interval towards its neighbours).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from necc_bayes.spec.baseline_priors import DEFAULT_BASELINE, resolve_baseline
from necc_bayes.spec.priors import DEFAULT_LOG_HR
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival.intervals import expand, resolve_cuts
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.ph_check import ph_check_from_draws
from necc_bayes.survival.refit import RefitModel
from necc_bayes.survival.replicates import simulate_event_times
from necc_bayes.survival.time_varying import log_hr_by_interval, resolve_time_varying_sd

TERMS = ["trt", "z"]


@dataclass(frozen=True)
class Scenario:
    """A simulation scenario (see the module docstring)."""

    n: int = 120
    log_hr_trt: float = 0.5
    log_hr_early: float = -0.5
    log_hr_late: float = -0.5
    change_time: float = 6.0
    base_rate: float = 0.08
    censor_range: tuple[float, float] = (6.0, 36.0)

    @property
    def proportional(self) -> bool:
        """Whether the scenario has proportional hazards."""
        return self.log_hr_early == self.log_hr_late


def simulate_cohort(
    scenario: Scenario, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One cohort: uncentred design ``(n, 2)``, follow-up times and 0/1 events."""
    n = scenario.n
    trt = rng.integers(0, 2, n).astype(float)
    z = rng.normal(size=n)
    base = scenario.base_rate * np.exp(scenario.log_hr_trt * trt)
    h1 = base * np.exp(scenario.log_hr_early * z)
    h2 = base * np.exp(scenario.log_hr_late * z)
    e = rng.exponential(size=n)
    t0 = scenario.change_time
    T = np.where(e < h1 * t0, e / h1, t0 + (e - h1 * t0) / h2)
    C = rng.uniform(*scenario.censor_range, size=n)
    return np.column_stack([trt, z]), np.minimum(T, C), (T <= C).astype(int)


def _inputs(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    cuts: np.ndarray | None = None,
    time_varying: tuple[str, ...] = (),
) -> tuple[PEMInputs, PEMPriors]:
    """Model inputs and the package's default priors (resolved as ``fit`` resolves them)."""
    cuts = resolve_cuts("default", time, event) if cuts is None else cuts
    pp = expand(time, event, cuts)
    inputs = PEMInputs(X=X - X.mean(axis=0), terms=TERMS, pp=pp, time_varying=time_varying)
    t_max = float(time.max())
    priors = PEMPriors(
        coefficients=dict.fromkeys(TERMS, DEFAULT_LOG_HR),
        groups=[],
        baseline=resolve_baseline(DEFAULT_BASELINE, event.sum() / time.sum(), t_max),
        tv_sd=resolve_time_varying_sd("auto", t_max) if time_varying else None,
    )
    return inputs, priors


def run_ph_calibration(
    scenario: Scenario,
    n_sims: int,
    *,
    seed: int = 0,
    settings: SamplerSettings | None = None,
    n_replicates: int = 300,
    model: RefitModel | None = None,
) -> tuple[pd.DataFrame, RefitModel]:
    """Simulate, fit and check ``n_sims`` cohorts.

    Parameters
    ----------
    scenario : Scenario
        What to simulate.
    n_sims : int
        Number of cohorts.
    seed : int
        Simulation ``i`` uses ``default_rng([seed, i])`` for the cohort and ``seed + i`` for
        the sampler and the check.
    settings : SamplerSettings, optional
        NUTS settings (default 2 chains x 300 draws, 300 tuning steps, one core).
    n_replicates : int
        Replicate cohorts per check.
    model : RefitModel, optional
        A compiled model to reuse (one is compiled otherwise and returned).

    Returns
    -------
    table : DataFrame
        One row per simulation and check row: ``sim, term, ppp, p_chisq, flagged, trend``.
    model : RefitModel
        The compiled model (pass it to the next call to avoid compiling again).
    """
    settings = settings or SamplerSettings(draws=300, tune=300, chains=2, cores=1)
    rows = []
    for i in range(n_sims):
        X, time, event = simulate_cohort(scenario, np.random.default_rng([seed, i]))
        inputs, priors = _inputs(X, time, event)
        model = model or RefitModel(inputs, priors)
        idata = model.sample(inputs, priors, seed=seed + i, settings=settings, post_process=False)
        post = idata["posterior"]
        lam = post["baseline_hazard"].stack(s=("chain", "draw")).transpose("s", "interval")
        beta = post["log_hr"].stack(s=("chain", "draw")).transpose("s", "term")
        check = ph_check_from_draws(
            lam.to_numpy(),
            beta.to_numpy(),
            inputs.X,
            TERMS,
            TERMS,
            inputs.pp.bounds,
            time,
            event,
            n_replicates=n_replicates,
            seed=seed + i,
        )
        table = check.table[["term", "ppp", "p_chisq", "flagged", "trend"]]
        rows.append(table.assign(sim=i))
    assert model is not None
    return pd.concat(rows, ignore_index=True), model


def flag_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Per check row: share flagged (ppp < alpha), share with ``p_chisq < 0.05``, mean ppp."""
    return table.groupby("term", sort=False).agg(
        flagged=("flagged", "mean"),
        p_chisq_below_05=("p_chisq", lambda p: float((p < 0.05).mean())),
        mean_ppp=("ppp", "mean"),
        n_sims=("sim", "nunique"),
    )


@dataclass(frozen=True)
class TVScenario:
    """A known time-varying effect, piecewise constant on fixed cuts.

    ``z`` (standard normal) has log-HR ``log_hr_z[j]`` in interval ``j`` of ``cuts``; ``trt``
    (Bernoulli 0.5) has ``log_hr_trt`` throughout; baseline ``base_rate``; censoring uniform
    on ``censor_range``. The model is fitted with the same cuts and ``z`` time-varying.
    """

    n: int = 200
    cuts: tuple[float, ...] = (3.0, 6.0, 12.0, 20.0)
    log_hr_z: tuple[float, ...] = (-0.9, -0.6, -0.3, 0.0, 0.0)
    log_hr_trt: float = 0.5
    base_rate: float = 0.08
    censor_range: tuple[float, float] = (6.0, 36.0)


def simulate_tv_cohort(
    scenario: TVScenario, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One cohort of :class:`TVScenario`: design ``(trt, z)``, times, events."""
    n = scenario.n
    X = np.column_stack([rng.integers(0, 2, n).astype(float), rng.normal(size=n)])
    n_int = len(scenario.cuts) + 1
    log_hr = np.column_stack([np.full(n_int, scenario.log_hr_trt), scenario.log_hr_z])
    bounds = np.concatenate([[0.0], scenario.cuts, [np.inf]])
    lam = np.full((1, n_int), scenario.base_rate)
    T = simulate_event_times(lam, log_hr[None], X, bounds, rng)[0]
    C = rng.uniform(*scenario.censor_range, size=n)
    return X, np.minimum(T, C), (T <= C).astype(int)


def run_tv_recovery(
    scenario: TVScenario,
    n_sims: int,
    *,
    seed: int = 0,
    settings: SamplerSettings | None = None,
    ci_prob: float = 0.9,
) -> pd.DataFrame:
    """Fit the time-varying model to ``n_sims`` cohorts; per-interval estimates of ``z``.

    Returns
    -------
    DataFrame
        One row per simulation and interval: ``sim, interval, truth, mean, low, high,
        covered`` (``low``/``high``: the equal-tailed ``ci_prob`` interval).
    """
    settings = settings or SamplerSettings(draws=300, tune=300, chains=2, cores=1)
    cuts = np.asarray(scenario.cuts, dtype=float)
    tail = (1.0 - ci_prob) / 2.0
    model: RefitModel | None = None
    rows = []
    for i in range(n_sims):
        X, time, event = simulate_tv_cohort(scenario, np.random.default_rng([seed, i]))
        inputs, priors = _inputs(X, time, event, cuts=cuts, time_varying=("z",))
        model = model or RefitModel(inputs, priors)
        idata = model.sample(inputs, priors, seed=seed + i, settings=settings, post_process=False)
        z = log_hr_by_interval(idata).sel(term="z").stack(s=("chain", "draw"))
        draws = z.transpose("interval", "s").to_numpy()
        low, high = np.quantile(draws, [tail, 1.0 - tail], axis=1)
        truth = np.asarray(scenario.log_hr_z)
        rows.append(
            pd.DataFrame(
                {
                    "sim": i,
                    "interval": np.arange(truth.size),
                    "truth": truth,
                    "mean": draws.mean(axis=1),
                    "low": low,
                    "high": high,
                    "covered": (low <= truth) & (truth <= high),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
