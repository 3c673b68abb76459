"""The command line takes a formula and an event expression in the TOML (no sampling).

``validate-data`` reads the spec as ``fit`` does, so a TOML with ``formula = "..."`` and
``[data] event = "status == 2"`` is checked, profiled and coded exactly as the Python API's
formula; a formula naming a column the data lack, or a ``[data]`` key that disagrees with it,
exits 2 with the named rule.
"""

from __future__ import annotations

from pathlib import Path

from necc_bayes.cli.main import main

DATASETS = Path(__file__).resolve().parents[1] / "datasets"


def _toml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_data_codes_a_formula_from_the_toml(tmp_path, capsys):
    spec = _toml(tmp_path, 'name = "pbc"\nformula = "Surv(time, status == 2) ~ bili + sex"\n'
                           '[data]\ntime_unit = "days"\n')
    assert main(["validate-data", spec, "--data", str(DATASETS / "pbc.csv")]) == 0
    out = capsys.readouterr().out
    assert "events: 161" in out and "sex[m]: 44/418 = 1" in out


def test_event_expression_without_a_formula(tmp_path, capsys):
    spec = _toml(tmp_path, 'name = "pbc"\n[data]\ntime = "time"\nevent = "status == 2"\n'
                           '[covariates]\nterms = ["bili"]\n')
    assert main(["validate-data", spec, "--data", str(DATASETS / "pbc.csv")]) == 0
    assert "events: 161" in capsys.readouterr().out


def test_formula_problems_exit_2_with_the_rule(tmp_path, capsys):
    missing = _toml(tmp_path, 'name = "v"\nformula = "Surv(time, status) ~ karno + celtype"\n')
    assert main(["validate-data", missing, "--data", str(DATASETS / "veteran.csv")]) == 2
    err = capsys.readouterr().err
    assert "column_exists" in err and "celtype" in err
    conflict = _toml(tmp_path, 'name = "v"\nformula = "Surv(time, status) ~ karno"\n'
                               '[data]\ntime = "futime"\n')
    assert main(["validate-data", conflict, "--data", str(DATASETS / "veteran.csv")]) == 2
    assert "formula_conflict" in capsys.readouterr().err
