"""The re-analysis' proportional-hazards step (fast: hand-made fits, the refit replaced).

A flagged term must send its model to a time-varying refit (the bundled spec with that term in
``covariates.time_varying``), whose files are written and which is compared with the PH fit
by LOO; an unflagged model is left alone.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from necc_bayes.studies.necc import ph_step
from necc_bayes.studies.necc.context import Context
from necc_bayes.studies.necc.ph_step import flagged_names, ph_section, step_ph
from tests.fake_fit import fake_result


def test_flagged_names_are_terms_and_covariates_not_global():
    table = pd.DataFrame(
        {
            "term": ["a[x]", "a[y]", "b", "a", "GLOBAL"],
            "scope": ["term", "term", "term", "covariate", "global"],
            "flagged": [True, False, False, True, True],
        }
    )
    assert flagged_names(table) == ["a[x]", "a"]


def test_flagged_model_is_refitted_with_time_varying_terms(tmp_path, monkeypatch):
    for sub in ("final", "multi", "tv"):
        (tmp_path / sub).mkdir()
    final = fake_result(tmp_path / "final")
    check = final.ph_check()
    flagged = dataclasses.replace(
        check, table=check.table.assign(flagged=check.table.term == "trt")
    )
    monkeypatch.setattr(final, "ph_check", lambda **_: flagged)
    multivariable = fake_result(tmp_path / "multi", seed=2)
    seen = {}

    def fake_fit(spec, data, **kwargs):
        seen["spec"] = spec
        return fake_result(tmp_path / "tv", seed=3)

    monkeypatch.setattr(ph_step, "fit", fake_fit)
    out = tmp_path / "out"
    ctx = Context(out=out, cohort_path=tmp_path / "final" / "cohort.csv")
    ctx.fits = {"prs_final": final, "prs_multivariable": multivariable}
    step_ph(ctx)

    assert seen["spec"].name == "prs_final_time_varying"
    assert seen["spec"].covariates.time_varying == ["trt"]
    assert (out / "fits" / "prs_final_time_varying" / "ph_check.csv").exists()
    assert set(ctx.tables["ph_check"]["model"]) == {"prs_final", "prs_multivariable"}
    loo = ctx.tables["ph_loo"]
    assert set(loo["fit"]) == {"prs_final", "prs_final_time_varying"}
    assert any("flagged trt" in n for n in ctx.notes)
    assert any(
        "prs_multivariable: proportional-hazards check flagged no term" in n for n in ctx.notes
    )
    section = ph_section(ctx)
    assert section is not None and "prs_final: trt" in str(section.body)
