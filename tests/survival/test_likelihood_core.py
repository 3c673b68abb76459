"""The generalised likelihood core: delayed entry, strata, frailty, time-varying terms.

Fast tier (no sampling). References:

* the long-format Poisson likelihood (one row per row-interval at risk, the
  ``survival::survSplit`` + Poisson-GLM form) for the conditional likelihood;
* Bayes' rule, ``p(D | beta) = p(D | beta, lambda) p(lambda) / p(lambda | D, beta)``, exact for
  any ``lambda``, for the gamma-marginalised likelihood (closed-form gamma densities from
  scipy);
* the numpy likelihood for the PyMC model's log-density (``compile_logp``), plus scipy's
  prior log-densities.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from necc_bayes.spec.baseline_priors import GammaBaseline, GammaProcessBaseline, RandomWalkBaseline
from necc_bayes.spec.priors import ExponentialSD, HalfNormalSD, NormalPrior
from necc_bayes.survival import likelihood as lik
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors, build_model
from necc_bayes.survival.prior_sample import sample_prior

CUTS = np.array([2.0, 5.0, 9.0])


def cohort(seed: int = 0, n: int = 60) -> dict:
    """Rows with delayed entry, 3 strata, 5 clusters and 3 covariates (one time-varying)."""
    rng = np.random.default_rng(seed)
    entry = np.where(rng.uniform(size=n) < 0.4, rng.uniform(0, 4, n), 0.0)
    time = entry + rng.exponential(5.0, n) + 0.05
    event = (rng.uniform(size=n) < 0.7).astype(np.int64)
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n), rng.integers(0, 2, n)])
    return {
        "X": X.astype(float),
        "pp": expand(time, event, CUTS, entry=entry),
        "strata": rng.integers(0, 3, n),
        "clusters": rng.integers(0, 5, n),
        "tv_index": np.array([1]),
        "beta": np.array([0.4, -0.3, 0.2]),
        "lam": rng.uniform(0.05, 0.3, (3, 4)),
        "dev": np.array([[0.0, 0.3, -0.2, 0.5]]),
        "frailty": rng.normal(0, 0.5, 5),
    }


def test_entry_exposure_is_time_at_risk_after_entry():
    """A row at risk on (3, 10] spends 0, 2, 4, 1 in (0,2], (2,5], (5,9], (9, inf)."""
    pp = expand(np.array([10.0, 1.5]), np.array([1, 0]), CUTS, entry=np.array([3.0, 0.5]))
    np.testing.assert_allclose(pp.exposure, [[0.0, 2.0, 4.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    assert pp.interval.tolist() == [3, 0]
    long = pp.long_format()
    np.testing.assert_allclose(long["tstart"], [3.0, 5.0, 9.0, 0.5])
    np.testing.assert_allclose(long["tstop"], [5.0, 9.0, 10.0, 1.5])
    np.testing.assert_allclose(pp.stop, [10.0, 1.5])
    # the last, open interval is taken to end at the largest exit time for the prior
    np.testing.assert_allclose(pp.widths, [2.0, 3.0, 4.0, 1.0])


@pytest.mark.parametrize("parts", ["plain", "entry+strata", "frailty", "time_varying", "all"])
def test_conditional_equals_long_format_poisson(parts):
    c = cohort(1)
    use = {
        "plain": set(),
        "entry+strata": {"strata"},
        "frailty": {"frailty"},
        "time_varying": {"tv"},
        "all": {"strata", "frailty", "tv"},
    }[parts]
    pp = c["pp"] if parts != "plain" else expand(c["pp"].stop, c["pp"].event, CUTS)
    strata = c["strata"] if "strata" in use else None
    clusters = c["clusters"] if "frailty" in use else None
    frailty = c["frailty"] if "frailty" in use else None
    dev = c["dev"] if "tv" in use else None
    lam = c["lam"] if strata is not None else c["lam"][0]
    st = lik.sufficient_stats(c["X"], pp, strata=strata, clusters=clusters)
    compact = lik.loglik_conditional(
        c["beta"], lam, st, dev=dev, frailty=frailty, tv_index=c["tv_index"]
    )
    long = lik.loglik_long_poisson(
        c["beta"],
        lam,
        c["X"],
        pp,
        strata=strata,
        dev=dev,
        tv_index=c["tv_index"],
        frailty=frailty,
        clusters=clusters,
    )
    assert compact + lik.poisson_offset_constant(pp) == pytest.approx(long, rel=1e-12)
    # the per-row log-likelihood sums to the same number
    per_row = lik.pointwise_loglik(
        c["beta"][None],
        lam[None],
        c["X"],
        pp,
        strata=strata,
        dev=None if dev is None else dev[None],
        tv_index=c["tv_index"],
        frailty=None if frailty is None else frailty[None],
        clusters=clusters,
    )
    assert per_row.sum() == pytest.approx(compact, rel=1e-12)


@pytest.mark.parametrize(
    "prior", [GammaProcessBaseline(rate=0.2, strength=0.3), GammaBaseline(alpha=0.7, beta=2.0)]
)
def test_marginal_is_bayes_rule_per_stratum(prior):
    """log p(D|b) = log p(D|b,lam) + log p(lam) - log p(lam|D,b), for any lam, per stratum."""
    c = cohort(2)
    st = lik.sufficient_stats(c["X"], c["pp"], strata=c["strata"], clusters=c["clusters"])
    kw = {"dev": c["dev"], "frailty": c["frailty"], "tv_index": c["tv_index"]}
    a, b = prior.shape_rate(c["pp"].widths)
    marginal = lik.loglik_marginal(c["beta"], a, b, st, **kw)
    S = lik.stratum_exposure(c["beta"], st, **kw)
    lam = c["lam"]
    log_prior = stats.gamma.logpdf(lam, a, scale=1 / b).sum()
    log_post = stats.gamma.logpdf(lam, a + st.d_strata, scale=1 / (b + S)).sum()
    conditional = lik.loglik_conditional(c["beta"], lam, st, **kw)
    assert marginal == pytest.approx(conditional + log_prior - log_post, rel=1e-10)
    draws = lik.draw_baseline(
        np.tile(c["beta"], (4000, 1)),
        a,
        b,
        st,
        np.random.default_rng(0),
        dev=np.tile(c["dev"], (4000, 1, 1)),
        frailty=np.tile(c["frailty"], (4000, 1)),
        tv_index=c["tv_index"],
    )
    assert draws.shape == (4000, 3, 4)
    np.testing.assert_allclose(draws.mean(0), (a + st.d_strata) / (b + S), rtol=0.1)


def _inputs(c: dict, *, strata=True, frailty=True, tv=True) -> PEMInputs:
    return PEMInputs(
        X=c["X"],
        terms=["a", "b", "c"],
        pp=c["pp"],
        strata=c["strata"] if strata else None,
        strata_labels=["s0", "s1", "s2"] if strata else [],
        clusters=c["clusters"] if frailty else None,
        cluster_labels=[f"k{i}" for i in range(5)] if frailty else [],
        time_varying=("b",) if tv else (),
    )


def _priors(baseline) -> PEMPriors:
    return PEMPriors(
        {t: NormalPrior(mu=0.1, sigma=0.8) for t in "abc"},
        [],
        baseline,
        frailty_sd=ExponentialSD(rate=2.0),
        tv_sd=HalfNormalSD(sigma=0.3),
    )


@pytest.mark.parametrize(
    "baseline",
    [
        GammaProcessBaseline(rate=0.2, strength=0.3),
        RandomWalkBaseline(init_mu=-1.5, sigma_scale=0.4),
    ],
    ids=["gamma_process_marginal", "random_walk"],
)
def test_model_logp_matches_numpy(baseline):
    """compile_logp(jacobian=False) == numpy likelihood + scipy priors, everything switched on."""
    c = cohort(3)
    inputs, priors = _inputs(c), _priors(baseline)
    model = build_model(inputs, priors, warn=False)
    logp = model.compile_logp(jacobian=False)
    st = inputs.stats()
    rng = np.random.default_rng(4)
    widths = inputs.pp.widths
    for _ in range(2):
        point = {
            "log_hr_normal": rng.normal(size=3) * 0.3,
            "frailty_sd_log__": np.log(0.7),
            "frailty_z": rng.normal(size=5),
            "tv_sd_log__": np.log(0.2),
            "tv_z": rng.normal(size=(1, 3)),
        }
        beta = point["log_hr_normal"]
        frailty = 0.7 * point["frailty_z"]
        mid = np.cumsum(widths) - widths / 2
        step = np.sqrt(np.diff(mid))
        dev = np.concatenate([[[0.0]], np.cumsum(0.2 * point["tv_z"] * step, axis=1)], axis=1)
        kw = {"dev": dev, "frailty": frailty, "tv_index": inputs.tv_index}
        prior = (
            stats.norm.logpdf(beta, 0.1, 0.8).sum()
            + stats.expon.logpdf(0.7, scale=0.5)
            + stats.norm.logpdf(point["frailty_z"]).sum()
            + stats.halfnorm.logpdf(0.2, scale=0.3)
            + stats.norm.logpdf(point["tv_z"]).sum()
        )
        if isinstance(baseline, GammaProcessBaseline):
            a, b = baseline.shape_rate(widths)
            ll = lik.loglik_marginal(beta, a, b, st, **kw)
        else:
            point["baseline_sigma_log__"] = np.log(0.3)
            point["baseline_z0"] = rng.normal(size=3)
            point["baseline_z"] = rng.normal(size=(3, 3))
            log_lam = baseline.init_mu + baseline.init_sigma * point["baseline_z0"][:, None]
            steps = np.cumsum(0.3 * step * point["baseline_z"], axis=1)
            log_lam = log_lam + np.concatenate([np.zeros((3, 1)), steps], axis=1)
            ll = lik.loglik_conditional(beta, np.exp(log_lam), st, **kw)
            prior += (
                stats.halfnorm.logpdf(0.3, scale=0.4)
                + stats.norm.logpdf(point["baseline_z0"]).sum()
                + stats.norm.logpdf(point["baseline_z"]).sum()
            )
        assert logp(point) == pytest.approx(ll + prior, abs=1e-8)


def test_prior_sample_shapes_and_frailty_scale():
    c = cohort(5)
    inputs, priors = _inputs(c), _priors(GammaProcessBaseline(rate=0.2, strength=0.3))
    draw = sample_prior(inputs, priors, np.random.default_rng(0), 20000)
    assert draw.log_hr.shape == (20000, 3)
    assert draw.baseline.shape == (20000, 3, 4)
    assert draw.frailty is not None and draw.frailty.shape == (20000, 5)
    assert draw.dev is not None and draw.dev.shape == (20000, 1, 4)
    # frailty_sd ~ Exponential(rate 2): mean 0.5 (Monte Carlo sd 0.5 / sqrt(20000) = 0.0035)
    assert draw.frailty_sd is not None
    assert draw.frailty_sd.mean() == pytest.approx(0.5, abs=0.015)
    # gamma-process rates: mean r = 0.2 in every interval
    np.testing.assert_allclose(draw.baseline.mean(axis=(0, 1)), 0.2, rtol=0.05)


def test_gamma_process_cumulative_hazard_prior_does_not_depend_on_the_cuts():
    """At every cut, H(c) ~ Gamma(c r t, c) exactly: same mean r t and variance r t / c."""
    prior = GammaProcessBaseline(rate=0.1, strength=0.5)
    rng = np.random.default_rng(0)
    for cuts in ([10.0, 20.0], [5.0, 10.0, 15.0, 20.0, 25.0], np.arange(1.0, 30.0)):
        c = np.asarray(cuts, dtype=float)
        widths = np.diff(np.concatenate([[0.0], c, [30.0]]))
        lam = prior.sample(rng, 40000, widths)
        H = np.cumsum(lam * widths, axis=1)  # H at each cut and at 30
        t = np.concatenate([c, [30.0]])
        k = int(np.flatnonzero(t == 20.0)[0])
        # H(20): mean 2, variance 4 (Monte Carlo sd of the mean 0.01, of the variance ~0.06)
        assert H[:, k].mean() == pytest.approx(0.1 * 20.0, abs=0.04)
        assert H[:, k].var() == pytest.approx(0.1 * 20.0 / 0.5, rel=0.08)
        a, b = prior.shape_rate(widths)
        assert a.sum() == pytest.approx(0.5 * 0.1 * 30.0) and b.sum() == pytest.approx(0.5 * 30)
