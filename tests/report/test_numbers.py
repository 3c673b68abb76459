"""Numbers as a statistician reads them (issue 16): no ``1 (1-1)``, ``P = 1``, ``3e+03``, ``-0``."""

from __future__ import annotations

import pytest

from necc_bayes.report.numbers import ess, hr_triplet, prob, rhat, sig


@pytest.mark.parametrize(
    ("x", "digits", "text"),
    [(0.0, 3, "0"), (-0.0001, 1, "-0.0001"), (-0.00001, 3, "-0.0000100"), (1234.6, 3, "1235"),
     (3.14159, 3, "3.14"), (0.000123456, 3, "0.000123"), (-1e-20, 3, "-1.00e-20"),
     (float("nan"), 3, "–"), (float("inf"), 3, "∞"), (2.5, 1, "2")],
)
def test_sig_is_plain_decimal_with_significant_figures(x, digits, text):
    assert sig(x, digits) == text


def test_negative_zero_never_printed():
    assert sig(-0.0) == "0" and sig(-0.0004, 1) == "-0.0004"


def test_hazard_ratio_digits_grow_until_median_and_limits_differ():
    assert hr_triplet(1.0004, 0.9991, 1.0017) == ("1.000", "0.9991", "1.002")
    assert hr_triplet(2.62, 1.51, 4.48) == ("2.62", "1.51", "4.48")
    med, low, high = hr_triplet(0.99912, 0.99851, 0.99973)
    assert len({med, low, high}) == 3


def test_probabilities_at_the_ends_are_bounded_not_rounded():
    assert prob(0.0) == "< 0.001" and prob(1.0) == "> 0.999" and prob(0.0424) == "0.042"


def test_ess_and_rhat():
    assert ess(3012.7) == "3013" and rhat(1.00049) == "1.000"


def test_probabilities_with_four_decimals_are_bounded_at_the_ends():
    # the ORR comparison prints P(p_t > p_c) with 4 decimals (0.9485): never 1.0000 or 0.0000
    assert prob(0.99995, 4) == "> 0.9999" and prob(0.00004, 4) == "< 0.0001"
    assert prob(0.948455, 4) == "0.9485" and prob(1.0, 4) == "> 0.9999"
