"""Delayed entry, strata and clusters through the fitting path (no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necc_bayes.spec.io import parse_spec
from necc_bayes.survival.fit import crude_rate, model_inputs, model_priors, resolve_spec
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


def test_strata_and_clusters_reach_the_model_inputs(tmp_path):
    spec, path, _ = write(
        tmp_path, covariates={"terms": ["x"], "strata": "g"}, frailty={"cluster": "g2"}
    )
    df = pd.read_csv(path).assign(g2=[1, 2, 1, 2, 3, 3])
    df.to_csv(path, index=False)
    inputs = model_inputs(check_inputs(spec, path))
    assert inputs.strata_labels == ["a", "b"]
    np.testing.assert_array_equal(inputs.strata, [0, 0, 1, 1, 0, 1])
    assert inputs.cluster_labels == ["1", "2", "3"]
    np.testing.assert_array_equal(inputs.clusters, [0, 1, 0, 1, 2, 2])
    priors = model_priors(resolve_spec(check_inputs(spec, path)))
    assert str(priors.frailty_sd) == "Exponential(rate=1)"
