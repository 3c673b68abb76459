"""Sampling and post-sampling steps of the PEM.

Fast tests run the post-sampling steps on hand-made posteriors (no NUTS); the ones marked
``slow`` sample with fixed seeds and small draws.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from necc_bayes.errors import SparseDataWarning
from necc_bayes.spec.baseline_priors import GammaBaseline, RandomWalkBaseline, resolve_baseline
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival import likelihood as pem_math
from necc_bayes.survival.intervals import expand, quantile_cuts
from necc_bayes.survival.model import PEMInputs, PEMPriors, build_model
from necc_bayes.survival.sampling import (
    add_posterior_quantities,
    baseline_rng,
    provenance_attrs,
    sample_posterior,
)

TERMS = ["x1", "x2"]


def cohort(seed: int, n: int, grid: bool) -> PEMInputs:
    """Simulated cohort (months): x1 ~ Bernoulli(0.5), x2 ~ N(0, 1), log-HR (0.7, -0.4).

    ``grid=True``: the 3-month grid of issue 11 (seed 0, n = 40 leaves 5 of 13 intervals
    without events); ``grid=False``: 4 intervals at event-time quantiles (events in each).
    """
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    t = rng.exponential(14.0, n) * np.exp(-(X @ np.array([0.7, -0.4])))
    c = rng.uniform(6, 40, n)
    time, event = np.minimum(t, c), (t <= c).astype(int)
    cuts = np.arange(3.0, time.max(), 3.0) if grid else quantile_cuts(time, event, 4)
    return PEMInputs(X - X.mean(0), TERMS, expand(time, event, cuts))


def normal_priors(baseline) -> PEMPriors:
    return PEMPriors({t: NormalPrior(sigma=2.5) for t in TERMS}, [], baseline)


def fake_posterior(beta: np.ndarray, chains: int, draws: int) -> xr.DataTree:
    """A posterior holding the same beta in every draw (what pm.sample would return)."""
    arr = np.broadcast_to(beta, (chains, draws, beta.size)).copy()
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    post = xr.Dataset(
        {
            "log_hr_normal": (("chain", "draw", "term_normal"), arr),
            "log_hr": (("chain", "draw", "term"), arr),
        },
        coords={**coords, "term_normal": TERMS, "term": TERMS},
    )
    return xr.DataTree.from_dict({"posterior": post})


def test_conditional_baseline_draws_match_gamma():
    """lambda_j draws at a fixed beta ~ Gamma(a + d_j, b + S_j(beta)): KS test, p > 1e-3.

    Reference: scipy.stats.gamma with shape a + d_j and rate b + S_j(beta) (S_j from
    pem_math, checked against the uncollapsed sum in test_pem_math.py).
    """
    inputs = cohort(0, 40, grid=True)
    priors = normal_priors(GammaBaseline(alpha=0.5, beta=2.0))
    model = build_model(inputs, priors, warn=False)
    beta0 = np.array([0.3, -0.2])
    idata = add_posterior_quantities(fake_posterior(beta0, 4, 1000), model, inputs, priors, seed=7)
    lam = idata["posterior"]["baseline_hazard"].to_numpy().reshape(4000, -1)
    st = pem_math.sufficient_stats(inputs.X, inputs.pp)
    S = pem_math.cumulative_exposure(beta0, st)
    for j in range(inputs.pp.n_intervals):
        ref = stats.gamma(0.5 + st.d[j], scale=1.0 / (2.0 + S[j]))
        assert stats.kstest(lam[:, j], ref.cdf).pvalue > 1e-3
    again = add_posterior_quantities(fake_posterior(beta0, 4, 1000), model, inputs, priors, seed=7)
    xr.testing.assert_equal(again["posterior"].to_dataset(), idata["posterior"].to_dataset())
    expected = pem_math.draw_baseline(
        np.broadcast_to(beta0, (4, 1000, 2)), 0.5, 2.0, st, baseline_rng(7)
    )
    np.testing.assert_array_equal(idata["posterior"]["baseline_hazard"].to_numpy(), expected)


def test_post_sampling_groups():
    """log_likelihood sums to the compact log-likelihood; data groups and dims are present."""
    inputs = cohort(1, 30, grid=False)
    priors = normal_priors(GammaBaseline(alpha=1.0, beta=10.0))
    model = build_model(inputs, priors)
    post = fake_posterior(np.array([0.5, 0.1]), 2, 5)
    idata = add_posterior_quantities(post, model, inputs, priors, seed=1)
    assert "baseline_hazard" not in post["posterior"].data_vars  # input not modified
    ll = idata["log_likelihood"]["survival"]
    assert ll.dims == ("chain", "draw", "subject")
    lam = idata["posterior"]["baseline_hazard"].to_numpy()
    st = pem_math.sufficient_stats(inputs.X, inputs.pp)
    total = pem_math.loglik_conditional(np.array([0.5, 0.1]), lam, st)
    np.testing.assert_allclose(ll.sum("subject").to_numpy(), total, rtol=1e-10)
    assert idata["posterior"]["baseline_hazard"].dims == ("chain", "draw", "interval")
    assert set(idata["log_prior"].data_vars) == {"log_hr_normal"}
    obs = idata["observed_data"]
    np.testing.assert_allclose(obs["time"], inputs.time)
    np.testing.assert_array_equal(obs["event"], inputs.pp.event)
    const = idata["constant_data"]
    for name in ("X", "cuts", "interval_start", "interval_end", "events_per_interval"):
        assert name in const.data_vars
    assert int(const["events_per_interval"].sum()) == int(inputs.pp.event.sum())


def test_provenance_attrs():
    attrs = provenance_attrs(sampler="nutpie", seed=3, draws=10)
    assert attrs["sampler"] == "nutpie" and attrs["seed"] == 3 and attrs["draws"] == 10
    for pkg in ("pymc", "pytensor", "arviz", "nutpie", "numpy", "necc_bayes"):
        assert isinstance(attrs[f"version_{pkg}"], str)
    assert attrs["version_pymc"].startswith("6.")


def test_unknown_sampler_refused():
    """The sampler settings refuse an unknown NUTS implementation before anything is built."""
    with pytest.raises(ValueError, match="sampler"):
        SamplerSettings(sampler="numpyro")  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["nutpie", "pymc"])
def test_same_seed_identical_draws(sampler, tmp_path):
    """Same seed -> bit-identical posterior, baseline draws and log-likelihood."""
    inputs = cohort(2, 50, grid=False)
    priors = normal_priors(GammaBaseline(alpha=1.0, beta=10.0))
    s = SamplerSettings(draws=50, tune=50, chains=2, sampler=sampler, seed=11)
    a = sample_posterior(inputs, priors, s, progressbar=False)
    b = sample_posterior(inputs, priors, s, progressbar=False)
    c = sample_posterior(inputs, priors, s.model_copy(update={"seed": 12}), progressbar=False)
    for group in ("posterior", "log_likelihood"):
        xr.testing.assert_equal(a[group].to_dataset(), b[group].to_dataset())
    assert not np.array_equal(a["posterior"]["log_hr"], c["posterior"]["log_hr"])
    assert a.attrs["sampler"] == sampler and a.attrs["seed"] == 11
    path = tmp_path / "posterior.nc"
    a.to_netcdf(path)
    back = xr.open_datatree(path)
    np.testing.assert_array_equal(back["posterior"]["log_hr"], a["posterior"]["log_hr"])
    assert back.attrs["version_pymc"] == a.attrs["version_pymc"]
    back.close()


def _diagnostics(idata, var_names):
    rhat = az.rhat(idata, var_names=var_names)
    ess_b = az.ess(idata, var_names=var_names, method="bulk")
    ess_t = az.ess(idata, var_names=var_names, method="tail")
    return (
        max(float(rhat[v].max()) for v in var_names),
        min(float(ess_b[v].min()) for v in var_names),
        min(float(ess_t[v].min()) for v in var_names),
        int(idata["sample_stats"]["diverging"].sum()),
    )


@pytest.mark.slow
def test_marginalised_and_unmarginalised_agree_when_every_interval_has_events():
    """Both gamma parameterisations give the same posterior on dense data (n = 150, 4
    quantile intervals). Tolerance: means within 4 combined MCSEs
    (sqrt(mcse_1^2 + mcse_2^2)), SDs within 10%, for log_hr and baseline_hazard.
    """
    inputs = cohort(3, 150, grid=False)
    assert inputs.pp.events_per_interval.min() >= 10
    fits = {}
    for marginalize in (True, False):
        base = GammaBaseline(alpha=0.01, beta=0.01, marginalize=marginalize)
        fits[marginalize] = sample_posterior(
            inputs,
            normal_priors(base),
            SamplerSettings(draws=1000, tune=1000, chains=4, seed=5),
            progressbar=False,
        )
        rhat, ess_b, _, div = _diagnostics(fits[marginalize], ["log_hr", "baseline_hazard"])
        assert rhat < 1.01 and ess_b > 400 and div == 0
    for var in ("log_hr", "baseline_hazard"):
        m = {k: f["posterior"][var].mean(("chain", "draw")) for k, f in fits.items()}
        s = {k: f["posterior"][var].std(("chain", "draw")) for k, f in fits.items()}
        se = {k: az.mcse(f, var_names=[var])[var] for k, f in fits.items()}
        z = (m[True] - m[False]) / np.sqrt(se[True] ** 2 + se[False] ** 2)
        assert float(abs(z).max()) < 4, f"{var}: z = {z.to_numpy()}"
        np.testing.assert_allclose(s[True], s[False], rtol=0.1)


@pytest.mark.slow
def test_random_walk_passes_diagnostics_on_sparse_case():
    """The non-centred random-walk baseline on issue 11's sparse case: R-hat < 1.01, bulk
    and tail ESS >= 400, no divergences, E-BFMI >= 0.3 (the thresholds of diagnostics.json).
    """
    inputs = cohort(0, 40, grid=True)
    assert (inputs.pp.events_per_interval == 0).sum() >= 5
    crude = inputs.pp.event.sum() / inputs.time.sum()
    # the smoothing scale as a fit resolves it: sigma_scale = 1 / sqrt(T) (T = largest follow-up)
    baseline = resolve_baseline(RandomWalkBaseline(), crude, float(inputs.time.max()))
    priors = normal_priors(baseline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseDataWarning)
        idata = sample_posterior(
            inputs,
            priors,
            SamplerSettings(draws=1000, tune=1000, chains=4, seed=20260101),
            progressbar=False,
        )
    names = ["log_hr", "baseline_hazard", "baseline_sigma", "baseline_z0", "baseline_z"]
    rhat, ess_b, ess_t, div = _diagnostics(idata, names)
    assert rhat < 1.01, rhat
    assert min(ess_b, ess_t) >= 400, (ess_b, ess_t)
    assert div == 0
    assert float(az.bfmi(idata["sample_stats"].to_dataset())["energy"].min()) >= 0.3


def test_log_likelihood_optional():
    inputs = cohort(1, 30, grid=False)
    priors = normal_priors(GammaBaseline(alpha=1.0, beta=10.0))
    model = build_model(inputs, priors)
    post = fake_posterior(np.array([0.5, 0.1]), 2, 5)
    idata = add_posterior_quantities(post, model, inputs, priors, seed=1, log_likelihood=False)
    assert "log_likelihood" not in idata.children
    assert "baseline_hazard" in idata["posterior"].data_vars
