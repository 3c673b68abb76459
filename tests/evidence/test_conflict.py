"""Prior–data conflict diagnostics.

References: closed forms for a single normal prior (tail p = 2 Φ(-|y - m| / sqrt(s² + se²))
= Box's p), enumeration of the beta-binomial prior predictive (scipy.stats.betabinom), and
the closed-form posterior weight of the robust component.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from necc_bayes.evidence.conflict import conflict_binomial, conflict_normal
from necc_bayes.evidence.mixtures import beta_mixture, normal_mixture
from necc_bayes.evidence.published import published_prior


@pytest.mark.parametrize("y", [0.1, 0.9, -1.2])
def test_single_normal_prior_closed_form(y):
    prior = normal_mixture([1.0], [0.865], [0.3357])
    se = 0.3
    check = conflict_normal(prior, y, se)
    z = abs(y - 0.865) / math.hypot(0.3357, se)
    assert check.tail_p == pytest.approx(2 * stats.norm.sf(z), rel=1e-9)
    assert check.box_p == pytest.approx(2 * stats.norm.sf(z), abs=1e-10)
    assert check.robust_weight_prior == 0.0 and check.robust_weight_posterior == 0.0


def test_robust_weight_closed_form_and_growth():
    prior = published_prior(2.375, 1.230, 4.586, robust_weight=0.2)
    se = 0.3
    checks = [conflict_normal(prior, y, se) for y in (0.9, -0.6, -1.0)]
    post = [c.robust_weight_posterior for c in checks]
    assert post[0] < 0.2 < post[1] < post[2]
    num = 0.2 * stats.norm.pdf(-1.0, 0, math.hypot(10, se))
    den = num + 0.8 * stats.norm.pdf(-1.0, math.log(2.375), math.hypot(prior.sigma[0], se))
    assert post[2] == pytest.approx(num / den, rel=1e-12)
    assert [c.tail_p for c in checks] == sorted((c.tail_p for c in checks), reverse=True)


def test_binomial_conflict_by_enumeration():
    prior = beta_mixture([0.8, 0.2], [1.5, 1.0], [20.0, 1.0], ["map", "robust"])
    r, n = 7, 16
    check = conflict_binomial(prior, r, n)
    k = np.arange(n + 1)
    pmf = 0.8 * stats.betabinom.pmf(k, n, 1.5, 20.0) + 0.2 * stats.betabinom.pmf(k, n, 1, 1)
    assert check.box_p == pytest.approx(pmf[pmf <= pmf[r] + 1e-15].sum(), rel=1e-10)
    assert check.tail_p == pytest.approx(min(1, 2 * min(pmf[: r + 1].sum(), pmf[r:].sum())),
                                         rel=1e-10)
    assert check.robust_weight_prior == pytest.approx(0.2)
    assert check.robust_weight_posterior > 0.5
    assert set(check.to_dict()) == {"tail_p", "box_p", "robust_weight_prior",
                                    "robust_weight_posterior"}
