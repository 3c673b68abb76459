"""Size-dependent replicate defaults of the PPC and the PH check (issue 21).

Up to 5,000 subjects the defaults are those every other test pins (500 PPC, 400 PH); above,
100 each, written into the resolved spec for the PH check; an ``n_replicates`` the spec sets
is kept. No sampling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from necc_bayes.spec.io import load_spec, to_toml
from necc_bayes.survival.fit import resolve_spec
from necc_bayes.survival.inputs import check_inputs
from necc_bayes.survival.replicates import (
    LARGE_COHORT,
    LARGE_COHORT_REPLICATES,
    default_replicates,
)

ROOT = Path(__file__).resolve().parents[2]


def test_default_replicates_switch_above_the_threshold():
    assert default_replicates(LARGE_COHORT, 400) == 400
    assert default_replicates(LARGE_COHORT + 1, 400) == LARGE_COHORT_REPLICATES == 100
    assert default_replicates(LARGE_COHORT + 1, 50) == 50  # never more than asked


def _large_cohort(tmp_path: Path, ph_section: str) -> Path:
    rng = np.random.default_rng(0)
    n = LARGE_COHORT + 1
    x = rng.integers(0, 2, n)
    t = rng.exponential(1.0 / np.exp(0.3 * x))
    c = rng.exponential(2.0, n)
    pd.DataFrame(
        {
            "id": np.arange(n),
            "time": np.minimum(t, c).round(6) + 1e-6,
            "event": (t <= c) * 1,
            "x": x,
        }
    ).to_csv(tmp_path / "big.csv", index=False)
    spec = tmp_path / "big.toml"
    spec.write_text(
        'name = "big"\n[data]\ntime = "time"\nevent = "event"\nid = "id"\n'
        '[covariates]\nterms = ["x"]\n[intervals]\nrule = "quantile"\nn = 4\n' + ph_section
    )
    return spec


@pytest.mark.parametrize(
    ("key", "section", "expected"),
    [
        ("n_replicates", "", 100),
        ("n_replicates", "[ph_check]\nn_replicates = 400\n", 400),
        ("replicate_subjects", "", 5_000),  # (REPLICATE_SUBJECTS set to 5,000 below)
        ("replicate_subjects", "[ph_check]\nreplicate_subjects = 3000\n", 3_000),
    ],
)
def test_large_cohort_ph_defaults_resolved_unless_set(
    tmp_path, monkeypatch, key, section, expected
):
    """Above the thresholds the resolved spec (and its TOML) holds the large-cohort default of
    ``ph_check.<key>``; a value the spec sets is kept."""
    from necc_bayes.survival import replicates

    monkeypatch.setattr(replicates, "REPLICATE_SUBJECTS", 5_000)  # the cohort has 5,001
    spec = _large_cohort(tmp_path, section)
    resolved = resolve_spec(check_inputs(spec, tmp_path / "big.csv"))
    assert getattr(resolved.ph_check, key) == expected
    assert getattr(load_spec_text(to_toml(resolved), tmp_path).ph_check, key) == expected


def test_small_cohort_ph_section_untouched():
    spec = load_spec(ROOT / "models" / "prs_final.toml")
    checked = check_inputs(spec, ROOT / "data" / "synthetic" / "necc_synthetic_cohort.csv")
    resolved = resolve_spec(checked)
    assert resolved.ph_check == spec.ph_check and resolved.ph_check.n_replicates == 400


def load_spec_text(text: str, tmp_path: Path):
    path = tmp_path / "resolved.toml"
    path.write_text(text)
    return load_spec(path)


# Registry-size cohorts (issue 21): above REPLICATE_SUBJECTS the PPC and the PH check use a
# seeded random subset of subjects, recorded in the resolved spec and in both methods' texts.


def test_replicate_subset_is_sorted_reproducible_and_all_below_its_size():
    from necc_bayes.survival.replicates import replicate_subset

    keep = replicate_subset(1_000, 100, seed=3)
    assert keep is not None and keep.size == 100 and np.unique(keep).size == 100
    assert np.all(np.diff(keep) > 0) and 0 <= keep.min() and keep.max() < 1_000
    assert np.array_equal(keep, replicate_subset(1_000, 100, seed=3))
    assert not np.array_equal(keep, replicate_subset(1_000, 100, seed=4))
    assert replicate_subset(1_000, None, seed=3) is None
    assert replicate_subset(1_000, 1_000, seed=3) is None


def test_small_cohort_has_no_replicate_subset():
    spec = load_spec(ROOT / "models" / "prs_final.toml")
    checked = check_inputs(spec, ROOT / "data" / "synthetic" / "necc_synthetic_cohort.csv")
    resolved = resolve_spec(checked)
    assert resolved.ph_check.replicate_subjects is None
    assert "replicate_subjects =" not in to_toml(resolved)  # no new key: same spec hash


def test_checks_on_a_subset_equal_the_checks_of_the_subset_cohort(tmp_path, monkeypatch):
    """The PH check and the PPC of a fit with ``replicate_subjects`` = 60 are exactly those of
    the 60 rows ``replicate_subset`` picks (same draws and seed), and say so."""
    from necc_bayes.survival.ph_check import ph_check, ph_check_from_draws
    from necc_bayes.survival.ppc import posterior_predictive_check
    from necc_bayes.survival.replicates import replicate_subset
    from necc_bayes.survival.time_varying import posterior_draws
    from tests.fake_fit import fake_result

    result = fake_result(tmp_path)
    n = result.checked.cohort.n_subjects
    ph_settings = result.spec.ph_check.model_copy(update={"replicate_subjects": 60})
    monkeypatch.setattr(result, "spec", result.spec.model_copy(update={"ph_check": ph_settings}))
    seed = result.spec.sampler.seed
    keep = replicate_subset(n, 60, seed)
    assert keep is not None
    check = ph_check(result)
    assert f"a seeded random 60 of the {n:,} subjects" in check.method
    cohort, pp = result.checked.cohort, result.checked.person_period
    lam, beta = posterior_draws(result.idata)
    design = cohort.design
    direct = ph_check_from_draws(
        lam, beta, design.X_model[keep], list(design.terms), list(design.source), pp.bounds,
        cohort.time[keep], cohort.event[keep], transform=ph_settings.transform,
        alpha=ph_settings.alpha, n_replicates=ph_settings.n_replicates,
        ci_prob=result.spec.summaries.ci_prob, seed=seed,
    )
    pd.testing.assert_frame_equal(check.table, direct.table)
    ppc = posterior_predictive_check(result, n_replicates=50)
    assert f"a seeded random 60 of the {n:,} subjects" in ppc.censoring
    from dataclasses import replace

    from necc_bayes.survival.model import interval_labels
    from necc_bayes.survival.ppc import ppc_from_draws
    from necc_bayes.survival.ppc_groups import covariate_groups

    sub = replace(design, X=design.X[keep])
    refs = {k: c.reference for k, c in result.spec.covariates.categorical.items()}
    direct_ppc = ppc_from_draws(
        lam, beta, sub.X_model, pp.bounds, cohort.time[keep], cohort.event[keep],
        interval_labels=interval_labels(pp), n_replicates=50,
        ci_prob=result.spec.summaries.ci_prob, seed=seed, groups=covariate_groups(sub, refs),
    )
    for name in ("observed", "low", "high"):
        np.testing.assert_array_equal(getattr(ppc, name), getattr(direct_ppc, name))
    pd.testing.assert_frame_equal(ppc.events, direct_ppc.events)
    pd.testing.assert_frame_equal(ppc.groups, direct_ppc.groups)
