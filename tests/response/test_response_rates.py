"""Tests of the ORR comparison: prior/count parsing, results, sensitivity table."""

import json

import numpy as np
import pytest
from scipy import stats

from necc_bayes.errors import DataError, SpecError
from necc_bayes.response import beta_binomial as bb
from necc_bayes.response.comparison import compare, format_sensitivity, prior_sensitivity
from necc_bayes.response.inputs import BUILTIN_PRIORS, parse_counts, parse_prior, skeptical_shapes

STUDY_T, STUDY_C = (7, 16), (9, 41)
DESIGN_KEYS = {
    "p_treated_better",
    "diff_mean",
    "diff_low",
    "diff_high",
    "rr_median",
    "rr_low",
    "rr_high",
    "or_median",
    "or_low",
    "or_high",
    "p_diff_gt_delta",
    "delta",
    "prior_treated",
    "prior_control",
}


def test_compare_study_uniform():
    res = compare(STUDY_T, STUDY_C)
    post_t, post_c = stats.beta(8, 10), stats.beta(10, 33)
    assert res.treated.mean == pytest.approx(post_t.mean())
    assert (res.control.low, res.control.high) == pytest.approx(post_c.interval(0.95), rel=1e-9)
    assert res.diff_mean == pytest.approx(8 / 18 - 10 / 43)
    # closed form (Miller 2015) for Beta(8,10) > Beta(10,33)
    assert res.p_treated_better == pytest.approx(bb.prob_greater_closed_form(8, 10, 10, 33))
    assert res.diff_low < 0 < res.diff_high
    assert res.rr_low < res.rr_median < res.rr_high
    assert res.or_low < 1 < res.or_high


def test_to_dict_has_design_keys_and_is_json():
    res = compare(STUDY_T, STUDY_C, "jeffreys", delta=0.1)
    d = json.loads(res.to_json())
    assert DESIGN_KEYS <= set(d)
    assert d["delta"] == 0.1 and d["prior"] == "jeffreys"
    assert d["p_diff_gt_delta"] < d["p_treated_better"]
    assert "P(p_treated > p_control)" in str(res)
    assert "<table>" in res._repr_html_()


def test_swapping_arms_gives_complement():
    a = compare(STUDY_T, STUDY_C, "jeffreys")
    b = compare(STUDY_C, STUDY_T, "jeffreys")
    assert b.p_treated_better == pytest.approx(1 - a.p_treated_better, abs=1e-10)
    assert b.diff_low == pytest.approx(-a.diff_high, abs=1e-8)
    assert b.rr_median == pytest.approx(1 / a.rr_median, rel=1e-7)


def test_skeptical_prior_shrinks_the_difference():
    flat = compare(STUDY_T, STUDY_C, "uniform")
    skep = compare(STUDY_T, STUDY_C, "skeptical:0.1")
    assert 0 < skep.diff_mean < flat.diff_mean
    assert skep.p_treated_better < flat.p_treated_better
    assert skep.diff_high - skep.diff_low < flat.diff_high - flat.diff_low
    # centred on the pooled rate 16/57 with SD 0.1
    prior = skep.treated.prior
    assert prior.mean() == pytest.approx(16 / 57)
    assert prior.var() == pytest.approx(0.01)
    # stronger skepticism shrinks more
    assert compare(STUDY_T, STUDY_C, "skeptical:0.05").diff_mean < skep.diff_mean


def test_robust_prior_lies_between_and_updates_weights():
    flat = compare(STUDY_T, STUDY_C, "uniform")
    skep = compare(STUDY_T, STUDY_C, "skeptical:0.1")
    rob = compare(STUDY_T, STUDY_C, "robust:0.1,0.5")
    assert skep.diff_mean < rob.diff_mean < flat.diff_mean
    assert rob.treated.posterior.n_components == 2
    assert rob.treated.posterior.weights != (0.5, 0.5)


def test_mixture_prior_syntax():
    spec = parse_prior("mixture:2,8,0.8")
    mix = spec.resolve(0.3)
    assert mix.weights == (0.8, pytest.approx(0.2)) and mix.a == (2.0, 1.0)
    mix5 = parse_prior("mixture:2,8,0.8,0.5,0.5").resolve(0.3)
    assert mix5.a == (2.0, 0.5)


def test_per_arm_priors():
    res = compare(STUDY_T, STUDY_C, prior_control="beta:9,32")
    assert res.control.posterior.a == (18.0,)
    assert res.treated.posterior.a == (8.0,)
    assert res.to_dict()["prior"] == "per-arm"


def test_sensitivity_table_has_every_builtin_prior():
    table = prior_sensitivity(STUDY_T, STUDY_C)
    assert table["prior"].tolist() == list(BUILTIN_PRIORS)
    assert np.all(table["p_treated_better"].between(0.5, 1))
    text = format_sensitivity(table)
    assert all(p in text for p in BUILTIN_PRIORS)


def test_skeptical_shapes():
    a, b = skeptical_shapes(0.1, 0.3)
    assert a / (a + b) == pytest.approx(0.3)
    assert np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("unifrom", "prior_kind"),
        ("beta:1", "prior_arity"),
        ("beta:1,x", "prior_number"),
        ("beta:0,1", "beta_shape_positive"),
        ("beta:1,-2", "beta_shape_positive"),
        ("beta:inf,1", "prior_number"),
        ("skeptical:0", "skeptical_sd_feasible"),
        ("skeptical:-0.1", "skeptical_sd_feasible"),
        ("skeptical:0.3,0.5", "skeptical_sd_feasible"),
        ("skeptical:0.1,1.2", "skeptical_centre_in_unit_interval"),
        ("mixture:2,8,1.5", "weight_in_unit_interval"),
        ("mixture:2,8", "prior_arity"),
        ("mixture:2,8,0.5,0,1", "beta_shape_positive"),
        ("robust:0.1,-0.2", "weight_in_unit_interval"),
        ("jeffreys:1", "prior_arity"),
    ],
)
def test_invalid_priors_rejected_with_named_rule(text, rule):
    with pytest.raises(SpecError) as err:
        parse_prior(text, "--prior")
    assert rule in err.value.rules
    assert "--prior" in str(err.value)


def test_skeptical_infeasible_at_pooled_rate():
    with pytest.raises(SpecError) as err:
        compare((0, 16), (0, 41), "skeptical:0.1")
    assert "skeptical_centre_in_unit_interval" in err.value.rules
    with pytest.raises(SpecError) as err:
        compare((1, 16), (2, 41), "skeptical:0.1")
    assert "skeptical_sd_feasible" in err.value.rules


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("7-16", "count_format"),
        ("7/16.5", "count_format"),
        ("seven/16", "count_format"),
        ("", "count_format"),
        ("17/16", "responders_le_assessed"),
        ("-1/16", "responders_nonnegative"),
        ("0/0", "assessed_positive"),
    ],
)
def test_invalid_counts_rejected(text, rule):
    with pytest.raises(DataError) as err:
        parse_counts(text, "--treated")
    assert rule in err.value.rules
    assert "--treated" in str(err.value)


@pytest.mark.parametrize(
    ("counts", "rule"),
    [((7.5, 16), "count_integer"), ((True, 16), "count_integer"), ((3, -2), "assessed_positive")],
)
def test_invalid_counts_in_api(counts, rule):
    with pytest.raises(DataError) as err:
        compare(counts, STUDY_C)
    assert rule in err.value.rules


def test_invalid_delta_and_prob():
    with pytest.raises(SpecError, match="delta_range"):
        compare(STUDY_T, STUDY_C, delta=1.0)
    with pytest.raises(SpecError, match="prob_range"):
        compare(STUDY_T, STUDY_C, prob=1.2)


def test_edge_counts_zero_and_all():
    res = compare((0, 5), (5, 5), "jeffreys")
    assert res.p_treated_better < 0.01
    assert np.isfinite([res.rr_low, res.rr_high, res.or_low, res.or_high]).all()


def test_extreme_probabilities_print_as_bounds_not_as_one():
    """A certain-looking comparison says ``> 0.9999`` (issue 16: never ``P = 1``)."""
    res = compare((110, 110), (0, 41), "jeffreys")
    assert "P(p_treated > p_control)  > 0.9999" in str(res)
    table = prior_sensitivity((110, 110), (0, 41))
    assert "1.0000" not in format_sensitivity(table)
