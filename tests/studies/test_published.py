"""Published tables: every total the paper states, checked against the bundled CSVs.

Source of every number: shared/paper/necc_recurrence_study.txt (table and row named in
each test). Inconsistencies between printed numbers are asserted as they are printed and
documented in data/README.md.
"""

from __future__ import annotations

import pandas as pd
import pytest

from necc_bayes.data.bundled import bundled_path
from necc_bayes.errors import SpecError
from necc_bayes.studies.necc import published

N = 88  # Methods: "Finally, 88 patients ... were included"

# Table 2 (and Methods, "Diagnosis of recurrent NECC")
SITE_COUNTS = {
    "site_lung": 34,
    "site_abdominal": 33,
    "site_pelvic": 24,
    "site_bone": 11,
    "site_cervicothoracic_ln": 10,
    "site_brain": 7,
    "site_vaginal_vault": 7,
    "site_other": 2,
}

SYNTHETIC_TERMS = {
    "age_gt50",
    "figo_3_4",
    "histology_pure",
    "tumor_size_gt4",
    "invasion_deep",
    "lvsi",
    "nerve_invasion",
    "plnm",
    "syn",
    "cga",
    "cd56",
    "chemo_cycles_ge4",
    "radiation",
    "site_lung",
    "site_abdominal",
    "site_pelvic",
    "site_bone",
    "site_cervicothoracic_ln",
    "site_brain",
    "site_vaginal_vault",
    "n_sites_gt1",
    "antiangiogenic",
    "ici",
}


@pytest.mark.parametrize("name", sorted(published.TABLES))
def test_every_table_loads_as_fresh_frame(name):
    a = published.load_table(name)
    b = published.load_table(name)
    assert len(a) > 0
    a.iloc[0, 0] = -1
    assert not a.equals(b)


def test_unknown_table_is_refused():
    with pytest.raises(KeyError, match="table9"):
        published.load_table("table9")


def test_table2_site_counts():
    t2 = published.load_table("table2").set_index("term")
    assert t2["n"].to_dict() == SITE_COUNTS
    assert (t2["denominator"] == N).all()
    # sites overlap: 34+33+24+11+10+7+7+2 = 128 > 88
    assert t2["n"].sum() == 128


def test_table2_percentages_match_counts_except_other():
    t2 = published.load_table("table2").set_index("term")
    computed = (100 * t2["n"] / N).round(1)
    printed = t2["percent_printed"].astype(float)
    mismatched = computed[computed != printed].index.tolist()
    # "Other (breast, thyroid gland) 2 (4.5%)": 2/88 = 2.3% (README, inconsistency 1)
    assert mismatched == ["site_other"]
    assert computed["site_other"] == 2.3


def test_table1_categories_sum_to_88_per_variable():
    t1 = published.load_table("table1")
    counts = t1[t1["statistic"] == "count"]
    top = counts[counts["subcategory"].isna() | (counts["subcategory"] == "All")]
    sums = top.groupby("variable")["value"].sum()
    for variable in [
        "histology",
        "figo_stage_2018",
        "tumor_size",
        "stromal_invasion_depth",
        "lvsi",
        "plnm",
        "chemo_cycles",
    ]:
        assert sums[variable] == N, variable
    # radiation prints only the "yes" row: 53 (60.2%)
    assert sums["radiation"] == 53


def test_table1_histology_subtypes_sum_to_their_type():
    t1 = published.load_table("table1")
    hist = t1[t1["variable"] == "histology"].set_index("level")["value"]
    assert (
        hist["small_cell"]
        == hist[["small_cell_pure", "small_cell_mixed_adc", "small_cell_mixed_sqc_asc"]].sum()
        == 71
    )
    assert hist["large_cell"] == hist[["large_cell_pure", "large_cell_mixed_small_cell"]].sum() == 8
    assert hist["nos"] == hist[["nos_pure", "nos_mixed_adc"]].sum() == 9
    # pure NECC: 48 + 6 + 6 = 60 (Table 4 gives 23 + 39 = 62, the text 88 - 23 = 65)
    assert hist[["small_cell_pure", "large_cell_pure", "nos_pure"]].sum() == 60


def test_table1_percentages_are_count_over_88():
    t1 = published.load_table("table1")
    counts = t1[t1["statistic"] == "count"]
    computed = (100 * counts["value"] / N).round(1)
    assert (computed == counts["percent_printed"].astype(float)).all()


def test_table1_age_and_figo():
    t1 = published.load_table("table1")
    age = t1[t1["variable"] == "age"].set_index("statistic")["value"]
    assert (age["mean"], age["min"], age["max"]) == (46, 24, 67)  # Table 1, Age row
    figo = t1[t1["variable"] == "figo_stage_2018"].set_index("level")["value"]
    assert figo.to_dict() == {"I": 42, "II": 9, "III": 27, "IVa": 2, "NA": 8}


def test_table3_rows_and_terms():
    t3 = published.load_table("table3")
    assert len(t3) == 25  # 23 univariate rows + 2 multivariable
    uni = published.table3("univariate")
    multi = published.table3("multivariable")
    assert len(uni) == 23 and len(multi) == 2
    assert set(uni["term"]) == SYNTHETIC_TERMS
    assert uni["term"].is_unique
    assert set(multi["term"]) == {"site_abdominal", "n_sites_gt1"}
    assert (t3["ci_low"] < t3["hr"]).all() and (t3["hr"] < t3["ci_high"]).all()


def test_table3_values_exactly_as_printed():
    multi = published.table3("multivariable").set_index("term")
    # Table 3, "Abdominal organs recurrence", multivariate: 0.031 2.543 1.089–5.937
    assert tuple(multi.loc["site_abdominal", ["p", "hr", "ci_low", "ci_high"]]) == (
        0.031,
        2.543,
        1.089,
        5.937,
    )
    # Table 3, "Number of recurrent sites (1 vs. > 1)", multivariate: 0.025 1.626 1.064–2.484
    assert tuple(multi.loc["n_sites_gt1", ["p", "hr", "ci_low", "ci_high"]]) == (
        0.025,
        1.626,
        1.064,
        2.484,
    )
    uni = published.table3("univariate").set_index("term")
    # Table 3, "Syn": 0.404 23.435 0.014–38,678.493 (separation artefact)
    syn = uni.loc["syn"]
    assert (syn["hr"], syn["ci_low"], syn["ci_high"]) == (23.435, 0.014, 38678.493)
    assert syn["ci_printed"] == "0.014–38,678.493"
    assert syn["hr_printed"] == "23.435"
    assert uni.loc["site_abdominal", "hr"] == 2.375
    assert uni.loc["chemo_cycles_ge4", "p_printed"] == "0.683"


def test_table3_model_argument_is_checked():
    with pytest.raises(ValueError, match="univariate"):
        published.table3("stepwise")


def test_table4_group_sizes_and_totals():
    t4 = published.load_table("table4")
    sizes = t4.groupby("group")["group_n"].unique()
    assert list(sizes["abdominal_pos"]) == [33] and list(sizes["abdominal_neg"]) == [55]
    assert (t4["implied_denominator"] + t4["implied_missing"] == t4["group_n"]).all()
    total = t4.groupby("term")["n"].sum()
    assert total["n_sites_gt1"] == 39  # 19 + 20
    assert total["site_lung"] == SITE_COUNTS["site_lung"]
    assert total["site_pelvic"] == SITE_COUNTS["site_pelvic"]
    assert total["ici"] == 22  # Methods: "The ICI therapy was employed in 22 patients"
    assert total["age_gt50"] == 26
    # Table 4 FIGO III+IV 10 + 19 = Table 1 III + IVa = 27 + 2
    assert total["figo_3_4"] == 29
    # Table 4 denominators 30 + 50 = 80 = 88 - 8 N/A of Table 1
    figo = t4[t4["term"] == "figo_3_4"]
    assert figo["implied_denominator"].sum() == 80


def test_table4_implied_denominators_reproduce_percentages():
    t4 = published.load_table("table4")
    pct = (100 * t4["n"] / t4["implied_denominator"]).round(1)
    printed = t4["percent_printed"].astype(float)
    ok = (pct - printed).abs() < 0.05
    assert (ok == t4["denominator_reproduces_percent"]).all()
    # the two printed percentages no denominator reproduces (README): 12 (31.5) and 27 (81.2)
    bad = t4.loc[~ok, ["term", "group", "n"]].values.tolist()
    assert bad == [
        ["tumor_size_gt4", "abdominal_neg", 12],
        ["chemo_cycles_ge4", "abdominal_pos", 27],
    ]


def test_table5_sixteen_patients():
    t5 = published.table5()
    assert len(t5) == 16
    assert set(t5["best_response"]) <= set(published.RESPONSES)
    assert set(t5["final_status"]) <= set(published.RESPONSES)
    # Results: PD 4/16, SD 4/16, PR 3/16, CR 5/16 (best response)
    assert t5["best_response"].value_counts().to_dict() == {"CR": 5, "PD": 4, "SD": 4, "PR": 3}
    # ORR 7/16 by final status (Results, Abstract 43.8%); 8/16 by best response
    assert t5["final_responder"].sum() == 7
    assert t5["best_responder"].sum() == 8
    # "three of them underwent surgery"; time to progression 3–14 months
    assert t5["surgery"].sum() == 3
    ttp = t5["time_to_progression_or_end_months"]
    assert (ttp.min(), ttp.max()) == (3, 14)
    # four biomarkers: PD-1 (1), PD-L1 (2), TMB (1)
    assert t5["biomarker"].notna().sum() == 4


def test_table5_sites_are_synthetic_columns():
    t5 = published.table5()
    sites = t5["initial_sites"].str.split(";").explode()
    assert set(sites) <= set(SITE_COUNTS)
    assert (sites == "site_abdominal").sum() == 5


def test_outcomes_text_numbers():
    out = published.outcomes()
    expected = {
        "median_follow_up": 11.1,
        "follow_up_min": 2.37,
        "follow_up_max": 65.5,
        "prs_5y_percent": 20.6,
        "prs_median_abdominal_pos": 12.2,
        "prs_median_abdominal_neg": 26.6,
        "prs_3y_percent_abdominal_pos": 10.4,
        "prs_3y_percent_abdominal_neg": 66.5,
        "ttr_median_lung_pos": 16.1,
        "ttr_median_lung_neg": 11.2,
        "ttr_lung_logrank_p": 0.008,
        "orr_ici_responders": 7,
        "orr_non_ici_responders": 9,
        "ici_best_response_cr": 5,
        "ici_best_response_pr": 3,
        "ici_best_response_sd": 4,
        "ici_best_response_pd": 4,
        "prs_median_pelvic_first": 18.0,
        "prs_median_pelvic_second": 15.5,
        "prs_pelvic_logrank_p": 0.044,
    }
    for key, value in expected.items():
        assert out[key]["value"] == value, key
        assert out[key]["source"] and out[key]["quote"]
    assert out["orr_ici_responders"]["denominator"] == 16
    assert out["orr_non_ici_responders"]["denominator"] == 41
    assert published.outcome("prs_5y_percent") == 20.6


def test_outcomes_match_tables():
    out = published.outcomes()
    t5 = published.table5()
    for resp in published.RESPONSES:
        assert (
            out[f"ici_best_response_{resp.lower()}"]["value"] == (t5["best_response"] == resp).sum()
        )
    # abdominal subsites 25+5+2+2+1+1 = 36 > 33 abdominal patients (several organs each)
    sub = [k for k in out if k.startswith("abdominal_")]
    assert sum(out[k]["value"] for k in sub) == 36
    assert isinstance(published.load_table("table1"), pd.DataFrame)


def test_orr_denominators_are_the_assessed_and_say_so_in_their_keys():
    # reference: the paper's Results text, "among the rest 53 patients who received no PD-1
    # inhibitors, 41 patients were assessed by imaging ... (9/41)"; Methods: 16 of 22 assessed
    out = published.outcomes()
    assert published.outcome("orr_ici_denominator") == 16
    assert published.outcome("orr_non_ici_denominator") == 41
    for arm in ("ici", "non_ici"):
        responders = out[f"orr_{arm}_responders"]
        denominator = out[responders["denominator_key"]]
        assert responders["denominator_key"] == f"orr_{arm}_denominator"
        assert denominator["value"] == responders["denominator"]
        assert denominator["role"].startswith("denominator")
    for key in ("non_ici_patients", "ici_patients"):  # group sizes, labelled as such
        assert out[key]["role"].startswith("patient count"), key
    assert published.outcome("non_ici_patients") == 53
    denominators = {v["value"] for k, v in out.items() if k.endswith("_denominator")}
    assert 53 not in denominators


def test_orr_counts_from_table5_agree_with_the_text():
    # reference: Table 5 (final status CR/PR 7 of 16; best response CR 5 + PR 3) and the text
    assert published.table5_counts("final") == (
        published.outcome("orr_ici_responders"),
        published.outcome("orr_ici_denominator"),
    ) == (7, 16)
    best = published.outcome("ici_best_response_cr") + published.outcome("ici_best_response_pr")
    assert published.table5_counts("best") == (best, 16) == (8, 16)
    assert published.non_ici_counts() == (9, 41)


def test_renamed_outcome_key_names_its_new_key():
    with pytest.raises(KeyError, match="orr_ici_denominator"):
        published.outcome("ici_assessed")
    with pytest.raises(SpecError, match="definition"):
        published.table5_counts("initial")


def test_table3_as_printed_keeps_the_text_of_the_numbers():
    # reference: data/published/table3.csv read as text
    import csv

    path = bundled_path("data/published/table3.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    text = published.table3(as_printed=True)
    for col in published.TABLE3_NUMBERS:
        assert list(text[col]) == [r[col] for r in raw], col
    assert published.table3().loc[3, "p"] == 0.77 and text.loc[3, "p"] == "0.770"
