"""A prior from a printed ``HR (low–high)``: conversion, robustification, exact posteriors.

References: the closed-form conversion Normal(log HR, (log high - log low) / (2 z_0.975));
the closed-form component weights of a normal-mixture posterior; and brute-force grid
quadrature of prior x likelihood (independent of the conjugate formulas).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from necc_bayes.errors import SpecError
from necc_bayes.evidence.conjugate import posterior_normal
from necc_bayes.evidence.published import log_hr_normal, published_prior

Z975 = 1.959963984540054  # scipy.stats.norm.ppf(0.975)


def test_conversion_closed_form():
    est = log_hr_normal(2.375, 1.230, 4.586)
    assert est.mu == pytest.approx(math.log(2.375), rel=1e-14)
    assert est.sigma == pytest.approx((math.log(4.586) - math.log(1.230)) / (2 * Z975), rel=1e-14)
    # a printed Wald interval is symmetric on the log scale up to rounding of the printed digits
    assert abs(est.asymmetry) < 0.05
    # the 95% interval of the prior reproduces the printed interval
    prior = published_prior(2.375, 1.230, 4.586)
    lo, hi = prior.interval(0.95)
    assert math.exp(lo) * math.exp(hi) == pytest.approx(2.375**2, rel=0.01)
    assert math.exp(hi) / math.exp(lo) == pytest.approx(4.586 / 1.230, rel=1e-9)


def test_other_levels_use_their_own_z():
    est90 = log_hr_normal(1.5, 1.2, 1.875, level=0.90)
    assert est90.sigma == pytest.approx(math.log(1.875 / 1.2) / (2 * stats.norm.ppf(0.95)))


def test_robust_mixture_components_and_printing():
    prior = published_prior(1.51, 1.34, 1.70, robust_weight=0.25, vague_sigma=5.0)
    assert prior.weights == (0.75, 0.25)
    assert prior.mu[1] == 0.0 and prior.sigma[1] == 5.0
    assert prior.labels == ("published", "robust")
    assert prior.robust_weight == 0.25
    assert str(prior).endswith("+ 0.25·Normal(0, 5) [robust]")


@pytest.mark.parametrize(
    "kwargs, rules",
    [
        ({"hr": -1.0, "low": 0.5, "high": 2.0}, ["published_positive"]),
        ({"hr": 1.0, "low": 2.0, "high": 0.5}, ["published_interval_order"]),
        ({"hr": 3.0, "low": 0.5, "high": 2.0}, ["published_hr_inside"]),
        ({"hr": 1.0, "low": 0.5, "high": 2.0, "robust_weight": 1.0}, ["robust_weight_range"]),
        ({"hr": 1.0, "low": 0.5, "high": 2.0, "vague_sigma": 0.0}, ["vague_sigma_positive"]),
        ({"hr": 0.0, "low": 0.0, "high": float("inf")}, ["published_positive"] * 3),
    ],
)
def test_bad_published_estimates_are_refused_with_their_rule(kwargs, rules):
    with pytest.raises(SpecError) as err:
        published_prior(**kwargs, source="models/x.toml: priors.terms.site_lung")
    assert err.value.rules == rules
    assert "priors.terms.site_lung" in str(err.value)


def _grid_posterior(prior, y, se):
    """Brute force: posterior density on a fine grid, normalised by the trapezoid rule."""
    x = np.linspace(-40.0, 40.0, 400_001)
    dens = prior.pdf(x) * stats.norm.pdf(y, x, se)
    dens /= np.trapezoid(dens, x)
    return x, dens


@pytest.mark.parametrize("robust_weight", [0.0, 0.2])
@pytest.mark.parametrize("y", [0.9, -1.5])  # agreeing with / conflicting with HR 2.375
def test_posterior_matches_grid_quadrature(robust_weight, y):
    prior = published_prior(2.375, 1.230, 4.586, robust_weight=robust_weight)
    se = 0.3
    post = posterior_normal(prior, y, se)
    x, dens = _grid_posterior(prior, y, se)
    assert np.max(np.abs(post.pdf(x) - dens)) < 1e-6 * dens.max()
    assert post.mean() == pytest.approx(np.trapezoid(x * dens, x), abs=1e-7)


def test_component_weights_closed_form():
    # w_k' ∝ w_k Normal(y; m_k, sqrt(s_k² + se²)), written out by hand
    prior = published_prior(2.375, 1.230, 4.586, robust_weight=0.2)
    y, se = -1.5, 0.3
    m, s = math.log(2.375), prior.sigma[0]
    num_inf = 0.8 * stats.norm.pdf(y, m, math.hypot(s, se))
    num_rob = 0.2 * stats.norm.pdf(y, 0.0, math.hypot(10.0, se))
    post = posterior_normal(prior, y, se)
    assert post.robust_weight == pytest.approx(num_rob / (num_inf + num_rob), rel=1e-12)


def test_robust_posterior_moves_toward_the_data_under_conflict():
    informative = published_prior(2.375, 1.230, 4.586)
    robust = published_prior(2.375, 1.230, 4.586, robust_weight=0.2)
    se = 0.25
    agree, conflict = 0.85, -1.5
    # agreement: the robust component loses weight, both posteriors almost the same
    assert posterior_normal(robust, agree, se).robust_weight < 0.2
    assert posterior_normal(robust, agree, se).mean() == pytest.approx(
        posterior_normal(informative, agree, se).mean(), abs=0.02)
    # conflict: the robust component takes over and the posterior follows the data
    post_r = posterior_normal(robust, conflict, se)
    post_i = posterior_normal(informative, conflict, se)
    assert post_r.robust_weight > 0.9
    assert abs(post_r.mean() - conflict) < 0.5 * abs(post_i.mean() - conflict)
