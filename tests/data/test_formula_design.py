"""A formula's design and a DataFrame's cohort equal the TOML / CSV ones (no sampling).

The formula path (formulaic on the right side) and the TOML path (``covariates.terms`` and
``[covariates.categorical.X]``) must code a cohort identically: the same columns, names
``column[level]``, values and reference levels; a DataFrame and the CSV file of the same
values must give the same cohort. Cohorts: R survival's ``veteran`` (string ``celltype``),
``colon`` deaths (string ``rx``) and ``pbc`` (``status`` 0/1/2), from tests/datasets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from necc_bayes.data.load import load_cohort
from necc_bayes.errors import DataError, SpecError
from necc_bayes.spec.io import compose_spec, parse_spec

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
VETERAN = DATASETS / "veteran.csv"
COLON = DATASETS / "colon_deaths.csv"
PBC = DATASETS / "pbc.csv"


def _toml_spec(data: dict, terms: list[str], categorical: dict | None = None):
    return parse_spec({"name": "toml", "data": data,
                       "covariates": {"terms": terms, "categorical": categorical or {}}})


def test_veteran_formula_on_a_dataframe_equals_toml_on_the_csv():
    toml = _toml_spec({"time": "time", "event": "status"}, ["celltype", "karno10", "trt"],
                      {"celltype": {"reference": "adeno"}})
    by_toml = load_cohort(VETERAN, toml)
    df = pd.read_csv(VETERAN)
    formula = compose_spec("Surv(time, status) ~ celltype + karno10 + trt")
    by_formula = load_cohort(df, formula)
    assert by_formula.design.terms == by_toml.design.terms == [
        "celltype[large]", "celltype[smallcell]", "celltype[squamous]", "karno10", "trt"]
    np.testing.assert_array_equal(by_formula.design.X, by_toml.design.X)
    np.testing.assert_array_equal(by_formula.time, by_toml.time)
    np.testing.assert_array_equal(by_formula.event, by_toml.event)
    assert by_formula.design.levels["celltype"][0] == "adeno"  # first in sorted order


def test_text_column_is_categorical_without_a_table_first_sorted_level_reference():
    spec = _toml_spec({"time": "time", "event": "status"}, ["rx", "age"])
    cohort = load_cohort(COLON, spec)
    # levels Lev, Lev+5FU, Obs: "Lev" sorts first (R's factor() would also pick it)
    assert cohort.design.terms == ["rx[Lev+5FU]", "rx[Obs]", "age"]
    rx = pd.read_csv(COLON)["rx"]
    np.testing.assert_array_equal(cohort.design.X[:, 1], (rx == "Obs").to_numpy(float))


def test_formula_library_reference_syntax_sets_the_reference():
    df = pd.read_csv(VETERAN)
    spec = compose_spec('Surv(time, status) ~ C(celltype, contr.treatment("squamous")) + trt')
    cohort = load_cohort(df, spec)
    assert cohort.design.terms == [
        "celltype[adeno]", "celltype[large]", "celltype[smallcell]", "trt"]
    assert cohort.design.source[:3] == ["celltype"] * 3
    # the same reference given in TOML codes the same matrix
    toml = _toml_spec({"time": "time", "event": "status"}, ["celltype", "trt"],
                      {"celltype": {"reference": "squamous"}})
    np.testing.assert_array_equal(load_cohort(VETERAN, toml).design.X, cohort.design.X)


def test_formula_transforms_work_and_name_their_columns():
    df = pd.read_csv(VETERAN)
    cohort = load_cohort(df, compose_spec("Surv(time, status) ~ I(karno / 10) + np.log(age)"))
    assert cohort.design.terms == ["I(karno / 10)", "np.log(age)"]
    np.testing.assert_allclose(cohort.design.X[:, 0], df["karno"] / 10)
    np.testing.assert_allclose(cohort.design.X[:, 1], np.log(df["age"]))


def test_dataframe_is_not_modified_and_its_index_does_not_matter():
    df = pd.read_csv(VETERAN).sample(frac=1.0, random_state=3)  # shuffled index labels
    before = df.copy(deep=True)
    cohort = load_cohort(df, compose_spec("Surv(time, status) ~ celltype + karno10"))
    pd.testing.assert_frame_equal(df, before)
    np.testing.assert_array_equal(cohort.time, df["time"].to_numpy(float))


def test_dataframe_and_csv_of_the_same_values_give_the_same_cohort():
    spec = compose_spec("Surv(time, status) ~ rx + sex + age + obstruct + nodes")
    from_csv = load_cohort(COLON, spec)
    from_df = load_cohort(pd.read_csv(COLON), spec)
    assert from_csv.design.terms == from_df.design.terms
    np.testing.assert_array_equal(from_csv.design.X, from_df.design.X)
    np.testing.assert_array_equal(from_csv.event, from_df.event)


def test_event_expression_equals_a_recoded_column():
    df = pd.read_csv(PBC)
    recoded = df.assign(death=(df["status"] == 2).astype(int))
    by_expr = load_cohort(df, compose_spec("Surv(time, status == 2) ~ age + bili"))
    by_col = load_cohort(recoded, compose_spec("Surv(time, death) ~ age + bili"))
    np.testing.assert_array_equal(by_expr.event, by_col.event)
    assert by_expr.n_events == 161  # R: table(pbc$status) 0: 232, 1: 25 (transplant), 2: 161
    toml = parse_spec({"name": "t", "data": {"time": "time", "event": "status == 2"},
                       "covariates": {"terms": ["age", "bili"]}})
    np.testing.assert_array_equal(load_cohort(PBC, toml).event, by_col.event)


def test_coded_status_without_an_expression_is_refused_with_a_hint():
    with pytest.raises(DataError) as err:
        load_cohort(PBC, _toml_spec({"time": "time", "event": "status"}, ["age"]))
    problem = err.value.problems[0]
    assert problem.rule == "event_binary" and problem.column == "status"
    assert 'event = "status == 2"' in problem.message


def test_formula_column_not_in_the_data_is_named():
    with pytest.raises(DataError) as err:
        load_cohort(pd.read_csv(VETERAN), compose_spec("Surv(time, status) ~ karno + celtype"))
    problem = err.value.problems[0]
    assert problem.rule == "column_exists" and problem.column == "celtype"
    assert "celltype" in problem.message  # did you mean


def test_formula_without_intercept_is_refused():
    with pytest.raises(SpecError) as err:
        load_cohort(pd.read_csv(VETERAN), compose_spec("Surv(time, status) ~ 0 + celltype"))
    assert err.value.problems[0].rule == "formula_intercept"


def test_text_typo_in_a_numeric_column_is_not_a_new_category():
    df = pd.read_csv(VETERAN).astype({"karno": object})
    df.loc[4, "karno"] = "6O"
    with pytest.raises(DataError) as err:
        load_cohort(df, _toml_spec({"time": "time", "event": "status"}, ["karno"]))
    problem = err.value.problems[0]
    assert problem.rule == "numeric" and problem.rows == (5,)


def test_resolved_spec_of_a_formula_refits_the_same_design():
    from necc_bayes.spec.io import spec_to_dict
    from necc_bayes.survival.inputs import check_inputs
    from necc_bayes.survival.resolve import resolve_spec

    df = pd.read_csv(VETERAN)
    spec = compose_spec('Surv(time, status) ~ C(celltype, contr.treatment("squamous")) + trt')
    checked = check_inputs(spec, df)
    resolved = resolve_spec(checked)
    assert resolved.covariates.categorical["celltype"].reference == "squamous"
    assert resolved.covariates.terms == ["celltype", "trt"]
    assert resolved.covariates.formula_terms == checked.cohort.design.terms
    again = check_inputs(parse_spec(spec_to_dict(resolved)), df)
    assert again.cohort.design.terms == checked.cohort.design.terms
    np.testing.assert_array_equal(again.cohort.design.X, checked.cohort.design.X)


def test_missing_model_with_a_formula_is_refused_by_rule():
    df = pd.read_csv(PBC)  # chol, copper, trig, platelet have missing values
    spec = compose_spec("Surv(time, status == 2) ~ age + chol", {"data": {"missing": "model"}})
    with pytest.raises(DataError) as err:
        load_cohort(df, spec)
    assert err.value.problems[0].rule == "missing_model_formula"


def test_missing_model_refuses_a_text_categorical_with_missing_values():
    df = pd.read_csv(VETERAN).astype({"celltype": object})
    df.loc[2, "celltype"] = None
    spec = parse_spec({"name": "t", "data": {"time": "time", "event": "status",
                                             "missing": "model"},
                       "covariates": {"terms": ["celltype", "karno10"]}})
    with pytest.raises(DataError) as err:
        load_cohort(df, spec)
    problem = err.value.problems[0]
    assert (problem.rule, problem.column, problem.rows) == ("missing_model_type", "celltype", (3,))


def test_counting_process_formula_equals_the_toml_pieces():
    heart = DATASETS / "heart.csv"
    toml = parse_spec({"name": "t", "data": {"time": "stop", "event": "event", "id": "id",
                                             "entry": "start"},
                       "covariates": {"terms": ["age", "year", "surgery", "transplant"]}})
    formula = compose_spec("Surv(start, stop, event) ~ age + year + surgery + transplant",
                           {"data": {"id": "id"}})
    assert (formula.data.entry, formula.data.time, formula.data.event) == (
        "start", "stop", "event")
    a, b = load_cohort(heart, toml), load_cohort(pd.read_csv(heart), formula)
    np.testing.assert_array_equal(a.design.X, b.design.X)
    np.testing.assert_array_equal(a.entry, b.entry)
    assert a.n_subjects == b.n_subjects == 103
