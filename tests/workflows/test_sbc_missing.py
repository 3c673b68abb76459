"""SBC of ``data.missing = "model"``: simulation keeps the real missingness pattern (issue 19)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from necc_bayes.spec.baseline_priors import GammaBaseline
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.survival.imputation import build_imputation
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.refit import structure_key
from necc_bayes.workflows.sbc.missing import draw_incomplete_covariates
from necc_bayes.workflows.sbc.run import SBCSetup, simulate_inputs

ROOT = Path(__file__).resolve().parents[2]
PRIORS = PEMPriors(
    {t: NormalPrior(sigma=1.0) for t in ("x", "w", "z")},
    [],
    GammaBaseline(alpha=1.0, beta=10.0, marginalize=False),
)


def inputs(n: int = 400) -> PEMInputs:
    """x binary (missing for 1 in 4), w continuous (1 in 10), z complete."""
    rng = np.random.default_rng(7)
    z = rng.normal(size=n)
    x = (rng.uniform(size=n) < 0.4).astype(float)
    w = 3.0 + 2.0 * rng.normal(size=n)
    X = np.column_stack([x, w, z])
    X[rng.uniform(size=n) < 0.25, 0] = np.nan
    X[rng.uniform(size=n) < 0.10, 1] = np.nan
    means = np.nanmean(X, axis=0)
    time, event = rng.exponential(8.0, n), (rng.uniform(size=n) < 0.7).astype(int)
    imp = build_imputation(X, ["x", "w", "z"], means=means)
    return PEMInputs(X=X - means, terms=["x", "w", "z"], pp=expand(time, event,
                     np.array([4.0, 9.0])), imputation=imp)


def test_simulated_cohort_keeps_the_pattern_the_structure_and_the_constants():
    setup = SBCSetup(inputs(), PRIORS, seed=1)
    real = setup.inputs
    sim = simulate_inputs(setup, np.zeros(3), np.full(3, 0.1), np.random.default_rng(2))
    np.testing.assert_array_equal(np.isnan(sim.X), np.isnan(real.X))
    np.testing.assert_array_equal(sim.X[:, 2], real.X[:, 2])  # complete covariate as observed
    assert not np.array_equal(sim.X[~np.isnan(sim.X[:, 0]), 0], real.X[~np.isnan(real.X[:, 0]), 0])
    assert structure_key(sim, PRIORS) == structure_key(real, PRIORS)
    assert sim.imputation is not None and real.imputation is not None
    assert sim.imputation.models == real.imputation.models  # the real data's constants
    x = sim.X[:, 0] + real.imputation.means[0]
    assert set(np.unique(x[~np.isnan(x)])) <= {0.0, 1.0}
    assert setup.meta()["missing"] == {"w": int(np.isnan(real.X[:, 1]).sum()),
                                       "x": int(np.isnan(real.X[:, 0]).sum())}


def test_covariates_drawn_from_the_prior_of_their_models():
    """Over many draws: a binary's prevalence is Uniform(0, 1) (Logistic(0, 1) intercept, and
    about no slope effect at the predictors' means); a continuous covariate's standardised mean
    is Normal(0, 1)-ish and its values sit around the observed centre."""
    real = inputs().imputation
    assert real is not None
    X = inputs().X
    rng = np.random.default_rng(3)
    prev, centre = [], []
    for _ in range(400):
        full = draw_incomplete_covariates(X, real, rng)
        prev.append(full[:, 0].mean())
        w = real.models[[m.term for m in real.models].index("w")]
        centre.append((full[:, 1].mean() - w.center) / w.scale)
    prev = np.array(prev)
    # uniform prevalence: mean 1/2, SD 1/sqrt(12) = 0.289 (slopes widen it little at n = 400)
    assert abs(prev.mean() - 0.5) < 0.05 and abs(prev.std() - 0.289) < 0.05
    assert abs(np.mean(centre)) < 0.15


@pytest.mark.slow
def test_sbc_of_the_study_multivariable_spec_with_modelled_missingness_passes(tmp_path, cohort_csv):
    """``necc-bayes sbc`` of models/prs_multivariable.toml with ``missing = "model"``.

    The synthetic NECC cohort (88 patients, invasion_deep missing for 9; delayed entry at 60
    days); each simulation draws invasion_deep for all 88 from its logistic model's prior,
    deletes the same 9, and refits (one compilation). 30 simulations, 2 chains x 200 draws, 39
    thinned draws per rank: every log-HR's and baseline rate's ECDF test p > 0.05 / 10
    (Bonferroni). About 90-130 s on 2 shared cores (2-6 s per simulation: the sampled
    baseline).
    A run of 60 simulations at 2 x 250 draws, 49 ranks, also passed (280 s).
    """
    import pandas as pd

    from necc_bayes.cli.main import main

    spec = (ROOT / "models" / "prs_multivariable.toml").read_text(encoding="utf-8")
    spec = spec.replace('missing = "drop"', 'missing = "model"')
    assert 'missing = "model"' in spec
    path = tmp_path / "spec.toml"
    path.write_text(spec, encoding="utf-8")
    out = tmp_path / "sbc"
    code = main(["sbc", str(path), "--data", str(cohort_csv), "--out", str(out), "--n-sims",
                 "30", "--n-ranks", "40", "--draws", "200", "--tune", "200", "--quiet"])
    summary = pd.read_csv(out / "sbc_summary.csv")
    assert code == 0, summary
    assert "log_hr[invasion_deep]" in set(summary["parameter"])
    assert not summary["failed"].any(), summary
