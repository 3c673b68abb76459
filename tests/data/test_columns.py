"""Validation converts each column once (data.columns.Columns) and the results are unchanged.

References: the conversions the checks made before (``pd.to_numeric(..., errors="coerce")``
of each column, ``as_text``) recomputed here by hand; issue 21 (pd.to_numeric ran 64 times
over 13 columns at n = 200,000). No sampling.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from necc_bayes.data.columns import Columns, as_text, column_kind, numeric_values
from necc_bayes.data.csv_file import read_csv
from necc_bayes.data.load import load_cohort
from necc_bayes.spec.io import load_spec
from necc_bayes.survival.inputs import check_inputs
from necc_bayes.survival.intervals import expand


def test_validation_converts_each_used_column_once(monkeypatch, cohort_csv, final_spec):
    frame = read_csv(cohort_csv)
    calls: Counter[str] = Counter()
    to_numeric = pd.to_numeric

    def counting(values, *args, **kwargs):
        calls[str(getattr(values, "name", None))] += 1
        return to_numeric(values, *args, **kwargs)

    monkeypatch.setattr(pd, "to_numeric", counting)
    cohort = load_cohort(frame, load_spec(final_spec))
    assert calls, "the CSV's text columns are converted"
    assert max(calls.values()) == 1, calls
    np.testing.assert_array_equal(
        cohort.time, to_numeric(frame[cohort.frame.columns[0]]).to_numpy(dtype=float)
    )


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["1", " 2.5", None, "x"], name="a"),
        pd.Series(["4O", "3", None], name="b"),
        pd.Series(["a", "b", None], name="c"),
        pd.Series([True, False, True], name="d"),
        pd.Series([1.0, np.nan, 3.0], name="e"),
    ],
)
def test_columns_give_what_each_conversion_gave(values):
    cols = Columns(pd.DataFrame({values.name: values}))
    name = str(values.name)
    pd.testing.assert_series_equal(cols.coerced(name), pd.to_numeric(values, errors="coerce"))
    pd.testing.assert_series_equal(cols.numeric(name), numeric_values(values))
    pd.testing.assert_series_equal(cols.text(name), as_text(values))
    for declared in (False, True):
        assert cols.kind(name, declared) == column_kind(values, declared)
    assert cols.coerced(name) is cols.coerced(name)  # converted once


def test_person_period_is_expanded_once_and_read_only(cohort_csv, final_spec):
    checked = check_inputs(final_spec, cohort_csv)
    pp = checked.person_period
    assert checked.person_period is pp
    c = checked.cohort
    ref = expand(c.time, c.event, checked.cuts, entry=c.entry)
    np.testing.assert_array_equal(pp.exposure, ref.exposure)
    np.testing.assert_array_equal(pp.interval, ref.interval)
    np.testing.assert_array_equal(pp.event, ref.event)
    with pytest.raises(ValueError, match="read-only"):
        pp.exposure[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        pp.event[0] = 0
    c.event[0] = c.event[0]  # the cohort's own arrays stay writable
