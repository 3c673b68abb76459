"""Design matrices: categorical coding against an explicit reference level.

Reference: lifelines 0.30 ships larynx already dummy-coded (Stage_II, Stage_III, Stage_IV,
reference stage I). Rebuilding a single ``stage`` column and coding it with
``[covariates.categorical.stage] reference = "I"`` must give exactly those columns, so the
slow Cox-reference test on the dummy columns also covers the package's categorical path.
"""

from __future__ import annotations

import numpy as np
import pytest

from necc_bayes.data.load import read_csv
from necc_bayes.spec.io import parse_spec
from necc_bayes.survival.inputs import check_inputs

lifelines_datasets = pytest.importorskip("lifelines.datasets")


def test_larynx_stage_categorical_reproduces_the_dummy_columns(tmp_path):
    df = lifelines_datasets.load_larynx()
    dummies = df[["Stage_II", "Stage_III", "Stage_IV"]].to_numpy()
    assert (dummies.sum(axis=1) <= 1).all()
    stage = np.where(
        df.Stage_II == 1,
        "II",
        np.where(df.Stage_III == 1, "III", np.where(df.Stage_IV == 1, "IV", "I")),
    )
    csv = tmp_path / "larynx.csv"
    df.assign(stage=stage)[["time", "death", "age", "stage"]].to_csv(csv, index=False)
    spec = parse_spec(
        {
            "name": "larynx",
            "data": {"time": "time", "event": "death"},
            "covariates": {"terms": ["stage", "age"], "categorical": {"stage": {"reference": "I"}}},
        }
    )
    design = check_inputs(spec, csv).cohort.design
    assert design.terms == ["stage[II]", "stage[III]", "stage[IV]", "age"]
    np.testing.assert_array_equal(design.X[:, :3], dummies)
    np.testing.assert_allclose(design.X[:, 3], df.age)
    np.testing.assert_allclose(design.X_model.mean(axis=0), 0.0, atol=1e-12)
    assert read_csv(csv).shape == (len(df), 4)
