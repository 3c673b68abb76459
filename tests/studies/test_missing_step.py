"""The reproduce step that fits the multivariable model on every patient (fast: no sampling)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from necc_bayes.data.bundled import bundled_path
from necc_bayes.spec.io import load_spec, to_toml
from necc_bayes.studies.necc import published
from necc_bayes.studies.necc.context import Context
from necc_bayes.studies.necc.missing_step import (
    BASE_MODEL,
    MODEL,
    imputed_spec,
    missing_comparison,
    missing_section,
)

TERMS = ["invasion_deep", "site_abdominal", "n_sites_gt1"]


def _hr(shift: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "term": TERMS,
            "hr_median": [1.0 + shift, 2.0 + shift, 1.5 + shift],
            "hr_low": [0.5, 1.0, 0.8],
            "hr_high": [3.0, 5.0, 3.0],
            "p_hr_gt_1": [0.5, 0.99, 0.9],
        }
    )


def _table() -> pd.DataFrame:
    summary = pd.DataFrame(
        {"term": ["invasion_deep"], "n_imputed": [9], "observed_mean": [0.72],
         "imputed_mean": [0.70]}
    )
    return missing_comparison(_hr(0.1), _hr(0.0), summary, 88, 69)


def test_comparison_puts_paper_modelled_and_complete_case_side_by_side():
    table = _table().set_index("term")
    assert list(table.index) == TERMS
    assert table["n_imputed"].to_dict() == {"invasion_deep": 9, "site_abdominal": 0,
                                            "n_sites_gt1": 0}
    assert table.loc["site_abdominal", "hr_median_all"] == 2.1
    assert table.loc["site_abdominal", "hr_median_complete_case"] == 2.0
    paper = published.table3("multivariable", as_printed=True).set_index("term")
    assert table.loc["n_sites_gt1", "paper_hr"] == paper.loc["n_sites_gt1", "hr"]
    assert pd.isna(table.loc["invasion_deep", "paper_hr"])  # not in the paper's final model
    assert (table["n_all"] == 88).all() and (table["n_complete_case"] == 69).all()
    assert table["posterior_source"].str.contains("SYNTHETIC").all()


def test_section_is_labelled_synthetic_and_says_what_was_imputed(tmp_path: Path):
    ctx = Context(out=tmp_path, cohort_path=tmp_path / "x.csv")
    assert missing_section(ctx) is None
    ctx.tables["multivariable_missing"] = _table()
    section = missing_section(ctx)
    assert section is not None
    assert "SYNTHETIC" in section.title and "88" in section.title
    assert "invasion_deep 9" in str(section.body) and "69 complete" in str(section.body)


def test_imputed_spec_changes_only_name_and_missing_and_states_the_convention():
    base = load_spec(bundled_path(f"models/{BASE_MODEL}.toml"))
    spec = imputed_spec(base)
    assert spec.name == MODEL and spec.data.missing == "model"
    assert spec.covariates == base.covariates and spec.priors == base.priors
    text = to_toml(spec)
    assert '# - missing = "model": every incomplete covariate' in text
    assert '# - missing = "drop": rows with a missing value' in to_toml(base)
