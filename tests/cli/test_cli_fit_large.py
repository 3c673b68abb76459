"""What ``necc-bayes fit`` writes under the large-cohort rules (issue 21), read from its files.

The rules switch on at 5,000 event-time intervals, 100,000 subjects, 25,000,000 stored
log-likelihood values, 2,000 KM steps and 50,000 patterns; here the thresholds are lowered
so that a 300-subject cohort crosses all of them, and the files of the real command are read:
the resolved ``spec.toml``, ``diagnostics.json``, ``posterior.nc`` and ``report.html``.
Reference for the compact exposure sum: the same command with the dense form (default
thresholds), same data and seed — the posterior means agree within 0.15 posterior SD (Monte
Carlo error of two 1,000-draw runs: about 0.05 SD). Slow tier: two small fits.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from necc_bayes.cli.main import main

SPEC = """name = "large_rules"
[data]
time = "time"
event = "event"
id = "id"
[covariates]
terms = ["trt", "marker"]
center = true
[intervals]
rule = "quantile"
n = 4
[sampler]
draws = 500
tune = 500
chains = 2
seed = 7
"""


def _cohort(tmp_path):
    rng = np.random.default_rng(3)
    n = 300
    trt, marker = rng.integers(0, 2, n), rng.normal(size=n)
    t = rng.exponential(10.0 / np.exp(0.5 * trt + 0.3 * marker))
    c = rng.exponential(15.0, n)
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "time": np.round(np.minimum(t, c), 4) + 0.001,
            "event": (t <= c).astype(int),
            "trt": trt,
            "marker": np.round(marker, 4),
        }
    )
    frame.to_csv(tmp_path / "cohort.csv", index=False)
    (tmp_path / "spec.toml").write_text(SPEC)
    return tmp_path / "spec.toml", tmp_path / "cohort.csv"


def _fit(spec, csv, out) -> int:
    return main(["fit", str(spec), "--data", str(csv), "--out", str(out), "--quiet"])


@pytest.mark.slow
def test_fit_files_under_the_large_cohort_rules(tmp_path, monkeypatch):
    from necc_bayes.survival import model, page, prior_predictive, replicates, sampling

    spec, csv = _cohort(tmp_path)
    assert _fit(spec, csv, tmp_path / "dense") == 0  # default thresholds: none applies
    for module, name, value in [
        (replicates, "REPLICATE_SUBJECTS", 100),
        (sampling, "LOGLIK_STORE_MAX", 1_000),
        (page, "LOGLIK_STORE_MAX", 1_000),
        (prior_predictive, "EVENT_TIME_PARTITION_MAX", 10),
        (page, "PLOT_STEPS_MAX", 20),
        (model, "COMPACT_EXPOSURE_MIN", 0),
    ]:
        monkeypatch.setattr(module, name, value)
    out = tmp_path / "large"
    assert _fit(spec, csv, out) == 0

    resolved = (out / "spec.toml").read_text()
    assert re.search(r"^replicate_subjects = 100$", resolved, re.M)
    assert "replicate_subjects =" not in (tmp_path / "dense" / "spec.toml").read_text()
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["passed"] is True
    subset = "a seeded random 100 of the 300 subjects (ph_check.replicate_subjects)"
    assert subset in diag["ppc"]["censoring"] and subset in diag["ph_check"]["method"]

    tree = xr.open_datatree(out / "posterior.nc")
    assert "log_likelihood" not in tree.children  # 300 x 1,000 > 1,000: not stored
    assert "log_likelihood" in xr.open_datatree(tmp_path / "dense" / "posterior.nc").children
    const = tree["constant_data"].to_dataset()
    assert "last_interval" in const and "E_u" not in const  # the compact exposure sum ran

    report = re.sub(r"data:image/[^\"]+", "", (out / "report.html").read_text())
    assert "PSIS-LOO is not in this report: 300 rows x 1,000 draws exceed the 1,000" in report
    assert "cuts at every event time would make" in report and "(drawn up to 10)" in report
    assert "Kaplan–Meier curves with more than 20 steps are drawn at 20" in report
    assert 'id="loo"' not in report
    assert 'id="loo"' in (tmp_path / "dense" / "report.html").read_text()

    # the compact fit against the dense one (reference: same model, other summation order)
    dense = xr.open_datatree(tmp_path / "dense" / "posterior.nc")["posterior"]["log_hr"]
    compact = tree["posterior"]["log_hr"]
    sd = dense.std(("chain", "draw"))
    gap = abs(compact.mean(("chain", "draw")) - dense.mean(("chain", "draw"))) / sd
    assert float(gap.max()) < 0.15
