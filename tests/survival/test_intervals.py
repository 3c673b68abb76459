"""Interval expansion against hand-worked cases (R ``survival::survSplit`` semantics).

The golden case below was worked by hand: cuts at 2 and 5 give intervals (0,2], (2,5], (5,end].
"""

from __future__ import annotations

import numpy as np
import pytest

from necc_bayes.errors import InputWarning, SpecError
from necc_bayes.survival.intervals import (
    check_cuts,
    default_n_intervals,
    event_time_cuts,
    expand,
    quantile_cuts,
    resolve_cuts,
)
from necc_bayes.survival.patterns import collapse

#              1    2    3    4    5    6
TIME = np.array([1.0, 2.0, 5.0, 7.5, 2.0, 3.0])
EVENT = np.array([1, 1, 0, 1, 1, 0])
CUTS = np.array([2.0, 5.0])
# By hand: subject 2 dies exactly at the cut 2 -> interval 0 (right-closed); subject 3 is
# censored exactly at the cut 5 -> interval 1; subject 4 outlives the last cut -> interval 2;
# subject 5 ties with subject 2.
EXPOSURE = np.array(
    [
        [1.0, 0.0, 0.0],
        [2.0, 0.0, 0.0],
        [2.0, 3.0, 0.0],
        [2.0, 3.0, 2.5],
        [2.0, 0.0, 0.0],
        [2.0, 1.0, 0.0],
    ]
)
INTERVAL = np.array([0, 0, 1, 2, 0, 1])


def test_golden_exposure_and_interval():
    pp = expand(TIME, EVENT, CUTS)
    np.testing.assert_array_equal(pp.exposure, EXPOSURE)
    np.testing.assert_array_equal(pp.interval, INTERVAL)
    np.testing.assert_array_equal(pp.events_per_interval, [3, 0, 1])
    np.testing.assert_array_equal(pp.at_risk_per_interval, [6, 3, 1])
    np.testing.assert_allclose(pp.exposure.sum(axis=1), TIME)


def test_golden_long_format_matches_survsplit():
    # survSplit(Surv(time, event) ~ ., cut = c(2, 5)) gives these (tstart, tstop, event) rows.
    expected = [
        (1, 0, 1, 1),
        (2, 0, 2, 1),
        (3, 0, 2, 0),
        (3, 2, 5, 0),
        (4, 0, 2, 0),
        (4, 2, 5, 0),
        (4, 5, 7.5, 1),
        (5, 0, 2, 1),
        (6, 0, 2, 0),
        (6, 2, 3, 0),
    ]
    long = expand(TIME, EVENT, CUTS).long_format()
    got = list(long[["id", "tstart", "tstop", "event"]].itertuples(index=False, name=None))
    assert [tuple(float(v) for v in row) for row in got] == [
        tuple(float(v) for v in row) for row in expected
    ]
    assert long["event"].sum() == EVENT.sum()


def test_no_cuts_is_one_interval():
    pp = expand(TIME, EVENT, np.empty(0))
    np.testing.assert_array_equal(pp.exposure[:, 0], TIME)
    assert pp.n_intervals == 1 and (pp.interval == 0).all()


def test_event_time_cuts_exclude_the_last_follow_up_time():
    np.testing.assert_array_equal(event_time_cuts(TIME, EVENT), [1.0, 2.0])


def test_quantile_cuts_balance_events_up_to_ties():
    # event times 1, 2, 2, 7.5: the median (inverted cdf) is 2 -> 3 events vs 1 (ties at 2)
    np.testing.assert_array_equal(quantile_cuts(TIME, EVENT, 2), [2.0])
    rng = np.random.default_rng(1)
    t = rng.exponential(10, 200)
    e = np.ones(200, dtype=int)
    pp = expand(t, e, quantile_cuts(t, e, 4))
    np.testing.assert_array_equal(pp.events_per_interval, [50, 50, 50, 50])


@pytest.mark.parametrize(("n", "k"), [(88, 5), (432, 9), (20, 3), (2, 1)])
def test_default_number_of_intervals(n, k):
    # ceil(sqrt(n / log n)): 88 -> sqrt(19.65) = 4.43 -> 5; 432 -> sqrt(71.2) = 8.44 -> 9
    assert default_n_intervals(n) == k


@pytest.mark.parametrize(
    ("cuts", "rule"),
    [
        ([0.0, 2.0], "cut_positive"),
        ([2.0, 7.5], "cut_in_follow_up"),
        ([2.0, 2.0], "cut_unique"),
        ([np.inf], "cut_finite"),
    ],
)
def test_cuts_outside_follow_up_are_refused(cuts, rule):
    with pytest.raises(SpecError) as info:
        check_cuts(np.array(cuts), TIME)
    assert rule in info.value.rules


def test_resolve_cuts_rules():
    with pytest.warns(InputWarning, match="not in increasing order"):  # sorted, and said so
        np.testing.assert_array_equal(resolve_cuts("fixed", TIME, EVENT, cuts=[5.0, 2.0]), CUTS)
    assert resolve_cuts("default", TIME, EVENT).size == default_n_intervals(6) - 1
    with pytest.raises(SpecError):
        resolve_cuts("quantile", TIME, EVENT)


def test_collapse_sums_exposure_and_events_per_pattern():
    X = np.array([[0.0], [1.0], [0.0], [1.0], [0.0], [1.0]])
    pp = expand(TIME, EVENT, CUTS)
    stats = collapse(X, pp)
    np.testing.assert_array_equal(stats.X, [[0.0], [1.0]])
    expected = np.vstack([EXPOSURE[[0, 2, 4]].sum(0), EXPOSURE[[1, 3, 5]].sum(0)])
    np.testing.assert_array_equal(stats.exposure, expected)
    np.testing.assert_array_equal(stats.events.sum(axis=0), pp.events_per_interval)
    np.testing.assert_array_equal(stats.count, [3, 3])
    np.testing.assert_array_equal(stats.X[stats.index], X)
