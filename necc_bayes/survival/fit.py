"""Fit one piecewise-exponential model: ``fit(model, data, spec=...) -> PEMResult``.

The steps are those of DESIGN §2: validate the specification and the data together, resolve
every default against the data (cut points, the scale-aware baseline prior, per-term priors,
survival profiles: :mod:`necc_bayes.survival.resolve`), check the design's fragility, build
and sample the PyMC model, then check convergence and proportional hazards. The result type
is :class:`~necc_bayes.survival.result.PEMResult`.

:func:`prepare` does everything but the sampling and returns a :class:`PreparedModel` that
prints what will be fitted (data, terms, every resolved prior, fragility) before any draw,
as bambi's ``print(model)`` does::

    model = nb.prepare("Surv(time, status) ~ celltype + karno10 + trt", data=df)
    print(model)          # n, events, intervals, terms, resolved priors, fragility checks
    result = model.fit()  # the same as nb.fit(...) with the same arguments
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from necc_bayes.data.fragility import Fragility
from necc_bayes.errors import PriorScaleWarning, SparseDataWarning
from necc_bayes.report.console import prepared_html, prepared_text
from necc_bayes.spec.cohort import cohort_features_attr
from necc_bayes.spec.io import compose_spec, spec_hash, with_sampler_overrides
from necc_bayes.spec.model import ModelSpec
from necc_bayes.survival.describe import model_description
from necc_bayes.survival.inputs import (
    Checked,
    check_fittable,
    check_inputs,
    model_inputs,
    model_priors,
)
from necc_bayes.survival.model import build_model
from necc_bayes.survival.resolve import (
    crude_rate,
    default_profiles,
    fragility_of,
    prior_scale_messages,
    resolve_spec,
)
from necc_bayes.survival.result import PEMResult
from necc_bayes.survival.sampling import sample_posterior, stores_log_likelihood

__all__ = [
    "PEMResult",
    "PreparedModel",
    "crude_rate",
    "default_profiles",
    "fit",
    "model_inputs",
    "model_priors",
    "prepare",
    "resolve_spec",
    "sample_resolved",
]

Model = ModelSpec | str | Path
Data = str | Path | pd.DataFrame


@dataclass(frozen=True)
class PreparedModel:
    """A validated and resolved model, not yet sampled.

    ``print(model)`` (or ``repr``, or the notebook's HTML) shows the data, the intervals, the
    terms, every resolved prior and the fragility checks; :meth:`fit` samples it.

    Attributes
    ----------
    spec : ModelSpec
        The resolved specification (what ``spec.toml`` will hold).
    checked : Checked
        The validated data and cut points.
    fragility : Fragility
        Sparse cells, separation and events per parameter (:mod:`necc_bayes.data.fragility`).
    prior_messages : list of str
        Continuous terms whose default prior is nearly flat or very tight per SD.
    """

    spec: ModelSpec
    checked: Checked
    fragility: Fragility
    prior_messages: list[str]

    def __str__(self) -> str:
        return prepared_text(model_description(self.spec, self.checked, self.fragility,
                                               self.prior_messages))

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return prepared_html(model_description(self.spec, self.checked, self.fragility,
                                               self.prior_messages))

    def fit(self, *, progressbar: bool = True, warn: bool = True) -> PEMResult:
        """Sample the model (see :func:`fit`)."""
        return sample_resolved(
            self.spec, self.checked, progressbar=progressbar, warn=warn, fragility=self.fragility
        )


def prepare(
    model: Model,
    data: Data,
    *,
    spec: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> PreparedModel:
    """Validate, resolve and check a model without sampling it (arguments as :func:`fit`).

    Returns
    -------
    PreparedModel
        Print it to see what :meth:`PreparedModel.fit` will sample.

    Raises
    ------
    SpecError, DataError
        Naming every problem (file or DataFrame, column or key, rows, rule) before any
        model is built.
    """
    composed = compose_spec(model, spec)
    if overrides:
        composed = with_sampler_overrides(composed, overrides)
    checked = check_inputs(composed, data)
    check_fittable(checked, source=str(model) if not isinstance(model, ModelSpec) else model.name)
    return PreparedModel(
        spec=resolve_spec(checked),
        checked=checked,
        fragility=fragility_of(checked),
        prior_messages=prior_scale_messages(checked, composed),
    )


def fit(
    model: Model,
    data: Data,
    *,
    spec: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    progressbar: bool = True,
    warn: bool = True,
) -> PEMResult:
    """Validate, resolve, build, sample and check one piecewise-exponential model.

    Parameters
    ----------
    model : ModelSpec, path or formula
        A TOML specification file, a parsed :class:`~necc_bayes.spec.model.ModelSpec`, or a
        formula such as ``"Surv(time, status == 2) ~ celltype + karno10 + trt"`` (the left
        side gives ``data.time`` / ``data.event`` / ``data.entry``, the right side is coded by
        formulaic: numeric columns as-is, text columns as ``column[level]`` dummies against
        the first level in sorted order unless the formula gives one, e.g.
        ``C(celltype, contr.treatment("squamous"))``).
    data : DataFrame or path
        The cohort: a DataFrame (never modified) or a CSV file; the same values give the same
        draws either way.
    spec : dict, optional
        Any TOML sections as a dict, merged into the model's (e.g. ``{"data": {"time_unit":
        "days"}, "intervals": {"rule": "quantile", "n": 8}, "sampler": {"seed": 1}}``).
    overrides : dict, optional
        Sampler settings that replace the spec's (``draws``, ``tune``, ``chains``, ``seed``,
        ``sampler``); they are recorded in the resolved spec.
    progressbar : bool
        Show the sampler's progress.
    warn : bool
        Emit warnings for sparse intervals and failed convergence checks.

    Returns
    -------
    PEMResult
        The fitted model; print it for a summary, ``result.diagnostics()`` says whether it can
        be trusted.

    Examples
    --------
    >>> import necc_bayes as nb  # doctest: +SKIP
    >>> res = nb.fit("Surv(time, status) ~ celltype + karno10 + trt", data=veteran,
    ...              spec={"data": {"time_unit": "days"}})  # doctest: +SKIP
    >>> res.hazard_ratios()  # doctest: +SKIP
    """
    prepared = prepare(model, data, spec=spec, overrides=overrides)
    return prepared.fit(progressbar=progressbar, warn=warn)


def sample_resolved(
    resolved: ModelSpec,
    checked: Checked,
    *,
    progressbar: bool = True,
    warn: bool = True,
    fragility: Fragility | None = None,
) -> PEMResult:
    """Build and sample the model of an already-resolved specification.

    ``fragility`` (the design's checks, when already computed) is warned about before
    sampling and kept in the result (:meth:`PEMResult.fragility`).
    """
    if fragility is None:
        fragility = fragility_of(checked)
    if warn:  # before sampling, so that they are seen even if the run is interrupted
        for msg in fragility.messages():
            warnings.warn(msg, SparseDataWarning, stacklevel=2)
        for msg in prior_scale_messages(checked, checked.spec):
            warnings.warn(msg, PriorScaleWarning, stacklevel=2)
    inputs = model_inputs(checked)
    priors = model_priors(resolved)
    model = build_model(inputs, priors, warn=warn, compact=True)  # one fit: its data are fixed
    s = resolved.sampler
    keep_loglik = stores_log_likelihood(inputs.X.shape[0], s.draws * s.chains)
    idata = sample_posterior(
        inputs, priors, s, model=model, progressbar=progressbar, log_likelihood=keep_loglik
    )
    idata.attrs["spec_hash"] = spec_hash(resolved)
    idata.attrs["spec_name"] = resolved.name
    idata.attrs["data_source"] = checked.cohort.source
    idata.attrs["cohort_features"] = cohort_features_attr(resolved)
    result = PEMResult(idata=idata, spec=resolved, checked=checked)
    result._keep("fragility", fragility)
    if warn:
        result.diagnostics(warn=True)
        result.ph_check(warn=True)
    return result
