"""Compile-once refits and the task executor.

Fast tests check structure keys, the pm.Data values of a refit and the executor plumbing
(serial, worker processes, Dask LocalCluster) with trivial functions; the slow ones sample.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from necc_bayes.spec.baseline_priors import GammaBaseline, RandomWalkBaseline, resolve_baseline
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival.fit import model_inputs, model_priors, resolve_spec
from necc_bayes.survival.inputs import check_inputs
from necc_bayes.survival.intervals import expand, quantile_cuts
from necc_bayes.survival.model import PEMInputs, build_model
from necc_bayes.survival.refit import (
    ModelCache,
    compile_count,
    data_values,
    nutpie_seed,
    structure_key,
)
from necc_bayes.survival.sampling import sample_posterior
from necc_bayes.workflows.executor import RunStats, run_tasks

SPEC = "models/prs_final.toml"
DATA = "data/synthetic/necc_synthetic_cohort.csv"


@pytest.fixture(scope="module")
def base():
    checked = check_inputs(SPEC, DATA)
    return model_inputs(checked), model_priors(resolve_spec(checked))


def with_sd(priors, sd: float):
    return replace(priors, coefficients={t: NormalPrior(sigma=sd) for t in priors.coefficients})


def with_cuts(inputs: PEMInputs, k: int) -> PEMInputs:
    time, event = inputs.time, inputs.pp.event
    return PEMInputs(inputs.X, inputs.terms, expand(time, event, quantile_cuts(time, event, k)))


def test_structure_key_ignores_hyperparameters_and_marginal_interval_count(base):
    inputs, priors = base
    key = structure_key(inputs, priors)
    assert structure_key(inputs, with_sd(priors, 10.0)) == key
    vague = replace(priors, baseline=GammaBaseline(alpha=0.01, beta=0.01))
    assert structure_key(inputs, vague) == key
    # integrated-out baseline: J is data
    assert structure_key(with_cuts(inputs, 8), priors) == key


def test_structure_key_changes_with_structure(base):
    inputs, priors = base
    key = structure_key(inputs, priors)
    rw = replace(priors, baseline=resolve_baseline(RandomWalkBaseline(), 0.03))
    assert structure_key(inputs, rw) != key
    # sampled baseline rates: J is structure
    assert structure_key(with_cuts(inputs, 8), rw) != structure_key(inputs, rw)
    one = PEMInputs(inputs.X[:, :1], inputs.terms[:1], inputs.pp)
    one_priors = replace(priors, coefficients={inputs.terms[0]: NormalPrior()})
    assert structure_key(one, one_priors) != key


def test_data_values_are_the_models_pm_data(base):
    inputs, priors = base
    values = data_values(build_model(inputs, with_sd(priors, 0.5), warn=False))
    assert set(values) == {
        "X_u",
        "E_u",
        "d",
        "s",
        "normal_mu",
        "normal_sigma",
        "baseline_alpha",
        "baseline_beta",
    }
    np.testing.assert_array_equal(values["normal_sigma"], [0.5, 0.5])
    assert values["E_u"].shape[1] == inputs.pp.n_intervals


def test_nutpie_seed_is_what_pymc_passes():
    # pymc.sampling.mcmc: rngs = get_random_generator(seed).spawn(chains); nutpie gets
    # rngs[0].integers(2**30)
    rng = np.random.default_rng(7).spawn(4)[0]
    assert nutpie_seed(7, 4) == int(rng.integers(2**30))


# ----------------------------------------------------------------------------- executor


def test_serial_executor_order_callbacks_and_stats():
    seen = []
    stats = RunStats(scheduler="")
    out = run_tasks(
        math.sqrt, [4.0, 9.0, 16.0], on_result=lambda i, v: seen.append((i, v)), stats=stats
    )
    assert out == [2.0, 3.0, 4.0]
    assert sorted(seen) == [(0, 2.0), (1, 3.0), (2, 4.0)]
    assert (stats.scheduler, stats.n_tasks, stats.compilations, stats.workers) == (
        "serial",
        3,
        0,
        1,
    )
    assert run_tasks(math.sqrt, []) == []


def test_process_executor_keeps_task_order():
    stats = RunStats(scheduler="")
    out = run_tasks(
        math.sqrt, [1.0, 4.0, 9.0, 16.0], scheduler="processes", n_workers=2, stats=stats
    )
    assert out == [1.0, 2.0, 3.0, 4.0]
    assert stats.scheduler == "processes" and 1 <= stats.workers <= 2
    assert stats.compilations == 0


def test_dask_executor_on_local_cluster():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        stats = RunStats(scheduler="")
        out = run_tasks(math.sqrt, [4.0, 25.0], scheduler=client, stats=stats)
        assert out == [2.0, 5.0]
        assert stats.scheduler == "dask" and stats.n_tasks == 2
        # by address, as `--scheduler ADDRESS` does
        assert run_tasks(math.sqrt, [36.0], scheduler=cluster.scheduler_address) == [6.0]


# ----------------------------------------------------------------------------- sampling


@pytest.mark.slow
def test_refit_reproduces_sample_posterior_and_compiles_once(base):
    inputs, priors = base
    settings = SamplerSettings(draws=200, tune=200, chains=2)
    cache = ModelCache()
    before = compile_count()
    sds = (0.5, 1.5, 5.0)
    trees = [cache.sample(inputs, with_sd(priors, sd), seed=11, settings=settings) for sd in sds]
    assert cache.n_compilations == 1
    assert compile_count() - before == 1
    assert trees[-1].attrs["refit_compilations"] == compile_count()
    # a warm refit equals a fresh compile-and-sample with the same seed, bit for bit
    ref = sample_posterior(
        inputs,
        with_sd(priors, 5.0),
        SamplerSettings(draws=200, tune=200, chains=2, seed=11),
        progressbar=False,
    )
    for group, var in [
        ("posterior", "log_hr"),
        ("posterior", "baseline_hazard"),
        ("log_likelihood", "survival"),
        ("log_prior", "log_hr_normal"),
    ]:
        np.testing.assert_array_equal(trees[-1][group][var].to_numpy(), ref[group][var].to_numpy())
    # the prior's hyperparameters are recorded per refit
    np.testing.assert_array_equal(trees[0]["constant_data"]["normal_sigma"].to_numpy(), [0.5, 0.5])
    # different data shapes (cuts, dropped rows) still reuse the compiled model
    time, event = inputs.time[5:], inputs.pp.event[5:]
    fewer = PEMInputs(
        inputs.X[5:], inputs.terms, expand(time, event, quantile_cuts(time, event, 3))
    )
    tree = cache.sample(fewer, priors, seed=11, settings=settings)
    assert cache.n_compilations == 1
    assert tree["posterior"].sizes["draw"] == 200
    assert list(tree["posterior"]["interval"].to_numpy()) == list(
        tree["constant_data"]["interval"].to_numpy()
    )
    assert tree["log_likelihood"].sizes["subject"] == 83
    # another structure is refused, not silently mis-sampled
    rw = replace(priors, baseline=resolve_baseline(RandomWalkBaseline(), 0.03))
    with pytest.raises(ValueError, match="structure"):
        cache.get(inputs, priors).values_for(inputs, rw)
