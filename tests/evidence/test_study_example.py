"""Slow: the study example of issue 20 (reproduce's evidence step) on reduced draws.

Checks what the step writes and that its numbers are the cited ones: the priors' converted
numbers equal the published HRs as printed in data/literature/hazard_ratios.csv, the three
analyses are present for both terms, the informed posterior is pulled toward the published
HR, and the ORR table's MAP priors come from the bundled response-rate table. About 2 min of
CPU (3 fits of 2 x 300 draws and a 5-setting sweep with one compilation).
"""

from __future__ import annotations

import math
import warnings

import pandas as pd
import pytest

from necc_bayes.data.bundled import bundled_path
from necc_bayes.studies.necc.evidence import step_evidence
from necc_bayes.studies.necc.reproduce import COHORT, Context
from necc_bayes.survival.fit import fit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    c = Context(out=tmp_path_factory.mktemp("evidence"), cohort_path=bundled_path(COHORT),
                draws=300, chains=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c.fits["prs_final"] = fit(bundled_path("models/prs_final.toml"), c.cohort_path,
                                  overrides={"draws": 300, "chains": 2}, progressbar=False)
        step_evidence(c)
    return c


def test_outputs_are_written(ctx):
    for key in ("evidence_priors", "evidence_comparison", "evidence_robust_weight",
                "evidence_orr"):
        assert len(ctx.tables[key]) > 0, key
    assert (ctx.out / "figures" / "evidence_priors.png").stat().st_size > 10_000
    for model in ("prs_final_informed", "prs_final_robust"):
        assert (ctx.out / "fits" / model / "posterior.nc").exists()
        spec_text = (ctx.out / "fits" / model / "spec.toml").read_text()
        assert "published HR 1.51 (1.34–1.7)" in spec_text


def test_priors_are_the_cited_numbers(ctx):
    lit = pd.read_csv(bundled_path("data/literature/hazard_ratios.csv")).set_index("term")
    pri = ctx.tables["evidence_priors"]
    for term in ("n_sites_gt1", "site_abdominal"):
        row = lit.loc[term]
        printed = f"{row['hr']:g} ({row['low']:g}–{row['high']:g})"
        got = pri.loc[pri["term"] == term, "published HR (95% CI), as printed"]
        assert set(got) == {printed}
        mu = math.log(row["hr"])
        assert pri.loc[pri["term"] == term, "prior"].str.contains(f"{mu:.4g}").all()


def test_three_analyses_and_the_pull_of_the_informed_prior(ctx):
    comp = ctx.tables["evidence_comparison"]
    assert set(comp["analysis"]) == {"weakly informative", "informed", "robust"}
    assert len(comp) == 6
    lit = pd.read_csv(bundled_path("data/literature/hazard_ratios.csv")).set_index("term")
    for term in ("n_sites_gt1", "site_abdominal"):
        by = comp[comp["term"] == term].set_index("analysis")["hr_median"]
        published = lit.loc[term, "hr"]
        assert abs(math.log(by["informed"] / published)) <= abs(
            math.log(by["weakly informative"] / published)) + 1e-9
    sweep = ctx.tables["evidence_robust_weight"]
    assert sorted(set(sweep["setting"])) == sorted(
        f"published priors robust_weight={w:g}" for w in (0, 0.1, 0.2, 0.5, 0.8))


def test_orr_map_rows(ctx):
    orr = ctx.tables["evidence_orr"]
    assert orr["ICI-arm prior"].tolist()[0] == "uniform"
    assert len(orr) == 5
    pd1 = orr[orr["ICI-arm prior"] == "MAP: PD-1 monotherapy only (4)"].iloc[0]
    assert pd1["studies"].count(",") == 3 and "patel2020" not in pd1["studies"]
    assert pd1["conflict tail p"] < 0.05  # 7/16 is far above the PD-1 monotherapy trials
