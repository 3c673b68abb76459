"""The bad-input catalogue: every file in tests/bad_inputs is refused with the named rule.

Each case gives the file, the rule that must be named, the column, and the data rows
(counted from 1 after the header). The command line must turn each into exit code 2 with a
one-paragraph message and no traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from necc_bayes.cli.main import main
from necc_bayes.errors import DataError, InputError, SpecError
from necc_bayes.spec.io import load_spec
from necc_bayes.survival.inputs import check_inputs

HERE = Path(__file__).resolve().parents[1] / "bad_inputs"
SPEC = HERE / "spec.toml"

# (data file, rule, column, rows)
DATA_CASES = [
    ("time_zero.csv", "time_positive", "time", (3,)),
    ("time_negative.csv", "time_positive", "time", (4,)),
    ("time_inf.csv", "time_finite", "time", (2,)),
    ("time_text.csv", "numeric", "time", (5,)),
    ("time_missing.csv", "missing", "time", (6,)),
    ("event_two.csv", "event_binary", "event", (1,)),
    ("event_minus_one.csv", "event_binary", "event", (2,)),
    ("event_half.csv", "event_binary", "event", (3,)),
    ("event_yes.csv", "event_binary", "event", (4,)),
    ("event_missing.csv", "missing", "event", (7,)),
    ("no_events.csv", "min_events", "event", ()),
    ("duplicate_id.csv", "id_unique", "id", (2, 5)),
    ("covariate_text.csv", "numeric", "x1", (3,)),
    ("covariate_missing.csv", "missing", "x2", (8,)),
    ("constant_covariate.csv", "constant", "x1", ()),
    ("collinear.csv", "collinear", "x1, x2", ()),
    ("missing_column.csv", "column_exists", "stage", ()),
    ("reference_absent.csv", "categorical_reference", "stage", ()),
    ("unknown_level.csv", "categorical_levels", "stage", (4,)),
    ("one_row.csv", "min_rows", None, ()),
    ("empty.csv", "csv_read", None, ()),
    ("header_only.csv", "min_rows", None, ()),
    ("ragged.csv", "csv_read", None, ()),
    ("does_not_exist.csv", "file_exists", None, ()),
    # issue 22: files that were misread, crashed or passed silently
    ("header_duplicate.csv", "column_unique", "event", ()),
    ("header_colliding.csv", "column_unique", "x1", ()),
    ("semicolon_decimal_comma.csv", "csv_delimiter", None, ()),
    ("latin1.csv", "encoding_utf8", "stage", (3,)),
    ("time_overflow.csv", "time_range", "time", (2,)),
    ("time_underflow.csv", "time_range", "time", (4,)),
    ("time_spread.csv", "time_spread", "time", (6, 8)),
]

# (spec file, rule, key)
SPEC_CASES = [
    ("unknown_key.toml", "unknown_key", "data.tme"),
    ("negative_sigma.toml", "invalid_value", "priors.log_hr.normal.sigma"),
    ("unknown_family.toml", "prior_family", "priors.baseline"),
    ("gamma_zero_alpha.toml", "invalid_value", "priors.baseline.gamma.alpha"),
    ("fixed_without_cuts.toml", "invalid_value", "intervals"),
    ("prior_unknown_term.toml", "term_reference", None),
    ("syntax.toml", "toml_syntax", None),
    ("missing_data_section.toml", "required_key", "data"),
    ("nan_prior.toml", "invalid_value", "priors.log_hr.normal.mu"),
    ("cut_beyond_follow_up.toml", "cut_in_follow_up", "intervals.cuts"),
    ("no_such_spec.toml", "file_exists", None),
]


@pytest.mark.parametrize(("name", "rule", "column", "rows"), DATA_CASES)
def test_data_case_names_rule_column_rows(name, rule, column, rows):
    with pytest.raises(DataError) as info:
        check_inputs(SPEC, HERE / name)
    problem = info.value.problems[0]
    assert info.value.rules == [rule], info.value.render()
    assert problem.column == column
    assert problem.rows == rows
    assert name in str(info.value)


@pytest.mark.parametrize(("name", "rule", "key"), SPEC_CASES)
def test_spec_case_names_rule_and_key(name, rule, key):
    with pytest.raises(SpecError) as info:
        check_inputs(HERE / "specs" / name, HERE / "valid.csv")
    assert rule in info.value.rules, info.value.render()
    if key is not None:
        assert key in [p.column for p in info.value.problems]


def test_every_problem_is_reported_at_once():
    with pytest.raises(DataError) as info:
        check_inputs(SPEC, HERE / "many_problems.csv")
    assert set(info.value.rules) == {"missing", "time_positive", "event_binary", "id_unique"}
    by_rule = {p.rule: p for p in info.value.problems}
    assert by_rule["time_positive"].rows == (1, 7)
    assert by_rule["missing"].column == "x2"


def test_missing_drop_is_explicit_and_reported(tmp_path):
    spec_text = SPEC.read_text() + "\n"
    spec_text = spec_text.replace('id = "id"', 'id = "id"\nmissing = "drop"')
    spec_path = tmp_path / "drop.toml"
    spec_path.write_text(spec_text)
    checked = check_inputs(spec_path, HERE / "covariate_missing.csv")
    assert checked.cohort.dropped_rows == (8,)
    assert checked.cohort.n == 7


def test_valid_file_passes_and_input_is_not_modified():
    import pandas as pd

    from necc_bayes.data.load import read_csv, validate

    frame = read_csv(HERE / "valid.csv")
    before = frame.copy()
    cohort = validate(frame, load_spec(SPEC), "valid.csv")
    pd.testing.assert_frame_equal(frame, before)
    assert cohort.n == 8 and cohort.n_events == 5
    assert cohort.design.terms == ["x1", "x2", "stage[II]", "stage[III]"]


@pytest.mark.parametrize(("name", "rule", "column", "rows"), DATA_CASES[:6])
def test_cli_exit_code_2_without_traceback(name, rule, column, rows, capsys):
    code = main(["validate-data", str(SPEC), "--data", str(HERE / name)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"[{rule}]" in err and "Traceback" not in err


def test_cli_validate_data_prints_profile(capsys):
    code = main(["validate-data", str(SPEC), "--data", str(HERE / "valid.csv")])
    out = capsys.readouterr().out
    assert code == 0
    assert "n: 8" in out and "events: 5" in out


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)
