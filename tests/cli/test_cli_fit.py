"""``necc-bayes fit``: bad input exits 2 and leaves nothing behind; a good fit writes DESIGN §5.

The sampling tests are in the slow tier (small draws, fixed seeds).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from necc_bayes.cli.main import main
from necc_bayes.data.bundled import bundled_path
from necc_bayes.survival.save import FIT_FILES

BAD = Path(__file__).resolve().parents[1] / "bad_inputs"
COHORT = bundled_path("data/synthetic/necc_synthetic_cohort.csv")
FINAL = bundled_path("models/prs_final.toml")
QUICK = ["--draws", "600", "--tune", "400", "--chains", "2", "--quiet"]


def test_bad_data_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["fit", str(BAD / "spec.toml"), "--data", str(BAD / "time_zero.csv"), "--out", str(out)]
    )
    assert code == 2
    assert "[time_positive]" in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_bad_spec_exits_2(tmp_path, capsys):
    code = main(
        [
            "fit",
            str(BAD / "specs" / "negative_sigma.toml"),
            "--data",
            str(BAD / "valid.csv"),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "priors.log_hr" in capsys.readouterr().err


def test_non_empty_out_is_refused_before_any_work(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code = main(["fit", str(FINAL), "--data", str(COHORT), "--out", str(out)])
    assert code == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "precious"


@pytest.mark.slow
def test_fit_writes_design_files_and_is_reproducible(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    codes = [
        main(["fit", str(FINAL), "--data", str(COHORT), "--out", str(o), *QUICK]) for o in (a, b)
    ]
    expected = {
        "posterior.nc",
        "spec.toml",
        "hazard_ratios.csv",
        "survival.csv",
        "diagnostics.json",
        "report.html",
        "survival_summary.csv",
        "ph_check.csv",
    }
    assert expected == {p.name for p in a.iterdir()} == set(FIT_FILES)  # nothing more, or less
    hr = pd.read_csv(a / "hazard_ratios.csv")
    assert list(hr.columns[:11]) == [
        "term",
        "log_hr_mean",
        "log_hr_sd",
        "hr_median",
        "hr_mean",
        "hr_low",
        "hr_high",
        "p_hr_gt_1",
        "r_hat",
        "ess_bulk",
        "ess_tail",
    ]
    ph = pd.read_csv(a / "ph_check.csv")
    assert {"term", "statistic", "flagged"} <= set(ph.columns)  # DESIGN §8
    assert ph.loc[ph.scope == "term", "term"].tolist() == hr["term"].tolist()
    pd.testing.assert_frame_equal(ph, pd.read_csv(b / "ph_check.csv"))  # reproducible
    surv = pd.read_csv(a / "survival.csv")
    assert list(surv.columns[:5]) == ["profile", "time", "surv_median", "surv_low", "surv_high"]
    diag = json.loads((a / "diagnostics.json").read_text())
    assert {
        "max_r_hat",
        "min_ess_bulk",
        "min_ess_tail",
        "n_divergent",
        "min_bfmi",
        "passed",
        "thresholds",
    } <= set(diag)
    # DESIGN 8: exit 3 when the files were written but the diagnostics failed, 0 when they passed
    assert codes == ([0, 0] if diag["passed"] else [3, 3])
    ta, tb = xr.open_datatree(a / "posterior.nc"), xr.open_datatree(b / "posterior.nc")
    # same seed, data and spec -> identical draws
    np.testing.assert_array_equal(
        ta["posterior"]["log_hr"].values, tb["posterior"]["log_hr"].values
    )
    np.testing.assert_array_equal(
        ta["posterior"]["baseline_hazard"].values, tb["posterior"]["baseline_hazard"].values
    )
    for key in ("spec_hash", "seed"):
        assert key in ta.attrs
    assert ta.attrs["spec_hash"] == tb.attrs["spec_hash"]
    assert "spec_hash" in (a / "spec.toml").read_text()
