"""Delayed entry through the fitting path (no sampling): crude rate, expansion, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necc_bayes.errors import SpecError
from necc_bayes.spec.io import parse_spec
from necc_bayes.survival.fit import crude_rate, model_inputs
from necc_bayes.survival.inputs import check_inputs


def write(tmp_path, **extra):
    df = pd.DataFrame(
        {
            "entry": [0.0, 1.0, 2.0, 0.5, 3.0, 0.0],
            "time": [2.0, 4.0, 5.0, 6.0, 7.0, 3.0],
            "dead": [1, 0, 1, 1, 0, 1],
            "x": [0, 1, 0, 1, 1, 0],
            "g": ["a", "a", "b", "b", "a", "b"],
        }
    )
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    raw = {
        "name": "m",
        "data": {"time": "time", "event": "dead", "entry": "entry"},
        "covariates": {"terms": ["x"]},
        "intervals": {"rule": "fixed", "cuts": [2.5]},
        **extra,
    }
    return parse_spec(raw), path, df


def test_crude_rate_and_exposure_count_time_at_risk_only(tmp_path):
    spec, path, df = write(tmp_path)
    checked = check_inputs(spec, path)
    at_risk = float((df["time"] - df["entry"]).sum())
    assert crude_rate(checked) == pytest.approx(4 / at_risk)
    pp = model_inputs(checked).pp
    np.testing.assert_allclose(pp.exposure.sum(1), df["time"] - df["entry"])
    np.testing.assert_allclose(
        pp.exposure[:, 0], np.clip(2.5 - df["entry"], 0, None).clip(upper=df["time"] - df["entry"])
    )


@pytest.mark.parametrize(
    "extra", [{"frailty": {"cluster": "g"}}, {"covariates": {"terms": ["x"], "strata": "g"}}]
)
def test_features_the_model_does_not_use_yet_are_refused(tmp_path, extra):
    spec, path, _ = write(tmp_path, **extra)
    with pytest.raises(SpecError, match="not_supported"):
        model_inputs(check_inputs(spec, path))
