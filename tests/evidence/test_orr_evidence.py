"""Evidence priors in the ORR comparison: ``map:FILE[,W]`` and ``published:R/N[,W]``.

References: the evidence layer's MAP computation (validated in test_meta_binomial.py and
test_mixfit.py), the closed-form ESS of a Beta(a, b) prior (a + b) and the conflict checks'
enumeration (test_conflict.py); the CLI's exit codes (DESIGN section 4).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from necc_bayes.cli.main import main
from necc_bayes.errors import DataError, SpecError
from necc_bayes.evidence import conflict_binomial, fit_beta, map_binomial
from necc_bayes.response.comparison import compare
from necc_bayes.response.inputs import map_prior, parse_prior

LITERATURE = Path(__file__).resolve().parents[2] / "data" / "literature" / "response_rates.csv"


def test_published_rate_prior_and_its_ess():
    spec = parse_prior("published:1/14,0.25")
    prior = spec.resolve(0.3)
    assert prior.weights == (0.75, 0.25) and (prior.a[0], prior.b[0]) == (2.0, 14.0)
    res = compare((7, 16), (9, 41), prior_treated="published:1/14")
    assert res.treated.prior_ess == pytest.approx(16.0, rel=1e-7)  # Beta(2, 14): a + b
    assert res.treated.prior_ess_method == "elir"
    check = conflict_binomial(res.treated.prior, 7, 16)
    assert res.treated.conflict == check
    d = res.to_dict()["treated"]
    assert d["prior_ess"] == pytest.approx(16.0) and d["conflict"]["tail_p"] == check.tail_p


def test_map_prior_from_a_study_table(tmp_path, rbest):
    rows = rbest["binary_AS"]["data"]
    path = tmp_path / "as.csv"
    path.write_text("study,source,r,n\n" + "".join(
        f"{s['study']},Baeten 2013 via RBesT,{s['r']},{s['n']}\n" for s in rows))
    prior = parse_prior(f"map:{path},0.2").resolve(0.5)
    direct = fit_beta(map_binomial([s["r"] for s in rows], [s["n"] for s in rows])
                      .predictive_logit).mixture
    assert prior.weights[:-1] == pytest.approx([0.8 * w for w in direct.weights])
    assert prior.a[:-1] == pytest.approx(direct.a) and prior.labels[-1] == "robust"
    assert map_prior(str(path)) is map_prior(str(path))  # cached per file content


def test_study_example_map_prior_conflict_is_reported():
    # the PD-1 and dual-blockade studies of data/literature against the NECC ICI arm 7/16
    res = compare((7, 16), (9, 41), prior_treated=f"map:{LITERATURE},0.2")
    text = str(res)
    assert "treated prior" in text and "ESS" in text and "robust weight 0.20 ->" in text
    assert res.treated.conflict is not None
    assert res.treated.conflict.robust_weight_posterior > 0.2  # 7/16 is above most studies


@pytest.mark.parametrize("text, rule", [
    ("map:/nonexistent/table.csv", "file_exists"),
    ("map:", "prior_arity"),
    ("published:3/2", "responders_le_assessed"),
    ("published:1/14,1.5", "weight_in_unit_interval"),
])
def test_bad_evidence_priors_are_refused(text, rule):
    with pytest.raises((SpecError, DataError)) as err:
        parse_prior(text, "--prior-treated")
    assert rule in err.value.rules


def test_bad_study_table_names_file_and_rows(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("study,source,r,n\na,X,5,3\n")
    with pytest.raises(DataError) as err:
        parse_prior(f"map:{path}")
    assert err.value.rules == ["counts_valid"] and str(path) in str(err.value)


def test_cli_map_prior_json_and_exit_code(capsys):
    argv = ["orr", "--treated", "7/16", "--control", "9/41"]
    assert main([*argv, "--prior-treated", f"map:{LITERATURE},0.2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["prior_treated"].startswith("map:") and out["treated"]["prior_ess"] > 1
    assert set(out["treated"]["conflict"]) == {"tail_p", "box_p", "robust_weight_prior",
                                               "robust_weight_posterior"}
    assert main([*argv, "--prior-treated", "map:/nonexistent.csv"]) == 2
    assert "nonexistent.csv" in capsys.readouterr().err
