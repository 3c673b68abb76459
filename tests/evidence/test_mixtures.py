"""Mixture types: density, CDF, quantiles, moments, sampling, printing, validation.

References: numerical integration (scipy.integrate.quad) of the densities, closed-form
moments, and RBesT's printed ``summary(map)`` of its AS MAP mixture.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from necc_bayes.errors import SpecError
from necc_bayes.evidence.mixtures import (
    BetaMixture,
    NormalMixture,
    beta_mixture,
    normal_mixture,
    robustify,
)

NORMAL = normal_mixture([0.3, 0.7], [-0.5, 0.4], [0.2, 0.6])
BETA = beta_mixture([0.4, 0.6], [2.0, 30.0], [8.0, 60.0])


@pytest.mark.parametrize("mix, lo, hi", [(NORMAL, -np.inf, np.inf), (BETA, 0.0, 1.0)])
def test_density_integrates_to_cdf(mix, lo, hi):
    # reference: adaptive quadrature of the density (independent of the CDF formulas)
    total = integrate.quad(lambda x: float(mix.pdf(x)), lo, hi, limit=200)[0]
    assert total == pytest.approx(1.0, abs=1e-8)
    for x in (mix.ppf(0.1), mix.ppf(0.5), mix.ppf(0.93)):
        part = integrate.quad(lambda t: float(mix.pdf(t)), lo, x, limit=200)[0]
        assert float(mix.cdf(x)) == pytest.approx(part, abs=1e-8)


@pytest.mark.parametrize("mix", [NORMAL, BETA])
def test_quantile_inverts_cdf_and_moments_match_quadrature(mix):
    for q in (0.001, 0.025, 0.5, 0.975, 0.999):
        assert float(mix.cdf(mix.ppf(q))) == pytest.approx(q, abs=1e-10)
    lo, hi = (-np.inf, np.inf) if isinstance(mix, NormalMixture) else (0.0, 1.0)
    m1 = integrate.quad(lambda x: x * float(mix.pdf(x)), lo, hi, limit=200)[0]
    m2 = integrate.quad(lambda x: x * x * float(mix.pdf(x)), lo, hi, limit=200)[0]
    assert mix.mean() == pytest.approx(m1, abs=1e-9)
    assert mix.var() == pytest.approx(m2 - m1**2, abs=1e-9)


def test_single_component_quantiles_are_closed_form():
    n = normal_mixture([1.0], [0.2], [0.5])
    assert n.ppf(0.975) == pytest.approx(0.2 + 0.5 * 1.959963984540054, rel=1e-12)
    b = beta_mixture([1.0], [3.0], [7.0])
    assert float(b.cdf(b.ppf(0.3))) == pytest.approx(0.3, abs=1e-12)


def test_sampling_is_seeded_and_matches_moments():
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    draws = NORMAL.sample(rng1, 200_000)
    assert np.array_equal(draws, NORMAL.sample(rng2, 200_000))
    # 200,000 draws: SE of the mean = sd / 447 ≈ 0.0014; 4 SE tolerance
    assert draws.mean() == pytest.approx(NORMAL.mean(), abs=4 * NORMAL.sd() / 447)
    bd = BETA.sample(np.random.default_rng(1), 200_000)
    assert bd.mean() == pytest.approx(BETA.mean(), abs=4 * BETA.sd() / 447)


def test_rbest_as_mixture_summary(rbest):
    # RBesT 1.11-0 vignette: print(map) and summary(map) of the AS MAP beta mixture
    m = rbest["binary_AS"]["automixfit"]
    mix = beta_mixture(m["w"], m["a"], m["b"])
    ref = m["summary"]
    assert mix.mean() == pytest.approx(ref["mean"], abs=1e-7)
    assert mix.sd() == pytest.approx(ref["sd"], abs=1e-7)
    # RBesT's qmix solves with a looser tolerance than ours: agreement to 1e-4
    assert mix.ppf(0.025) == pytest.approx(ref["2.5%"], abs=1e-4)
    assert mix.ppf(0.5) == pytest.approx(ref["50.0%"], abs=1e-4)
    assert mix.ppf(0.975) == pytest.approx(ref["97.5%"], abs=1e-4)


def test_printing_and_plain_data():
    assert str(normal_mixture([1.0], [0.865], [0.3357])) == "Normal(0.865, 0.3357)"
    robust = robustify(normal_mixture([1.0], [0.865], [0.3357], ["published"]), 0.2)
    assert str(robust) == "0.8·Normal(0.865, 0.3357) [published] + 0.2·Normal(0, 10) [robust]"
    assert robust.to_dict() == {"weights": [0.8, 0.2], "mu": [0.865, 0.0],
                                "sigma": [0.3357, 10.0], "labels": ["published", "robust"]}
    assert str(beta_mixture([1.0], [8.0], [10.0])) == "Beta(8, 10)"


def test_robustify_scales_weights_and_labels_the_vague_component(rbest):
    # RBesT vignette: robustify(map, weight = 0.2, mean = 1/2) prints these weights
    m = rbest["binary_AS"]["automixfit"]
    r = robustify(beta_mixture(m["w"], m["a"], m["b"]), 0.2)
    assert isinstance(r, BetaMixture)
    assert r.weights == pytest.approx(rbest["binary_AS"]["robustify"]["w"], abs=1e-7)
    assert (r.a[-1], r.b[-1]) == (1.0, 1.0)
    assert r.labels[-1] == "robust" and r.robust_weight == pytest.approx(0.2)
    assert robustify(r, 0.0) is r
    with pytest.raises(SpecError) as err:
        robustify(r, 1.0)
    assert err.value.rules == ["robust_weight_range"]


@pytest.mark.parametrize(
    "args, rules",
    [
        (([0.5, 0.6], [0, 1], [1, 1]), ["weights_sum_to_one"]),
        (([1.0], [0.0], [-1.0]), ["parameter_positive"]),
        (([1.0], [float("nan")], [1.0]), ["parameter_finite"]),
        (([1.2, -0.2], [0, 1], [1, 1]), ["weight_in_unit_interval", "weight_in_unit_interval"]),
        (([1.0], [0, 1], [1]), ["mixture_lengths"]),
        (([], [], []), ["mixture_nonempty"]),
    ],
)
def test_normal_mixture_validation_names_every_problem(args, rules):
    with pytest.raises(SpecError) as err:
        normal_mixture(*args, source="spec.toml")
    assert err.value.rules == rules
    assert "spec.toml" in str(err.value)


def test_beta_mixture_refuses_non_positive_shapes():
    with pytest.raises(SpecError) as err:
        beta_mixture([1.0], [0.0], [2.0])
    assert err.value.rules == ["parameter_positive"]
