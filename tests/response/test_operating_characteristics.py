"""Tests of the exact operating characteristics of the ORR decision rule."""

import time

import numpy as np
import pytest

from necc_bayes.errors import DataError, SpecError
from necc_bayes.response import beta_binomial as bb
from necc_bayes.response import operating_characteristics as oc


@pytest.fixture(scope="module")
def dm_study():
    return oc.decision_matrix(16, 41, "uniform")


def test_decision_matrix_entries_match_closed_form(dm_study):
    for xt, xc in [(0, 0), (7, 9), (16, 41), (3, 30)]:
        ref = bb.prob_greater_closed_form(xt + 1, 16 - xt + 1, xc + 1, 41 - xc + 1)
        assert dm_study.prob[xt, xc] == pytest.approx(ref, abs=1e-9)
    assert np.all(np.diff(dm_study.prob, axis=0) > 0)  # more treated responders: more P
    assert np.all(np.diff(dm_study.prob, axis=1) < 0)


def test_exact_probability_matches_simulation(dm_study):
    for pt, pc in [(0.44, 0.22), (0.22, 0.22)]:
        exact = float(oc.prob_declare(dm_study, 0.95, [pt], [pc])[0])
        sim = oc.simulate_declare(dm_study, 0.95, pt, pc, n_sims=200_000)
        assert abs(sim - exact) < 4 * np.sqrt(exact * (1 - exact) / 200_000)


def test_type_one_error_bounded_and_power_monotone(dm_study):
    p = np.linspace(0.02, 0.98, 49)
    for c in (0.9, 0.95):
        err = oc.prob_declare(dm_study, c, p, p)
        # with a flat prior the rule behaves like a one-sided test at level 1 - c,
        # with some excess from discreteness for small arms (bound: 1.5 x nominal)
        assert np.all(err <= 1.5 * (1 - c))
        pt = np.linspace(0.22, 1.0, 40)
        power = oc.prob_declare(dm_study, c, pt, np.full_like(pt, 0.22))
        assert np.all(np.diff(power) > 0)
    worst, _ = oc.max_type_one_error(dm_study, 0.95)
    assert worst < 0.075
    # a stricter threshold never declares more often
    assert np.all(oc.prob_declare(dm_study, 0.95, p, p) <= oc.prob_declare(dm_study, 0.9, p, p))


def test_table_shape_and_values(dm_study):
    table = oc.oc_table(dm=dm_study)
    assert {"declare_c0.9", "declare_c0.95", "p_undefined"} <= set(table.columns)
    assert len(table) == 15
    null = table[table["difference"] == 0]
    assert (null["declare_c0.95"] < 0.07).all()
    assert "type-I" in oc.format_oc_table(table, dm_study)


def test_fast_for_study_and_user_sizes():
    start = time.perf_counter()
    dm = oc.decision_matrix(30, 30, "jeffreys")
    oc.oc_table(30, 30, dm=dm)
    assert time.perf_counter() - start < 10


def test_skeptical_prior_lowers_type_one_error(dm_study):
    skep = oc.decision_matrix(16, 41, "skeptical:0.1,0.28")
    p = np.array([0.2, 0.3, 0.4])
    assert np.all(oc.prob_declare(skep, 0.95, p, p) < oc.prob_declare(dm_study, 0.95, p, p))


def test_undefined_outcomes_reported():
    dm = oc.decision_matrix(16, 41, "skeptical:0.1")
    assert np.isnan(dm.prob[0, 0])
    assert oc.prob_undefined(dm, [0.05], [0.05])[0] > 0.5
    assert oc.prob_undefined(dm, [0.4], [0.4])[0] < 1e-3


@pytest.mark.parametrize(("nt", "nc"), [(0, 41), (16, -1), (2.5, 41)])
def test_invalid_sizes(nt, nc):
    with pytest.raises(DataError) as err:
        oc.decision_matrix(nt, nc)
    assert "assessed_positive" in err.value.rules


def test_invalid_threshold_and_rates(dm_study):
    with pytest.raises(SpecError, match="threshold_range"):
        oc.oc_table(dm=dm_study, thresholds=[1.0])
    with pytest.raises(DataError, match="rate_in_unit_interval"):
        oc.prob_declare(dm_study, 0.95, [1.2], [0.2])
