"""Simulated cohorts for the benchmarks.

Ten covariates in the mix a clinical cohort has: six 0/1 indicators (prevalences 0.15-0.6),
age in whole years (entered per decade), a count (number of sites, 1-5) and two truly
continuous biomarkers (standard normal). The continuous ones make every subject its own
covariate pattern, so pattern collapsing gives nothing on this design; ``design="binary"``
gives ten 0/1 indicators instead (at most 2**10 patterns) to show what collapsing buys.

Survival: proportional hazards on a Weibull baseline (shape 1.2, median about 15 months at
the covariate means), administrative censoring uniform on (12, 48) months plus 10% random
drop-out, about 70% events. Cuts: quantiles of the event times (``intervals.quantile_cuts``),
so every interval holds events. The design matrix is centred, as ``covariates.center = true``
does in the package; every model in the benchmark sees the same matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from necc_bayes.spec.baseline_priors import GammaBaseline, resolve_baseline
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.survival.intervals import PersonPeriod, expand, quantile_cuts
from necc_bayes.survival.model import PEMInputs, PEMPriors

TERMS = [
    "b_abdominal",
    "b_lung",
    "b_bone",
    "b_ici",
    "b_stage34",
    "b_chemo",
    "age_per10",
    "n_sites",
    "biomarker1",
    "biomarker2",
]
BINARY_TERMS = [f"b{k}" for k in range(10)]
PREVALENCE = np.array([0.5, 0.3, 0.2, 0.4, 0.15, 0.6])
TRUE_LOG_HR = np.array([0.6, -0.3, 0.4, -0.4, 0.5, 0.1, 0.25, 0.3, 0.3, -0.2])
BINARY_PREVALENCE = np.array([0.5, 0.3, 0.2, 0.4, 0.15, 0.6, 0.35, 0.25, 0.45, 0.1])
DEFAULT_INTERVALS = {88: 10, 1000: 15, 20000: 20}


@dataclass(frozen=True)
class Cohort:
    X: np.ndarray  # centred design (n, p)
    X_raw: np.ndarray  # as simulated (0/1, years / 10, counts, biomarkers)
    terms: list[str]
    time: np.ndarray
    event: np.ndarray
    pp: PersonPeriod

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def n_patterns(self) -> int:
        return int(np.unique(self.X, axis=0).shape[0])

    @property
    def n_long_rows(self) -> int:
        """Rows of the long (subject x interval at risk) format."""
        return int((self.pp.exposure > 0).sum())

    @property
    def inputs(self) -> PEMInputs:
        return PEMInputs(X=self.X, terms=self.terms, pp=self.pp)


def n_intervals_for(n: int) -> int:
    """10 intervals up to n = 100, 15 up to 5,000, 20 above."""
    if n in DEFAULT_INTERVALS:
        return DEFAULT_INTERVALS[n]
    return 10 if n <= 100 else 15 if n <= 5000 else 20


def _covariates(rng: np.random.Generator, n: int, design: str) -> tuple[np.ndarray, list[str]]:
    if design == "binary":
        return (rng.random((n, 10)) < BINARY_PREVALENCE).astype(float), list(BINARY_TERMS)
    if design != "mixed":
        raise ValueError(f"design must be 'mixed' or 'binary', got {design!r}")
    binary = (rng.random((n, 6)) < PREVALENCE).astype(float)
    age = np.clip(np.round(rng.normal(52.0, 10.0, n)), 25, 85) / 10.0
    n_sites = np.clip(1 + rng.poisson(0.8, n), 1, 5).astype(float)
    bio = rng.normal(size=(n, 2))
    return np.column_stack([binary, age, n_sites, bio]), list(TERMS)


def simulate(n: int, *, seed: int, design: str = "mixed", n_intervals: int | None = None) -> Cohort:
    """Simulate a cohort of ``n`` subjects with ``n_intervals`` quantile intervals."""
    rng = np.random.default_rng([seed, n])
    X_raw, terms = _covariates(rng, n, design)
    X = X_raw - X_raw.mean(axis=0)
    eta = X @ TRUE_LOG_HR
    shape, median = 1.2, 15.0
    scale = median / np.log(2.0) ** (1.0 / shape)
    # S(t|x) = exp(-(t/scale)^shape * exp(eta))  =>  inverse-transform sampling
    t_event = scale * (rng.exponential(size=n) * np.exp(-eta)) ** (1.0 / shape)
    t_admin = rng.uniform(12.0, 48.0, n)
    t_drop = np.where(rng.random(n) < 0.1, rng.uniform(0.0, 48.0, n), np.inf)
    t_cens = np.minimum(t_admin, t_drop)
    time = np.maximum(np.minimum(t_event, t_cens), 0.01)
    event = (t_event <= t_cens).astype(np.int64)
    k = n_intervals if n_intervals is not None else n_intervals_for(n)
    cuts = quantile_cuts(time, event, k)
    return Cohort(
        X=X, X_raw=X_raw, terms=terms, time=time, event=event, pp=expand(time, event, cuts)
    )


def priors_for(cohort: Cohort, *, marginalize: bool = True, sigma: float = 1.0) -> PEMPriors:
    """Normal(0, sigma) on every log-HR and the package's default (auto) gamma baseline."""
    crude = cohort.event.sum() / cohort.time.sum()
    base = resolve_baseline(GammaBaseline(marginalize=marginalize), float(crude))
    return PEMPriors(
        coefficients={t: NormalPrior(mu=0.0, sigma=sigma) for t in cohort.terms},
        groups=[],
        baseline=base,
    )


def raw_inputs(cohort: Cohort) -> PEMInputs:
    """The uncentred design (the PyMC example does not centre its covariates)."""
    return PEMInputs(X=cohort.X_raw, terms=cohort.terms, pp=cohort.pp)
