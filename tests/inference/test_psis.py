"""Vectorised PSIS-LOO equals arviz-stats' per-observation implementation.

Reference: ``arviz.loo`` (arviz-stats 1.3, Vehtari et al. 2024 PSIS with the Zhang & Stephens
GPD fit), computed here on the same draws. Tolerance 1e-10 absolute on elpd_i / p_loo_i and
Pareto k (the arithmetic is the same; only summation order differs, ~1e-14 in practice).
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest
import xarray as xr

from necc_bayes.inference import psis
from necc_bayes.inference.loo import loo, loo_from_blocks, relative_efficiency


def _tree(ll: np.ndarray, seed: int = 0) -> xr.DataTree:
    c, d, _ = ll.shape
    rng = np.random.default_rng(seed)
    ar = np.cumsum(rng.normal(size=(c, d)), axis=1) * 0.05 + rng.normal(size=(c, d))
    post = xr.Dataset(
        {
            "mu": (("chain", "draw"), ar),
            "b": (("chain", "draw", "k"), rng.normal(size=(c, d, 3))),
        }
    )
    ll_ds = xr.Dataset(
        {"y": (("chain", "draw", "subject"), ll)},
        coords={"subject": [f"s{i}" for i in range(ll.shape[2])]},
    )
    return xr.DataTree.from_dict({"posterior": post, "log_likelihood": ll_ds})


def _heavy(rng: np.random.Generator, c: int, d: int, n: int) -> np.ndarray:
    scale = rng.uniform(0.01, 1.0, size=n)
    ll = rng.normal(-2, 0.5, size=(c, d, n)) + rng.standard_t(3, size=(c, d, n)) * scale
    ll[:, :, :4] = rng.normal(-2, 3, size=(c, d, 4))  # a few observations with k > 0.7
    return ll


def _reference(tree: xr.DataTree):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.loo(tree, pointwise=True, var_name="y")


CASES = {
    "4 chains x 500, heavy tails": (4, 500, 120),
    "1 chain x 2000 (r_eff = 1)": (1, 2000, 60),
    "2 chains x 100 (short: tail = S / 5)": (2, 100, 60),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_loo_equals_arviz(case):
    c, d, n = CASES[case]
    rng = np.random.default_rng(len(case))
    tree = _tree(_heavy(rng, c, d, n), seed=len(case))
    ref = _reference(tree)
    got = loo(tree, warn=False).elpd
    np.testing.assert_allclose(got.elpd_i.to_numpy(), ref.elpd_i.to_numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.pareto_k.to_numpy(), ref.pareto_k.to_numpy(), rtol=0, atol=1e-10)
    for attr in ("elpd", "se", "p", "good_k"):
        assert getattr(got, attr) == pytest.approx(getattr(ref, attr), rel=1e-12, abs=1e-10)
    assert (got.n_samples, got.n_data_points, got.warning) == (
        ref.n_samples,
        ref.n_data_points,
        ref.warning,
    )
    assert list(got.pareto_k["subject"].to_numpy()) == list(ref.pareto_k["subject"].to_numpy())


def test_high_k_subjects_named_and_warned():
    rng = np.random.default_rng(3)
    tree = _tree(_heavy(rng, 4, 500, 50))
    with pytest.warns(RuntimeWarning, match="PSIS-LOO unreliable"):
        summary = loo(tree, source="fit A")
    ref = _reference(tree)
    want = [
        s
        for s, k in zip(ref.pareto_k["subject"].to_numpy(), ref.pareto_k.to_numpy(), strict=True)
        if k > ref.good_k
    ]
    assert summary.high_k_subjects == [str(s) for s in want] and want


def test_blocks_give_the_same_answer_as_one_matrix():
    rng = np.random.default_rng(5)
    ll = _heavy(rng, 2, 400, 37).reshape(800, 37)
    whole = psis.psis_loo([ll], 0.9)
    split = psis.psis_loo(psis.in_blocks(ll, 5), 0.9)
    for name in ("elpd_i", "pareto_k", "p_loo_i"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(split, name))
    labels = [str(i) for i in range(37)]
    summary = loo_from_blocks(psis.in_blocks(ll, 8), 0.9, labels, warn=False)
    assert summary.elpd.elpd == pytest.approx(whole.elpd, abs=1e-9)


def test_degenerate_tail_gives_nan_k_as_arviz():
    """A tail whose lower quarter equals the cutoff: first quartile = minimum -> k is nan."""
    rng = np.random.default_rng(7)
    ll = rng.normal(-1, 0.3, size=(2, 300, 5))
    flat = ll[:, :, 0].reshape(-1)
    flat[:200] = -3.0  # 200 tied ratios just above the bulk (more than any tail length) ...
    flat[200:230] = -4.0 - rng.uniform(size=30)  # ... below 30 distinct larger ones
    ll[:, :, 0] = flat.reshape(2, 300)
    tree = _tree(ll)
    ref = _reference(tree)
    assert np.isnan(ref.pareto_k.to_numpy()[0])  # the case exists
    got = loo(tree, warn=False).elpd
    np.testing.assert_array_equal(np.isnan(got.pareto_k), np.isnan(ref.pareto_k))
    np.testing.assert_allclose(got.elpd_i, ref.elpd_i, atol=1e-10)


def test_relative_efficiency_is_arvizs():
    from arviz_stats.loo.loo_helper import _get_r_eff

    rng = np.random.default_rng(9)
    tree = _tree(rng.normal(size=(3, 200, 4)))
    assert relative_efficiency(tree) == pytest.approx(_get_r_eff(tree, 600), rel=1e-12)
    assert relative_efficiency(_tree(rng.normal(size=(1, 200, 4)))) == 1.0


def test_gpd_fit_recovers_a_known_shape():
    """Independent check of the GPD fit: 20,000 exceedances from GPD(k = 0.3, sigma = 2)."""
    from scipy import stats

    x = np.sort(stats.genpareto(c=0.3, scale=2.0).rvs(size=(3, 20000), random_state=11), axis=1)
    k, sigma = psis.gpd_fit(x)
    np.testing.assert_allclose(k, 0.3, atol=0.03)
    np.testing.assert_allclose(sigma, 2.0, rtol=0.05)


def test_too_few_draws_refused():
    with pytest.raises(ValueError, match="at least 5 tail draws"):
        psis.psis_loo([np.zeros((20, 3))], 1.0)
