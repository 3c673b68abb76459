"""Person-period expansion with delayed entry and counting-process rows, against R.

Reference: ``tests/reference/survsplit_counting.json``, written by
``scripts/reference/survsplit_counting.R`` (R 4.2.2, survival 3.5.3):
``survSplit(Surv(tstart, tstop, event) ~ ., data = cp, cut = c(2, 5))`` on ten hand-made
rows of seven ids (entry at a cut, entry inside an interval, a piece inside one interval,
three pieces of one id, entry at the last cut, an event exactly at a cut after a late entry,
two pieces with a gap). The expansion must give R's rows exactly (same interval, start,
stop, exposure and event), and the exposure matrix must be their sums.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from necc_bayes.survival.intervals import expand
from necc_bayes.survival.likelihood import loglik_long_poisson, sufficient_stats
from necc_bayes.survival.patterns import collapse

REF = json.loads(
    (Path(__file__).parents[1] / "reference" / "survsplit_counting.json").read_text()
)
ROWS = pd.DataFrame(REF["input"])
CUTS = np.asarray(REF["cuts"], dtype=float)


def expanded():
    return expand(
        ROWS["tstop"].to_numpy(float),
        ROWS["event"].to_numpy(int),
        CUTS,
        entry=ROWS["tstart"].to_numpy(float),
    )


def test_long_format_equals_survsplit_rows():
    long = expanded().long_format(ids=ROWS["id"].to_numpy())
    r = pd.DataFrame(REF["split"])
    ours = long.assign(interval=long["interval"] + 1)  # survSplit counts intervals from 1
    ours = ours.sort_values(["id", "tstart"], kind="stable").reset_index(drop=True)
    assert len(ours) == len(r)
    for col in ("id", "interval", "tstart", "tstop", "exposure", "event"):
        np.testing.assert_allclose(ours[col].to_numpy(float), r[col].to_numpy(float), err_msg=col)


def test_exposure_matrix_is_the_sum_of_the_split_rows():
    pp = expanded()
    r = pd.DataFrame(REF["split"])
    # R's split rows keep the input row order within an id; map them back to input rows
    row_of = []
    for _, g in r.groupby("id", sort=True):
        pieces = ROWS.index[ROWS["id"] == g["id"].iloc[0]]
        for _, s in g.iterrows():
            hit = [i for i in pieces if ROWS.at[i, "tstart"] <= s.tstart < ROWS.at[i, "tstop"]]
            row_of.append(hit[0])
    expected = np.zeros_like(pp.exposure)
    np.add.at(expected, (np.array(row_of), r["interval"].to_numpy() - 1), r["exposure"])
    np.testing.assert_allclose(pp.exposure, expected)
    np.testing.assert_allclose(pp.exposure.sum(1), ROWS["tstop"] - ROWS["tstart"])
    # the event interval of every row is where R put its event
    ev = r[r["event"] == 1]
    np.testing.assert_array_equal(
        np.sort(pp.interval[pp.event == 1]), np.sort(ev["interval"].to_numpy() - 1)
    )


def test_hand_worked_cases():
    pp = expanded()
    # id 1: entry at the cut 2 -> nothing in (0, 2]
    np.testing.assert_allclose(pp.exposure[0], [0.0, 2.0, 0.0])
    # id 3: (2.5, 4.5] inside (2, 5]
    np.testing.assert_allclose(pp.exposure[2], [0.0, 2.0, 0.0])
    # id 6: event exactly at the cut 2 after entry at 0.5 -> interval 0, exposure 1.5
    assert pp.interval[7] == 0 and pp.exposure[7, 0] == 1.5
    # id 7: gap (1, 3] not at risk; event at the cut 5 -> interval 1
    np.testing.assert_allclose(pp.exposure[8] + pp.exposure[9], [1.0, 2.0, 0.0])
    assert pp.interval[9] == 1
    assert pp.has_entry
    np.testing.assert_array_equal(pp.events_per_interval, [1, 3, 1])


def test_no_entry_equals_entry_zero():
    t, e = ROWS["tstop"].to_numpy(float), ROWS["event"].to_numpy(int)
    a, b = expand(t, e, CUTS), expand(t, e, CUTS, entry=np.zeros(t.size))
    np.testing.assert_array_equal(a.exposure, b.exposure)
    np.testing.assert_array_equal(a.interval, b.interval)
    assert not a.has_entry and not b.has_entry


def test_entry_shift_equals_time_from_entry():
    """Shifting entry, stop and the cuts by the same amount leaves every exposure unchanged."""
    rng = np.random.default_rng(7)
    entry = rng.uniform(0, 3, 40)
    stop = entry + rng.exponential(4, 40)
    event = rng.integers(0, 2, 40)
    cuts = np.array([2.0, 4.0, 7.0])
    shifted = expand(stop + 5.0, event, cuts + 5.0, entry=entry + 5.0)
    base = expand(stop, event, cuts, entry=entry)
    np.testing.assert_allclose(shifted.exposure, base.exposure, atol=1e-12)
    np.testing.assert_array_equal(shifted.interval, base.interval)


def test_compact_likelihood_equals_long_poisson_with_entry():
    """The sufficient statistics of pieces give the survSplit Poisson likelihood."""
    pp = expanded()
    X = ROWS[["x"]].to_numpy(float)
    stats = sufficient_stats(X, pp)
    beta, lam = np.array([0.4]), np.array([0.2, 0.1, 0.3])
    from necc_bayes.survival.likelihood import loglik_conditional, poisson_offset_constant

    compact = float(loglik_conditional(beta, lam, stats)) + poisson_offset_constant(pp)
    assert compact == pytest.approx(loglik_long_poisson(beta, lam, X, pp), rel=1e-12)
    assert collapse(X, pp).exposure.sum() == pytest.approx(pp.exposure.sum())
