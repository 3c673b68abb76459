"""The SYNTHETIC cohort: exact calibration targets, determinism, survival calibration.

Every published number below names its source in shared/paper/necc_recurrence_study.txt.
No NUTS here: the survival checks use lifelines / statsmodels Cox fits (test-only references)
and scipy's Kaplan-Meier.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from necc_bayes.cli.main import main
from necc_bayes.data.bundled import bundled_path
from necc_bayes.data.reference import cox_breslow
from necc_bayes.studies.necc import published
from necc_bayes.studies.necc.synthetic.calibration import calibration_table
from necc_bayes.studies.necc.synthetic.covariates import exact_binary
from necc_bayes.studies.necc.synthetic.generate import (
    COLUMNS,
    DEFAULT_SEED,
    generate_cohort,
    load_cohort,
    write_cohort,
)
from necc_bayes.studies.necc.synthetic.survival import (
    PRS_CUTS,
    TRUE_HR,
    cumulative_hazard,
    true_baseline,
)

DESIGN_COLUMNS = [
    "patient_id", "age", "age_gt50", "histology", "histology_pure", "figo_stage", "figo_3_4",
    "tumor_size_gt4", "invasion_deep", "lvsi", "nerve_invasion", "plnm", "syn", "cga", "cd56",
    "radiation", "chemo_cycles_ge4", "site_lung", "site_abdominal", "site_pelvic", "site_bone",
    "site_cervicothoracic_ln", "site_brain", "site_vaginal_vault", "site_other", "n_sites",
    "n_sites_gt1", "ici", "antiangiogenic", "response_assessed", "responder", "ttr_months",
    "prs_months", "death",
]  # DESIGN.md section 7
SITES = [c for c in DESIGN_COLUMNS if c.startswith("site_")]
# Cox HRs of the synthetic cohort must lie within exp(+-0.15) of Table 3's multivariable HRs
# (the generator accepts draws within exp(+-0.10) of its own Breslow fit; lifelines uses Efron).
HR_BAND = 0.15


@pytest.fixture(scope="module")
def generated():
    return generate_cohort(DEFAULT_SEED)


@pytest.fixture(scope="module")
def cohort():
    return load_cohort()


@pytest.fixture(scope="module")
def calibration(cohort):
    return calibration_table(cohort)


def _by_abd(df, column):
    """(count of 1s, count of non-missing) per abdominal group {1, 0}."""
    return {
        g: (int(df.loc[df.site_abdominal == g, column].sum()),
            int(df.loc[df.site_abdominal == g, column].notna().sum()))
        for g in (1, 0)
    }


# --- shape and determinism -------------------------------------------------------------


def test_columns_and_rows(cohort):
    assert list(cohort.columns[: len(DESIGN_COLUMNS)]) == DESIGN_COLUMNS
    assert list(cohort.columns) == list(COLUMNS)
    assert len(cohort) == 88  # Methods: 88 patients
    assert cohort["patient_id"].tolist() == list(range(1, 89))


def test_same_seed_same_frame(generated):
    again, truth = generate_cohort(DEFAULT_SEED)
    pd.testing.assert_frame_equal(generated[0], again)
    assert truth == generated[1]


def test_other_seed_other_frame(generated):
    other, _ = generate_cohort(DEFAULT_SEED + 1)
    assert not other.equals(generated[0])
    assert other["site_lung"].sum() == 34  # targets hold for any seed


def test_shipped_files_regenerate_byte_for_byte(tmp_path):
    paths = write_cohort(tmp_path / "c.csv", DEFAULT_SEED, tmp_path / "t.json", tmp_path / "k.csv")
    shipped = {
        "cohort": "data/synthetic/necc_synthetic_cohort.csv",
        "truth": "data/synthetic/truth.json",
        "calibration": "data/synthetic/calibration.csv",
    }
    for key, rel in shipped.items():
        assert paths[key].read_bytes() == bundled_path(rel).read_bytes(), rel


def test_load_cohort_round_trips(generated, cohort):
    pd.testing.assert_frame_equal(cohort, generated[0], check_dtype=False)
    assert cohort["lvsi"].dtype == "Int64"


def test_cli_synthesize_writes_three_files(tmp_path, capsys):
    out = tmp_path / "my_synthetic.csv"
    assert main(["synthesize", "--seed", "7", "--out", str(out)]) == 0
    assert out.exists()
    truth = json.loads((tmp_path / "my_synthetic_truth.json").read_text())
    assert truth["seed"] == 7 and "SYNTHETIC" in truth["title"]
    calib = pd.read_csv(tmp_path / "my_synthetic_calibration.csv")
    assert (calib.loc[calib.target == "exact", "ok"]).all()
    assert "synthetic" in capsys.readouterr().out


def test_exact_binary_counts():
    s = exact_binary(np.random.default_rng(0), 3, 4, 2)
    assert (int(s.sum()), int((s == 0).sum()), int(s.isna().sum())) == (3, 4, 2)


# --- exact calibration targets ---------------------------------------------------------


def test_calibration_exact_and_tolerance_rows_all_pass(calibration):
    exact = calibration[calibration.target == "exact"]
    missed = exact[~exact["ok"].astype(bool)]
    assert missed.empty, missed[["source", "item", "group", "published", "synthetic"]]
    assert len(exact) >= 110
    tol = calibration[calibration.target == "tolerance"]
    assert tol["ok"].astype(bool).all(), tol[~tol["ok"].astype(bool)]
    assert set(calibration.target) == {"exact", "tolerance", "conflict", "reported"}


def test_shipped_calibration_matches_recomputed(calibration):
    shipped = pd.read_csv(bundled_path("data/synthetic/calibration.csv"))
    assert len(shipped) == len(calibration)
    assert np.allclose(shipped["synthetic"], calibration["synthetic"], equal_nan=True)


def test_table2_site_counts(cohort):
    t2 = published.load_table("table2").set_index("term")["n"]
    assert cohort[SITES].sum().to_dict() == t2.to_dict()  # Table 2: 34, 33, 24, 11, 10, 7, 7, 2


def test_number_of_sites(cohort):
    n = cohort[SITES].sum(axis=1)
    assert (cohort["n_sites"] == n).all() and (n >= 1).all()
    assert (cohort["n_sites_gt1"] == (n > 1).astype(int)).all()
    assert cohort["n_sites_gt1"].sum() == 39  # Table 4: 19 + 20
    assert n.value_counts().to_dict() == {1: 49, 2: 38, 3: 1}  # 128 site-patients in 88


def test_table4_cross_tabs(cohort):
    t4 = published.load_table("table4")
    conflicts = {("histology_pure", "abdominal_neg"), ("radiation", "abdominal_pos"),
                 ("radiation", "abdominal_neg"), ("chemo_cycles_ge4", "abdominal_neg")}
    for r in t4.to_dict("records"):
        g = 1 if r["group"] == "abdominal_pos" else 0
        n, denom = _by_abd(cohort, r["term"])[g]
        key = (r["term"], r["group"])
        if key == ("histology_pure", "abdominal_neg"):
            assert (n, denom) == (37, 55)  # Table 1's 60 pure wins over Table 4's 62
        elif key in conflicts:
            assert n == r["n"] and denom == r["group_n"]  # Table 1: no N/A
        else:
            assert (n, denom) == (r["n"], r["implied_denominator"]), key


def test_table4_group_sizes(cohort):
    assert cohort["site_abdominal"].value_counts().to_dict() == {0: 55, 1: 33}


def test_table1_marginals_with_missing(cohort):
    # Table 1 rows: (column, count of 1s, count of 0s, missing)
    expected = {
        "tumor_size_gt4": (19, 41, 28), "invasion_deep": (57, 22, 9), "lvsi": (55, 12, 21),
        "plnm": (29, 53, 6), "radiation": (53, 35, 0), "chemo_cycles_ge4": (72, 16, 0),
        "figo_3_4": (29, 51, 8),
    }
    for column, (yes, no, missing) in expected.items():
        col = cohort[column]
        assert (int((col == 1).sum()), int((col == 0).sum()), int(col.isna().sum())) == (
            yes, no, missing), column
    assert cohort["figo_stage"].value_counts(dropna=False).to_dict() == {
        "I": 42, "III": 27, "II": 9, pd.NA: 8, "IVa": 2}
    assert cohort["histology"].value_counts().to_dict() == {
        "small_cell": 71, "nos": 9, "large_cell": 8}
    assert cohort["histology_pure"].sum() == 48 + 6 + 6
    ages = cohort["age"]
    assert (ages.min(), ages.max(), ages.median()) == (24, 67, 46)  # Table 1 range; text median
    assert abs(ages.mean() - 46) < 0.5  # Table 1 mean 46
    assert ((ages > 50).astype(int) == cohort["age_gt50"]).all()


def test_missing_values_stay_empty_in_the_csv():
    text = bundled_path("data/synthetic/necc_synthetic_cohort.csv").read_text()
    assert ",," in text and "nan" not in text.lower() and "<NA>" not in text


def test_derived_columns_consistent(cohort):
    stage = cohort["figo_stage"]
    high = stage.isin(["III", "IVa"]).astype("Int64").mask(stage.isna())
    assert high.equals(cohort["figo_3_4"])
    pure = (cohort["histology_mixed_component"] == "none").astype("Int64")
    assert (pure == cohort["histology_pure"]).all()


def test_ici_and_response(cohort):
    ici, assessed, resp = cohort["ici"], cohort["response_assessed"], cohort["responder"]
    assert ici.sum() == 22  # Methods: ICI in 22 patients
    assert _by_abd(cohort, "ici") == {1: (8, 28), 0: (14, 47)}  # Table 4: 8 (28.6), 14 (29.8)
    assert assessed[ici == 1].sum() == 16 and resp[ici == 1].sum() == 7  # 7/16 (Results)
    assert (ici == 0).sum() == 53  # "the rest 53 patients who received no PD-1 inhibitors"
    assert assessed[ici == 0].sum() == 41 and resp[ici == 0].sum() == 9  # 9/41 (Results)
    assert (resp.notna() == (assessed == 1).fillna(False)).all()
    assert _by_abd(cohort, "antiangiogenic") == {1: (5, 28), 0: (9, 47)}  # Table 4


def test_table5_patients_embedded(cohort):
    t5 = published.table5().set_index("patient")
    rows = cohort[cohort["table5_patient"].notna()].set_index("table5_patient")
    assert sorted(rows.index) == list(range(1, 17))
    for p, r in t5.iterrows():
        sites = {s for s in SITES if rows.at[p, s] == 1}
        assert sites == set(r["initial_sites"].split(";")), p
        assert rows.at[p, "responder"] == r["final_responder"]
        assert rows.at[p, "ici"] == 1 and rows.at[p, "response_assessed"] == 1


def test_immunohistochemistry(cohort):
    # text: Syn 94.0%, CgA 80%, CD56 90.5% (denominator 84 assumed, data/README.md)
    for marker, pos in (("syn", 79), ("cga", 67), ("cd56", 76)):
        assert (int(cohort[marker].sum()), int(cohort[marker].notna().sum())) == (pos, 84)
    # Syn separation (Table 3, HR 23.435, 0.014-38,678.493): no Syn-negative patient dies
    assert cohort.loc[cohort["syn"] == 0, "death"].sum() == 0
    sub = cohort[["syn", "prs_months", "death"]].dropna()
    cox = cox_breslow(sub.prs_months.to_numpy(float), sub.death.to_numpy(int),
                      sub[["syn"]].to_numpy(float))
    assert not cox.converged  # no finite estimate


def test_ttr(cohort):
    ttr, lung = cohort["ttr_months"], cohort["site_lung"]
    for g, median in ((1, 16.1), (0, 11.2)):  # Results: 16.1 vs 11.2 months
        sel = np.sort(ttr[lung == g].to_numpy())
        assert sel[sel.size // 2 - 1] == median
    assert (ttr > 36).sum() == 4  # 95.5% (84/88) within 3 years
    assert (ttr > 60).sum() == 1 and 69 < ttr.max() <= 70  # "in the 70th month"
    p = stats.logrank(ttr[lung == 1], ttr[lung == 0]).pvalue
    assert 0.002 <= p <= 0.03  # paper p = 0.008


# --- survival --------------------------------------------------------------------------


def test_follow_up_and_five_year_prs(cohort):
    t = cohort["prs_months"].to_numpy(float)
    d = cohort["death"].to_numpy(int)
    assert (t.min(), t.max()) == (2.37, 65.5)  # Results: range 2.37-65.50 months
    assert abs(np.median(t) - 11.1) <= 0.5  # Results: median follow-up 11.1 months
    km = stats.ecdf(stats.CensoredData(uncensored=t[d == 1], right=t[d == 0])).sf
    assert abs(km.evaluate(60.0) - 0.206) <= 0.03  # Results: 5-year PRS 20.6%


def test_cox_lifelines_near_paper(cohort):
    lifelines = pytest.importorskip("lifelines")
    cph = lifelines.CoxPHFitter()
    cph.fit(cohort[["prs_months", "death", "site_abdominal", "n_sites_gt1"]].astype(float),
            duration_col="prs_months", event_col="death")
    hr = np.exp(cph.params_)
    # Table 3 multivariable: abdominal 2.543 (1.089-5.937), > 1 site 1.626 (1.064-2.484)
    assert abs(np.log(hr["site_abdominal"] / 2.543)) <= HR_BAND
    assert abs(np.log(hr["n_sites_gt1"] / 1.626)) <= HR_BAND
    assert cph.summary.loc["site_abdominal", "p"] < 0.05


def test_truth_file():
    truth = json.loads(bundled_path("data/synthetic/truth.json").read_text())
    assert truth["seed"] == DEFAULT_SEED and "SYNTHETIC" in truth["title"]
    model = truth["prs_model"]
    assert model["log_hr"] == pytest.approx({"site_abdominal": np.log(2.543),
                                             "n_sites_gt1": np.log(1.626)})
    assert model["cuts"] == pytest.approx(list(PRS_CUTS))
    assert len(model["baseline_hazard_per_month"]) == len(PRS_CUTS) + 1
    assert model["baseline_hazard_per_month"][0] == 0.0
    assert truth["acceptance"]["accepted_attempt"] >= 0
    assert truth["censoring_model"]["administrative_end_months"] == 65.5


def test_true_baseline_solves_published_targets():
    rates = np.array(true_baseline())
    ba, bs = np.log(TRUE_HR["site_abdominal"]), np.log(TRUE_HR["n_sites_gt1"])

    def surv(t, groups):
        h = cumulative_hazard(np.array(t), rates, PRS_CUTS)
        n = sum(groups.values())
        return sum(k * np.exp(-h * np.exp(a * ba + s * bs)) for (a, s), k in groups.items()) / n

    plus, minus = {(1, 1): 19, (1, 0): 14}, {(0, 1): 20, (0, 0): 35}  # Table 4
    assert surv(12.2, plus) == pytest.approx(0.5, abs=1e-8)  # median 12.2, abdominal +
    assert surv(26.6, minus) == pytest.approx(0.5, abs=1e-8)  # median 26.6, abdominal -
    assert surv(60.0, plus | minus) == pytest.approx(0.206, abs=1e-8)  # 5-year PRS 20.6%
