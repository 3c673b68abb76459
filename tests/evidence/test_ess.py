"""Effective sample size: closed forms, RBesT's printed ESS, and predictive consistency.

References: ESS_elir(Beta(a, b)) = a + b (a, b > 1) and ESS(Normal(m, s)) = sigma_ref² / s²
(Neuenschwander et al. 2020, Biometrics 76:578); the ESS values RBesT 1.11-0 prints for its
vignette mixtures (rounded, so checked with ``round``); and the defining property of the
ELIR ESS, predictive consistency: E_{r ~ prior predictive}[ESS(posterior | r of n)] =
ESS(prior) + n.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from necc_bayes.evidence.conjugate import (
    binomial_predictive_pmf,
    normal_predictive,
    posterior_binomial,
    posterior_normal,
)
from necc_bayes.evidence.ess import LOG_HR_SIGMA_REF, ess
from necc_bayes.evidence.mixtures import beta_mixture, normal_mixture, robustify
from necc_bayes.evidence.published import published_prior


@pytest.mark.parametrize("a, b", [(1.5, 1.5), (3.3, 7.2), (12.0, 40.0), (250.0, 900.0)])
def test_beta_elir_is_a_plus_b(a, b):
    assert ess(beta_mixture([1.0], [a], [b])) == pytest.approx(a + b, rel=1e-7)


@pytest.mark.parametrize("a, b", [(3.3, 7.2), (12.0, 40.0)])
def test_beta_moment_ess_is_a_plus_b(a, b):
    assert ess(beta_mixture([1.0], [a], [b]), "moment") == pytest.approx(a + b, rel=1e-10)


def test_beta_elir_at_the_boundary_and_refusal():
    # a = 1: i_prior = (b - 1)/(1 - p)², so ELIR = (b - 1) E[p / (1 - p)] = a = 1 (integral by hand)
    assert ess(beta_mixture([1.0], [1.0], [5.0])) == pytest.approx(1.0, rel=1e-7)
    with pytest.raises(ValueError, match="shape parameter >= 1"):
        ess(beta_mixture([1.0], [0.5], [5.0]))


@pytest.mark.parametrize("sigma", [0.1, 0.3357, 1.0])
def test_normal_log_hr_prior_ess_is_four_over_sigma_squared_events(sigma):
    prior = normal_mixture([1.0], [0.4], [sigma])
    assert LOG_HR_SIGMA_REF == 2.0
    assert ess(prior) == pytest.approx(4.0 / sigma**2, rel=1e-7)
    assert ess(prior, "moment") == pytest.approx(4.0 / sigma**2, rel=1e-12)


def test_published_prior_ess_in_events():
    # HR 1.51 (1.34–1.70): sigma = ln(1.70/1.34) / 3.92 = 0.0607 -> about 1,085 events
    prior = published_prior(1.51, 1.34, 1.70)
    expected = 4.0 / ((math.log(1.70) - math.log(1.34)) / (2 * 1.959963984540054)) ** 2
    assert ess(prior) == pytest.approx(expected, rel=1e-7)
    # a 20% robust component cuts the ELIR ESS sharply (it is far flatter)
    assert ess(published_prior(1.51, 1.34, 1.70, robust_weight=0.2)) < 0.85 * expected


def test_normal_mixture_elir_equals_location_fisher_information():
    # ELIR = sigma_ref² ∫ f'(x)² / f(x) dx (because ∫ f'' = 0); independent adaptive quadrature
    mix = normal_mixture([0.6, 0.4], [0.0, 1.2], [0.3, 0.8])
    comps = list(zip(mix.weights, mix.mu, mix.sigma, strict=True))

    def integrand(x: float) -> float:
        f = sum(w * math.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
                for w, m, s in comps)
        d = sum(-w * (x - m) / s**2 * math.exp(-0.5 * ((x - m) / s) ** 2)
                / (s * math.sqrt(2 * math.pi)) for w, m, s in comps)
        return d * d / f

    ref = 4.0 * integrate.quad(integrand, -10, 12, points=[0.0, 1.2], limit=200)[0]
    assert ess(mix) == pytest.approx(ref, rel=1e-7)


def test_rbest_vignette_ess(rbest):
    # RBesT vignettes print round(ess(map, method)) for their automixfit mixtures
    a = rbest["binary_AS"]
    m = beta_mixture(a["automixfit"]["w"], a["automixfit"]["a"], a["automixfit"]["b"])
    assert round(ess(m, "elir")) == a["automixfit"]["ess_rounded"]["elir"]  # 37.61 -> 38
    assert round(ess(m, "moment")) == a["automixfit"]["ess_rounded"]["moment"]  # 24.35 -> 24
    assert round(ess(robustify(m, 0.2))) == a["robustify"]["ess_elir_rounded"]  # 26.502 -> 27
    c = rbest["normal_crohn"]
    w = np.asarray(c["automixfit"]["w"])  # printed to 8 digits: they sum to 1 + 1e-8
    nm = normal_mixture(w / w.sum(), c["automixfit"]["m"], c["automixfit"]["s"])
    assert round(ess(nm, sigma_ref=88)) == c["automixfit"]["ess_rounded"]["elir"]  # 39.0 -> 39
    assert round(ess(nm, "moment", sigma_ref=88)) == c["automixfit"]["ess_rounded"]["moment"]
    nr = robustify(nm, 0.2, mean=-50.0, sigma=88.0)
    assert round(ess(nr, sigma_ref=88)) == c["robustify"]["ess_elir_rounded"]  # 28.1 -> 28


def test_elir_is_predictively_consistent_for_a_beta_mixture():
    # Neuenschwander et al. 2020, Theorem: E_r[ESS_elir(posterior)] = ESS_elir(prior) + n
    prior = beta_mixture([0.7, 0.3], [6.0, 1.5], [14.0, 2.0])
    n = 10
    pmf = binomial_predictive_pmf(prior, n)
    expected = sum(pmf[r] * ess(posterior_binomial(prior, r, n)) for r in range(n + 1))
    assert expected == pytest.approx(ess(prior) + n, rel=1e-6)
    # the moment ESS is not predictively consistent (it is conservative here)
    moment = sum(pmf[r] * ess(posterior_binomial(prior, r, n), "moment") for r in range(n + 1))
    assert abs(moment - (ess(prior, "moment") + n)) > 0.1


def test_elir_is_predictively_consistent_for_a_normal_mixture():
    # n events on the log-HR scale: an estimate with se = 2 / sqrt(n); the average over its
    # prior predictive is an adaptive quadrature (scipy quad)
    prior = normal_mixture([0.8, 0.2], [0.4, 0.0], [0.3, 1.5])
    n = 25
    se = 2.0 / math.sqrt(n)
    pred = normal_predictive(prior, se)
    total = integrate.quad(lambda y: float(pred.pdf(y)) * ess(posterior_normal(prior, y, se)),
                           -11, 11, points=[0.0, 0.4], limit=100, epsabs=1e-7)[0]
    assert total == pytest.approx(ess(prior) + n, rel=1e-6)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown ESS method"):
        ess(beta_mixture([1.0], [2.0], [2.0]), "morita")  # type: ignore[arg-type]


