"""Specification parsing: defaults, round trip through TOML, hashing, printable priors."""

from __future__ import annotations

import tomllib

import pytest

from necc_bayes.errors import SpecError
from necc_bayes.spec.baseline_priors import GammaBaseline, RandomWalkBaseline, resolve_baseline
from necc_bayes.spec.imputation import missing_conventions
from necc_bayes.spec.io import parse_spec, spec_hash, to_toml
from necc_bayes.spec.priors import NormalPrior

MINIMAL = {"name": "m", "data": {"time": "t", "event": "e"}, "covariates": {"terms": ["a"]}}


def test_defaults_are_filled_and_stated():
    spec = parse_spec(MINIMAL)
    assert spec.covariates.center is True
    assert spec.intervals.rule == "default"
    assert spec.priors.log_hr == NormalPrior(mu=0.0, sigma=1.0)
    assert spec.summaries.ci_prob == 0.95
    text = to_toml(spec)
    assert "baseline hazard is that of a subject at the" in text
    assert "equal-tailed" in text


def test_toml_round_trip_and_hash():
    spec = parse_spec(MINIMAL)
    again = parse_spec(tomllib.loads(to_toml(spec)))
    assert again == spec
    assert spec_hash(again) == spec_hash(spec)
    changed = parse_spec({**MINIMAL, "sampler": {"seed": 1}})
    assert spec_hash(changed) != spec_hash(spec)


def test_unknown_keys_get_a_hint_and_all_errors_are_listed():
    raw = {
        "name": "m",
        "data": {"time": "t", "event": "e", "evnt": "x"},
        "sampler": {"draws": 0, "chians": 2},
    }
    with pytest.raises(SpecError) as info:
        parse_spec(raw, "m.toml")
    text = str(info.value)
    assert "did you mean 'event'" in text and "did you mean 'chains'" in text
    assert "sampler.draws" in text
    assert len(info.value.problems) == 3


def test_priors_print_as_data():
    assert str(NormalPrior(mu=0, sigma=2.5)) == "Normal(mu=0, sigma=2.5)"
    resolved = resolve_baseline(GammaBaseline(), crude_rate=0.05)
    assert (resolved.alpha, resolved.beta) == (1.0, 20.0)
    rw = resolve_baseline(RandomWalkBaseline(), crude_rate=1.0)
    assert rw.init_mu == 0.0


def test_group_and_term_priors_are_cross_checked():
    raw = {
        **MINIMAL,
        "covariates": {"terms": ["a", "b", "c"]},
        "priors": {
            "terms": {"a": {"dist": "student_t", "nu": 3, "sigma": 1}},
            "groups": {"sites": {"terms": ["a", "b"]}},
        },
    }
    with pytest.raises(SpecError, match="both a per-term prior and group 'sites'"):
        parse_spec(raw)


def test_missing_model_header_states_the_unit_dependent_slope_prior():
    """The resolved spec says that the continuous covariate models' slope prior is per unit of x."""
    (line,) = missing_conventions("model")
    assert "Normal(0, slope_sigma / sd(x))" in line and "depends on the unit of x" in line
