"""One sampler-settings type, validated bounds, command-line overrides, cross-section rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from necc_bayes.errors import SpecError
from necc_bayes.spec.io import override_settings, parse_spec, with_sampler_overrides
from necc_bayes.spec.model import ModelSpec
from necc_bayes.spec.settings import MAX_SEED, SamplerSettings

MINIMAL = {"name": "m", "data": {"time": "t", "event": "e"}, "covariates": {"terms": ["x"]}}
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("draws", 0),
        ("draws", -5),
        ("draws", 1_000_000_000),
        ("tune", 0),
        ("chains", 0),
        ("seed", -1),
        ("seed", MAX_SEED + 1),
        ("seed", 99999999999999999999),
        ("target_accept", 1.0),
        ("sampler", "numpyro"),
    ],
)
def test_spec_and_override_refuse_the_same_values(key, value):
    """A bad value is refused with the same rule whether it is in the spec or on the CLI."""
    with pytest.raises(SpecError) as in_spec:
        parse_spec({**MINIMAL, "sampler": {key: value}}, "spec.toml")
    assert in_spec.value.problems[0].column == f"sampler.{key}"
    with pytest.raises(SpecError) as on_cli:
        with_sampler_overrides(parse_spec(MINIMAL), {key: value})
    problem = on_cli.value.problems[0]
    assert problem.column == f"--{key.replace('_', '-')} (sampler.{key})"
    assert problem.rule == in_spec.value.problems[0].rule == "invalid_value"


def test_total_draws_bounded_and_overrides_keep_the_rest():
    with pytest.raises(SpecError, match="draws x chains"):
        override_settings(SamplerSettings(), {"draws": 100_000, "chains": 8})
    s = override_settings(SamplerSettings(seed=7), {"draws": 10, "tune": None})
    assert (s.draws, s.tune, s.seed) == (10, 1000, 7)
    assert override_settings(s, {}) is s


def test_cross_section_rules_apply_to_a_spec_built_in_python():
    """A prior for an unknown term is refused by ModelSpec itself, not only by parse_spec."""
    with pytest.raises(ValueError, match=r"priors\.terms\.y is not a model term"):
        ModelSpec.model_validate({**MINIMAL, "priors": {"terms": {"y": {"dist": "normal"}}}})
    with pytest.raises(SpecError) as err:
        parse_spec({**MINIMAL, "priors": {"terms": {"xx": {"dist": "normal"}}}})
    assert err.value.rules == ["term_reference"]
    assert "did you mean 'x'" in str(err.value)


def test_spec_with_a_byte_order_mark_reads(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_text('\ufeffname = "m"\n[data]\ntime = "t"\nevent = "e"\n', encoding="utf-8")
    from necc_bayes.spec.io import load_spec

    assert load_spec(path).name == "m"


def test_cli_draws_zero_exits_2_before_heavy_imports(tmp_path):
    """`fit --draws 0` is refused with the spec-key message, before PyMC is imported."""
    code = (
        "import sys; from necc_bayes.cli import main; rc = main(sys.argv[1:]); "
        "import sys as s; print('pymc' in s.modules); raise SystemExit(rc)"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "fit",
            str(ROOT / "models" / "prs_final.toml"),
            "--data",
            str(ROOT / "data" / "synthetic" / "necc_synthetic_cohort.csv"),
            "--out",
            str(tmp_path / "out"),
            "--draws",
            "0",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "--draws (sampler.draws)" in proc.stderr and "[invalid_value]" in proc.stderr
    assert proc.stdout.strip() == "False"  # PyMC was never imported
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("baseline", "expected"),
    [({"dist": "random_walk"}, 0.95), ({"dist": "gamma_process"}, 0.9), ({"dist": "gamma"}, 0.9)],
)
def test_resolved_spec_states_target_accept_and_the_baseline_numbers(baseline, expected):
    """The random-walk default target_accept (0.95) is written into the resolved spec."""
    from necc_bayes.spec.io import load_spec, to_toml
    from necc_bayes.survival.fit import resolve_spec
    from necc_bayes.survival.inputs import check_inputs

    spec = load_spec(ROOT / "models" / "prs_final.toml")
    spec = spec.model_copy(
        update={"priors": spec.priors.model_copy(update={"baseline": baseline_prior(baseline)})}
    )
    checked = check_inputs(spec, ROOT / "data" / "synthetic" / "necc_synthetic_cohort.csv")
    resolved = resolve_spec(checked)
    assert resolved.sampler.target_accept == expected
    text = to_toml(resolved)
    assert f"target_accept = {expected}" in text
    base = resolved.priors.baseline.to_dict()
    assert "auto" not in base.values()
    if baseline["dist"] == "gamma_process":
        # c = 1 / (r T): the prior on H(T) is worth one event
        cohort = checked.cohort
        r = cohort.n_events / cohort.time_at_risk  # events / total time at risk (entry on)
        assert base["rate"] == pytest.approx(r)
        assert base["strength"] * base["rate"] * cohort.time.max() == pytest.approx(1.0)


def baseline_prior(table):
    from pydantic import TypeAdapter

    from necc_bayes.spec.baseline_priors import BaselinePrior

    return TypeAdapter(BaselinePrior).validate_python(table)
