"""Validation of delayed entry, (start, stop] pieces, strata and clusters (hand-made frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necc_bayes.data.load import validate
from necc_bayes.data.profile import data_profile
from necc_bayes.data.rules import RULES
from necc_bayes.errors import DataError
from necc_bayes.spec.io import parse_spec

ROWS = {
    "id": [1, 2, 2, 3, 3, 3, 4, 5],
    "start": [0, 0, 4, 1, 2, 6, 2.5, 0],
    "stop": [5, 4, 9, 2, 6, 8, 7, 3],
    "death": [1, 0, 1, 0, 0, 1, 0, 1],
    "x": [0, 0, 1, 1, 0, 1, 0, 1],
    "centre": ["b", "a", "a", "b", "b", "b", "a", "b"],
    "site": [10, 2, 2, 2, 2, 2, 10, 1],
}


def frame(**changes) -> pd.DataFrame:
    rows = {k: list(v) for k, v in ROWS.items()}
    for key, value in changes.items():
        rows[key] = value
    return pd.DataFrame(rows).astype(str).replace({"nan": np.nan, "None": np.nan})


def spec(entry="start", id_="id", strata=None, cluster=None):
    raw = {
        "name": "m",
        "data": {"time": "stop", "event": "death"},
        "covariates": {"terms": ["x"]},
    }
    if entry:
        raw["data"]["entry"] = entry
    if id_:
        raw["data"]["id"] = id_
    if strata:
        raw["covariates"]["strata"] = strata
    if cluster:
        raw["frailty"] = {"cluster": cluster}
    return parse_spec(raw)


def problems(df, sp):
    with pytest.raises(DataError) as info:
        validate(df, sp, "cohort.csv")
    return {p.rule: p for p in info.value.problems}, str(info.value)


def test_valid_pieces_give_the_cohort_in_file_order():
    cohort = validate(frame(), spec(strata="centre", cluster="site"), "cohort.csv")
    np.testing.assert_array_equal(cohort.entry, ROWS["start"])
    np.testing.assert_array_equal(cohort.time, ROWS["stop"])
    np.testing.assert_array_equal(cohort.ids.astype(int), ROWS["id"])
    assert cohort.n == 8 and cohort.n_subjects == 5
    assert cohort.time_at_risk == pytest.approx(sum(np.subtract(ROWS["stop"], ROWS["start"])))
    assert cohort.strata.levels == ["a", "b"]
    np.testing.assert_array_equal(cohort.strata.codes, [1, 0, 0, 1, 1, 1, 0, 1])
    # numeric labels in numeric order (2 before 10), not text order
    assert cohort.clusters.levels == ["1", "2", "10"]
    np.testing.assert_array_equal(cohort.clusters.sizes, [1, 5, 2])


def test_profile_describes_pieces_late_entry_strata_and_clusters():
    cohort = validate(frame(), spec(strata="centre", cluster="site"), "cohort.csv")
    prof = data_profile(cohort)
    assert prof["subjects"] == 5
    assert prof["pieces_per_subject"] == (
        "min 1, median 1, max 3; 2 subjects with more than one piece"
    )
    # subjects 3 (first piece from 1) and 4 (from 2.5); later pieces of 2 and 3 do not count
    assert prof["entering_late"] == "2 of 5 subjects enter after time 0 (first entry 1 to 2.5)"
    assert prof["strata"] == {"centre=a": "3 rows, 1 events", "centre=b": "5 rows, 3 events"}
    assert prof["clusters"]["site=2"] == "5 rows, 2 events"


@pytest.mark.parametrize(
    ("changes", "rule", "rows"),
    [
        ({"start": [0, 0, 4, 1, 2, 6, -1, 0]}, "entry_nonnegative", (7,)),
        ({"start": [5, 0, 4, 1, 2, 6, 2.5, 0]}, "entry_before_time", (1,)),
        ({"start": [0, 0, 4, 1, 2, 6, 2.5, 7]}, "entry_before_time", (8,)),
        ({"start": [0, 0, 3, 1, 2, 6, 2.5, 0]}, "pieces_overlap", (2, 3)),
        ({"start": [0, 0, 4, 1, 1.5, 6, 2.5, 0]}, "pieces_overlap", (4, 5, 6)),
        ({"death": [1, 1, 1, 0, 0, 1, 0, 1]}, "event_last_piece", (2, 3)),
        ({"death": [1, 0, 1, 1, 0, 0, 0, 1]}, "event_last_piece", (4, 5, 6)),
        ({"start": [0, 0, 4, 1, 2, 6, "soon", 0]}, "numeric", (7,)),
    ],
)
def test_each_rule_names_column_and_rows(changes, rule, rows):
    found, text = problems(frame(**changes), spec())
    assert rule in found, text
    assert found[rule].rows == rows
    assert rule in RULES
    assert "cohort.csv" in text


def test_piece_problems_are_listed_beside_row_problems():
    """One run lists every problem: pieces are checked on the ids whose rows are all valid."""
    # row 7 (id 4) has a negative entry; ids 2 (rows 2, 3) overlap; id 3 has an early event
    changes = {"start": [0, 0, 3, 1, 2, 6, -1, 0], "death": [1, 0, 1, 1, 0, 0, 0, 1]}
    found, text = problems(frame(**changes), spec())
    assert "3 problems" in text
    assert found["entry_nonnegative"].rows == (7,)
    assert found["pieces_overlap"].rows == (2, 3)
    assert found["event_last_piece"].rows == (4, 5, 6)
    # an id with an invalid row is left out of the piece checks (its values are not usable)
    changes = {
        "start": [0, 0, 3, 1, 2, 6, 2.5, 0],
        "stop": [5, 4, 9, 2, 6, "soon", 7, 3],
        "death": [1, 0, 1, 1, 0, 0, 0, 1],  # id 3's early event: not judged without row 6
    }
    found, _ = problems(frame(**changes), spec())
    assert found["numeric"].rows == (6,)
    assert found["pieces_overlap"].rows == (2, 3)
    assert "event_last_piece" not in found


def test_gaps_between_pieces_are_allowed():
    # id 2: (0, 4] then (5, 9]: not at risk on (4, 5]
    cohort = validate(frame(start=[0, 0, 5, 1, 2, 6, 2.5, 0]), spec(), "c.csv")
    assert cohort.time_at_risk == pytest.approx(5 + 4 + 4 + 1 + 4 + 2 + 4.5 + 3)


def test_several_rows_per_id_need_entry():
    found, text = problems(frame(), spec(entry=None))
    assert found["id_unique"].rows == (2, 3, 4, 5, 6)
    assert "data.entry" in text


def test_entry_without_id_is_delayed_entry_of_distinct_subjects():
    cohort = validate(frame(), spec(id_=None), "c.csv")
    assert cohort.n_subjects == 8 and cohort.entry is not None


def test_strata_and_clusters_need_two_levels_and_no_missing_values():
    found, _ = problems(
        frame(centre=["a"] * 8, site=[1] * 8), spec(strata="centre", cluster="site")
    )
    assert {"strata_levels", "cluster_levels"} <= set(found)
    found, _ = problems(
        frame(centre=["a", "b", None, "a", "b", "a", "b", "a"]), spec(strata="centre")
    )
    assert found["missing"].column == "centre" and found["missing"].rows == (3,)


def test_missing_strata_column_gets_a_hint():
    found, text = problems(frame(), spec(strata="center"))
    assert "column_exists" in found and "did you mean 'centre'" in text


def test_user_frame_is_not_modified():
    df = frame()
    before = df.copy()
    validate(df, spec(strata="centre", cluster="site"), "c.csv")
    pd.testing.assert_frame_equal(df, before)


def test_cli_validate_data_profiles_the_structure(tmp_path, capsys):
    from necc_bayes.cli.main import main

    pd.DataFrame(ROWS).to_csv(tmp_path / "c.csv", index=False)
    (tmp_path / "s.toml").write_text(
        'name = "m"\n[data]\ntime = "stop"\nevent = "death"\nid = "id"\nentry = "start"\n'
        '[covariates]\nterms = ["x"]\nstrata = "centre"\n[frailty]\ncluster = "site"\n'
        '[intervals]\nrule = "fixed"\ncuts = [3.0]\n',
        encoding="utf-8",
    )
    code = main(["validate-data", str(tmp_path / "s.toml"), "--data", str(tmp_path / "c.csv")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "subjects: 5" in out and "2 subjects with more than one piece" in out
    assert "entering_late: 2 of 5 subjects" in out
    assert "strata:\n  centre=a: 3 rows, 1 events\n  centre=b: 5 rows, 3 events" in out
    assert "clusters:\n  site=1: 1 rows, 1 events" in out
    # overlapping pieces: exit 2, rule, file, rows
    bad = pd.DataFrame(ROWS).assign(start=[0, 0, 3, 1, 2, 6, 2.5, 0])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    code = main(["validate-data", str(tmp_path / "s.toml"), "--data", str(tmp_path / "bad.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "[pieces_overlap]" in err and "rows 2, 3" in err and "bad.csv" in err
