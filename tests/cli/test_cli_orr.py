"""Command-line tests of ``necc-bayes orr`` and ``necc-bayes orr-oc``."""

import json

import pytest

from necc_bayes.cli.main import main

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
    "prior",
}


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_orr_json(capsys):
    code, out, _ = run(capsys, "orr", "--treated", "7/16", "--control", "9/41", "--json")
    assert code == 0
    d = json.loads(out)
    assert DESIGN_KEYS <= set(d)
    assert d["p_treated_better"] == pytest.approx(0.9484554193369, abs=1e-9)
    assert d["prior"] == "uniform"


def test_orr_text_with_delta(capsys):
    code, out, _ = run(
        capsys,
        "orr",
        "--treated",
        "7/16",
        "--control",
        "9/41",
        "--delta",
        "0.1",
        "--prior",
        "jeffreys",
    )
    assert code == 0
    assert "P(p_treated - p_control > 0.1)" in out and "risk ratio" in out


@pytest.mark.parametrize(("definition", "x"), [("final", 7), ("best", 8)])
def test_orr_from_table5(capsys, definition, x):
    code, out, _ = run(capsys, "orr", "--from-table5", "--definition", definition, "--json")
    assert code == 0
    d = json.loads(out)
    assert (d["treated"]["responders"], d["treated"]["assessed"]) == (x, 16)
    assert (d["control"]["responders"], d["control"]["assessed"]) == (9, 41)


def test_orr_all_priors(capsys):
    code, out, _ = run(capsys, "orr", "--treated", "7/16", "--control", "9/41", "--all-priors")
    assert code == 0
    for name in ("uniform", "jeffreys", "skeptical:0.1", "robust:0.1,0.5"):
        assert name in out
    code, out, _ = run(
        capsys, "orr", "--from-table5", "--all-priors", "--json", "--prior", "beta:2,5"
    )
    rows = json.loads(out)
    assert [r["prior"] for r in rows][-1] == "beta:2,5" and len(rows) == 5


def test_orr_plot(capsys, tmp_path):
    path = tmp_path / "post.png"
    code, _, _ = run(capsys, "orr", "--treated", "7/16", "--control", "9/41", "--plot", str(path))
    assert code == 0 and path.stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (["--treated", "17/16", "--control", "9/41"], "responders_le_assessed"),
        (["--treated", "7/16", "--control", "9/0"], "assessed_positive"),
        (["--treated", "7 of 16", "--control", "9/41"], "count_format"),
        (["--treated", "7/16", "--control=-1/41"], "responders_nonnegative"),
        (["--treated", "7/16"], "counts_required"),
        (["--treated", "7/16", "--control", "9/41", "--prior", "beta:0,1"], "beta_shape_positive"),
        (["--treated", "7/16", "--control", "9/41", "--prior", "gauss"], "prior_kind"),
        (
            ["--treated", "7/16", "--control", "9/41", "--prior", "mixture:2,8,2"],
            "weight_in_unit_interval",
        ),
        (
            ["--treated", "7/16", "--control", "9/41", "--prior", "skeptical:0.5"],
            "skeptical_sd_feasible",
        ),
        (["--treated", "7/16", "--control", "9/41", "--delta", "1.5"], "delta_range"),
        (["--treated", "7/16", "--control", "9/41", "--prior-control", "beta:1"], "prior_arity"),
    ],
)
def test_orr_bad_input_exit_2_no_traceback(capsys, args, rule):
    code, out, err = run(capsys, "orr", *args)
    assert code == 2
    assert rule in err
    assert "Traceback" not in err and out == ""


def test_orr_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["orr", "--treated", "7/16", "--from-table5"])
    assert exc.value.code == 2


def test_orr_oc_table_and_plot(capsys, tmp_path):
    png, csv = tmp_path / "oc.png", tmp_path / "oc.csv"
    code, out, _ = run(capsys, "orr-oc", "--plot", str(png), "--csv", str(csv))
    assert code == 0
    assert "n_treated=16, n_control=41" in out and "max type-I error" in out
    assert png.stat().st_size > 0 and csv.read_text().startswith("n_treated")


def test_orr_oc_user_sizes_json(capsys):
    code, out, _ = run(
        capsys, "orr-oc", "--n-treated", "20", "--n-control", "20", "--threshold", "0.975", "--json"
    )
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["n_treated"] == 20 and "declare_c0.975" in rows[0]


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (["--n-treated", "0"], "assessed_positive"),
        (["--threshold", "1.5"], "threshold_range"),
        (["--prior", "beta:1,0"], "beta_shape_positive"),
        (["--p-control", "1.5"], "rate_in_unit_interval"),
    ],
)
def test_orr_oc_bad_input(capsys, args, rule):
    code, _, err = run(capsys, "orr-oc", *args)
    assert code == 2 and rule in err and "Traceback" not in err
