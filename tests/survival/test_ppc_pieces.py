"""Posterior predictive check of counting-process rows: events per interval given exposure."""

from __future__ import annotations

import numpy as np
import pytest

from necc_bayes.survival.intervals import expand
from necc_bayes.survival.ppc_pieces import interval_event_replicates, interval_event_table

ENTRY = np.array([0.0, 2.0, 0.0, 3.0, 1.0])
STOP = np.array([2.0, 6.0, 3.0, 9.0, 4.0])
EVENT = np.array([0, 1, 0, 1, 1])
X = np.array([[0.0], [1.0], [0.0], [1.0], [1.0]])
PP = expand(STOP, EVENT, np.array([2.5, 5.0]), entry=ENTRY)


def test_replicate_means_are_the_poisson_means_given_exposure():
    lam = np.array([0.1, 0.2, 0.05])
    beta, b = np.array([0.4]), np.array([0.3, -0.2])
    clusters = np.array([0, 0, 1, 1, 0])
    strata = np.array([0, 0, 1, 1, 1])
    lam_s = np.stack([lam, 2 * lam])
    R = 200_000
    rep = interval_event_replicates(
        np.broadcast_to(lam_s, (R, 2, 3)),
        np.broadcast_to(beta, (R, 1)),
        X,
        PP,
        np.random.default_rng(0),
        strata=strata,
        frailty=np.broadcast_to(b, (R, 2)),
        clusters=clusters,
    )
    eta = X @ beta + b[clusters]
    expected = (lam_s[strata] * np.exp(eta)[:, None] * PP.exposure).sum(axis=0)
    np.testing.assert_allclose(rep.mean(axis=0), expected, rtol=0.02)
    # time-varying log-HRs: one per interval
    by_interval = np.broadcast_to(np.array([[0.0], [1.0], [-1.0]]), (R, 3, 1))
    rep_tv = interval_event_replicates(
        np.broadcast_to(lam, (R, 3)), by_interval, X, PP, np.random.default_rng(1)
    )
    w = np.exp(X @ np.array([[0.0, 1.0, -1.0]]))  # (n, J)
    np.testing.assert_allclose(rep_tv.mean(axis=0), (lam * w * PP.exposure).sum(0), rtol=0.02)


def test_event_table_mid_p():
    rep = np.array([[0, 1], [1, 1], [2, 1], [3, 1]])
    table = interval_event_table(rep, np.array([1, 1]), ["a", "b"], 0.5)
    assert table["ppp"].tolist() == pytest.approx([0.5 + 0.125, 0.5])
    assert table["observed"].tolist() == [1, 1]
