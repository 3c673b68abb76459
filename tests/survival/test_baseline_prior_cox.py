"""Issue 23: the default baseline prior does not pull the log-HRs away from Cox (slow).

With a cut at every distinct event time and vague Normal(0, 10) log-HR priors, the PEM's
posterior should reproduce the Breslow Cox fit. The pre-0.2 default, independent
``Gamma(1, 1/r)`` per interval, is a strong prior once there are many short intervals (its
prior on H(t) has a coefficient of variation of about 1/sqrt(J)) and pulled veteran's adeno
log-HR from 1.148 (Cox) to 1.057. The new default, the gamma process
``lambda_j ~ Gamma(c r Delta_j, c Delta_j)`` with ``c = 1/(r T)`` (worth about one event),
says the same about H(t) whatever the partition.

References: R 4.2.2, survival 3.5.3, ``coxph(..., ties = "breslow")``, recorded in
tests/reference/{rossi,larynx,veteran}_cox.json (calls, codings and dataset sha256 there;
scripts in scripts/reference/). Data: tests/datasets/*.csv, the rows R used.

Tolerances: |posterior median - Cox estimate| < 0.12 posterior SD and
|posterior SD / Cox SE - 1| < 0.10 for every term under the new default (issue 23 asks 0.12
for the mean); the mean must be within 0.15 SD. Why the median: Cox's estimate is the mode of
the partial likelihood and two rossi posteriors are skewed — race and mar have mean z of
+0.118/+0.122/+0.113 and -0.115/-0.119/-0.133 for seeds 1-3 (4 x 2000 draws) while their
medians sit at +0.07 and -0.07; the vague Gamma(0.001, 0.001) baseline gives the same, so the
gap is the likelihood's skewness, not the baseline prior. Monte Carlo error at 4 x 1000 draws
(ESS > 1500): < 0.03 SD for the centre, < 3% for the SD. The old default is fitted on
veteran for contrast: it must be visibly worse there (the motivating case).

Run ``python -m tests.survival.test_baseline_prior_cox`` for the tables.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from necc_bayes.errors import SparseDataWarning
from necc_bayes.spec.baseline_priors import GammaBaseline, GammaProcessBaseline
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival.intervals import event_time_cuts, expand
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.sampling import sample_posterior

TESTS = Path(__file__).resolve().parents[1]
SAMPLE = SamplerSettings(draws=1000, tune=1000, chains=4, seed=20261201)


def _veteran(df: pd.DataFrame) -> pd.DataFrame:
    for level in ("smallcell", "adeno", "large"):  # R's treatment contrasts, ref squamous
        df[f"celltype{level}"] = (df["celltype"] == level).astype(float)
    return df


DATASETS = {
    "rossi": ("week", "arrest", ["fin", "age", "race", "wexp", "mar", "paro", "prio"], None),
    "larynx": ("time", "death", ["Stage_II", "Stage_III", "Stage_IV", "age"], None),
    "veteran": (
        "time",
        "status",
        ["celltypesmallcell", "celltypeadeno", "celltypelarge", "karno10", "trt"],
        _veteran,
    ),
}


def reference(name: str) -> pd.DataFrame:
    """R's Breslow coefficients and SEs, by term."""
    results = json.loads((TESTS / "reference" / f"{name}_cox.json").read_text())["results"]
    block = results["breslow"] if "breslow" in results else results["main"]["breslow"]
    return pd.DataFrame(block["terms"]).set_index("term")[["coef", "se"]]


def fit(name: str, baseline_name: str):
    time_col, event_col, terms, prep = DATASETS[name]
    df = pd.read_csv(TESTS / "datasets" / f"{name}.csv")
    df = prep(df) if prep else df
    t = df[time_col].to_numpy(float)
    e = df[event_col].to_numpy(int)
    X = df[terms].to_numpy(float)
    X = X - X.mean(0)
    pp = expand(t, e, event_time_cuts(t, e))
    r, T = e.sum() / t.sum(), t.max()
    baseline = {
        "new default": GammaProcessBaseline(rate=r, strength=1.0 / (r * T)),
        "old default": GammaBaseline(alpha=1.0, beta=1.0 / r),
    }[baseline_name]
    priors = PEMPriors({k: NormalPrior(mu=0.0, sigma=10.0) for k in terms}, [], baseline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseDataWarning)  # the open interval after the last event
        idata = sample_posterior(PEMInputs(X, terms, pp), priors, SAMPLE, progressbar=False)
    draws = idata["posterior"]["log_hr"].stack(s=("chain", "draw")).transpose("term", "s")
    ref = reference(name)
    out = pd.DataFrame(
        {
            "cox": ref.loc[terms, "coef"].to_numpy(),
            "cox_se": ref.loc[terms, "se"].to_numpy(),
            "mean": draws.mean("s").to_numpy(),
            "median": draws.median("s").to_numpy(),
            "sd": draws.std("s").to_numpy(),
        },
        index=terms,
    )
    out["z"] = (out["mean"] - out["cox"]) / out["sd"]
    out["z_median"] = (out["median"] - out["cox"]) / out["sd"]
    out["sd_ratio"] = out["sd"] / out["cox_se"]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DATASETS))
def test_new_default_baseline_reproduces_cox(name):
    table = fit(name, "new default")
    assert (table["z_median"].abs() < 0.12).all(), table
    assert (table["z"].abs() < 0.15).all(), table
    assert ((table["sd_ratio"] - 1).abs() < 0.10).all(), table


@pytest.mark.slow
def test_old_default_is_visibly_pulled_on_veteran():
    """The motivating case: the old per-interval Gamma(1, 1/r) moves adeno by > 0.2 SD."""
    old = fit("veteran", "old default")
    new = fit("veteran", "new default")
    assert old.loc["celltypeadeno", "z"] < -0.2, old
    assert old["z"].abs().max() > 2 * new["z"].abs().max(), (old, new)


if __name__ == "__main__":  # pragma: no cover
    for ds in DATASETS:
        for base in ("new default", "old default"):
            print(f"\n{ds}, {base} baseline prior, event-time cuts")
            print(fit(ds, base).round(4).to_string())
