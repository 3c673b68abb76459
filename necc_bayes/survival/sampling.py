"""Sampling the PEM: sampler choice, seeds, post-sampling steps, reproducibility metadata.

:func:`sample_posterior` runs NUTS (nutpie by default, PyMC's own NUTS as the alternative)
on the model from :func:`~necc_bayes.survival.model.build_model` and then
:func:`add_posterior_quantities` completes the returned DataTree:

* ``posterior/baseline_hazard`` (chain, draw, interval) for the marginalised gamma baseline:
  one draw of ``lambda_j ~ Gamma(a + d_j, b + S_j(beta))`` per posterior draw of ``beta``,
  from ``numpy.random.default_rng([seed, BASELINE_STREAM])`` (reproducible from the seed);
* ``log_likelihood/survival`` (chain, draw, subject): per-subject log-likelihood at the
  ``(beta, lambda)`` draws (``pem_math.pointwise_loglik``), for LOO;
* ``log_prior``: element-wise log prior densities of the sampled parameters (for
  ``arviz.psense``; with the marginalised baseline its gamma prior is part of the
  likelihood, not of ``log_prior``);
* ``observed_data``: ``time``, ``event`` (subject); ``constant_data``: the model's
  ``pm.Data`` plus ``X`` (subject, term), ``cuts`` (cut), ``interval_start``,
  ``interval_end``, ``events_per_interval``, ``at_risk`` (interval);
* ``attrs``: ``sampler``, ``seed``, draws/tune/chains, and package versions
  (:func:`provenance_attrs`).

Same seed, data and priors give identical draws with either sampler, whether the model was
compiled in this process or loaded from the persistent compile cache
(:mod:`necc_bayes.inference.compile_cache`: nutpie's model is compiled once per structure;
every pytensor function is compiled with fast-math off).
"""

from __future__ import annotations

import importlib.metadata
import os
import time
from collections.abc import Iterator

import numpy as np
import pymc as pm
import xarray as xr

from necc_bayes._runstate import announce, raise_if_interrupted
from necc_bayes._version import __version__
from necc_bayes.inference.compile_cache import compile_model, deterministic_numba
from necc_bayes.inference.completeness import check_complete
from necc_bayes.spec.baseline_priors import GammaBaseline, GammaProcessBaseline, RandomWalkBaseline
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival import likelihood as pem_math
from necc_bayes.survival.model import (
    PEMInputs,
    PEMPriors,
    build_model,
    interval_labels,
    is_marginalized,
)

LOGLIK_STORE_MAX = 25_000_000
"""Largest per-subject log-likelihood (draws x subjects values: 200 MB) a fit stores; above it
the ``log_likelihood`` group is left out and PSIS-LOO is computed from the posterior in blocks
of subjects (:func:`log_likelihood_blocks`): 4,000 draws x 1,000,000 subjects would be 32 GB."""

BASELINE_STREAM = 1
"""Second entry of the seed sequence used for the conditional baseline draws."""

VERSIONED_PACKAGES = ("pymc", "pytensor", "arviz", "nutpie", "numpy", "xarray", "scipy")


def package_versions() -> dict[str, str]:
    """Return the versions of the packages a fit depends on, plus ``necc_bayes``."""
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["necc_bayes"] = __version__
    return out


def provenance_attrs(*, sampler: str, seed: int, **settings: int | float) -> dict[str, object]:
    """Attributes recording how a posterior was produced.

    Parameters
    ----------
    sampler : str
        ``"nutpie"`` or ``"pymc"``.
    seed : int
        The integer seed given to the sampler.
    **settings
        Further sampler settings to record (draws, tune, chains, target_accept).

    Returns
    -------
    dict
        ``sampler``, ``seed``, each setting, and ``version_<package>`` for every package in
        :func:`package_versions` (flat scalars, so they survive ``to_netcdf``).
    """
    attrs: dict[str, object] = {"sampler": sampler, "seed": int(seed), **settings}
    attrs.update({f"version_{k}": v for k, v in package_versions().items()})
    return attrs


def default_target_accept(priors: PEMPriors) -> float:
    """Return the default NUTS target acceptance rate for these priors.

    0.9, except 0.95 for the random-walk baseline: on a 40-subject cohort with 5 of 13
    intervals empty (issue 11's sparse case) 0.9 left 3-5 divergences in 2 of 3 seeds
    (4 x 1000 draws), 0.95 and 0.99 none; with the Brownian-motion random walk of 0.2
    (``sigma_scale = 1 / sqrt(T)``) 0.95 left 0, 0 and 1 divergences in 3 seeds, 0.99 none.
    """
    return 0.95 if isinstance(priors.baseline, RandomWalkBaseline) else 0.9


def baseline_rng(seed: int) -> np.random.Generator:
    """Return the generator for the conditional baseline draws derived from ``seed``."""
    return np.random.default_rng([int(seed), BASELINE_STREAM])


def sample_posterior(
    inputs: PEMInputs,
    priors: PEMPriors,
    settings: SamplerSettings | None = None,
    *,
    model: pm.Model | None = None,
    progressbar: bool = True,
    log_likelihood: bool = True,
) -> xr.DataTree:
    """Sample the PEM posterior and return a complete DataTree.

    Parameters
    ----------
    inputs : PEMInputs
        Design matrix, terms, person-period expansion, ids.
    priors : PEMPriors
        Resolved priors.
    settings : SamplerSettings, optional
        Draws, tune, chains, seed, sampler (nutpie or PyMC's NUTS), target acceptance rate
        (``None``: :func:`default_target_accept`) and cores; the spec's ``[sampler]`` section.
    model : pymc.Model, optional
        A model built by ``build_model(inputs, priors)`` (for instance one whose ``pm.Data``
        was changed with ``pm.set_data`` in a sweep: pass the matching ``inputs`` and
        ``priors``). Built here when absent.
    progressbar : bool
        Show the sampler's progress bar.
    log_likelihood : bool
        Store the per-subject log-likelihood (``draws x chains x n`` floats: 640 MB for
        4 x 1000 draws at n = 20,000; switch off for large cohorts when LOO is not needed).

    Returns
    -------
    xarray.DataTree
        Groups ``posterior``, ``sample_stats``, ``log_likelihood``, ``log_prior``,
        ``observed_data``, ``constant_data``; attrs from :func:`provenance_attrs`.
    """
    s = resolve_settings(settings or SamplerSettings(), priors)
    model = build_model(inputs, priors) if model is None else model
    if model.free_RVs and s.sampler == "nutpie":
        idata = _sample_nutpie(model, s, progressbar=progressbar)
    elif model.free_RVs:
        announce("compile")  # test-only hook (necc_bayes._runstate): no effect otherwise
        with model, deterministic_numba():
            idata = pm.sample(
                draws=s.draws,
                tune=s.tune,
                chains=s.chains,
                cores=s.cores,
                random_seed=int(s.seed),
                nuts_sampler=s.sampler,
                nuts={"target_accept": s.target_accept},
                progressbar=progressbar,
                compute_convergence_checks=False,
            )
    else:
        idata = _no_free_parameters(draws=s.draws, chains=s.chains)
    raise_if_interrupted()  # before the checks: a Ctrl-C the sampler swallowed is a Ctrl-C
    check_complete(idata, s.draws, s.chains)  # an interrupted sampler returns NaN-padded
    idata = add_posterior_quantities(
        idata, model, inputs, priors, seed=s.seed, log_likelihood=log_likelihood
    )
    idata.attrs.update(settings_attrs(s))
    return idata


def resolve_settings(settings: SamplerSettings, priors: PEMPriors) -> SamplerSettings:
    """Return ``settings`` with ``target_accept`` made explicit for these priors."""
    if settings.target_accept is not None:
        return settings
    return settings.model_copy(update={"target_accept": default_target_accept(priors)})


def settings_attrs(settings: SamplerSettings) -> dict[str, object]:
    """The provenance attributes of a posterior sampled with ``settings``."""
    return provenance_attrs(
        sampler=settings.sampler,
        seed=settings.seed,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        target_accept=float(settings.target_accept or 0.0),
    )


def nutpie_seed(seed: int, chains: int) -> int:
    """The seed ``pm.sample(random_seed=seed, nuts_sampler="nutpie")`` hands to nutpie.

    PyMC spawns one generator per chain from ``seed`` and gives nutpie the first one's draw;
    doing the same keeps the draws of a seed what ``pm.sample`` gave, in fits and refits.
    """
    rngs = np.random.default_rng(int(seed)).spawn(chains)
    return int(rngs[0].integers(2**30))


def _sample_nutpie(model: pm.Model, s: SamplerSettings, *, progressbar: bool) -> xr.DataTree:
    """``pm.sample(nuts_sampler="nutpie")`` with the model from the persistent compile cache."""
    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata

    announce("compile")  # test-only phase hooks (necc_bayes._runstate): no effect otherwise
    compiled = compile_model(model).compiled
    raise_if_interrupted()  # a Ctrl-C swallowed inside numba/LLVM while compiling stops here
    announce("sample")
    start = time.time()
    idata = nutpie.sample(
        compiled,
        draws=s.draws,
        tune=max(s.tune, 1),  # as pm.sample: nuts-rs needs at least one tuning step
        chains=s.chains,
        cores=s.cores if s.cores is not None else min(4, os.cpu_count() or 1),  # pm.sample's
        seed=nutpie_seed(s.seed, s.chains),
        target_accept=s.target_accept,
        save_warmup=False,
        progress_bar=progressbar,
    )
    patch_nutpie_idata(idata, model, sampling_time=time.time() - start)
    return idata


def _no_free_parameters(*, draws: int, chains: int) -> xr.DataTree:
    """Posterior of a model with nothing to sample (no covariates, marginalised baseline)."""
    coords = {"chain": np.arange(chains), "draw": np.arange(draws), "term": []}
    post = xr.Dataset(
        {
            "log_hr": (("chain", "draw", "term"), np.zeros((chains, draws, 0))),
            "hr": (("chain", "draw", "term"), np.zeros((chains, draws, 0))),
        },
        coords=coords,
    )
    return xr.DataTree.from_dict({"posterior": post})


def add_posterior_quantities(
    idata: xr.DataTree,
    model: pm.Model,
    inputs: PEMInputs,
    priors: PEMPriors,
    *,
    seed: int,
    log_likelihood: bool = True,
) -> xr.DataTree:
    """Add the conditional baseline draws, log-likelihood, log-prior and data groups.

    Parameters
    ----------
    idata : xarray.DataTree
        Output of ``pm.sample`` on ``model`` (posterior with ``log_hr``).
    model : pymc.Model
        The sampled model.
    inputs, priors : PEMInputs, PEMPriors
        What the model was built from.
    seed : int
        Sampling seed; the baseline draws use :func:`baseline_rng`.
    log_likelihood : bool
        Add the ``log_likelihood`` group.

    Returns
    -------
    xarray.DataTree
        A new tree (``idata`` is not modified).
    """
    idata = add_baseline_draws(idata, inputs, priors, seed=seed)
    post = idata["posterior"].to_dataset()
    if log_likelihood:
        _add_log_likelihood(
            idata,
            inputs,
            post["log_hr"].transpose("chain", "draw", "term").to_numpy(),
            post["baseline_hazard"],
            _optional_draws(post, "log_hr_dev", ("term_tv", "interval")),
            _optional_draws(post, "frailty", ("cluster",)),
        )
    if model.free_RVs:
        with deterministic_numba():
            idata = pm.stats.compute_log_prior(idata, model=model, progressbar=False)
    _add_data_groups(idata, inputs)
    return idata


def stores_log_likelihood(n_subjects: int, n_draws: int) -> bool:
    """Whether a fit of ``n_subjects`` with ``n_draws`` draws in all stores its log-likelihood."""
    return n_subjects * n_draws <= LOGLIK_STORE_MAX


def log_likelihood_blocks(
    idata: xr.DataTree, inputs: PEMInputs, *, block: int = 2048
) -> Iterator[np.ndarray]:
    """The per-subject log-likelihood of a fit, ``block`` subjects at a time.

    Yields ``(draws, m)`` arrays (draws chain-major, as the stored group flattened) for
    consecutive subjects, computed from the posterior draws like the ``log_likelihood`` group
    is: what :func:`~necc_bayes.inference.loo.loo_from_blocks` needs when the group is not stored.
    """
    post = idata["posterior"].to_dataset()
    beta = post["log_hr"].transpose("chain", "draw", "term").to_numpy()
    k = beta.shape[0] * beta.shape[1]
    baseline = post["baseline_hazard"]
    order = ("chain", "draw", "stratum", "interval") if "stratum" in baseline.dims else None
    lam = baseline.transpose(*(order or ("chain", "draw", "interval"))).to_numpy()
    dev = _optional_draws(post, "log_hr_dev", ("term_tv", "interval"))
    frailty = _optional_draws(post, "frailty", ("cluster",))
    n = inputs.X.shape[0]
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        yield pem_math.pointwise_loglik(
            beta.reshape(k, -1),
            lam.reshape(k, *lam.shape[2:]),
            inputs.X[rows],
            inputs.pp.subset(rows),
            strata=None if inputs.strata is None else inputs.strata[rows],
            dev=None if dev is None else dev.reshape(k, *dev.shape[2:]),
            tv_index=inputs.tv_index,
            frailty=None if frailty is None else frailty.reshape(k, -1),
            clusters=None if inputs.clusters is None else inputs.clusters[rows],
        )


def _optional_draws(post: xr.Dataset, name: str, dims: tuple[str, ...]) -> np.ndarray | None:
    """``post[name]`` as ``(chain, draw, *dims)`` numbers, or None when the model has none."""
    if name not in post:
        return None
    return post[name].transpose("chain", "draw", *dims).to_numpy()


def add_baseline_draws(
    idata: xr.DataTree, inputs: PEMInputs, priors: PEMPriors, *, seed: int
) -> xr.DataTree:
    """Add ``posterior/baseline_hazard`` for a marginalised gamma baseline (a new tree).

    One draw of ``lambda_sj ~ Gamma(a_j + d_sj, b_j + S_sj)`` per posterior draw of the
    linear predictor's parameters, from :func:`baseline_rng` (reproducible from the seed).
    Without marginalisation the rates were sampled and ``idata`` is returned as a copy.
    """
    idata = idata.copy()
    if not is_marginalized(priors):
        return idata
    base = priors.baseline
    assert isinstance(base, GammaBaseline | GammaProcessBaseline)
    post = idata["posterior"].to_dataset()
    stats = inputs.stats()
    a, b = base.shape_rate(inputs.pp.widths)
    lam = pem_math.draw_baseline(
        post["log_hr"].transpose("chain", "draw", "term").to_numpy(),
        a,
        b,
        stats,
        baseline_rng(seed),
        dev=_optional_draws(post, "log_hr_dev", ("term_tv", "interval")),
        frailty=_optional_draws(post, "frailty", ("cluster",)),
        tv_index=inputs.tv_index,
    )
    dims: tuple[str, ...] = ("chain", "draw", "interval")
    coords: dict[str, list[str]] = {"interval": interval_labels(inputs.pp)}
    if stats.stratified:
        dims = ("chain", "draw", "stratum", "interval")
        coords["stratum"] = list(inputs.strata_labels)
    post["baseline_hazard"] = xr.DataArray(lam, dims=dims, coords=coords)
    idata["posterior"] = xr.DataTree(post)
    return idata


def _add_log_likelihood(
    idata: xr.DataTree,
    inputs: PEMInputs,
    beta: np.ndarray,
    baseline: xr.DataArray,
    dev: np.ndarray | None,
    frailty: np.ndarray | None,
) -> None:
    n_chain, n_draw = beta.shape[:2]
    k = n_chain * n_draw
    order = ("chain", "draw", "stratum", "interval") if "stratum" in baseline.dims else None
    lam = baseline.transpose(*(order or ("chain", "draw", "interval"))).to_numpy()
    ll = pem_math.pointwise_loglik(
        beta.reshape(k, -1),
        lam.reshape(k, *lam.shape[2:]),
        inputs.X,
        inputs.pp,
        strata=inputs.strata,
        dev=None if dev is None else dev.reshape(k, *dev.shape[2:]),
        tv_index=inputs.tv_index,
        frailty=None if frailty is None else frailty.reshape(k, -1),
        clusters=inputs.clusters,
    ).reshape(n_chain, n_draw, -1)
    if inputs.imputation is not None:
        # rows with missing covariates: log p(y_i | x_i,obs), the model's own deterministic
        inc = inputs.imputation.incomplete
        ll[:, :, inc] = (
            idata["posterior"]["loglik_incomplete"]
            .transpose("chain", "draw", ...)
            .to_numpy()
            .reshape(n_chain, n_draw, -1)
        )
    idata["log_likelihood"] = xr.DataTree(
        xr.Dataset(
            {"survival": (("chain", "draw", "subject"), ll)},
            coords={
                "chain": baseline["chain"],
                "draw": baseline["draw"],
                "subject": inputs.subject_ids,
            },
        )
    )


def _add_data_groups(idata: xr.DataTree, inputs: PEMInputs) -> None:
    pp = inputs.pp
    subj = {"subject": inputs.subject_ids}
    observed = {
        "time": ("subject", inputs.time),
        "event": ("subject", pp.event.astype(np.int64)),
    }
    if pp.entry is not None:  # delayed entry: each row at risk on (entry, time]
        observed["entry"] = ("subject", np.asarray(pp.entry, dtype=float))
    idata["observed_data"] = xr.DataTree(xr.Dataset(observed, coords=subj))
    const = (
        idata["constant_data"].to_dataset() if "constant_data" in idata.children else xr.Dataset()
    )
    bounds = pp.bounds
    extra = xr.Dataset(
        {
            "X": (("subject", "term"), np.asarray(inputs.X, dtype=float)),
            "cuts": ("cut", pp.cuts),
            "interval_start": ("interval", bounds[:-1]),
            "interval_end": ("interval", bounds[1:]),
            "events_per_interval": ("interval", pp.events_per_interval),
            "at_risk": ("interval", pp.at_risk_per_interval),
        },
        coords={**subj, "term": list(inputs.terms), "interval": interval_labels(pp)},
    )
    idata["constant_data"] = xr.DataTree(xr.merge([const, extra], join="outer"))
