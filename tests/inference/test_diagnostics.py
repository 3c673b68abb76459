"""Convergence diagnostics: report helpers on hand-made draws (fast), and real fits (slow).

Slow tests sample with nutpie: a deliberately bad fit (1 chain of 50 draws) must fail with a
parameter named, a good fit must pass, and on lifelines' rossi data (7 covariates) the
posterior predictive check must cover the observed Kaplan–Meier curve.
"""

from __future__ import annotations

import json
import re
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest

from necc_bayes.errors import (
    ConvergenceWarning,
    PriorScaleWarning,
    ProportionalHazardsWarning,
    SparseDataWarning,
)
from necc_bayes.inference.diagnostics import (
    check_convergence,
    distinct_worst_parameters,
    parameter_draws,
)
from tests.fake_fit import SPEC, fake_result, write_cohort


def _tree(x, *, maxdepth=None):
    chains, draws = x.shape[:2]
    stats = {"diverging": np.zeros((chains, draws), bool)}
    if maxdepth is not None:
        stats["maxdepth_reached"] = maxdepth
    return az.from_dict(
        {
            "posterior": {"log_hr": x, "hr": np.exp(x), "baseline_hazard": np.exp(x[..., :1])},
            "sample_stats": stats,
        },
        dims={"log_hr": ["term"], "hr": ["term"], "baseline_hazard": ["interval"]},
        coords={"term": ["a", "b"], "interval": ["(0, 6]"]},
    )


def test_flagged_table_and_worst_parameters():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 500, 2))
    x[0, :, 1] += 2.0
    report = check_convergence(_tree(x), warn=False)
    table = report.flagged_table()
    assert {"r_hat_ok", "ess_bulk_ok", "ess_tail_ok", "ok"} <= set(table.columns)
    assert not table.iloc[0]["ok"]
    assert table.iloc[0]["parameter"] in {"log_hr[b]", "hr[b]"}
    assert table.set_index("parameter").loc["log_hr[a]", "ok"]
    assert report.worst_parameters(2)[0] in {"log_hr[b]", "hr[b]"}


def test_parameter_draws_by_label_with_commas_in_coords():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 50, 2))
    tree = _tree(x)
    np.testing.assert_array_equal(parameter_draws(tree, "log_hr[b]").to_numpy(), x[..., 1])
    got = parameter_draws(tree, "baseline_hazard[(0, 6]]").to_numpy()
    np.testing.assert_allclose(got, np.exp(x[..., 0]))
    with pytest.raises(KeyError):
        parameter_draws(tree, "log_hr[zzz]")


def test_distinct_worst_skips_transforms():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 300, 2))
    x[0, :, 1] += 2.0
    tree = _tree(x)
    report = check_convergence(tree, warn=False)
    chosen = distinct_worst_parameters(report, tree, 3)
    # hr[.] = exp(log_hr[.]) and baseline_hazard[(0, 6]] = exp(log_hr[a]): 2 distinct only
    assert len(chosen) == 2
    assert chosen[0] in {"log_hr[b]", "hr[b]"}


def test_tree_depth_hits_are_a_note_not_a_failure():
    rng = np.random.default_rng(3)
    hits = np.zeros((4, 500), bool)
    hits[2, :25] = True
    report = check_convergence(_tree(rng.normal(size=(4, 500, 2)), maxdepth=hits), warn=False)
    assert report.passed
    assert report.max_tree_depth_hits == 25
    assert "tree depth" in report.notes[0]
    assert report.to_dict()["notes"] == report.notes


def test_fake_fit_diagnostics(tmp_path):
    assert fake_result(tmp_path).diagnostics().passed
    bad = fake_result(tmp_path, stuck_chain=True).diagnostics()
    assert any("log_hr[trt]" in f or "hr[trt]" in f for f in bad.failures), bad.failures


# ---------------------------------------------------------------- slow: real sampling


def _fit(tmp_path, sampler, **spec_updates):
    from necc_bayes.spec.io import parse_spec
    from necc_bayes.survival.fit import fit

    csv = write_cohort(tmp_path / "cohort.csv", n=80)
    raw = {**SPEC, "sampler": {"seed": 11, **sampler}, **spec_updates}
    return fit(parse_spec(raw), csv, progressbar=False, warn=True)


@pytest.mark.slow
def test_bad_fit_fails_with_the_parameter_named(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _fit(tmp_path, {"chains": 1, "draws": 50, "tune": 50})
    diag = result.diagnostics()
    assert not diag.passed
    named = re.compile(r"for (log_hr|hr|log_hr_normal|baseline_hazard)\[[^\]]+\]")
    assert any(named.search(f) for f in diag.failures), diag.failures
    conv = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert conv and any(named.search(str(w.message)) for w in conv)
    # the fit's other checks may warn too (a PH flag from 50 draws): only errors of another
    # kind would be a failure here
    expected = (
        ConvergenceWarning | SparseDataWarning | ProportionalHazardsWarning | PriorScaleWarning
    )
    other = [w for w in caught if not issubclass(w.category, expected)]
    assert not other, [str(w.message) for w in other]


@pytest.mark.slow
def test_good_fit_passes_and_writes_ppc(tmp_path):
    from necc_bayes.survival.save import write_fit_outputs

    # 2 x 600 draws gave R-hat 1.011 for one term (the 1.01 threshold is tight for 2 chains)
    with warnings.catch_warnings():
        # the cohort is simulated under PH; its check flags trt at ppp 0.03 (a false alarm, as
        # 5% of PH cohorts are at alpha 0.05; the PH check's size is tested in tests/survival)
        warnings.simplefilter("ignore", ProportionalHazardsWarning)
        warnings.simplefilter("ignore", PriorScaleWarning)  # age in years, per-unit default
        result = _fit(tmp_path, {"chains": 2, "draws": 1000, "tune": 1000})
    diag = result.diagnostics()
    assert diag.passed, diag.failures
    out = write_fit_outputs(result, tmp_path / "out")
    d = json.loads((out / "diagnostics.json").read_text())
    assert d["passed"] is True
    assert {"max_r_hat", "min_ess_bulk", "min_ess_tail", "n_divergent", "min_bfmi"} <= set(d)
    assert d["ppc"]["km_band_coverage"] >= 0.9
    assert set(d["ppc"]["events_ppp"]) == set(
        map(str, result.idata["posterior"]["interval"].values)
    )
    html = (out / "report.html").read_text()
    assert "PASSED" in html
    # one figure per report section that draws one (the PH check draws the flagged term)
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    assert alts == [
        "hazard ratio forest plot",
        "survival curves with Kaplan-Meier overlay",
        "trace and rank plots",
        "posterior predictive check",
        "posterior predictive check by group",
        "per-interval log hazard ratio of trt",
        "prior predictive survival",
    ], alts


@pytest.mark.slow
def test_rossi_ppc_coverage(tmp_path, capsys):
    lifelines = pytest.importorskip("lifelines")
    from necc_bayes.spec.io import parse_spec
    from necc_bayes.survival.fit import fit
    from necc_bayes.survival.ppc import posterior_predictive_check

    rossi = lifelines.datasets.load_rossi()
    csv = tmp_path / "rossi.csv"
    pd.concat([pd.Series(range(1, len(rossi) + 1), name="id"), rossi], axis=1).to_csv(
        csv, index=False
    )
    spec = parse_spec(
        {
            "name": "rossi",
            "data": {"time": "week", "event": "arrest", "id": "id"},
            "covariates": {"terms": ["fin", "age", "race", "wexp", "mar", "paro", "prio"]},
            "sampler": {"draws": 500, "tune": 500, "chains": 2, "seed": 20260101},
        }
    )
    with warnings.catch_warnings():
        # rossi's age violates proportional hazards (lifelines' proportional_hazard_test and
        # its documentation's check_assumptions example reject it too): the fit says so, which
        # is not what this test checks
        warnings.simplefilter("ignore", ProportionalHazardsWarning)
        warnings.simplefilter("ignore", PriorScaleWarning)  # rossi's age and prio per unit
        result = fit(spec, csv, progressbar=False)
    assert result.diagnostics().passed
    ppc = posterior_predictive_check(result)
    with capsys.disabled():
        print(
            f"\nrossi PPC: KM inside 95% replicate band on {ppc.coverage:.1%} of the grid; "
            f"event-count ppp {ppc.events.ppp.round(2).tolist()}"
        )
    assert ppc.coverage >= 0.9
    assert ((ppc.events.ppp > 0.025) & (ppc.events.ppp < 0.975)).all()
