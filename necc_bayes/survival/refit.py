"""Compile the PEM once, re-sample it many times with new priors or new data.

Every repeated-fit path (prior and cut-point sweeps, case deletion, the univariate screen,
simulation-based calibration) goes through :class:`RefitModel`: the PyMC model is built and
compiled by nutpie **once**; each refit replaces the values of the model's ``pm.Data``
containers (``compiled.with_data(...)``) and samples again. Nothing is recompiled.

What can change without a new compilation (checked on this machine: draws are bit-identical
to those of a freshly compiled model with the same seed):

* prior hyperparameters (``normal_mu``, ``normal_sigma``, ``baseline_alpha``, ...);
* the data: the collapsed covariate patterns ``X_u`` (pattern, term), their exposure ``E_u``
  (pattern, interval), events per interval ``d`` and ``s``. nutpie's ``with_data`` accepts a
  different *length* of any axis (not a different rank), so the number of patterns (case
  deletion, rows dropped for missing values, simulated outcomes) and — with the marginalised
  gamma baseline, whose rates are not sampled — the number of intervals may change.

What needs a new compilation is a different model *structure* (:func:`structure_key`): the
number of terms and their prior families, the baseline family, and the number of intervals
when the baseline rates are sampled (unmarginalised gamma, random walk). A
:class:`ModelCache` holds one :class:`RefitModel` per structure and counts compilations
(:func:`compile_count` is the process-wide counter).

After sampling, each refit gets the same post-processing as
:func:`~necc_bayes.survival.sampling.sample_posterior` (conditional baseline draws, per-subject
log-likelihood, log-prior, data groups, provenance) via
:func:`~necc_bayes.survival.sampling.add_posterior_quantities`, so every summary works on it.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

import numpy as np
import pymc as pm
import xarray as xr
from pytensor.compile.sharedvalue import SharedVariable

from necc_bayes._runstate import raise_if_interrupted
from necc_bayes.inference.compile_cache import compile_model, deterministic_numba
from necc_bayes.inference.completeness import check_complete
from necc_bayes.spec.baseline_priors import GammaBaseline, GammaProcessBaseline
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival.imputation import imputation_structure
from necc_bayes.survival.model import (
    PEMInputs,
    PEMPriors,
    build_model,
    interval_labels,
    is_marginalized,
)
from necc_bayes.survival.sampling import (
    add_baseline_draws,
    add_posterior_quantities,
    nutpie_seed,
    resolve_settings,
    settings_attrs,
)

_COMPILATIONS = 0
_COUNTER_LOCK = threading.Lock()

# coordinates whose labels may differ between refits of one compiled model
_TERM_DIMS = ("term", "term_normal", "term_student_t", "term_horseshoe")


def compile_count() -> int:
    """Number of nutpie compilations made by this process through :class:`RefitModel`."""
    return _COMPILATIONS


def _count_compilation() -> None:
    global _COMPILATIONS
    with _COUNTER_LOCK:
        _COMPILATIONS += 1


def structure_key(inputs: PEMInputs, priors: PEMPriors) -> Hashable:
    """Return what must be equal for two (inputs, priors) to share one compiled model.

    Parameters
    ----------
    inputs : PEMInputs
        Design, terms and person-period expansion.
    priors : PEMPriors
        Resolved priors.

    Returns
    -------
    tuple
        Number of terms, the prior family of each term (or its group), the group sizes, the
        baseline family and whether it is marginalised, the number of intervals when some
        per-interval quantity is sampled (rates, time-varying deviations; ``None`` otherwise:
        then ``J`` is free data), whether the baseline is stratified (and the number of strata
        when their rates are sampled), the number of clusters and the frailty-SD family, and
        the time-varying terms with their smoothing-SD family.
    """
    group_of = {t: g for g, grp in enumerate(priors.groups) for t in grp.terms}
    families = tuple(
        f"group{group_of[t]}" if t in group_of else priors.coefficients[t].dist
        for t in inputs.terms
    )
    base = priors.baseline
    marginal = is_marginalized(priors)
    sampled_rates = not marginal or bool(inputs.time_varying)
    n_strata = len(inputs.strata_labels) if inputs.strata is not None else 0
    return (
        len(inputs.terms),
        families,
        tuple(len(g.terms) for g in priors.groups),
        # both gamma families build the same graph (per-interval shape and rate are data)
        "gamma" if isinstance(base, GammaBaseline | GammaProcessBaseline) else base.dist,
        marginal,
        None if not sampled_rates else inputs.pp.n_intervals,
        n_strata if (n_strata and not marginal) else bool(n_strata),
        None if inputs.clusters is None else len(inputs.cluster_labels),
        # an SD prior is structure only where it is used (clusters, time-varying terms)
        None if priors.frailty_sd is None or inputs.clusters is None else priors.frailty_sd.dist,
        tuple(inputs.terms.index(t) for t in inputs.time_varying),
        None if priors.tv_sd is None or not inputs.time_varying else priors.tv_sd.dist,
        imputation_structure(inputs.imputation),
    )


def data_values(model: pm.Model) -> dict[str, np.ndarray]:
    """Current values of every ``pm.Data`` container of a model, by name."""
    return {
        name: np.asarray(var.get_value())
        for name, var in model.named_vars.items()
        if isinstance(var, SharedVariable)
    }


class RefitModel:
    """A PEM compiled once by nutpie, re-sampled with new ``pm.Data`` values.

    Parameters
    ----------
    inputs, priors : PEMInputs, PEMPriors
        Any (inputs, priors) of the structure to compile (:func:`structure_key`).

    Attributes
    ----------
    key : tuple
        The structure this model serves.
    compile_seconds : float
        Wall time of the compilation (or of loading it from the persistent compile cache).
    from_cache : bool
        The compiled model came from the persistent cache
        (:func:`~necc_bayes.inference.compile_cache.compile_model`).
    n_refits : int
        Refits sampled so far.
    """

    def __init__(self, inputs: PEMInputs, priors: PEMPriors) -> None:
        self.key = structure_key(inputs, priors)
        self.model = build_model(inputs, priors, warn=False)
        self._names = set(data_values(self.model))
        compiled = compile_model(self.model)
        self.compiled = compiled.compiled
        self.from_cache = compiled.from_cache
        self.compile_seconds = compiled.seconds
        _count_compilation()
        self.n_refits = 0
        self._lock = threading.Lock()

    def values_for(self, inputs: PEMInputs, priors: PEMPriors) -> dict[str, np.ndarray]:
        """The ``pm.Data`` values of (inputs, priors), taken from a freshly built model.

        Building a PyMC model takes about 10 ms and does not compile anything; reading the
        values from it keeps :func:`~necc_bayes.survival.model.build_model` the single
        definition of what each container holds.

        Raises
        ------
        ValueError
            If (inputs, priors) has another structure than the compiled model.
        """
        key = structure_key(inputs, priors)
        if key != self.key:
            raise ValueError(f"model structure {key} differs from the compiled {self.key}")
        values = data_values(build_model(inputs, priors, warn=False))
        if set(values) != self._names:
            raise ValueError(
                f"pm.Data names {sorted(values)} differ from the compiled {sorted(self._names)}"
            )
        return values

    def sample(
        self,
        inputs: PEMInputs,
        priors: PEMPriors,
        *,
        seed: int | None = None,
        settings: SamplerSettings | None = None,
        progressbar: bool = False,
        post_process: bool = True,
    ) -> xr.DataTree:
        """Sample the posterior of (inputs, priors) with the compiled model.

        Parameters
        ----------
        inputs, priors : PEMInputs, PEMPriors
            Data and priors of this refit (same structure as the compiled model).
        seed : int, optional
            Sampler seed (also seeds the conditional baseline draws); ``settings.seed`` when
            absent.
        settings : SamplerSettings, optional
            NUTS settings (the spec's ``[sampler]`` section; defaults when absent).
            ``target_accept = None`` resolves to the model's default, as in
            :func:`~necc_bayes.survival.sampling.sample_posterior`. With
            ``sampler = "pymc"`` the PyMC model (kept in step with the compiled one) is
            sampled by PyMC's NUTS, which compiles its own function each time.
        progressbar : bool
            Show the sampler's progress bar.
        post_process : bool
            Add the groups :func:`~necc_bayes.survival.sampling.add_posterior_quantities` adds
            (needed by the summaries). Without it only ``posterior`` (with
            ``baseline_hazard``) and ``sample_stats`` are returned (cheaper, for SBC).

        Returns
        -------
        xarray.DataTree
            As :func:`~necc_bayes.survival.sampling.sample_posterior` returns, with
            ``attrs["refit_compilations"]`` (compilations in this process so far).
        """
        s = resolve_settings(settings or SamplerSettings(), priors)
        if seed is not None:
            s = s.model_copy(update={"seed": int(seed)})
        values = self.values_for(inputs, priors)
        with self._lock:
            # the PyMC model is kept in step with the compiled one: its initial-point function
            # and the log-prior computed after sampling read the same values
            for name, value in values.items():
                self.model[name].set_value(value)
            idata = self._run_nuts(values, s, progressbar)
            raise_if_interrupted()  # a Ctrl-C swallowed while compiling or sampling
            check_complete(idata, s.draws, s.chains)  # before any post-processing
            old_terms = [str(t) for t in self.model.coords["term"]]
            idata = _relabel(idata, inputs, old_terms)
            if post_process:
                idata = add_posterior_quantities(idata, self.model, inputs, priors, seed=s.seed)
                idata = _relabel(idata, inputs, old_terms)
                _add_hyperparameters(idata, values, self.model)
            else:
                idata = add_baseline_draws(idata, inputs, priors, seed=s.seed)
            self.n_refits += 1
        idata.attrs.update(settings_attrs(s))
        idata.attrs["refit_compilations"] = compile_count()
        return idata

    def _run_nuts(
        self, values: dict[str, np.ndarray], s: SamplerSettings, progressbar: bool
    ) -> xr.DataTree:
        """NUTS on the current data values: nutpie's compiled model, or PyMC's sampler."""
        if s.sampler == "pymc":
            with self.model, deterministic_numba():
                return pm.sample(
                    draws=s.draws,
                    tune=s.tune,
                    chains=s.chains,
                    cores=s.cores,
                    random_seed=int(s.seed),
                    nuts_sampler="pymc",
                    nuts={"target_accept": s.target_accept},
                    progressbar=progressbar,
                    compute_convergence_checks=False,
                )
        import nutpie

        # a container the compiled graph does not read (e.g. the centre of a 0/1 covariate's
        # model, used only by continuous ones) is not a shared variable of it: skip it
        known = {var.name for var in self.compiled.shared_var_keys}
        compiled = self.compiled.with_data(**{k: v for k, v in values.items() if k in known})
        return nutpie.sample(
            compiled,
            draws=s.draws,
            tune=s.tune,
            chains=s.chains,
            cores=s.cores,
            seed=nutpie_seed(s.seed, s.chains),
            target_accept=s.target_accept,
            progress_bar=progressbar,
            save_warmup=False,
        )


def _relabel(idata: xr.DataTree, inputs: PEMInputs, old_terms: list[str]) -> xr.DataTree:
    """Give every group the term and interval labels of ``inputs``.

    The compiled model carries the coordinates it was built with: after a covariate swap
    (screen) the term names differ, after a cut-point change the interval labels do.
    Per-family term dims (``term_normal``, ...) are renamed through ``old_terms`` (the
    compile-time term order).
    """
    new_of = dict(zip(old_terms, inputs.terms, strict=True))
    labels = interval_labels(inputs.pp)
    wanted = {"term": list(inputs.terms), "interval": labels, "baseline_step": labels[1:]}
    out = idata.copy()
    for node in out.subtree:
        ds = node.to_dataset(inherit=False)
        update = {d: v for d, v in wanted.items() if d in ds.dims and ds.sizes[d] == len(v)}
        for dim in _TERM_DIMS[1:]:
            if dim in ds.coords:
                update[dim] = [new_of.get(str(o), str(o)) for o in ds[dim].to_numpy()]
        if update:
            node.dataset = ds.assign_coords(update)
    return out


_DATA_NAMES = (
    "X_u",
    "E_u",
    "d",
    "s",
    "stratum_onehot",
    "cluster_u",
    "events_cluster",
    "s_interval_tv",
)


def _add_hyperparameters(idata: xr.DataTree, values: dict[str, np.ndarray], model) -> None:
    """Record the refit's prior hyperparameters (non-data ``pm.Data``) in ``constant_data``."""
    const = idata["constant_data"].to_dataset()

    def dims(name: str, value: np.ndarray) -> tuple[str, ...]:
        # containers without named dims (e.g. an imputation model's empty predictor means)
        named = model.named_vars_to_dims.get(name)
        return tuple(named) if named else tuple(f"{name}_dim_{i}" for i in range(np.ndim(value)))

    extra = {
        name: (dims(name, value), value)
        for name, value in values.items()
        if name not in _DATA_NAMES
    }
    idata["constant_data"] = xr.DataTree(const.assign(extra))


class ModelCache:
    """One :class:`RefitModel` per model structure, compiled on first use.

    Attributes
    ----------
    n_compilations : int
        Compilations made by this cache.
    """

    def __init__(self) -> None:
        self._models: dict[Hashable, RefitModel] = {}
        self._lock = threading.Lock()
        self.n_compilations = 0

    def clear(self) -> None:
        """Forget every compiled model (the next refit of each structure compiles again)."""
        with self._lock:
            self._models.clear()

    def get(self, inputs: PEMInputs, priors: PEMPriors) -> RefitModel:
        """Return the compiled model for the structure of (inputs, priors)."""
        key = structure_key(inputs, priors)
        with self._lock:
            if key not in self._models:
                self._models[key] = RefitModel(inputs, priors)
                self.n_compilations += 1
            return self._models[key]

    def sample(
        self,
        inputs: PEMInputs,
        priors: PEMPriors,
        *,
        seed: int | None = None,
        settings: SamplerSettings | None = None,
        post_process: bool = True,
    ) -> xr.DataTree:
        """Sample (inputs, priors) with the cached compiled model of its structure."""
        return self.get(inputs, priors).sample(
            inputs, priors, seed=seed, settings=settings, post_process=post_process
        )


_PROCESS_CACHE = ModelCache()


def process_cache() -> ModelCache:
    """The cache shared by every task run in this process (worker processes keep theirs)."""
    return _PROCESS_CACHE
