"""Fragility detection and the paper-vs-posterior tables (no sampling).

References: cell counts come straight from the bundled synthetic cohort; the frequentist side
uses statsmodels PHReg (Breslow ties), checked against lifelines 0.30 CoxPHFitter (Efron ties,
so agreement is to 0.02 on the log-HR, the size of the tie correction with 46 deaths); the
paper's numbers come from data/published/table3.csv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necc_bayes.data.bundled import bundled_path
from necc_bayes.data.fragility import cell_counts, cox_univariate, fragility_table
from necc_bayes.studies.necc import published
from necc_bayes.studies.necc.comparison import (
    POSTERIOR_SOURCE,
    group_prs_comparison,
    table3_comparison,
)
from necc_bayes.studies.necc.reproduce import TABLE3_TERMS

COHORT = pd.read_csv(bundled_path("data/synthetic/necc_synthetic_cohort.csv"))


def test_synaptophysin_separation_is_detected():
    row = cell_counts(COHORT, "syn", time="prs_months", event="death")
    # the synthetic cohort reproduces the paper's artefact: the Syn-negative patients have no deaths
    assert row["events_0"] == 0 and row["n_0"] > 0
    assert "separation" in row["flags"]
    cox = cox_univariate(COHORT, "syn", time="prs_months", event="death")
    assert not cox["cox_converged"]
    assert cox["cox_high"] / max(cox["cox_low"], 1e-300) > 1e6


def test_well_populated_covariate_is_not_flagged_and_cox_matches_reference():
    lifelines = pytest.importorskip("lifelines")
    row = cell_counts(COHORT, "site_abdominal", time="prs_months", event="death")
    assert row["flags"] == []
    cox = cox_univariate(COHORT, "site_abdominal", time="prs_months", event="death")
    assert cox["cox_converged"]
    ref = lifelines.CoxPHFitter().fit(
        COHORT[["prs_months", "death", "site_abdominal"]], "prs_months", "death"
    )
    # Efron (lifelines) vs Breslow (statsmodels): equal up to the tie correction
    assert np.log(cox["cox_hr"]) == pytest.approx(ref.params_["site_abdominal"], abs=0.02)


def test_sparse_level_is_flagged():
    row = cell_counts(COHORT, "site_vaginal_vault", time="prs_months", event="death")
    assert row["n_1"] == 7  # Table 2: vaginal vault 7
    assert "sparse" in row["flags"]


def test_fragility_table_covers_every_table3_term():
    table = fragility_table(COHORT, TABLE3_TERMS, time="prs_months", event="death")
    assert list(table.term) == TABLE3_TERMS
    assert (table.n_used + table.n_missing == 88).all()


def _fake_posterior(terms):
    return pd.DataFrame(
        {"term": terms, "hr_median": 1.5, "hr_low": 0.8, "hr_high": 2.8, "p_hr_gt_1": 0.9}
    )


def test_table3_comparison_has_every_row_and_provenance():
    t3 = published.table3()
    comp = table3_comparison(
        _fake_posterior(TABLE3_TERMS), _fake_posterior(["site_abdominal", "n_sites_gt1"])
    )
    assert len(comp) == len(t3) == 25
    assert comp.posterior_hr_median.notna().all()
    assert (comp.posterior_source == POSTERIOR_SOURCE).all()
    assert "SYNTHETIC" in POSTERIOR_SOURCE
    syn = comp[comp.term == "syn"].iloc[0]
    assert (syn.paper_hr, syn.paper_low, syn.paper_high) == ("23.435", "0.014", "38678.493")
    multi = comp[comp.model == "multivariable"]
    assert set(multi.term) == {"site_abdominal", "n_sites_gt1"}
    assert multi.set_index("term").loc["site_abdominal", "paper_hr"] == "2.543"


def test_table3_comparison_paper_columns_are_the_printed_text():
    # reference: data/published/table3.csv as text (row 4 prints p = 0.770, row 11 CI 11.030)
    comp = table3_comparison(
        _fake_posterior(TABLE3_TERMS), _fake_posterior(["site_abdominal", "n_sites_gt1"])
    ).set_index("row")
    assert comp.loc[4, "paper_p"] == "0.770"
    assert comp.loc[11, "paper_high"] == "11.030"
    assert comp.loc[15, "paper_low"] == "1.230"
    numbers = published.table3().set_index("row")
    for col, num in (("paper_hr", "hr"), ("paper_low", "ci_low"), ("paper_high", "ci_high")):
        assert (comp[col].astype(float) == numbers[num]).all()


def test_group_comparison_puts_paper_numbers_beside_posterior():
    rows = []
    for prof in ("site_abdominal=1", "site_abdominal=0", "site_abdominal=1 - site_abdominal=0"):
        for q in ("median_survival", "surv_at_36", "surv_at_60", "rmst_60"):
            rows.append({"profile": prof, "quantity": q, "median": 0.5, "low": 0.1, "high": 0.9})
    comp = group_prs_comparison(pd.DataFrame(rows))
    med = comp[(comp.group == "site_abdominal=1") & comp.quantity.str.startswith("median")]
    assert med.paper_value.item() == 12.2
    three = comp[(comp.group == "site_abdominal=0") & comp.quantity.str.startswith("surv_at_36")]
    assert three.paper_value.item() == 66.5
    assert three.posterior_median.item() == 50.0  # S(t) reported in percent
