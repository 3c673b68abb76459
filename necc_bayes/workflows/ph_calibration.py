"""Operating characteristics of the proportional-hazards check, by simulation.

Cohorts are simulated with a 0/1 term ``trt`` (Bernoulli 0.5, log-HR 0.5 throughout) and a
standard-normal term ``z`` whose log-HR is ``log_hr_early`` before ``change_time`` and
``log_hr_late`` after (equal: proportional hazards). Baseline hazard ``base_rate`` per unit
time; censoring uniform on ``censor_range`` (about 30-40% censored with the defaults). Each
cohort is cut by the default rule (event-time quantiles), fitted with the package's default
priors by one compiled model (:mod:`necc_bayes.survival.refit`), and checked with
:func:`necc_bayes.survival.ph_check.ph_check_from_draws`.

Measured on this machine (n = 120, 2 chains x 300 draws after 300 tuning steps, 300
replicates per check; ``g = 1 - KM``; flagged when ppp < 0.05):

============================  ======  ======  ========
scenario                      trt     z       GLOBAL
============================  ======  ======  ========
PH true (300 sims): size      0.043   0.060   0.047
z: -0.9 then 0 at t = 6 (150)  0.080   0.873   0.800
============================  ======  ======  ========

The asymptotic chi-square p-value of the same statistic at the posterior mean gave 0.053 /
0.060 / 0.060 and 0.080 / 0.887 / 0.820. Mean ppp under PH: 0.49-0.53 (uniform: 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from necc_bayes.spec.priors import DEFAULT_BASELINE, DEFAULT_LOG_HR, resolve_baseline
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival.intervals import expand, resolve_cuts
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.ph_check import ph_check_from_draws
from necc_bayes.survival.refit import RefitModel

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


def _inputs(X: np.ndarray, time: np.ndarray, event: np.ndarray) -> tuple[PEMInputs, PEMPriors]:
    pp = expand(time, event, resolve_cuts("default", time, event))
    inputs = PEMInputs(X=X - X.mean(axis=0), terms=TERMS, pp=pp)
    priors = PEMPriors(
        coefficients=dict.fromkeys(TERMS, DEFAULT_LOG_HR),
        groups=[],
        baseline=resolve_baseline(DEFAULT_BASELINE, event.sum() / time.sum()),
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
