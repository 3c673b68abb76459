"""Survival formulas and event expressions (DESIGN section 8), parsed without the data.

The left side (``Surv(...)``) is ours; the right side is formulaic's (checked by parsing it).
Every rule is a named ``SpecError`` problem naming the key.
"""

from __future__ import annotations

import pytest

from necc_bayes.errors import SpecError
from necc_bayes.spec.formula import parse_event, parse_formula
from necc_bayes.spec.io import compose_spec, parse_spec, spec_to_dict, to_toml


@pytest.mark.parametrize(
    ("text", "time", "event", "entry", "rhs"),
    [
        ("Surv(time, status) ~ celltype + karno10", "time", "status", None, "celltype + karno10"),
        ("Surv(time, status == 2) ~ age", "time", "status == 2", None, "age"),
        ("Surv(start, stop, event) ~ age + transplant", "stop", "event", "start",
         "age + transplant"),
        ("Surv( futime ,fustat)~age", "futime", "fustat", None, "age"),
        ('Surv(t, arm == "dead") ~ x', "t", 'arm == "dead"', None, "x"),
    ],
)
def test_left_side_gives_time_event_and_entry(text, time, event, entry, rhs):
    f = parse_formula(text)
    assert (f.time, f.event, f.entry, f.rhs) == (time, event, entry, rhs)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("celltype + karno10", "one '~'"),
        ("Surv(time, status) ~ a ~ b", "one '~'"),
        ("time ~ celltype", "left side must be Surv"),
        ("Surv(time) ~ x", "2 or 3 arguments"),
        ("Surv(a, b, c, d) ~ x", "2 or 3 arguments"),
        ("Surv(time, status) ~ ", "right side of the formula is empty"),
        ("Surv(time, status) ~ x +* y", "formulaic cannot parse"),
    ],
)
def test_malformed_formulas_are_refused_with_a_reason(text, match):
    with pytest.raises(ValueError, match=match):
        parse_formula(text)


def test_event_expression_literal_is_a_number_or_a_string():
    assert parse_event("status").literal is None
    assert parse_event("status == 2").literal == 2.0
    assert parse_event("status==2").value == "2"
    assert parse_event("arm == 'dead'").literal == "dead"
    assert str(parse_event("status==2")) == "status == 2"


def test_formula_in_a_toml_fills_the_data_section_and_round_trips():
    spec = parse_spec({"name": "f", "formula": "Surv(time, status == 2) ~ age + sex"})
    assert (spec.data.time, spec.data.event, spec.data.event_column) == (
        "time", "status == 2", "status",
    )
    assert spec.formula_rhs == "age + sex"
    again = parse_spec(spec_to_dict(spec))
    assert again == spec
    assert 'formula = "Surv(time, status == 2) ~ age + sex"' in to_toml(spec)


def test_data_keys_that_disagree_with_the_formula_are_refused():
    with pytest.raises(SpecError) as err:
        parse_spec({"name": "f", "formula": "Surv(time, status) ~ age",
                    "data": {"time": "futime"}})
    problem = err.value.problems[0]
    assert problem.rule == "formula_conflict" and problem.column == "data.time"


def test_agreeing_data_keys_and_other_sections_are_kept():
    spec = parse_spec({"name": "f", "formula": "Surv(time, status==2) ~ age",
                       "data": {"event": "status == 2", "time_unit": "days"}})
    assert spec.data.time_unit == "days"


def test_bad_formula_is_a_named_spec_problem():
    with pytest.raises(SpecError) as err:
        parse_spec({"name": "f", "formula": "time ~ age"})
    assert err.value.problems[0].rule == "formula_syntax"


def test_compose_spec_merges_sections_into_a_formula():
    spec = compose_spec("Surv(time, status) ~ age",
                        {"intervals": {"rule": "quantile", "n": 4},
                         "data": {"time_unit": "weeks"}, "sampler": {"seed": 3}})
    assert spec.intervals.n == 4 and spec.data.time_unit == "weeks" and spec.sampler.seed == 3
    assert spec.data.time == "time"


def test_spec_argument_must_be_a_dict():
    with pytest.raises(SpecError, match="dict of sections"):
        compose_spec("Surv(time, status) ~ age", ["intervals"])  # type: ignore[arg-type]


def test_unknown_keys_in_spec_argument_are_refused_by_name():
    with pytest.raises(SpecError) as err:
        compose_spec("Surv(time, status) ~ age", {"data": {"time_units": "days"}})
    assert any("time_units" in (p.column or "") + p.message for p in err.value.problems)


def test_time_unit_must_be_one_of_four():
    with pytest.raises(SpecError):
        parse_spec({"name": "f", "data": {"time": "t", "event": "e", "time_unit": "hours"}})
