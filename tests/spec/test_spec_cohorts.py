"""Spec keys for real cohorts: data.entry, covariates.strata and [frailty] (DESIGN §8)."""

from __future__ import annotations

import tomllib

import pytest

from necc_bayes.errors import SpecError
from necc_bayes.spec.cohort import NO_COHORT_FEATURES, cohort_conventions, cohort_features_attr
from necc_bayes.spec.io import parse_spec, spec_hash, to_toml
from necc_bayes.spec.priors import ExponentialSD, HalfNormalSD

BASE = {"name": "m", "data": {"time": "stop", "event": "e"}, "covariates": {"terms": ["a"]}}


def spec_with(**sections):
    raw = {k: dict(v) for k, v in BASE.items() if isinstance(v, dict)} | {"name": "m"}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return raw


def problems(raw):
    with pytest.raises(SpecError) as info:
        parse_spec(raw, "m.toml")
    return {(p.rule, p.column) for p in info.value.problems}, str(info.value)


def test_defaults_are_off_and_round_trip():
    spec = parse_spec(BASE)
    assert spec.data.entry is None and spec.covariates.strata is None and spec.frailty is None
    full = parse_spec(
        spec_with(
            data={"entry": "start", "id": "id"},
            covariates={"strata": "centre"},
            frailty={"cluster": "id"},
        )
    )
    assert full.frailty is not None and full.frailty.sd == ExponentialSD(rate=1.0)
    again = parse_spec(tomllib.loads(to_toml(full)))
    assert again == full and spec_hash(again) == spec_hash(full)
    assert spec_hash(full) != spec_hash(spec)


def test_frailty_sd_priors():
    spec = parse_spec(
        spec_with(frailty={"cluster": "litter", "sd": {"dist": "halfnormal", "sigma": 0.5}})
    )
    assert spec.frailty.sd == HalfNormalSD(sigma=0.5)
    assert str(spec.frailty.sd) == "HalfNormal(sigma=0.5)"
    assert str(ExponentialSD(rate=2.0)) == "Exponential(rate=2)"
    found, text = problems(spec_with(frailty={"cluster": "c", "sd": {"dist": "gamma"}}))
    assert ("prior_family", "frailty.sd") in found and "'exponential', 'halfnormal'" in text
    found, _ = problems(
        spec_with(frailty={"cluster": "c", "sd": {"dist": "exponential", "rate": 0}})
    )
    assert any(rule == "invalid_value" for rule, _ in found)


def test_unknown_keys_get_hints():
    found, text = problems(spec_with(data={"entyr": "start"}, frailty={"clustr": "c"}))
    assert "did you mean 'entry'" in text and "did you mean 'cluster'" in text
    assert ("required_key", "frailty.cluster") in found
    _, text = problems(spec_with(covariates={"stratta": "c"}))
    assert "did you mean 'strata'" in text


@pytest.mark.parametrize(
    ("sections", "rule", "key"),
    [
        ({"data": {"entry": "stop"}}, "entry_role", "data.entry"),
        ({"data": {"entry": "a"}}, "entry_role", "data.entry"),
        ({"covariates": {"strata": "a"}}, "strata_role", "covariates.strata"),
        ({"covariates": {"strata": "e"}}, "strata_role", "covariates.strata"),
        (
            {"data": {"entry": "s"}, "covariates": {"strata": "s"}},
            "strata_role",
            "covariates.strata",
        ),
        ({"frailty": {"cluster": "a"}}, "frailty_role", "frailty.cluster"),
        (
            {"covariates": {"strata": "g"}, "frailty": {"cluster": "g"}},
            "frailty_role",
            "frailty.cluster",
        ),
    ],
)
def test_each_column_has_one_role(sections, rule, key):
    found, text = problems(spec_with(**sections))
    assert (rule, key) in found, text


def test_role_problems_are_listed_together():
    found, _ = problems(
        spec_with(data={"entry": "stop"}, covariates={"strata": "a"}, frailty={"cluster": "a"})
    )
    assert {r for r, _ in found} == {"entry_role", "strata_role", "frailty_role"}


def test_frailty_on_the_id_column_is_allowed():
    spec = parse_spec(spec_with(data={"id": "id", "entry": "start"}, frailty={"cluster": "id"}))
    assert spec.frailty.cluster == spec.data.id


def test_resolved_spec_states_the_features_in_use():
    plain = to_toml(parse_spec(BASE))
    assert "delayed entry" not in plain and "strata:" not in plain and "frailty:" not in plain
    text = to_toml(
        parse_spec(
            spec_with(
                data={"entry": "start", "id": "id"},
                covariates={"strata": "centre"},
                frailty={"cluster": "site", "sd": {"dist": "halfnormal", "sigma": 1.0}},
            )
        )
    )
    assert "# - delayed entry: each row is at risk on (start, stop] only" in text
    assert "(start, stop] pieces of one subject" in text
    assert "one baseline hazard per level of centre" in text
    assert "log-frailty per site ~ Normal(0, frailty_sd), frailty_sd ~ HalfNormal(sigma=1)" in text


def test_cohort_features_attribute_names_each_feature_or_none():
    """``posterior.nc``'s ``cohort_features`` attribute: the same sentences as the spec's."""
    assert cohort_features_attr(parse_spec(BASE)) == NO_COHORT_FEATURES
    spec = parse_spec(
        spec_with(
            data={"entry": "start", "id": "id"},
            covariates={"strata": "centre"},
            frailty={"cluster": "site"},
        )
    )
    text = cohort_features_attr(spec)
    assert text.split("; ")[0].startswith("delayed entry: each row is at risk on (start, stop]")
    assert "pieces of one subject" in text
    assert "strata: one baseline hazard per level of centre" in text
    assert "frailty: log-frailty per site" in text
    assert text == "; ".join(cohort_conventions(spec))
