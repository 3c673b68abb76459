"""The response-rate step of ``reproduce`` alone (fast: closed forms, no sampling).

The e2e tier checks every number of the full run against exact references; this catches the
same wrong denominator (issue 14: 9/53 instead of 9/41) without sampling. References: the
paper's Results text (7/16 final status, 9/41 of the 53 non-ICI patients assessed), Table 5
(8/16 by best response), and the finite-sum closed form of P(p_t > p_c).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from necc_bayes.data.bundled import bundled_path
from necc_bayes.studies.necc.context import Context
from necc_bayes.studies.necc.reproduce import COHORT, _write_tables, step_orr
from tests.e2e import exact_orr
from tests.e2e.html_outline import image_title


@pytest.fixture(scope="module")
def orr_ctx(tmp_path_factory) -> Context:
    ctx = Context(out=tmp_path_factory.mktemp("orr"), cohort_path=bundled_path(COHORT))
    step_orr(ctx)
    return ctx


def test_orr_json_uses_the_assessed_counts(orr_ctx):
    orr = json.loads((orr_ctx.out / "orr.json").read_text(encoding="utf-8"))
    assert (orr["treated"]["responders"], orr["treated"]["assessed"]) == (7, 16)
    assert (orr["control"]["responders"], orr["control"]["assessed"]) == (9, 41)
    assert orr["counts"]["control"] == "9/41" and "assessed" in orr["counts"]["definition"]
    ref = exact_orr.p_better_closed_form(8, 10, 10, 33)  # Beta(8, 10) vs Beta(10, 33)
    assert orr["p_treated_better"] == pytest.approx(ref, abs=1e-6)
    assert round(orr["p_treated_better"], 4) == 0.9485


def test_orr_tables_name_their_counts_and_the_oc_uses_41(orr_ctx):
    priors = orr_ctx.tables["orr_priors"]
    assert set(priors["treated"]) == {"7/16"} and set(priors["control"]) == {"9/41"}
    assert (orr_ctx.tables["orr_oc"]["n_control"] == 41).all()
    assert (orr_ctx.tables["orr_oc"]["n_treated"] == 16).all()
    defs = orr_ctx.tables["orr_definitions"].set_index(["definition", "prior"])
    assert defs.loc[("final", "uniform"), "treated"] == "7/16"
    assert defs.loc[("best", "uniform"), "treated"] == "8/16"
    best = exact_orr.p_better_closed_form(9, 9, 10, 33)  # 8/16 under Beta(1, 1): Beta(9, 9)
    assert defs.loc[("best", "uniform"), "p_treated_better"] == pytest.approx(best, abs=1e-6)


def test_orr_figure_title_names_the_arm_sizes(orr_ctx):
    png = orr_ctx.out / "figures" / "orr_operating_characteristics.png"
    title = image_title(png.read_bytes())
    assert "n_t=16 vs n_c=41" in title and "53" not in title


def test_tables_from_the_cohort_get_a_synthetic_data_source_column(tmp_path):
    ctx = Context(out=tmp_path, cohort_path=bundled_path(COHORT))
    ctx.tables["screen"] = pd.DataFrame({"term": ["a"], "hr_median": [1.0]})
    ctx.tables["kept"] = pd.DataFrame({"term": ["a"], "posterior_source": ["SYNTHETIC x"]})
    ctx.tables["orr_priors"] = pd.DataFrame({"prior": ["uniform"]})
    _write_tables(ctx)
    assert set(pd.read_csv(tmp_path / "screen.csv")["data_source"].str[:9]) == {"SYNTHETIC"}
    assert list(pd.read_csv(tmp_path / "kept.csv").columns) == ["term", "posterior_source"]
    assert list(pd.read_csv(tmp_path / "orr_priors.csv").columns) == ["prior"]
    assert "screen" in ctx.tables and "data_source" not in ctx.tables["screen"]  # not mutated
