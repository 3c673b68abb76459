"""The compact exposure sum of large cohorts (issue 21) is the dense likelihood, exactly.

Reference: the dense ``exp(X_u beta) @ E_u`` model (every fit below 50,000 patterns, and all
refits); both models' log density and gradient are compared at random points (same graph up
to the order of summation: agreement to 1e-10 relative). No sampling.
"""

from __future__ import annotations

import numpy as np
import pytest

from necc_bayes.spec.baseline_priors import GammaBaseline, GammaProcessBaseline
from necc_bayes.spec.priors import NormalPrior
from necc_bayes.survival import model as model_module
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors, build_model
from necc_bayes.survival.model_blocks import prefix_exposure

RNG = np.random.default_rng(11)
N = 400
X = np.column_stack([RNG.integers(0, 2, N), RNG.normal(size=N)])
TIME = RNG.exponential(10.0, N).round(3) + 0.01
EVENT = RNG.integers(0, 2, N)
CUTS = np.array([2.0, 5.0, 9.0, 15.0])


def _inputs(entry=None) -> PEMInputs:
    return PEMInputs(X=X - X.mean(0), terms=["a", "b"], pp=expand(TIME, EVENT, CUTS, entry=entry))


def test_prefix_exposure_rebuilds_every_row_or_declines():
    pp = expand(TIME, EVENT, CUTS)
    last, partial = prefix_exposure(pp.exposure, pp.widths)
    assert np.array_equal(last, np.searchsorted(CUTS, TIME, side="left"))
    assert np.allclose(partial, TIME - np.concatenate([[0.0], CUTS])[last])
    late = expand(TIME + 3.0, EVENT, CUTS, entry=np.full(N, 3.0))  # delayed entry: declined
    assert prefix_exposure(late.exposure, late.widths) is None
    pooled = pp.exposure[:2].sum(axis=0, keepdims=True)  # two subjects in one pattern
    assert prefix_exposure(pooled, pp.widths) is None


@pytest.mark.parametrize(
    "baseline",
    [
        GammaProcessBaseline(rate=0.1, strength=1.0),
        GammaBaseline(alpha=1.0, beta=10.0, marginalize=False),
    ],
)
def test_compact_model_has_the_dense_log_density_and_gradient(monkeypatch, baseline):
    priors = PEMPriors(
        coefficients={"a": NormalPrior(mu=0.0, sigma=1.0), "b": NormalPrior(mu=0.0, sigma=1.0)},
        groups=[],
        baseline=baseline,
    )
    dense = build_model(_inputs(), priors, warn=False, compact=True)  # 400 < 50,000: dense
    assert "E_u" in dense.named_vars and "last_interval" not in dense.named_vars
    monkeypatch.setattr(model_module, "COMPACT_EXPOSURE_MIN", 0)
    compact = build_model(_inputs(), priors, warn=False, compact=True)
    assert "E_u" not in compact.named_vars and "last_interval" in compact.named_vars
    assert "E_u" in build_model(_inputs(), priors, warn=False).named_vars  # refits: dense
    fast = {"mode": "FAST_COMPILE"}  # python implementations: no C compilation in the fast tier
    f_d, g_d = dense.compile_logp(**fast), dense.compile_dlogp(**fast)
    f_c, g_c = compact.compile_logp(**fast), compact.compile_dlogp(**fast)
    ip = dense.initial_point()
    for _ in range(5):
        point = {k: v + RNG.normal(scale=0.5, size=np.shape(v)) for k, v in ip.items()}
        assert f_c(point) == pytest.approx(f_d(point), rel=1e-10)
        np.testing.assert_allclose(g_c(point), g_d(point), rtol=1e-9, atol=1e-9)


def test_large_cohort_exposure_sums_match_the_direct_formula():
    """Above 65,536 patterns ``stratum_exposure`` bounds its draw blocks by memory and contracts
    with BLAS: the same ``S_j = sum_u E_uj exp(x_u' beta)`` as the direct numpy formula."""
    from necc_bayes.survival.likelihood import stratum_exposure, sufficient_stats

    rng = np.random.default_rng(5)
    n = 70_000
    x = rng.normal(size=(n, 2))
    t = rng.exponential(5.0, n) + 0.01
    pp = expand(t, rng.integers(0, 2, n), np.array([2.0, 6.0]))
    stats = sufficient_stats(x, pp)
    assert stats.X_u.shape[0] == n  # every subject its own pattern
    beta = rng.normal(scale=0.3, size=(300, 2))  # 300 draws: more than one block of 239
    direct = np.exp(beta @ stats.X_u.T) @ stats.E_u
    np.testing.assert_allclose(stratum_exposure(beta, stats)[:, 0, :], direct, rtol=1e-12)


def test_survival_figure_thins_registry_size_km_curves_to_its_grid(monkeypatch):
    """A KM overlay with more than PLOT_STEPS_MAX steps is drawn at that many equally spaced
    times; at each of them it has the exact KM value (the step in force there)."""
    from necc_bayes.data.reference import km_step
    from necc_bayes.survival import page

    rng = np.random.default_rng(2)
    t, e = rng.exponential(5.0, 3_000), rng.integers(0, 2, 3_000)
    small = km_step(t[:500], e[:500], band=0.95)
    assert small.time.size <= page.PLOT_STEPS_MAX  # drawn as computed
    assert np.array_equal(page._plotted(t[:500], e[:500], band=0.95).surv, small.surv)
    full = km_step(t, e, band=0.95)
    monkeypatch.setattr(page, "PLOT_STEPS_MAX", 200)
    thin = page._plotted(t, e, band=0.95)
    assert full.time.size > 1_000 and thin.time.size == 200
    assert thin.time[0] == 0.0 and thin.time[-1] == full.time[-1] and thin.n == full.n
    for k in (0, 57, 199):  # the exact KM (and band) at grid time k
        j = np.searchsorted(full.time, thin.time[k], side="right") - 1
        assert thin.surv[k] == full.surv[j]
        assert (thin.low[k], thin.high[k]) == (full.low[j], full.high[j])


def test_report_says_when_km_curves_are_drawn_on_the_grid(tmp_path, monkeypatch):
    from necc_bayes.survival import page
    from tests.fake_fit import fake_result

    result = fake_result(tmp_path)
    assert page.km_thinned_note(result.checked.cohort) is None  # 80 subjects
    monkeypatch.setattr(page, "PLOT_STEPS_MAX", 20)
    note = page.km_thinned_note(result.checked.cohort)
    assert note is not None and "more than 20 steps are drawn at 20 equally" in note
    assert note in page.fit_page(result).notes
