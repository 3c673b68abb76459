"""PEMResult computes its default summaries once and hands out copies (no sampling)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from necc_bayes.errors import ConvergenceWarning
from tests.fake_fit import fake_result


def test_default_summaries_are_computed_once_and_copied(tmp_path):
    result = fake_result(tmp_path)
    first = result.hazard_ratios()
    first.loc[:, "hr_median"] = -1.0  # a caller mutating its copy must not change the result
    second = result.hazard_ratios()
    assert (second["hr_median"] > 0).all()
    pd.testing.assert_frame_equal(result.survival_summary(), result.survival_summary())
    assert result.diagnostics() is result.diagnostics()
    # a non-default request is computed afresh and differs from the default
    narrow = result.hazard_ratios(ci_prob=0.5)
    assert (narrow["hr_high"] - narrow["hr_low"] < second["hr_high"] - second["hr_low"]).all()


def test_cached_diagnostics_still_warn_on_request(tmp_path):
    result = fake_result(tmp_path, stuck_chain=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not result.diagnostics().passed
    with pytest.warns(ConvergenceWarning):
        result.diagnostics(warn=True)
