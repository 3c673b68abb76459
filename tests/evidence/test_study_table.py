"""Study tables (CSV and TOML) and the bundled literature tables.

References: the printed numbers of data/literature/*.csv (copied from the sources' abstracts;
provenance in data/literature/README.md) and the rules of the reader.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy import stats

from necc_bayes.errors import DataError
from necc_bayes.evidence.study_table import read_study_table

LITERATURE = Path(__file__).resolve().parents[2] / "data" / "literature"


def test_bundled_hazard_ratios_convert_as_printed():
    table = read_study_table(LITERATURE / "hazard_ratios.csv")
    row = table.set_index("study").loc["joh2023_multiple_organs"]
    assert (row["hr"], row["low"], row["high"]) == (1.51, 1.34, 1.70)
    assert row["log_hr"] == pytest.approx(math.log(1.51))
    assert row["se"] == pytest.approx(math.log(1.70 / 1.34) / (2 * stats.norm.ppf(0.975)))
    assert table["quote"].str.len().min() > 40  # every number carries its printed sentence
    assert table["url"].str.startswith("http").all()


def test_bundled_response_rates_and_their_exact_intervals():
    table = read_study_table(LITERATURE / "response_rates.csv").set_index("study")
    assert table.loc["patel2020_ipi_nivo_hgnec", ["r", "n"]].tolist() == [8, 18]
    assert table.loc["frumovitz2020_pembro", ["r", "n"]].tolist() == [0, 7]
    # counts derived from a printed % and N must reproduce the printed exact 95% CI
    # (Clopper–Pearson); Raj Part B prints the lower limit 0.12% as "0"
    for study, lo, hi in [("raj_partA_pembro", 0.2, 33.9), ("raj_partB_pembro_chemo", 0.1, 22.8),
                          ("yao2021_spartalizumab_gepnec", 0.1, 23.8)]:
        r, n = table.loc[study, ["r", "n"]]
        cp_lo = stats.beta.ppf(0.025, r, n - r + 1) if r else 0.0
        cp_hi = stats.beta.ppf(0.975, r + 1, n - r)
        assert round(100 * cp_lo, 1) == lo and round(100 * cp_hi, 1) == hi, study
        assert "derived" in table.loc[study, "r_basis"]


def test_toml_table(tmp_path):
    path = tmp_path / "orr.toml"
    path.write_text('[[study]]\nstudy = "a"\nsource = "A 2020"\nr = 1\nn = 14\n'
                    '[[study]]\nstudy = "b"\nsource = "B 2021"\nr = 8\nn = 18\n')
    table = read_study_table(path)
    assert table["r"].tolist() == [1, 8] and table["n"].tolist() == [14, 18]


def _rules(tmp_path, text: str) -> list[tuple[str, str | None, tuple[int, ...]]]:
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        read_study_table(path)
    assert str(path) in str(err.value)
    return [(p.rule, p.column, p.rows) for p in err.value.problems]


def test_every_problem_is_named_with_column_and_rows(tmp_path):
    got = _rules(tmp_path, "study,source,hr,low,high\n"
                 "a,X 2020,1.5,1.2,1.9\na,,2.0,2.5,3.0\nc,Z,x,1,2\nd,W,1.0,2.0,1.0\n")
    assert ("study_unique", "study", (1, 2)) in got
    assert ("source_present", "source", (2,)) in got
    assert ("value_numeric", "hr", (3,)) in got
    assert ("published_hr_inside", "hr", (2,)) in got
    assert ("published_interval_order", "low", (4,)) in got


def test_counts_missing_columns_and_ambiguity(tmp_path):
    assert _rules(tmp_path, "study,source,r,n\na,A,5,3\n") == [("counts_valid", "r", (1,))]
    assert _rules(tmp_path, "study,r,n\na,5,3\n") == [("missing_column", "source", ())]
    assert _rules(tmp_path, "study,source\na,A\n")[0][0] == "study_table_kind"
    assert _rules(tmp_path, "study,source,r,n\n")[0][0] == "study_table_empty"
