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
    ("section", "expected"), [("", 100), ("[ph_check]\nn_replicates = 400\n", 400)]
)
def test_large_cohort_ph_replicates_resolved_unless_set(tmp_path, section, expected):
    spec = _large_cohort(tmp_path, section)
    resolved = resolve_spec(check_inputs(spec, tmp_path / "big.csv"))
    assert resolved.ph_check.n_replicates == expected
    assert load_spec_text(to_toml(resolved), tmp_path).ph_check.n_replicates == expected


def test_small_cohort_ph_section_untouched():
    spec = load_spec(ROOT / "models" / "prs_final.toml")
    checked = check_inputs(spec, ROOT / "data" / "synthetic" / "necc_synthetic_cohort.csv")
    resolved = resolve_spec(checked)
    assert resolved.ph_check == spec.ph_check and resolved.ph_check.n_replicates == 400


def load_spec_text(text: str, tmp_path: Path):
    path = tmp_path / "resolved.toml"
    path.write_text(text)
    return load_spec(path)
