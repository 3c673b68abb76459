"""Simulation-based calibration: rank statistics, prior draws, simulation, resume."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from necc_bayes.errors import DataError
from necc_bayes.spec.baseline_priors import GammaBaseline, RandomWalkBaseline
from necc_bayes.spec.priors import HierarchicalGroup, NormalPrior, StudentTPrior
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.workflows.sbc.run import (
    META_FILE,
    RANKS_FILE,
    SBCSetup,
    draw_prior,
    load_records,
    run_sbc,
    simulate_inputs,
    thin,
    uniformity_tests,
)
from necc_bayes.workflows.sbc.stats import (
    chisquare_test,
    ecdf_difference,
    ecdf_statistic,
    ecdf_test,
    simultaneous_band,
)


def test_uniform_ranks_pass_and_skewed_ranks_fail():
    rng = np.random.default_rng(3)
    uniform = rng.integers(0, 100, size=400)
    assert ecdf_test(uniform, 100) > 0.05
    assert chisquare_test(uniform, 100) > 0.05
    # overdispersed posterior (true values pile up in the middle ranks)
    central = np.clip(rng.normal(50, 12, size=400).astype(int), 0, 99)
    assert ecdf_test(central, 100) < 0.001
    assert chisquare_test(central, 100) < 0.001
    # biased posterior (true values mostly above the draws)
    high = np.clip(rng.integers(0, 100, size=400) + 15, 0, 99)
    assert ecdf_test(high, 100) < 0.001


def test_ecdf_test_size_is_about_nominal():
    rng = np.random.default_rng(11)
    p = np.array([ecdf_test(rng.integers(0, 20, size=50), 20) for _ in range(400)])
    assert 0.02 < np.mean(p < 0.05) < 0.09


def test_ecdf_statistic_of_perfectly_uniform_ranks_is_large():
    ranks = np.repeat(np.arange(20), 5)  # exactly 5 of each rank
    assert ecdf_statistic(ranks, 20) > 0.9


def test_band_and_difference_shapes():
    z, lower, upper = simultaneous_band(100, 20)
    assert z.shape == lower.shape == upper.shape == (21,)
    assert np.all(lower <= z + 1e-12) and np.all(upper >= z - 1e-12)
    x, diff = ecdf_difference(np.arange(20), 20)
    np.testing.assert_allclose(diff, 0.0, atol=1e-12)
    assert x[0] == 0.0 and x[-1] == 1.0


def test_chisquare_bins_with_uneven_rank_counts():
    # 30 rank values in 20 bins: bins hold 1 or 2 values, expected counts follow
    ranks = np.repeat(np.arange(30), 10)
    assert chisquare_test(ranks, 30) == pytest.approx(1.0)


def test_thin_spreads_draws_over_chains():
    draws = np.arange(2 * 100 * 3, dtype=float).reshape(2, 100, 3)
    out = thin(draws, 19)
    assert out.shape == (19, 3)
    assert set(out[:, 0] // 300) == {0.0, 1.0}  # both chains
    with pytest.raises(ValueError, match="thin"):
        thin(draws[:, :5], 19)


def _structure(n_intervals: int) -> PEMInputs:
    """Two terms and ``n_intervals`` intervals of width 10 (only the structure is used)."""
    cuts = 10.0 * np.arange(1, n_intervals)
    time = np.full(4, 10.0 * n_intervals)
    pp = expand(time, np.ones(4, dtype=int), cuts)
    return PEMInputs(X=np.zeros((4, 2)), terms=["a", "b"], pp=pp)


def test_prior_draws_match_the_prior_families():
    """SBC's prior draws are each family's own numpy sampler (KS against scipy)."""
    rng = np.random.default_rng(0)
    priors = PEMPriors(
        {"a": NormalPrior(mu=0.3, sigma=1.5), "b": StudentTPrior(nu=5.0, sigma=0.5)},
        [],
        GammaBaseline(alpha=2.0, beta=40.0),
    )
    draws = [draw_prior(priors, _structure(3), rng) for _ in range(4000)]
    beta = np.array([d[0] for d in draws])
    lam = np.array([d[1] for d in draws])
    assert stats.kstest(beta[:, 0], stats.norm(0.3, 1.5).cdf).pvalue > 0.01
    assert stats.kstest(beta[:, 1], stats.t(5.0, scale=0.5).cdf).pvalue > 0.01
    assert stats.kstest(lam[:, 1], stats.gamma(2.0, scale=1 / 40.0).cdf).pvalue > 0.01
    grouped = PEMPriors(
        {},
        [HierarchicalGroup(terms=["a", "b"], mu_sigma=1.0, tau_sigma=0.5)],
        RandomWalkBaseline(init_mu=-3.0, init_sigma=0.1, sigma_scale=0.01),
    )
    b, lam_rw = draw_prior(grouped, _structure(4), rng)
    assert b.shape == (2,) and lam_rw.shape == (4,)
    assert np.all(np.abs(np.log(lam_rw) + 3.0) < 1.0)


def toy_setup(n_ranks: int = 20) -> SBCSetup:
    rng = np.random.default_rng(1)
    n = 40
    x = rng.integers(0, 2, n).astype(float)
    time = rng.exponential(12.0, n) + 0.1
    event = (rng.uniform(size=n) < 0.6).astype(int)
    inputs = PEMInputs((x - x.mean())[:, None], ["x"], expand(time, event, np.array([5.0, 12.0])))
    priors = PEMPriors({"x": NormalPrior(sigma=1.0)}, [], GammaBaseline(alpha=1.0, beta=20.0))
    sampler = SamplerSettings(draws=60, tune=60, chains=2)
    return SBCSetup(inputs, priors, seed=5, sampler=sampler, n_ranks=n_ranks)


def test_simulated_cohort_keeps_design_cuts_and_censoring_pattern():
    setup = toy_setup()
    sim = simulate_inputs(
        setup, np.array([0.5]), np.array([0.05, 0.08, 0.1]), np.random.default_rng(2)
    )
    np.testing.assert_array_equal(sim.X, setup.inputs.X)
    np.testing.assert_array_equal(sim.pp.cuts, setup.inputs.pp.cuts)
    censored = setup.inputs.pp.event == 0
    # a censored patient's simulated follow-up never exceeds the observed one
    assert np.all(sim.time[censored] <= setup.inputs.time[censored] + 1e-12)
    assert 0 < sim.pp.event.sum() < 40
    # the baseline prior's widths (the open interval ends at the observed cohort's T) are the
    # ones the truth was drawn with, however the simulated follow-up ends: a cohort whose
    # follow-up ends before the last cut had a negative last width and a NaN likelihood
    np.testing.assert_array_equal(sim.pp.widths, setup.inputs.pp.widths)
    early = simulate_inputs(
        setup, np.array([0.5]), np.array([5.0, 5.0, 5.0]), np.random.default_rng(2)
    )
    assert early.pp.stop.max() < setup.inputs.pp.cuts[-1]
    np.testing.assert_array_equal(early.pp.widths, setup.inputs.pp.widths)
    assert setup.parameter_names() == [
        "log_hr[x]",
        "baseline_hazard[(0, 5]]",
        "baseline_hazard[(5, 12]]",
        "baseline_hazard[(12, inf)]",
    ]


def fake_record(index: int, names: list[str]) -> dict:
    ranks = {n: (index * 7 + k) % 20 for k, n in enumerate(names)}
    return {
        "index": index,
        "ranks": ranks,
        "truth": dict.fromkeys(names, 0.0),
        "n_events": 20,
        "n_divergent": 0,
        "seconds": 0.1,
    }


def test_resume_reads_complete_lines_and_skips_done_simulations(tmp_path):
    setup = toy_setup()
    names = setup.parameter_names()
    (tmp_path / META_FILE).write_text(json.dumps(setup.meta()))
    lines = [json.dumps(fake_record(i, names)) for i in range(3)]
    # a crash while writing left half a line
    (tmp_path / RANKS_FILE).write_text("\n".join(lines) + "\n" + lines[0][:25])
    assert sorted(load_records(tmp_path, setup.meta())) == [0, 1, 2]
    # all three wanted simulations are on disk: nothing is sampled
    result = run_sbc(setup, 3, tmp_path)
    assert result.stats.n_tasks == 0
    assert list(result.ranks.index) == [0, 1, 2]
    assert list(result.ranks.columns) == names
    assert result.ranks.loc[1, "log_hr[x]"] == 7


def test_resume_refuses_other_settings(tmp_path):
    setup = toy_setup()
    (tmp_path / META_FILE).write_text(json.dumps(setup.meta()))
    other = toy_setup(n_ranks=10)
    with pytest.raises(DataError, match="other settings"):
        run_sbc(other, 2, tmp_path)


def test_uniformity_tests_bonferroni_flag():
    rng = np.random.default_rng(4)
    ranks = pd.DataFrame(
        {
            "ok": rng.integers(0, 20, 300),
            "bad": np.clip(rng.normal(10, 2, 300).astype(int), 0, 19),
        }
    )
    table = uniformity_tests(ranks, 20).set_index("parameter")
    assert not table.loc["ok", "failed"] and table.loc["bad", "failed"]


@pytest.mark.slow
def test_tiny_sbc_run_resumes_without_redoing(tmp_path):
    from necc_bayes.cli.main import main

    setup = toy_setup()
    first = run_sbc(setup, 6, tmp_path)
    assert first.stats.n_tasks == 6 and first.stats.compilations <= 1
    assert len((tmp_path / RANKS_FILE).read_text().splitlines()) == 6
    second = run_sbc(setup, 8, tmp_path)
    assert second.stats.n_tasks == 2  # only the new simulations
    assert second.stats.compilations == 0  # the compiled model is reused
    pd.testing.assert_frame_equal(second.ranks.iloc[:6], first.ranks)
    assert second.ranks.to_numpy().min() >= 0 and second.ranks.to_numpy().max() <= 19
    assert second.records["n_events"].gt(0).all()
    # the same simulation gives the same ranks when redone alone (per-simulation seeds)
    (tmp_path / "again").mkdir()
    again = run_sbc(setup, 1, tmp_path / "again")
    pd.testing.assert_frame_equal(again.ranks, first.ranks.iloc[:1])
    # the command line on the synthetic cohort: 2 simulations, then resume with nothing to do
    out = tmp_path / "cli"
    args = ["sbc", "models/prs_final.toml", "--data", "data/synthetic/necc_synthetic_cohort.csv"]
    args += ["--out", str(out), "--draws", "60", "--tune", "60", "--chains", "2"]
    args += ["--n-ranks", "20", "--quiet"]
    first_code = main([*args, "--n-sims", "2"])
    assert main([*args, "--n-sims", "2"]) == first_code
    assert (out / "sbc_ecdf.png").is_file()
    summary = pd.read_csv(out / "sbc_summary.csv")
    assert summary.shape[0] == 7
    # exit code 1 exactly when a parameter fails the uniformity test (2 simulations: noise)
    assert first_code == (1 if summary["failed"].any() else 0)


def test_interval_coverage_of_uniform_and_biased_ranks():
    from necc_bayes.workflows.sbc.stats import interval_coverage

    ranks = np.arange(100)  # perfectly uniform ranks over 100 values
    assert interval_coverage(ranks, 100) == (0.9, 0.9)
    biased = np.concatenate([np.zeros(50, dtype=int), np.arange(50, 100)])  # truth often below
    observed, nominal = interval_coverage(biased, 100)
    assert observed == pytest.approx(45 / 100) and nominal == 0.9


def _fake_simulation(task) -> dict:
    return fake_record(task.index, task.setup.parameter_names())


def test_a_record_after_a_truncated_line_is_kept(tmp_path, monkeypatch):
    """Issue 22: a run killed while appending left half a line; the next record was glued to it
    (and lost at the next resume)."""
    from necc_bayes.workflows.sbc import run as sbc_run

    monkeypatch.setattr(sbc_run, "run_simulation", _fake_simulation)
    setup = toy_setup()
    names = setup.parameter_names()
    (tmp_path / META_FILE).write_text(json.dumps(setup.meta()))
    cut_short = '{"index": 1, "ra'
    (tmp_path / RANKS_FILE).write_text(json.dumps(fake_record(0, names)) + "\n" + cut_short)
    run_sbc(setup, 3, tmp_path)
    assert sorted(load_records(tmp_path, setup.meta())) == [0, 1, 2]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_meta_file_cut_short_is_refused_with_its_rule(tmp_path):
    setup = toy_setup()
    (tmp_path / META_FILE).write_text(json.dumps(setup.meta())[:30])
    with pytest.raises(DataError, match=r"\[sbc_resume\].*not valid JSON"):
        run_sbc(setup, 2, tmp_path)
