"""Ordinal covariates (cumulative dummies) and the monotonic prior (no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from necc_bayes.data.load import validate
from necc_bayes.errors import DataError, SpecError
from necc_bayes.spec.io import parse_spec
from necc_bayes.survival.fit import model_inputs, model_priors, resolve_spec
from necc_bayes.survival.inputs import Checked
from necc_bayes.survival.intervals import resolve_cuts
from necc_bayes.survival.model import build_model

RAW = {
    "name": "ordinal",
    "data": {"time": "t", "event": "e"},
    "covariates": {"terms": ["k"], "ordinal": {"k": {"levels": [1, 2, 3]}}},
    "intervals": {"rule": "quantile", "n": 2},
    "priors": {"groups": {"count": {"dist": "monotonic", "terms": ["k>=2", "k>=3"]}}},
}
FRAME = pd.DataFrame(
    {
        "t": ["1", "2", "3", "4", "5", "6", "7"],
        "e": ["1", "0", "1", "1", "0", "1", "1"],
        "k": ["1", "2", "3", "5", "1", "2", "1"],
    }
)


def _checked(frame=FRAME, raw=RAW):
    spec = parse_spec(raw)
    cohort = validate(frame, spec, "frame")
    cuts = resolve_cuts(spec.intervals.rule, cohort.time, cohort.event, n=spec.intervals.n)
    return Checked(spec=spec, cohort=cohort, cuts=cuts)


def test_cumulative_dummies_pool_the_top_level():
    design = _checked().cohort.design
    assert design.terms == ["k>=2", "k>=3"]
    # k = 1, 2, 3, 5 (pooled into 3+), 1, 2, 1
    np.testing.assert_array_equal(design.X[:, 0], [0, 1, 1, 1, 0, 1, 0])
    np.testing.assert_array_equal(design.X[:, 1], [0, 0, 1, 1, 0, 0, 0])


def test_value_below_lowest_level_is_refused():
    bad = FRAME.assign(k=["1", "0", "3", "5", "1", "2", "1"])
    with pytest.raises(DataError) as info:
        _checked(bad)
    assert info.value.rules == ["ordinal_levels"] and info.value.problems[0].rows == (2,)


def test_levels_must_increase():
    raw = {**RAW, "covariates": {"terms": ["k"], "ordinal": {"k": {"levels": [2, 1]}}}}
    with pytest.raises(SpecError, match="strictly increasing"):
        parse_spec(raw)


def test_monotonic_effect_has_one_sign_and_finite_gradient():
    checked = _checked()
    resolved = resolve_spec(checked)
    model = build_model(model_inputs(checked), model_priors(resolved), warn=False)
    names = {v.name for v in model.free_RVs}
    assert {"group0_total", "group0_zeta"} <= names
    draws = pm.draw([model["log_hr"]], draws=200, random_seed=1)[0]
    signs = np.sign(draws)
    assert (signs[:, 0] == signs[:, 1]).all()  # both steps share the sign of the total effect
    ip = model.initial_point()
    grad = model.compile_dlogp()(ip)
    assert np.isfinite(grad).all()
