"""Sensitivity sweeps: flagging logic, settings, case-deletion bookkeeping, outputs.

Fast tests use hand-made tables and inputs (no NUTS); the slow one runs a small sweep on the
synthetic cohort and checks it compiles once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necc_bayes.report.sweep_figures import plot_sensitivity, to_svg
from necc_bayes.spec.baseline_priors import GammaBaseline
from necc_bayes.spec.priors import NormalPrior, StudentTPrior
from necc_bayes.spec.settings import SamplerSettings, Thresholds
from necc_bayes.survival.influence import case_deletion_changes, drop_subjects
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.refit import process_cache, structure_key
from necc_bayes.workflows.sensitivity.flags import flag_conclusions, p_band
from necc_bayes.workflows.sensitivity.sweeps import (
    SENSITIVITY_COLUMNS,
    Base,
    baseline_settings,
    case_deletion_settings,
    cut_point_rules,
    cut_point_settings,
    prior_scale_settings,
)


def row(setting, term, med, low, high, p, sweep="prior_scale", passed=True):
    return {
        "sweep": sweep,
        "setting": setting,
        "term": term,
        "hr_median": med,
        "hr_low": low,
        "hr_high": high,
        "p_hr_gt_1": p,
        "diagnostics_passed": passed,
    }


def test_p_band_edges():
    assert p_band(0.96) == "> 0.95"
    assert p_band(0.95) == "0.05-0.95"
    assert p_band(0.04) == "< 0.05"
    assert p_band(0.05) == "0.05-0.95"


def test_flag_conclusions_hand_made():
    table = pd.DataFrame(
        [
            # stable: CrI excludes 1 and P > 0.95 everywhere
            row("sd=1", "a", 2.5, 1.3, 4.4, 0.997),
            row("sd=2", "a", 2.6, 1.4, 4.8, 0.998),
            row("sd=5", "a", 2.7, 1.4, 5.0, 0.999),
            # CrI stops excluding 1 at sd=1 but P stays > 0.95
            row("sd=1", "b", 1.6, 0.98, 2.9, 0.96),
            row("sd=2", "b", 1.7, 1.02, 3.1, 0.97),
            row("sd=5", "b", 1.7, 1.03, 3.1, 0.97),
            # P(HR > 1) crosses 0.95 while the CrI always includes 1
            row("sd=1", "c", 1.4, 0.9, 2.4, 0.94),
            row("sd=2", "c", 1.5, 0.95, 2.6, 0.96),
            row("sd=5", "c", 1.5, 0.95, 2.7, 0.96),
            # another sweep, kept apart
            row("K=3", "a", 0.5, 0.2, 0.9, 0.01, sweep="cut_points"),
            row("K=4", "a", 0.5, 0.2, 0.95, 0.02, sweep="cut_points"),
        ]
    )
    flags = flag_conclusions(table).set_index(["sweep", "term"])
    a, b, c = (flags.loc[("prior_scale", t)] for t in "abc")
    assert not a["conclusion_changes"] and a["n_ci_excludes_1"] == 3
    assert a["differing_settings"] == ""
    assert b["ci_changes"] and not b["p_band_changes"] and b["conclusion_changes"]
    assert b["differing_settings"] == "sd=1"
    assert c["p_band_changes"] and not c["ci_changes"]
    assert c["differing_settings"] == "sd=1"
    assert c["p_bands"] == "> 0.95: 2; 0.05-0.95: 1"
    cut = flags.loc[("cut_points", "a")]
    assert cut["n_settings"] == 2 and not cut["conclusion_changes"]
    assert (a["hr_median_min"], a["hr_median_max"]) == (2.5, 2.7)


def toy_inputs() -> PEMInputs:
    time = np.array([2.0, 5.0, 7.5, 9.0, 14.0, 20.0, 30.0, 41.0])
    event = np.array([1, 1, 0, 1, 1, 0, 1, 0])
    X = np.column_stack([[1, 0, 1, 0, 1, 0, 1, 0], [0, 0, 1, 1, 0, 1, 1, 0]]).astype(float)
    return PEMInputs(X, ["a", "b"], expand(time, event, np.array([6.0, 15.0])), np.arange(1, 9))


def toy_base() -> Base:
    priors = PEMPriors(
        {"a": NormalPrior(mu=0.2, sigma=1.5), "b": StudentTPrior()},
        [],
        GammaBaseline(alpha=1.0, beta=20.0),
    )
    return Base(toy_inputs(), priors, 5, SamplerSettings(), Thresholds(), crude_rate=0.04)


def test_cut_point_rules_clip_dedupe_and_event_times():
    inputs = toy_inputs()
    rules = cut_point_rules(inputs.time, inputs.pp.event)
    # the round cuts beyond the largest follow-up (41) are dropped
    np.testing.assert_array_equal(rules["fixed 6, 12, 24, 36"], [6.0, 12.0, 24.0, 36.0])
    short = cut_point_rules(np.minimum(inputs.time, 20.0), inputs.pp.event)
    assert "fixed 6, 12" in short
    # 5 events: quantile rules beyond K=5 repeat cuts and are kept once
    cuts = [tuple(v) for k, v in rules.items() if k.startswith("quantile")]
    assert len(cuts) == len(set(cuts))
    np.testing.assert_array_equal(rules["every event time"], [2.0, 5.0, 9.0, 14.0, 30.0])


def test_prior_and_baseline_settings_share_compiled_models():
    base = toy_base()
    grid = prior_scale_settings(base, (0.5, 2.0, 10.0))
    assert [s.priors.coefficients["b"] for s in grid] == [
        NormalPrior(mu=0.0, sigma=sd) for sd in (0.5, 2.0, 10.0)
    ]
    assert grid[0].priors.coefficients["a"].mu == 0.2  # type: ignore[union-attr]
    assert len({structure_key(s.inputs, s.priors) for s in grid}) == 1
    baselines = baseline_settings(base)
    keys = [structure_key(s.inputs, s.priors) for s in baselines]
    assert keys[0] == keys[1] != keys[2]  # two gamma baselines, then the random walk
    assert baselines[0].priors.baseline == GammaBaseline(alpha=1.0, beta=25.0)
    cuts = cut_point_settings(base)
    assert len({structure_key(s.inputs, s.priors) for s in cuts}) == 1  # J is data
    assert {s.inputs.pp.n_intervals for s in cuts} >= {4, 5, 6}


def test_drop_subjects_bookkeeping():
    inputs = toy_inputs()
    out = drop_subjects(inputs, [2, "7"])
    np.testing.assert_array_equal(out.subject_ids, [1, 3, 4, 5, 6, 8])
    np.testing.assert_array_equal(out.X, inputs.X[[0, 2, 3, 4, 5, 7]])
    assert out.pp.event.sum() == inputs.pp.event.sum() - 2
    np.testing.assert_array_equal(out.pp.cuts, inputs.pp.cuts)
    np.testing.assert_allclose(out.time, [2.0, 7.5, 9.0, 14.0, 20.0, 41.0])
    with pytest.raises(KeyError, match="99"):
        drop_subjects(inputs, [99])
    settings = case_deletion_settings(toy_base(), ["3"])
    assert settings[0].name == "without subject 3"
    assert settings[0].inputs.X.shape[0] == 7


def test_case_deletion_changes_arithmetic():
    full = pd.DataFrame(
        {
            "term": ["a", "b"],
            "hr_median": [2.0, 1.0],
            "log_hr_mean": [0.7, 0.0],
            "log_hr_sd": [0.2, 0.5],
        }
    )
    table = pd.DataFrame(
        {
            "term": ["a", "b"],
            "hr_median": [3.0, 0.5],
            "log_hr_mean": [0.9, -0.25],
            "log_hr_sd": [0.2, 0.5],
        }
    )
    out = case_deletion_changes(table, full)
    np.testing.assert_allclose(out["hr_ratio"], [1.5, 0.5])
    np.testing.assert_allclose(out["shift_sd"], [1.0, -0.5])


def test_plot_has_one_panel_per_term():
    table = pd.DataFrame(
        [
            row("sd=1", "a", 2.5, 1.3, 4.4, 0.997),
            row("sd=1", "b", 0.5, 0.2, 1.1, 0.04, passed=False),
            row("K=3", "a", 2.0, 1.1, 3.0, 0.99, sweep="cut_points"),
            row("K=3", "b", 0.6, 0.3, 1.2, 0.06, sweep="cut_points"),
        ]
    )
    fig = plot_sensitivity(table)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    assert to_svg(fig).lstrip().startswith("<?xml")


@pytest.mark.slow
def test_small_prior_sweep_compiles_once_and_wider_prior_gives_wider_intervals(tmp_path):
    from necc_bayes.survival.fit import fit
    from necc_bayes.workflows.sensitivity.result import SENSITIVITY_FILES
    from necc_bayes.workflows.sensitivity.sweeps import sensitivity_analysis

    result = fit(
        "models/prs_final.toml",
        "data/synthetic/necc_synthetic_cohort.csv",
        overrides={"draws": 500, "tune": 500, "chains": 2},
        progressbar=False,
        warn=False,
    )
    process_cache().clear()
    report = sensitivity_analysis(
        result,
        sweeps=("prior_scale", "case_deletion"),
        scales=(0.25, 1.0, 5.0),
        influential_k=1,
        sampler=SamplerSettings(draws=500, tune=500, chains=2),
    )
    assert report.stats.compilations == 1  # 3 prior settings + 1 case deletion
    assert report.stats.n_tasks == 4
    table = report.table
    assert list(table.columns) == SENSITIVITY_COLUMNS
    grid = table[table["sweep"] == "prior_scale"]
    for term, g in grid.groupby("term"):
        # wider prior, wider (or, once the likelihood dominates, equal) posterior: the
        # 5% allowance is Monte Carlo error of the SD with ~1000 draws
        width = np.log(g["hr_high"].to_numpy()) - np.log(g["hr_low"].to_numpy())
        sd = g["log_hr_sd"].to_numpy()
        assert sd[1] > 1.2 * sd[0] and width[1] > 1.2 * width[0], (term, sd, width)
        assert sd[2] > 0.95 * sd[1] and width[2] > 0.95 * width[1], (term, sd, width)
        # the tightest prior shrinks the median towards HR = 1
        med = np.abs(np.log(g["hr_median"].to_numpy()))
        assert med[0] < med[-1]
    assert len(report.case_deletion) == 2 and report.case_deletion["n_subjects"].eq(87).all()
    assert set(report.psense["parameter"]) == {"log_hr[site_abdominal]", "log_hr[n_sites_gt1]"}
    out = report.save(tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == sorted(SENSITIVITY_FILES)
    assert pd.read_csv(out / "sensitivity.csv").shape[0] == 8


def test_power_scaling_keeps_the_diagnosis_in_the_table_not_on_the_console(caplog):
    """arviz-stats logs 'We detected potential issues ...' when it diagnoses a conflict; the
    diagnosis is a column of psense.csv, so nothing reaches the console (issue 16: third-party
    noise silenced)."""
    import logging

    import xarray as xr

    from necc_bayes.workflows.sensitivity.flags import power_scaling

    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, (2, 500, 1))

    def group(name, values):
        return xr.Dataset(
            {name: (("chain", "draw", "term"), values)},
            coords={"chain": [0, 1], "draw": np.arange(500)},
        )

    tree = xr.DataTree.from_dict(
        {
            "posterior": group("log_hr", x),
            "log_prior": group("log_hr", -25.0 * x**2),  # prior and likelihood far apart
            "log_likelihood": group("obs", -25.0 * (x - 3.0) ** 2),
        }
    )
    with caplog.at_level(logging.WARNING):
        table = power_scaling(tree)
    assert table["diagnosis"].str.startswith("potential").all()
    assert not [r for r in caplog.records if r.name.startswith("arviz")]
    assert logging.getLogger("arviz_stats.psense").level == logging.NOTSET  # restored
