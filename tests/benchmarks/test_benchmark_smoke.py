"""Smoke test of the benchmark harness (benchmarks/): data, models, report — no NUTS.

The long-format Poisson baseline (one row per subject-interval, ``pm.Poisson``) and our
unmarginalised compact model are the same likelihood: their log-densities differ by the
constant ``sum_i delta_i log E_{i j_i}`` (``pem_math.poisson_offset_constant``; the Poisson
``log k!`` is 0 for 0/1 events) at every point. That checks the baseline as well as ours.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import run as bench_run  # noqa: E402
from baseline_poisson import build_long_poisson  # noqa: E402
from simulate import priors_for, raw_inputs, simulate  # noqa: E402
from sorted_pem import build_model_sorted  # noqa: E402

from necc_bayes.survival import likelihood as pem_math  # noqa: E402
from necc_bayes.survival.model import build_model  # noqa: E402

FAST = "FAST_COMPILE"  # python linker: these graphs are tiny, compilation would dominate


@pytest.fixture(scope="module")
def cohort():
    return simulate(60, seed=3, n_intervals=6)


def test_simulated_cohort_shapes(cohort):
    assert cohort.X.shape == (60, 10)
    np.testing.assert_allclose(cohort.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(cohort.X, cohort.X_raw - cohort.X_raw.mean(axis=0))
    assert cohort.pp.n_intervals == 6
    assert (cohort.pp.events_per_interval > 0).all()
    assert 0.4 < cohort.event.mean() < 0.95
    # continuous biomarkers: every subject is its own pattern
    assert cohort.n_patterns == 60
    assert cohort.n_long_rows == (cohort.pp.exposure > 0).sum() == len(cohort.pp.long_format())


def test_binary_design_collapses():
    c = simulate(3000, seed=1, design="binary", n_intervals=12)
    assert c.n_patterns <= 2**10 < c.n
    st = pem_math.sufficient_stats(c.X, c.pp)
    assert st.X_u.shape[0] == c.n_patterns
    np.testing.assert_allclose(st.E_u.sum(), c.pp.exposure.sum())


def test_simulation_is_reproducible():
    a, b = simulate(100, seed=9), simulate(100, seed=9)
    np.testing.assert_array_equal(a.time, b.time)
    assert a.pp.n_intervals == 10


def _random_points(model, seed):
    rng = np.random.default_rng(seed)
    ip = model.initial_point()
    return [{k: v + rng.normal(scale=0.4, size=np.shape(v)) for k, v in ip.items()} for _ in "ab"]


def test_baseline_equals_unmarginalised_up_to_constant(cohort):
    ours = build_model(cohort.inputs, priors_for(cohort, marginalize=False), warn=False)
    base = build_long_poisson(cohort.inputs, priors_for(cohort, marginalize=False))
    assert {v.name for v in base.free_RVs} == {"log_hr", "baseline_hazard"}
    logp_ours, logp_base = ours.compile_logp(mode=FAST), base.compile_logp(mode=FAST)
    dlogp_base = base.compile_dlogp(mode=FAST)
    const = pem_math.poisson_offset_constant(cohort.pp)
    for pt_ in _random_points(base, 1):
        mapped = {
            "log_hr_normal": pt_["log_hr"],
            "baseline_hazard_log__": pt_["baseline_hazard_log__"],
        }
        assert logp_base(pt_) - logp_ours(mapped) == pytest.approx(const, abs=1e-8)
        assert np.isfinite(dlogp_base(pt_)).all()


def test_raw_baseline_is_a_reparametrisation(cohort):
    """Uncentred covariates: lambda_raw = lambda_centred * exp(-mean(x)' beta), same likelihood."""
    prior = priors_for(cohort, marginalize=False)
    ours = build_model(cohort.inputs, prior, warn=False)
    raw = build_long_poisson(raw_inputs(cohort), prior)
    loglik_ours = ours.compile_fn(ours.logp(vars=ours.potentials), mode=FAST)
    loglik_raw = raw.compile_fn(raw.logp(vars=raw.observed_RVs), mode=FAST)
    beta = np.linspace(-0.5, 0.5, 10)
    lam = np.linspace(0.02, 0.08, cohort.pp.n_intervals)
    lam_raw = lam * np.exp(-cohort.X_raw.mean(axis=0) @ beta)
    const = pem_math.poisson_offset_constant(cohort.pp)
    a = loglik_ours({"log_hr_normal": beta, "baseline_hazard_log__": np.log(lam)})
    b = loglik_raw({"log_hr": beta, "baseline_hazard_log__": np.log(lam_raw)})
    assert b - a == pytest.approx(const, abs=1e-8)


def test_sorted_form_equals_build_model(cohort):
    """The O(n + J) experimental form has the same log-density and gradient as build_model."""
    ours = build_model(cohort.inputs, priors_for(cohort), warn=False)
    fast = build_model_sorted(cohort.inputs, priors_for(cohort))
    f_ours, f_fast = ours.compile_logp(mode=FAST), fast.compile_logp(mode=FAST)
    g_ours, g_fast = ours.compile_dlogp(mode=FAST), fast.compile_dlogp(mode=FAST)
    for pt_ in _random_points(ours, 2):
        assert f_fast(pt_) == pytest.approx(f_ours(pt_), abs=1e-9)
        np.testing.assert_allclose(g_fast(pt_), g_ours(pt_), atol=1e-9)


def test_sweep_settings_are_distinct():
    s = bench_run.sweep_settings(20, 0.05)
    assert len(s) == 20
    assert len({(x["sigma"], x["alpha"], x["beta"]) for x in s}) == 20


def _fake_fit(model, ess_per_s, n=20000):
    return {
        "n": n,
        "design": "mixed",
        "model": model,
        "n_intervals": 20,
        "n_patterns": n,
        "n_long_rows": 12 * n,
        "n_sampled": 10,
        "build_s": 0.1,
        "compile_s": 10.0,
        "sample_s": 10.0,
        "min_ess_all": ess_per_s * 10,
        "min_ess_beta": ess_per_s * 10,
        "ess_per_s": ess_per_s,
        "grad_evals": 30000,
        "mean_depth": 3.0,
        "divergences": 0,
        "compilations": 1,
        "peak_rss_mib": 600.0,
        "chains": 2,
        "draws": 1000,
        "tune": 1000,
        "beta_mean": [0.0] * 10,
        "beta_sd": [1.0] * 10,
        "load_before": 1.0,
    }


def test_report_is_written(tmp_path):
    fits = [_fake_fit("ours", 300.0), _fake_fit("baseline", 30.0), _fake_fit("baseline_raw", 10)]
    refit = {
        "n": 88,
        "cold": {"fit_s": 12.0, "compile_s": 11.5, "sample_s": 0.5},
        "warm_s": [0.3, 0.2],
        "sweep": {
            "k": 20,
            "total_s": 20.0,
            "compile_s": 11.0,
            "sample_s_each": [0.4] * 20,
            "compilations": 1,
            "min_ess_beta": 900.0,
            "max_rhat": 1.004,
            "divergences": 0,
        },
        "refit_api": "test",
        "compilations": 2,
        "pytensor_functions": 10,
        "peak_rss_mib": 500.0,
    }
    res = {
        "date": "today",
        "args": {"draws": 1000, "tune": 1000, "chains": 2, "seed": 1},
        "fits": fits,
        "refit": refit,
        "machine": {"lscpu": "x", "nproc": "2", "free": "", "kernel": "", "python": "3.12"},
        "load_start": 0.5,
        "load_end": 0.6,
        "total_s": 60.0,
    }
    res["machine"]["versions"] = {"pymc": "6"}
    res["targets"] = bench_run.targets(fits, refit)
    res["profile"] = bench_run.profile_text(fits)
    out = tmp_path / "r.md"
    bench_run.write_report(out, res)
    text = out.read_text()
    assert "**30.0×** — met" in text  # vs baseline_raw
    assert "**10.0×** — NOT met" in text  # vs baseline
    assert "(**1.67×**)" in text
    assert text.count("| 20,000 | mixed |") == 6  # fits table + profile table


def test_whole_process_cohort_files_validate_and_report_renders(tmp_path):
    """whole_process.py: the written CSV + spec pass validation; the tables render."""
    import whole_process as wp

    from necc_bayes.survival.inputs import check_inputs

    spec, csv = wp.write_cohort(300, tmp_path)
    checked = check_inputs(spec, csv)
    assert checked.cohort.n == 300 and len(checked.cohort.design.terms) == 10
    assert checked.person_period.n_intervals == 10
    stage = {k: 1.0 for k, _ in wp.STAGES} | {
        "wall_s": 20.0,
        "in_process_s": 19.0,
        "min_ess": 800.0,
        "peak_rss_mib": 500.0,
    }
    res = {
        "date": "today",
        "load_start": 1.0,
        "load_end": 1.0,
        "sizes": {
            "88": {"cold": stage, "warm": stage, "files": ["a"], "lifelines": {"wall_s": 5.0}},
            "20000": {
                "cold": stage,
                "warm": stage,
                "files": ["a"],
                "long_format": {"wall_s": 100.0, "sampling_s": 90.0, "min_ess": 100.0},
            },
            "1000000": {
                "cold": stage | {"exit_code": 0},
                "files": ["a", "b"],
                "diagnostics_passed": True,
            },
        },
    }
    res["targets"] = wp.targets(res)
    assert "**4.0×**" in res["targets"][0]  # 20 s / 5 s
    assert "**40.0×**" in res["targets"][1]  # (800 / 20) / (100 / 100)
    assert "met" in res["targets"][-1] and "NOT met" not in res["targets"][-1]
    res["sizes"]["1000000"]["diagnostics_passed"] = False  # within time and memory, R-hat bad
    assert "diagnostics FAILED" in wp.targets(res)[-1] and "NOT met" in wp.targets(res)[-1]
    text = "\n".join(wp.markdown(res))
    assert "| **whole process (wall)** | 20.0 |" in text
