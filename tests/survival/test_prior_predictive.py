"""Prior predictive survival (no NUTS: prior draws only).

References: with point-mass priors (tiny sigma on the log-HR, huge gamma shape on the rates)
survival is ``exp(-H(t))`` with H in closed form; with ``Gamma(alpha, beta)`` rates and no
covariates, ``S(t) = exp(-lambda t)`` on the first interval has the closed-form CDF
``P(S <= s) = P(lambda >= -log(s) / t)`` (scipy.stats.gamma).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from necc_bayes.spec.baseline_priors import GammaBaseline, RandomWalkBaseline
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.survival.curves import Profile
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.prior_predictive import draw_prior, prior_survival_table

RNG = np.random.default_rng(0)
N = 30
TIME = RNG.exponential(20, N) + 0.1
EVENT = RNG.integers(0, 2, N)
X = RNG.integers(0, 2, (N, 1)).astype(float)


def _inputs(cuts=(10.0, 30.0)):
    return PEMInputs(X=X, terms=["trt"], pp=expand(TIME, EVENT, np.array(cuts)))


def test_point_mass_priors_give_closed_form_survival():
    priors = PEMPriors(
        coefficients={"trt": NormalPrior(mu=0.5, sigma=1e-6)},
        groups=[],
        baseline=GammaBaseline(alpha=1e8, beta=1e8 / 0.02),
    )
    draws = draw_prior(_inputs(), priors, draws=200, seed=1)
    assert draws.lam.shape == (200, 3) and draws.log_hr.shape == (200, 1)
    table = prior_survival_table(draws, [Profile("trt=1", np.array([1.0]))], [12.0, 36.0, 60.0])
    expected = np.exp(-0.02 * np.array([12.0, 36.0, 60.0]) * np.exp(0.5))
    np.testing.assert_allclose(table["median"], expected, rtol=1e-3)
    assert list(table.columns) == [
        "profile",
        "time",
        "median",
        "low",
        "high",
        "mean",
        "p_below_0_01",
        "p_above_0_99",
    ]


def test_gamma_rates_match_closed_form_quantiles():
    alpha, beta, t = 2.0, 100.0, 5.0  # t inside the first interval
    priors = PEMPriors(
        coefficients={"trt": NormalPrior(sigma=1.0)},
        groups=[],
        baseline=GammaBaseline(alpha=alpha, beta=beta),
    )
    draws = draw_prior(_inputs(), priors, draws=20000, seed=2)
    table = prior_survival_table(draws, [Profile("x0", np.array([0.0]))], [t])
    # S = exp(-lambda t): its q-quantile is exp(-t * gamma.ppf(1 - q))
    for col, q in [("median", 0.5), ("low", 0.025), ("high", 0.975)]:
        ref = np.exp(-t * stats.gamma.ppf(1 - q, alpha, scale=1 / beta))
        assert table[col].item() == pytest.approx(ref, rel=0.02)


def test_random_walk_baseline_comes_from_the_model():
    priors = PEMPriors(
        coefficients={"trt": NormalPrior(sigma=1.0)},
        groups=[],
        baseline=RandomWalkBaseline(init_mu=float(np.log(0.05)), init_sigma=1e-6, sigma_scale=1e-6),
    )
    draws = draw_prior(_inputs(), priors, draws=100, seed=3)
    np.testing.assert_allclose(draws.lam, 0.05, rtol=1e-3)


def test_prior_predictive_for_a_fit_and_plot(tmp_path):
    from necc_bayes.report.figures import prior_predictive_plot
    from necc_bayes.survival.prior_predictive import prior_bands, prior_predictive_for_fit
    from tests.fake_fit import fake_result

    result = fake_result(tmp_path)
    prior, table = prior_predictive_for_fit(result, draws=300)
    n_profiles = len(result.profiles())
    # the fitted partition and cuts at every event time (issue 23), 3 summary times each
    assert table["partition"].str.split(" \\(").str[0].unique().tolist() == [
        "fitted",
        "every event time",
    ]
    assert len(table) == 2 * 3 * n_profiles
    assert (table["low"] <= table["median"]).all() and (table["median"] <= table["high"]).all()
    bands = prior_bands(prior, result.profiles()[0], 40.0, [12.0, 36.0, 60.0])
    assert [round(p, 2) for p, _, _ in bands.bands] == [0.95, 0.5]
    assert np.all(bands.bands[0][1] <= bands.bands[1][1] + 1e-12)  # 95% band contains 50%
    fig = prior_predictive_plot(bands)
    assert len(fig.axes) == 1


def test_prior_on_survival_is_the_same_for_the_fitted_and_event_time_partitions(
    tmp_path, monkeypatch
):
    """The report's two partitions (issue 23) under the default gamma-process baseline: at the
    fitted partition's cut points (6 and 18; H(t) ~ Gamma(c r t, c) there whatever the cuts)
    the prior on S(t) agrees within Monte Carlo error (4000 draws: SE of a prior mean of S in
    [0, 1] <= 0.008); between cuts the piecewise-constant hazard interpolates, so it may not.
    The old default (independent Gamma(1, 1/r) per interval) narrows with 65 intervals."""
    from dataclasses import replace

    from necc_bayes.spec.baseline_priors import GammaBaseline, resolve_baseline
    from necc_bayes.survival.prior_predictive import prior_predictive_for_fit
    from tests.fake_fit import fake_result

    result = fake_result(tmp_path)
    assert result.model_inputs().pp.bounds[1:-1].tolist() == [6.0, 18.0]
    summaries = result.spec.summaries.model_copy(update={"times": [6.0, 18.0]})
    monkeypatch.setattr(result, "spec", result.spec.model_copy(update={"summaries": summaries}))

    def by_partition(table):
        return [g.reset_index(drop=True) for _, g in table.groupby("partition", sort=False)]

    fitted, every = by_partition(prior_predictive_for_fit(result, draws=4000)[1])
    assert every["partition"].iloc[0] == "every event time (J=65)"
    assert np.abs(fitted["mean"] - every["mean"]).max() < 4 * 0.008
    assert np.abs(fitted["median"] - every["median"]).max() < 0.03

    # the old default resolved as a fit resolves it (beta = 1 / r, r the crude rate)
    priors = result.model_priors()
    old = resolve_baseline(GammaBaseline(), float(priors.baseline.rate))
    monkeypatch.setattr(result, "model_priors", lambda: replace(priors, baseline=old))
    f_old, e_old = by_partition(prior_predictive_for_fit(result, draws=4000)[1])
    # its prior band on S(t) narrows as intervals are added (CV of H(t) about 1 / sqrt(J))
    assert ((e_old["high"] - e_old["low"]) < 0.8 * (f_old["high"] - f_old["low"])).all()


def test_every_event_time_partition_is_left_out_above_its_limit(tmp_path, monkeypatch):
    """Issue 21: at registry size cuts at every event time mean ~10^5-10^6 intervals (draws x
    intervals gamma variates); above EVENT_TIME_PARTITION_MAX the table keeps the fitted
    partition and the report's note names the number of intervals it would have taken."""
    from necc_bayes.survival import prior_predictive as ppm
    from necc_bayes.survival.page import fit_page
    from tests.fake_fit import fake_result

    result = fake_result(tmp_path)
    pp = result.checked.person_period
    assert ppm.event_time_partition_note(pp) is None  # 65 intervals: drawn
    monkeypatch.setattr(ppm, "EVENT_TIME_PARTITION_MAX", 64)
    table = ppm.prior_predictive_for_fit(result, draws=200)[1]
    assert table["partition"].unique().tolist() == ["fitted (J=3)"]
    note = ppm.event_time_partition_note(pp)
    assert note is not None and "65 intervals" in note and "up to 64" in note
    assert note in fit_page(result).notes
    # a fit that already cuts at every event time leaves nothing out: no note
    from necc_bayes.survival.intervals import event_time_cuts, expand

    every = expand(pp.time, pp.event, event_time_cuts(pp.stop, pp.event))
    assert every.n_intervals == 65 and ppm.event_time_partition_note(every) is None


def test_report_leaves_out_loo_when_the_log_likelihood_was_not_stored(tmp_path, monkeypatch):
    """Issue 21: LOO only where it is used. A fit too large to store its per-subject
    log-likelihood (n x draws > LOGLIK_STORE_MAX) gets no LOO section, and a note saying why
    and how to compute it; with the stored group the section is there."""
    from necc_bayes.survival.page import fit_page
    from tests.fake_fit import fake_result

    result = fake_result(tmp_path)
    page = fit_page(result)
    assert page.loo is not None and page.loo.elpd.n_data_points == result.checked.cohort.n_subjects
    assert not any("PSIS-LOO is not in this report" in n for n in page.notes)
    del result.idata["log_likelihood"]  # e.g. sample_posterior(log_likelihood=False)
    page = fit_page(result)
    assert page.loo is None
    note = [n for n in page.notes if n.startswith("PSIS-LOO is not in this report")]
    assert note == [n for n in page.notes if "did not store its log-likelihood" in n]
    assert len(note) == 1 and "PEMResult.loo()" in note[0]
    # too large to store: the note gives the arithmetic the fit used (rows x draws > limit)
    from necc_bayes.survival import page as page_module
    from necc_bayes.survival import sampling

    monkeypatch.setattr(sampling, "LOGLIK_STORE_MAX", 1_000)
    monkeypatch.setattr(page_module, "LOGLIK_STORE_MAX", 1_000)
    n = result.checked.cohort.n
    note = [x for x in fit_page(result).notes if x.startswith("PSIS-LOO is not in this report")]
    assert len(note) == 1 and f"{n:,} rows x 1,000 draws exceed the 1,000 per-row" in note[0]
