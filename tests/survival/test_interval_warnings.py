"""Cut points that are used differently from how they were written are reported (issue 22.11).

Before: unsorted ``cuts`` were sorted silently and ``rule = "quantile", n = 500`` silently gave
47 intervals on the synthetic cohort (46 events).
"""

from __future__ import annotations

import numpy as np
import pytest

from necc_bayes.errors import InputWarning
from necc_bayes.survival.intervals import check_cuts, quantile_cuts, resolve_cuts

TIME = np.array([2.0, 3.0, 5.0, 7.0, 11.0, 13.0, 17.0, 19.0, 30.0])
EVENT = np.array([1, 1, 1, 0, 1, 1, 0, 1, 0])


def test_unsorted_cuts_are_sorted_and_said_so():
    with pytest.warns(
        InputWarning, match=r"not in increasing order; using them sorted: \[5.0, 10.0, 20.0\]"
    ):
        cuts = check_cuts([20.0, 5.0, 10.0], TIME)
    assert cuts.tolist() == [5.0, 10.0, 20.0]


def test_sorted_cuts_give_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_cuts([5.0, 10.0, 20.0], TIME).tolist() == [5.0, 10.0, 20.0]


def test_more_quantile_intervals_than_event_times_is_said():
    with pytest.warns(
        InputWarning, match=r"500 intervals .* 6 events \(6 distinct times\) allow only 7"
    ):
        cuts = resolve_cuts("quantile", TIME, EVENT, n=500)
    assert cuts.tolist() == [2.0, 3.0, 5.0, 11.0, 13.0, 19.0]  # a cut at every event time


def test_quantile_within_reach_gives_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_cuts("quantile", TIME, EVENT, n=3).size == 2
        assert quantile_cuts(TIME, EVENT, 500).size == 6  # sweeps call the rule itself: quiet
