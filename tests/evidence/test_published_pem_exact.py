"""Slow: a PEM with one log-HR under a published-estimate prior against exact quadrature.

Reference: with marginalised Gamma(a, b) baseline rates the marginal posterior of the
log-HR is ``loglik_marginal(beta) + log prior(beta)`` up to a constant (the likelihood is
checked against the long-format Poisson likelihood and scipy quadrature in
tests/survival/test_pem_math.py); the prior is the evidence layer's normal mixture
(checked against closed forms in test_published_prior.py and equal to the PyMC density in
test_spec_published.py). Mean, SD and 2.5/50/97.5% quantiles by trapezoidal quadrature on
4,001 points over [-6, 6], against NUTS (nutpie, 4 x 1000 draws, fixed seed): every summary
within 4 ArviZ MCSE. The published HR 0.753 (0.382–1.484) is DESIGN section 8's example;
the cohort (true log-HR 0.7) conflicts with it, so the robust version (weight 0.2) must
move toward the data. About 40 s on 2 cores.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from necc_bayes.errors import SparseDataWarning
from necc_bayes.evidence import published_prior
from necc_bayes.spec.baseline_priors import GammaBaseline
from necc_bayes.spec.priors import PublishedPrior
from necc_bayes.survival import likelihood as pem_math
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.sampling import sample_posterior
from tests.survival.test_pem_quadrature import (
    SAMPLE,
    VAGUE,
    _summaries_1d,
    sampled_summaries,
    sparse_cohort,
)

pytestmark = pytest.mark.slow

HR, LOW, HIGH = 0.753, 0.382, 1.484


def _exact(X, pp, robust_weight: float) -> np.ndarray:
    st = pem_math.sufficient_stats(X, pp)
    g = np.linspace(-6, 6, 4001)
    prior = published_prior(HR, LOW, HIGH, robust_weight=robust_weight)
    ld = pem_math.loglik_marginal(g[:, None], VAGUE, VAGUE, st) + prior.logpdf(g)
    return _summaries_1d(g, ld)


@pytest.mark.parametrize("robust_weight", [0.0, 0.2])
def test_published_prior_posterior_matches_quadrature(robust_weight):
    X, terms, pp = sparse_cohort(0, 1)
    exact = _exact(X, pp, robust_weight)
    priors = PEMPriors(
        {terms[0]: PublishedPrior(hr=HR, low=LOW, high=HIGH, robust_weight=robust_weight)},
        [], GammaBaseline(alpha=VAGUE, beta=VAGUE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseDataWarning)
        idata = sample_posterior(PEMInputs(X, terms, pp), priors, SAMPLE, progressbar=False)
    est, mcse = sampled_summaries(idata)
    z = (est[0] - exact) / mcse[0]
    assert np.all(np.abs(z) < 4), f"exact {exact}\nsampled {est[0]}\nz {z}"
    assert int(idata["sample_stats"]["diverging"].sum()) == 0


def test_robust_version_moves_toward_the_data():
    # exact quadrature only: the data's own estimate (vague prior) vs the two priors
    X, _, pp = sparse_cohort(0, 1)
    informative, robust = _exact(X, pp, 0.0), _exact(X, pp, 0.2)
    st = pem_math.sufficient_stats(X, pp)
    g = np.linspace(-6, 6, 4001)
    data_only = _summaries_1d(g, pem_math.loglik_marginal(g[:, None], VAGUE, VAGUE, st))
    assert informative[0] < robust[0] < data_only[0]
