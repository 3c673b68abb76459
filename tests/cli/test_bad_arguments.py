"""The bad-argument catalogue of issue 22: each is refused with exit 2, its rule, nothing written.

Every case runs ``necc-bayes`` in this process (``main(argv)``) and fails before any sampling,
so the file is in the fast tier. Before issue 22, most of these ended in a traceback with exit 1
-- after compiling, some after sampling -- or were accepted (``--tune 0``, ``--draws
1000000000``, which sampled for 36 minutes and grew to 9.7 GB before it was killed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from necc_bayes.cli.main import main
from necc_bayes.data.bundled import bundled_path

BAD = Path(__file__).resolve().parents[1] / "bad_inputs"
COHORT = str(bundled_path("data/synthetic/necc_synthetic_cohort.csv"))
FINAL = bundled_path("models/prs_final.toml")
QUICK = ["--tune", "100", "--chains", "2", "--quiet"]


def _spec_with(tmp_path: Path, old: str, new: str) -> str:
    text = FINAL.read_text()
    assert old in text
    path = tmp_path / "inputs" / "spec.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.replace(old, new))
    return str(path)


def _run(argv: list[str], work: Path, capsys) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert list(work.iterdir()) == [], "something was written"
    return code, err


# (id, argv after "fit SPEC --data COHORT --out OUT", text the message must contain)
FIT_OVERRIDES = [
    ("draws_zero", ["--draws", "0"], "--draws (sampler.draws)"),
    ("draws_negative", ["--draws", "-5"], "--draws (sampler.draws)"),
    ("draws_unbounded", ["--draws", "1000000000"], "less than or equal to 100000"),
    ("draws_times_chains", ["--draws", "100000", "--chains", "64"], "draws x chains"),
    ("chains_zero", ["--chains", "0"], "--chains (sampler.chains)"),
    ("tune_zero", ["--tune", "0"], "--tune (sampler.tune)"),
    ("seed_negative", ["--seed", "-1"], "--seed (sampler.seed)"),
    ("seed_beyond_uint32", ["--seed", str(2**32)], "--seed (sampler.seed)"),
]


@pytest.mark.parametrize(
    ("argv", "text"), [c[1:] for c in FIT_OVERRIDES], ids=[c[0] for c in FIT_OVERRIDES]
)
def test_fit_override_is_refused(tmp_path, capsys, argv, text):
    work = tmp_path / "work"
    work.mkdir()
    cmd = ["fit", str(FINAL), "--data", COHORT, "--out", str(work / "f"), "--quiet", *argv]
    code, err = _run(cmd, work, capsys)
    assert code == 2 and "[invalid_value]" in err and text in err, err


# (id, text in the spec, replacement, rule, key)
SPEC_VALUES = [
    ("seed_negative", "seed = 20260101", "seed = -1", "invalid_value", "sampler.seed"),
    (
        "seed_huge",
        "seed = 20260101",
        "seed = 99999999999999999999",
        "invalid_value",
        "sampler.seed",
    ),
    ("draws_zero", "draws = 1000", "draws = 0", "invalid_value", "sampler.draws"),
    (
        "terms_empty",
        'terms = ["site_abdominal", "n_sites_gt1"]',
        "terms = []",
        "terms_required",
        "covariates.terms",
    ),
]


@pytest.mark.parametrize("command", ["validate-data", "fit"])
@pytest.mark.parametrize(
    ("old", "new", "rule", "key"), [c[1:] for c in SPEC_VALUES], ids=[c[0] for c in SPEC_VALUES]
)
def test_spec_value_is_refused_by_validate_data_and_fit(
    tmp_path, capsys, command, old, new, rule, key
):
    """These passed ``validate-data`` and crashed ``fit`` (two of them after sampling)."""
    work = tmp_path / "work"
    work.mkdir()
    spec = _spec_with(tmp_path, old, new)
    out = ["--out", str(work / "f"), *QUICK] if command == "fit" else []
    code, err = _run([command, spec, "--data", COHORT, *out], work, capsys)
    assert code == 2 and f"[{rule}]" in err and key in err, err


def test_spec_with_bom_is_read(tmp_path, capsys):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + FINAL.read_bytes())
    assert main(["validate-data", str(path), "--data", COHORT]) == 0
    assert "OK:" in capsys.readouterr().out


# (id, data file in tests/bad_inputs, rule)
DATA_FILES = [
    ("duplicate_header", "header_duplicate.csv", "column_unique"),
    ("colliding_header", "header_colliding.csv", "column_unique"),
    ("semicolon_decimal_comma", "semicolon_decimal_comma.csv", "csv_delimiter"),
    ("latin1", "latin1.csv", "encoding_utf8"),
    ("time_1e308", "time_overflow.csv", "time_range"),
    ("time_1e-320", "time_underflow.csv", "time_range"),
    ("time_spread_1e12", "time_spread.csv", "time_spread"),
    ("directory", ".", "file_is_file"),
]


@pytest.mark.parametrize("command", ["validate-data", "fit"])
@pytest.mark.parametrize(
    ("name", "rule"), [c[1:] for c in DATA_FILES], ids=[c[0] for c in DATA_FILES]
)
def test_data_file_is_refused(tmp_path, capsys, command, name, rule):
    work = tmp_path / "work"
    work.mkdir()
    out = ["--out", str(work / "f"), *QUICK] if command == "fit" else []
    code, err = _run(
        [command, str(BAD / "spec.toml"), "--data", str(BAD / name), *out], work, capsys
    )
    assert code == 2 and f"[{rule}]" in err, err


def test_dev_null_is_empty_not_missing(tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    code, err = _run(["validate-data", str(BAD / "spec.toml"), "--data", "/dev/null"], work, capsys)
    assert code == 2 and "[csv_read]" in err and "empty" in err


def _out_is_file(tmp_path: Path) -> Path:
    (tmp_path / "work" / "afile").write_text("x")
    return tmp_path / "work" / "afile"


OUT_CASES = [
    ("out_is_a_file", lambda t: _out_is_file(t), "exists and is not a directory"),
    ("parent_is_a_file", lambda t: _out_is_file(t) / "f", "is a file, not a directory"),
]


@pytest.mark.parametrize(
    ("make", "text"), [c[1:] for c in OUT_CASES], ids=[c[0] for c in OUT_CASES]
)
def test_unusable_out_is_refused_before_any_work(tmp_path, capsys, make, text):
    """Before issue 22 a parent that is a file was found only after sampling (exit 1)."""
    (tmp_path / "work").mkdir()
    out = make(tmp_path)
    before = sorted((tmp_path / "work").iterdir())
    code = main(["fit", str(FINAL), "--data", COHORT, "--out", str(out), *QUICK])
    err = capsys.readouterr().err
    assert code == 2 and text in err and "Traceback" not in err, err
    assert sorted((tmp_path / "work").iterdir()) == before


def test_read_only_out_is_refused_before_any_work(tmpfs, capsys):
    ro = tmpfs("ro", "ro,size=64k")
    code = main(["fit", str(FINAL), "--data", COHORT, "--out", str(ro / "f"), *QUICK])
    err = capsys.readouterr().err
    assert code == 2 and "Read-only file system" in err and "Traceback" not in err, err


REPRODUCE_CASES = [
    ("draws_zero", ["--draws", "0"], "--draws (sampler.draws)"),
    ("chains_zero", ["--chains", "0"], "--chains (sampler.chains)"),
    ("draws_unbounded", ["--draws", "1000000000"], "--draws (sampler.draws)"),
]


@pytest.mark.parametrize(
    ("argv", "text"), [c[1:] for c in REPRODUCE_CASES], ids=[c[0] for c in REPRODUCE_CASES]
)
def test_reproduce_override_is_refused_at_once(tmp_path, capsys, argv, text):
    """Before: ``reproduce --draws 0`` ran until its first fit, then a traceback."""
    work = tmp_path / "work"
    work.mkdir()
    code, err = _run(["reproduce", "--out", str(work / "r"), "--quiet", *argv], work, capsys)
    assert code == 2 and "[invalid_value]" in err and text in err, err


SBC_CASES = [
    ("n_sims_zero", ["--n-sims", "0"], "--n-sims"),
    ("n_ranks_zero", ["--n-ranks", "0"], "--n-ranks"),
    ("n_ranks_one", ["--n-ranks", "1"], "--n-ranks"),
    ("n_ranks_above_draws", ["--n-ranks", "5000", "--draws", "100", "--chains", "2"], "--n-ranks"),
    ("workers_zero", ["--workers", "0"], "--workers"),
]
SCHEDULER_CASES = [
    # before: the fit was sampled first, then the connection failed with a traceback
    ("nobody_listening", "tcp://127.0.0.1:1", "no scheduler answers at tcp://127.0.0.1:1"),
    ("not_an_address", "tcp://host:port", "expected an address such as tcp://host:8786"),
]


@pytest.mark.parametrize("command", ["sensitivity", "sbc"])
@pytest.mark.parametrize(
    ("address", "text"), [c[1:] for c in SCHEDULER_CASES], ids=[c[0] for c in SCHEDULER_CASES]
)
def test_unusable_scheduler_is_refused_before_any_fit(tmp_path, capsys, command, address, text):
    work = tmp_path / "work"
    work.mkdir()
    cmd = [command, str(FINAL), "--data", COHORT, "--out", str(work / "s"), "--quiet"]
    code, err = _run([*cmd, "--scheduler", address], work, capsys)
    assert code == 2 and "[scheduler_usable] option '--scheduler'" in err and text in err, err


@pytest.mark.parametrize(
    ("argv", "option"), [c[1:] for c in SBC_CASES], ids=[c[0] for c in SBC_CASES]
)
def test_sbc_option_is_refused_and_no_directory_is_left(tmp_path, capsys, argv, option):
    work = tmp_path / "work"
    work.mkdir()
    cmd = ["sbc", str(FINAL), "--data", COHORT, "--out", str(work / "s"), "--quiet", *argv]
    code, err = _run(cmd, work, capsys)
    assert code == 2 and "[option_range]" in err and f"option '{option}'" in err, err


SENSITIVITY_CASES = [
    ("scales_not_positive", ["--scales", "-1", "0"], "[scale_positive]"),
    ("scales_nan", ["--scales", "nan"], "[scale_positive]"),
    ("top_k_zero", ["--top-k", "0"], "[option_range]"),
    ("unknown_sweep", ["--sweeps", "prior,baseline"], "[sweep_known]"),
    ("no_sweep", ["--sweeps", ","], "[sweep_known]"),
    ("draws_zero", ["--draws", "0"], "[invalid_value]"),
]


@pytest.mark.parametrize(
    ("argv", "rule"), [c[1:] for c in SENSITIVITY_CASES], ids=[c[0] for c in SENSITIVITY_CASES]
)
def test_sensitivity_option_is_refused(tmp_path, capsys, argv, rule):
    work = tmp_path / "work"
    work.mkdir()
    cmd = ["sensitivity", str(FINAL), "--data", COHORT, "--out", str(work / "s"), "--quiet", *argv]
    code, err = _run(cmd, work, capsys)
    assert code == 2 and rule in err, err


ORR_CASES = [
    (
        "more_responders_than_assessed",
        ["--treated", "5/3", "--control", "1/2"],
        "[responders_le_assessed] option '--treated'",
    ),
    ("control_missing", ["--treated", "7/16"], "[counts_required]"),
    ("prob_outside", ["--treated", "7/16", "--control", "9/41", "--prob", "2"], "[prob_range]"),
]


@pytest.mark.parametrize(
    ("argv", "text"), [c[1:] for c in ORR_CASES], ids=[c[0] for c in ORR_CASES]
)
def test_orr_argument_is_refused_without_data_row_wording(tmp_path, capsys, argv, text):
    work = tmp_path / "work"
    work.mkdir()
    code, err = _run(["orr", *argv], work, capsys)
    assert code == 2 and text in err, err
    assert "file line" not in err and "column '--" not in err  # issue 22.11


@pytest.mark.parametrize(
    ("dirs", "rule"),
    [(["a"], "[two_fits]"), (["a", "b"], "[file_exists]"), (["a", "a/"], "[fits_distinct]")],
    ids=["one_fit", "missing", "same_fit_twice"],  # same_fit_twice: compared with itself before
)
def test_compare_argument_is_refused(tmp_path, capsys, dirs, rule):
    work = tmp_path / "work"
    work.mkdir()
    (work / "a").mkdir()
    if dirs[0] == "a" and "b" not in dirs:
        import numpy as np

        from tests.inference.test_model_comparison import _ll, _tree

        _tree(_ll(np.random.default_rng(0))).to_netcdf(work / "a" / "posterior.nc")
    before = sorted(p.name for p in work.rglob("*"))
    code = main(["compare", *(str(work / d) for d in dirs)])
    err = capsys.readouterr().err
    assert code == 2 and rule in err and "Traceback" not in err, err
    assert sorted(p.name for p in work.rglob("*")) == before


# (id, argv after "orr-oc", text the message must contain); files named here go to work/
ORR_OC_CASES = [
    ("n_treated_zero", ["--n-treated", "0"], "[assessed_positive] option '--n-treated'"),
    # before: 31 GiB asked for, a MemoryError traceback
    ("outcomes_unbounded", ["--n-treated", "100000000"], "at most 250,000"),
    ("threshold_outside", ["--threshold", "0.9", "1.5"], "[threshold_range] option '--threshold'"),
    ("p_control_outside", ["--p-control", "1.5"], "[rate_in_unit_interval] option '--p-control'"),
    # before: an IndexError traceback (every row dropped)
    ("step_outside", ["--steps", "2"], "[option_range] option '--steps'"),
    ("no_row_left", ["--steps", "-0.5", "--p-control", "0.1"], "the table would have no row"),
    # before: the table was computed, then a matplotlib traceback
    ("plot_type_unknown", ["--plot", "{work}/oc.xyz"], "unsupported file type '.xyz'"),
    ("csv_is_a_directory", ["--csv", "{work}"], "is a directory, not a file"),
    ("csv_parent_is_a_file", ["--csv", "{work}/afile/t.csv"], "is a file, not a directory"),
]


def _argv(argv: list[str], work: Path) -> list[str]:
    return [a.format(work=work) for a in argv]


@pytest.mark.parametrize(
    ("argv", "text"), [c[1:] for c in ORR_OC_CASES], ids=[c[0] for c in ORR_OC_CASES]
)
def test_orr_oc_option_is_refused_before_the_enumeration(tmp_path, capsys, argv, text):
    work = tmp_path / "work"
    work.mkdir()
    (work / "afile").write_text("x")
    code = main(["orr-oc", *_argv(argv, work)])
    err = capsys.readouterr().err
    assert code == 2 and text in err and "Traceback" not in err, err
    assert [p.name for p in work.iterdir()] == ["afile"], "something was written"


ORR_OUTPUT_CASES = [
    ("plot_type_unknown", ["--plot", "{work}/p.xyz"], "unsupported file type '.xyz'"),
    ("plot_with_all_priors", ["--plot", "{work}/p.png", "--all-priors"], "[option_conflict]"),
    # before: 745 GiB asked for, a MemoryError traceback
    ("assessed_beyond_1e6", ["--treated", "5/100000000000"], "[assessed_max] option '--treated'"),
]


@pytest.mark.parametrize(
    ("argv", "text"), [c[1:] for c in ORR_OUTPUT_CASES], ids=[c[0] for c in ORR_OUTPUT_CASES]
)
def test_orr_output_and_count_are_refused_before_any_work(tmp_path, capsys, argv, text):
    work = tmp_path / "work"
    work.mkdir()
    extra = _argv(argv, work)
    counts = [] if "--treated" in extra else ["--treated", "7/16"]
    code, err = _run(["orr", *counts, "--control", "9/41", *extra], work, capsys)
    assert code == 2 and text in err, err


SYNTHESIZE_CASES = [
    ("seed_negative", ["--seed", "-1", "--out", "{work}/c.csv"], "[option_range] option '--seed'"),
    ("out_is_a_directory", ["--out", "{work}"], "is a directory, not a file"),
    ("truth_is_a_directory", ["--out", "{work}/c.csv", "--truth", "{work}"], "--truth"),
]


@pytest.mark.parametrize(
    ("argv", "text"), [c[1:] for c in SYNTHESIZE_CASES], ids=[c[0] for c in SYNTHESIZE_CASES]
)
def test_synthesize_option_is_refused_and_nothing_written(tmp_path, capsys, argv, text):
    """Before: ``--seed -1`` was a numpy traceback."""
    work = tmp_path / "work"
    work.mkdir()
    code, err = _run(["synthesize", *_argv(argv, work)], work, capsys)
    assert code == 2 and text in err, err


@pytest.mark.parametrize(
    ("make", "text"),
    [
        *[c[1:] for c in OUT_CASES],
        (lambda t: _non_empty(t), "exists and is not empty; pass --overwrite"),
    ],
    ids=[*(c[0] for c in OUT_CASES), "out_not_empty"],
)
def test_reproduce_unusable_out_is_refused_at_once(tmp_path, capsys, make, text):
    """The main job checks its --out before importing the scientific stack or fitting."""
    (tmp_path / "work").mkdir()
    out = make(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "work").rglob("*"))
    code = main(["reproduce", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and text in err and "Traceback" not in err, err
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "work").rglob("*")) == before


def _non_empty(tmp_path: Path) -> Path:
    (tmp_path / "work" / "r").mkdir()
    (tmp_path / "work" / "r" / "old.csv").write_text("x")
    return tmp_path / "work" / "r"
