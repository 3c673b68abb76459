"""The proportional-hazards check: its score statistic and the table (no sampling).

References:

* the efficient score statistic against the score test computed by central finite differences
  of the long-format Poisson log-likelihood with an explicit ``theta * g_j * x`` term
  (``U' I^-1 U`` over all parameters minus the same form over the nuisance parameters — the
  standard identity for the efficient score statistic);
* the time transform ``1 - KM(t-)`` against a hand-computed Kaplan–Meier curve;
* the posterior predictive p-value at a posterior concentrated at the truth: large under
  proportional hazards, tiny under a strong time-varying effect.

The comparison with R's ``cox.zph`` on the veteran data is in ``test_ph_veteran.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necc_bayes.survival.intervals import expand, resolve_cuts
from necc_bayes.survival.likelihood import draw_baseline, sufficient_stats
from necc_bayes.survival.ph_check import PH_COLUMNS, RowStructure, ph_check_from_draws
from necc_bayes.survival.ph_score import (
    efficient_score_test,
    expand_many,
    interval_residuals,
    one_step_interval_log_hr,
    residuals_for_draws,
    time_transform,
    trend_tests,
)


def _cohort(rng, n=60, change=False):
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    b1, b2 = (np.array([0.5, -0.6]), np.array([0.5, -0.6]))
    if change:
        b2 = np.array([0.5, 0.6])
    e = rng.exponential(size=n)
    h1, h2 = 0.1 * np.exp(X @ b1), 0.1 * np.exp(X @ b2)
    t0 = 5.0
    T = np.where(e < h1 * t0, e / h1, t0 + (e - h1 * t0) / h2)
    C = rng.uniform(5, 30, n)
    return X - X.mean(0), np.minimum(T, C), (T <= C).astype(int)


def _poisson_loglik(params, X, E, D, g, col):
    n_int = E.shape[1]
    alpha, beta, theta = params[:n_int], params[n_int:-1], params[-1]
    eta = alpha[None, :] + (X @ beta)[:, None] + theta * g[None, :] * X[:, [col]]
    mu = E * np.exp(eta)
    pos = E > 0
    return float((D[pos] * eta[pos] - mu[pos]).sum())


def _numeric_score_info(f, x, h=1e-4):
    k = x.size
    grad = np.empty(k)
    hess = np.empty((k, k))
    for a in range(k):
        ea = np.eye(k)[a] * h
        grad[a] = (f(x + ea) - f(x - ea)) / (2 * h)
        for b in range(k):
            eb = np.eye(k)[b] * h
            hess[a, b] = (f(x + ea + eb) - f(x + ea - eb) - f(x - ea + eb) + f(x - ea - eb)) / (
                4 * h * h
            )
    return grad, -hess


@pytest.mark.parametrize("col", [0, 1])
def test_efficient_score_matches_finite_difference_poisson_score_test(col):
    rng = np.random.default_rng(3)
    X, t, ev = _cohort(rng, n=50)
    pp = expand(t, ev, np.array([3.0, 8.0, 15.0]))
    E, D = pp.exposure, pp.event_matrix.astype(float)
    beta = np.array([0.3, -0.4])  # not the MLE: the beta score is not zero
    g = np.array([0.1, 0.4, 0.6, 0.9])
    S = (np.exp(X @ beta)[:, None] * E).sum(0)
    alpha = np.log(D.sum(0) / S)  # baseline rates profiled, as in the statistic
    x0 = np.concatenate([alpha, beta, [0.0]])
    U, info = _numeric_score_info(lambda p: _poisson_loglik(p, X, E, D, g, col), x0)
    full = U @ np.linalg.solve(info, U)
    nuis = U[:-1] @ np.linalg.solve(info[:-1, :-1], U[:-1])
    expected = full - nuis

    eta = np.repeat((X @ beta)[:, None], pp.n_intervals, axis=1)
    res = interval_residuals(X, E, D, eta)
    got = efficient_score_test(res, g, [col])
    assert got.chisq == pytest.approx(expected, rel=1e-5)
    assert got.df == 1


def test_statistic_depends_on_g_only_through_its_differences():
    rng = np.random.default_rng(4)
    X, t, ev = _cohort(rng)
    pp = expand(t, ev, np.array([4.0, 10.0]))
    eta = np.repeat((X @ np.array([0.4, -0.5]))[:, None], 3, axis=1)
    res = interval_residuals(X, pp.exposure, pp.event_matrix, eta)
    g = np.array([0.2, 0.5, 0.8])
    base = efficient_score_test(res, g, [1])
    shifted = efficient_score_test(res, g + 7.0, [1])
    scaled = efficient_score_test(res, 3.0 * g, [1])
    assert shifted.chisq == pytest.approx(base.chisq, rel=1e-10)
    assert scaled.chisq == pytest.approx(base.chisq, rel=1e-10)
    assert scaled.slope[0] == pytest.approx(base.slope[0] / 3.0, rel=1e-10)


def test_residuals_broadcast_over_draws_like_a_loop():
    rng = np.random.default_rng(5)
    X, t, ev = _cohort(rng)
    pp = expand(t, ev, np.array([4.0, 10.0]))
    betas = rng.normal(size=(4, 2))
    eta = np.repeat((betas @ X.T)[..., None], 3, axis=-1)
    many = interval_residuals(X, pp.exposure, pp.event_matrix, eta)
    for s in range(4):
        one = interval_residuals(X, pp.exposure, pp.event_matrix, eta[s])
        np.testing.assert_allclose(many.R[s], one.R, atol=1e-12)
        np.testing.assert_allclose(many.V[s], one.V, atol=1e-12)


def test_time_transform_km_by_hand():
    # four events at 1, 2, 3, 4: KM(t-) = 1, 3/4, 1/2, 1/4, so 1 - KM(t-) = 0, 1/4, 1/2, 3/4
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    event = np.array([1, 1, 1, 1, 0])
    bounds = np.array([0.0, 2.5, 4.5, np.inf])
    g = time_transform(time, event, bounds, "km")
    # intervals (0, 2.5]: mean(0, 1/5)... the censored subject at 5 is at risk: KM uses n = 5
    km_left = np.array([1.0, 4 / 5, 3 / 5, 2 / 5])
    np.testing.assert_allclose(g[:2], [np.mean(1 - km_left[:2]), np.mean(1 - km_left[2:])])
    # no events after 4.5: G at the interval's start, 1 - KM(4.5-) = 1 - 1/5
    assert g[2] == pytest.approx(1 - 1 / 5)
    np.testing.assert_allclose(time_transform(time, event, bounds, "identity")[:2], [1.5, 3.5])


def test_expand_many_matches_expand():
    rng = np.random.default_rng(6)
    t = rng.uniform(0.5, 20, size=(3, 12))
    e = rng.uniform(size=(3, 12)) < 0.7
    cuts = np.array([2.0, 7.0])
    exposure, events = expand_many(t, e, np.concatenate([[0.0], cuts, [np.inf]]))
    for r in range(3):
        pp = expand(t[r], e[r].astype(int), cuts)
        np.testing.assert_allclose(exposure[r], pp.exposure)
        np.testing.assert_array_equal(events[r], pp.event_matrix)


def test_rows_per_term_covariate_and_global():
    terms = ["cell[a]", "cell[b]", "karno", "trt"]
    sources = ["cell", "cell", "karno", "trt"]
    rows = trend_tests(terms, sources, varying=())
    assert [(r.term, r.scope, r.cols) for r in rows] == [
        ("cell[a]", "term", [0]),
        ("cell[b]", "term", [1]),
        ("karno", "term", [2]),
        ("trt", "term", [3]),
        ("cell", "covariate", [0, 1]),
        ("GLOBAL", "global", [0, 1, 2, 3]),
    ]
    varying = trend_tests(terms, sources, varying=(2,))
    assert "karno" not in [r.term for r in varying]
    assert varying[-1].cols == [0, 1, 3]


def _concentrated_posterior(X, t, ev, cuts, beta, rng, S=300):
    pp = expand(t, ev, cuts)
    draws = rng.normal(beta, 0.03, size=(S, len(beta)))
    lam = draw_baseline(draws, 0.01, 0.01, sufficient_stats(X, pp), rng)
    return lam, draws, pp


def test_check_flags_a_strong_time_varying_effect_and_not_ph():
    rng = np.random.default_rng(7)
    X, t, ev = _cohort(rng, n=400, change=True)
    cuts = resolve_cuts("quantile", t, ev, n=5)
    lam, draws, pp = _concentrated_posterior(X, t, ev, cuts, np.array([0.5, 0.0]), rng)
    chk = ph_check_from_draws(
        lam, draws, X, ["trt", "z"], ["trt", "z"], pp.bounds, t, ev, n_replicates=200, seed=1
    )
    table = chk.table.set_index("term")
    assert list(chk.table.columns) == PH_COLUMNS
    # z's log-HR goes from -0.6 to +0.6 at t = 5: flagged, increasing trend
    assert table.loc["z", "flagged"] and table.loc["z", "ppp"] < 0.01
    assert table.loc["z", "trend"] > 0
    assert table.loc["z", "p_chisq"] < 0.001
    assert not table.loc["trt", "flagged"]
    assert chk.messages() and "z" in chk.messages()[0]
    # the per-interval one-step log-HRs go from negative to positive
    z = chk.intervals[chk.intervals.term == "z"]["log_hr"].to_numpy()
    assert z[0] < -0.2 and z[-1] > 0.2


def test_check_does_not_flag_proportional_hazards():
    rng = np.random.default_rng(8)
    X, t, ev = _cohort(rng, n=400, change=False)
    cuts = resolve_cuts("quantile", t, ev, n=5)
    lam, draws, pp = _concentrated_posterior(X, t, ev, cuts, np.array([0.5, -0.6]), rng)
    chk = ph_check_from_draws(
        lam, draws, X, ["trt", "z"], ["trt", "z"], pp.bounds, t, ev, n_replicates=200, seed=1
    )
    assert not chk.table["flagged"].any(), chk.table
    assert chk.messages() == []
    assert chk.table["ppp"].between(0, 1).all()


def test_check_is_reproducible_from_its_seed():
    rng = np.random.default_rng(9)
    X, t, ev = _cohort(rng, n=80)
    cuts = resolve_cuts("quantile", t, ev, n=3)
    lam, draws, pp = _concentrated_posterior(X, t, ev, cuts, np.array([0.5, -0.6]), rng)
    args = (lam, draws, X, ["trt", "z"], ["trt", "z"], pp.bounds, t, ev)
    a = ph_check_from_draws(*args, n_replicates=50, seed=3).table
    b = ph_check_from_draws(*args, n_replicates=50, seed=3).table
    pd.testing.assert_frame_equal(a, b)


def test_one_step_interval_log_hr_is_the_interval_newton_step():
    rng = np.random.default_rng(10)
    X, t, ev = _cohort(rng, n=200)
    pp = expand(t, ev, np.array([4.0]))
    beta = np.array([0.5, -0.6])
    res = interval_residuals(X, pp.exposure, pp.event_matrix, np.repeat((X @ beta)[:, None], 2, 1))
    est, se = one_step_interval_log_hr(res, beta, 1)
    for j in range(2):
        assert est[j] == pytest.approx(beta[1] + res.R[j, 1] / res.V[j, 1, 1])
        assert se[j] == pytest.approx(res.V[j, 1, 1] ** -0.5)


def test_event_times_given_entry_follow_the_truncated_distribution():
    # P(T > t | T > e) = exp(-(H(t) - H(e))) for the piecewise-exponential hazard
    from scipy import stats

    from necc_bayes.survival.curves import cumulative_hazard
    from necc_bayes.survival.replicates import simulate_event_times

    rng = np.random.default_rng(12)
    bounds = np.array([0.0, 2.0, 6.0, np.inf])
    lam = np.array([[0.3, 0.1, 0.2]])
    R = 4000
    entry = np.full(R, 3.0)
    T = simulate_event_times(
        np.repeat(lam, 1, 0), np.zeros((1, 0)), np.zeros((R, 0)), bounds, rng, entry=entry
    )[0]
    assert (T > 3.0).all()

    def cdf(t):
        H = cumulative_hazard(np.atleast_1d(t), lam, np.zeros((1, 0)), np.zeros(0), bounds)[0]
        H_entry = cumulative_hazard(np.array([3.0]), lam, np.zeros((1, 0)), np.zeros(0), bounds)
        return 1.0 - np.exp(-(H - H_entry[0, 0]))

    assert stats.kstest(T, cdf).pvalue > 0.01


def test_event_times_with_per_interval_log_hr():
    from necc_bayes.survival.replicates import simulate_event_times

    bounds = np.array([0.0, 2.0, 6.0, np.inf])
    rng = np.random.default_rng(13)
    X = rng.normal(size=(30, 2))
    lam = rng.uniform(0.1, 0.3, size=(5, 3))
    beta = rng.normal(size=(5, 2))
    entry = rng.uniform(0, 3, 30)
    # constant per-interval log-HRs give the constant-HR draws (same random stream)
    const = simulate_event_times(lam, beta, X, bounds, np.random.default_rng(1), entry=entry)
    per = np.repeat(beta[:, None, :], 3, axis=1)
    by_int = simulate_event_times(lam, per, X, bounds, np.random.default_rng(1), entry=entry)
    np.testing.assert_allclose(by_int, const, rtol=1e-10)
    # a log-HR that differs by interval: the subject's hazard is lam_j exp(x' b_j)
    from scipy import stats

    per = np.array([[[1.0], [-1.0], [0.5]]])
    x = np.ones((4000, 1))
    T = simulate_event_times(np.array([[0.2, 0.3, 0.1]]), per, x, bounds, np.random.default_rng(2))[
        0
    ]
    rate = np.array([0.2, 0.3, 0.1]) * np.exp([1.0, -1.0, 0.5])

    def cdf(t):
        t = np.atleast_1d(t)
        H = np.clip(t[:, None] - bounds[:-1], 0, np.diff(bounds)) @ rate
        return 1 - np.exp(-H)

    assert stats.kstest(T, cdf).pvalue > 0.01


def _poisson_loglik_strata(params, X, E, D, g, col, strata, n_strata):
    n_int = E.shape[1]
    alpha = params[: n_strata * n_int].reshape(n_strata, n_int)
    beta, theta = params[n_strata * n_int : -1], params[-1]
    eta = alpha[strata] + (X @ beta)[:, None] + theta * g[None, :] * X[:, [col]]
    mu = E * np.exp(eta)
    pos = E > 0
    return float((D[pos] * eta[pos] - mu[pos]).sum())


def test_stratified_statistic_profiles_a_baseline_per_stratum():
    """Finite-difference Poisson score test with one log-rate per stratum and interval."""
    rng = np.random.default_rng(14)
    X, t, ev = _cohort(rng, n=80)
    strata = rng.integers(0, 2, 80)
    pp = expand(t, ev, np.array([3.0, 8.0]))
    E, D = pp.exposure, pp.event_matrix.astype(float)
    beta = np.array([0.3, -0.4])
    g = np.array([0.1, 0.5, 0.9])
    w = np.exp(X @ beta)[:, None] * E
    alpha = np.log(
        np.stack([D[strata == s].sum(0) / w[strata == s].sum(0) for s in (0, 1)])
    )  # profiled per stratum
    x0 = np.concatenate([alpha.ravel(), beta, [0.0]])
    f = lambda p: _poisson_loglik_strata(p, X, E, D, g, 1, strata, 2)  # noqa: E731
    U, info = _numeric_score_info(f, x0)
    expected = U @ np.linalg.solve(info, U) - U[:-1] @ np.linalg.solve(info[:-1, :-1], U[:-1])
    res = residuals_for_draws(X, E, D, beta[None], strata=strata).first()
    assert float(efficient_score_test(res, g, [1]).chisq) == pytest.approx(expected, rel=1e-5)
    eta = np.repeat((X @ beta)[:, None], 3, axis=1)
    parts = [
        interval_residuals(X[strata == k], E[strata == k], D[strata == k], eta[strata == k])
        for k in (0, 1)
    ]
    np.testing.assert_allclose(res.R, parts[0].R + parts[1].R)
    np.testing.assert_allclose(res.V, parts[0].V + parts[1].V)


def _stratified_cohort(rng, n=500):
    """Two strata with non-proportional baselines (rates 0.3 then 0.02 vs 0.05 throughout)."""
    s = rng.integers(0, 2, n)
    z = rng.normal(size=n)
    X = z[:, None]
    bounds = np.array([0.0, 3.0, np.inf])
    lam = np.where(s[:, None] == 1, [0.3, 0.02], [0.05, 0.05])[None]  # (1, n, J)
    from necc_bayes.survival.replicates import simulate_event_times

    T = simulate_event_times(lam, np.array([[-0.5]]), X, bounds, rng)[0]
    C = rng.uniform(2, 30, n)
    return s, X, np.minimum(T, C), (T <= C).astype(int)


def _stratified_check(seed: int) -> tuple[bool, float]:
    rng = np.random.default_rng(seed)
    s, X, t, ev = _stratified_cohort(rng)
    cuts = np.array([1.0, 3.0, 6.0, 12.0])  # the stratum-1 hazard changes at 3
    pp = expand(t, ev, cuts)
    X = X - X.mean(0)
    draws = rng.normal(-0.5, 0.03, size=(200, 1))
    lam = np.stack(
        [
            draw_baseline(
                draws,
                0.01,
                0.01,
                sufficient_stats(X[s == k], expand(t[s == k], ev[s == k], cuts)),
                rng,
            )
            for k in (0, 1)
        ],
        axis=1,
    )  # (S, strata, J)
    chk = ph_check_from_draws(
        lam,
        draws,
        X,
        ["z"],
        ["z"],
        pp.bounds,
        t,
        ev,
        structure=RowStructure(strata=s),
        n_replicates=200,
        seed=2,
    )
    # the same data with the stratum as a covariate: its hazard ratio goes from 6 to 0.4
    Xs = np.column_stack([s, X[:, 0]]).astype(float)
    Xs -= Xs.mean(0)
    d2 = np.column_stack([rng.normal(0.0, 0.05, 200), draws[:, 0]])
    lam2 = draw_baseline(d2, 0.01, 0.01, sufficient_stats(Xs, pp), rng)
    chk2 = ph_check_from_draws(
        lam2, d2, Xs, ["s", "z"], ["s", "z"], pp.bounds, t, ev, n_replicates=200, seed=2
    )
    return bool(chk.table["flagged"].any()), float(chk2.table.set_index("term").loc["s", "p_chisq"])


def test_stratified_baseline_is_not_flagged_but_the_stratum_as_a_covariate_is():
    """Five cohorts, proportional hazards within strata whose baselines cross.

    Stratified, the check flags ``z`` in at most one of five (size 0.05: P(>= 2) = 0.02); with
    the stratum as a covariate its trend is enormous every time.
    """
    results = [_stratified_check(seed) for seed in range(20, 25)]
    assert sum(flag for flag, _ in results) <= 1, results
    assert all(p < 1e-6 for _, p in results), results


def test_frailty_offsets_enter_the_check_and_pieces_fall_back_to_chi_square():
    rng = np.random.default_rng(16)
    X, t, ev = _cohort(rng, n=300)
    clusters = np.repeat(np.arange(30), 10)
    cuts = resolve_cuts("quantile", t, ev, n=4)
    lam, draws, pp = _concentrated_posterior(X, t, ev, cuts, np.array([0.5, -0.6]), rng)
    frailty = rng.normal(0, 0.3, size=(draws.shape[0], 30))
    args = (lam, draws, X, ["trt", "z"], ["trt", "z"], pp.bounds, t, ev)
    plain = ph_check_from_draws(*args, n_replicates=100, seed=4).table
    with_frailty = ph_check_from_draws(
        *args,
        structure=RowStructure(frailty=frailty, clusters=clusters),
        n_replicates=100,
        seed=4,
    ).table
    assert not np.allclose(plain["chisq"], with_frailty["chisq"])  # the offsets are used
    assert with_frailty["ppp"].between(0, 1).all()
    pieces = ph_check_from_draws(
        *args, structure=RowStructure(replicable=False), n_replicates=100, seed=4
    )
    table = pieces.table
    assert table["ppp"].isna().all() and (table["n_replicates"] == 0).all()
    np.testing.assert_allclose(table["chisq"], plain["chisq"])  # same statistic
    assert (table["flagged"] == (table["p_chisq"] < 0.05)).all()
    assert table["note"].str.contains("flagged on p_chisq").all()
    assert "chi-square p-value" in pieces.method
