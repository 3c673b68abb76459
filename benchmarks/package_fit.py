"""The package's own fitting path at benchmark size: ``sampling.sample_posterior``.

``pm.sample(nuts_sampler="nutpie")`` (compilation included) plus everything
``add_posterior_quantities`` adds (conditional baseline draws, per-subject log-likelihood for
LOO, log prior, data groups). Run in its own process by ``run.py`` to measure what a user's
``necc-bayes fit`` costs in time and peak memory at n = 20,000.
"""

from __future__ import annotations

import time


def run_package(job: dict) -> dict:
    import arviz as az
    from simulate import priors_for, simulate

    from necc_bayes.spec.settings import SamplerSettings
    from necc_bayes.survival.sampling import sample_posterior

    cohort = simulate(job["n"], seed=job["seed"], design=job["design"])
    t0 = time.perf_counter()
    settings = SamplerSettings(
        draws=job["draws"],
        tune=job["tune"],
        chains=job["chains"],
        cores=job["chains"],
        seed=job["seed"],
    )
    tree = sample_posterior(cohort.inputs, priors_for(cohort), settings, progressbar=False)
    wall = time.perf_counter() - t0
    post = tree["posterior"].to_dataset()
    ess = az.ess(post[["log_hr", "baseline_hazard"]], method="bulk")
    ll = tree["log_likelihood"].to_dataset()["survival"]
    return {
        **job,
        "wall_s": wall,
        "min_ess_all": float(min(ess["log_hr"].min(), ess["baseline_hazard"].min())),
        "log_likelihood_mib": ll.size * ll.dtype.itemsize / 2**20,
        "groups": sorted(tree.children),
    }
