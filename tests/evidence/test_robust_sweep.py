"""The robust-weight sweep of the sensitivity analysis (fast: structure and data, no NUTS).

References: the sweep's definition (module docstring of workflows.sensitivity.sweeps) and the
compile-once contract of survival.refit (one structure, different pm.Data values).
"""

from __future__ import annotations

import warnings

import numpy as np

from necc_bayes.errors import SparseDataWarning
from necc_bayes.spec.baseline_priors import GammaBaseline
from necc_bayes.spec.priors import NormalPrior, PublishedPrior
from necc_bayes.spec.settings import SamplerSettings, Thresholds
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors, build_model
from necc_bayes.survival.refit import data_values, structure_key
from necc_bayes.workflows.sensitivity.sweeps import (
    DEFAULT_ROBUST_WEIGHTS,
    SWEEPS,
    Base,
    robust_weight_settings,
)


def _base(published: bool) -> Base:
    rng = np.random.default_rng(0)
    t, e = rng.exponential(10.0, 40), (rng.random(40) < 0.7).astype(int)
    X = rng.integers(0, 2, (40, 2)).astype(float)
    inputs = PEMInputs(X - X.mean(0), ["n_sites_gt1", "site_lung"], expand(t, e, [5.0]))
    first = (PublishedPrior(hr=1.51, low=1.34, high=1.70, robust_weight=0.2) if published
             else NormalPrior())
    priors = PEMPriors({"n_sites_gt1": first, "site_lung": NormalPrior()}, [],
                       GammaBaseline(alpha=1.0, beta=1.0))
    return Base(inputs, priors, 1, SamplerSettings(), Thresholds(), crude_rate=0.1)


def test_sweep_sets_every_published_weight_and_keeps_one_structure():
    base = _base(published=True)
    settings = robust_weight_settings(base)
    assert "robust_weight" in SWEEPS
    assert [s.priors.coefficients["n_sites_gt1"].robust_weight for s in settings] == list(
        DEFAULT_ROBUST_WEIGHTS)
    assert all(s.priors.coefficients["site_lung"] == NormalPrior() for s in settings)
    assert len({structure_key(s.inputs, s.priors) for s in settings}) == 1  # one compilation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseDataWarning)
        weights = [data_values(build_model(s.inputs, s.priors, warn=False))["published_weights"]
                   for s in settings]
    np.testing.assert_allclose([w[0] for w in weights],
                               [[1 - v, v] for v in DEFAULT_ROBUST_WEIGHTS])


def test_sweep_is_empty_without_published_priors():
    assert robust_weight_settings(_base(published=False)) == []
