"""The formula / DataFrame path against the TOML / CSV path and rstanarm (slow: samples).

Validation of issue 16 on public cohorts with string categoricals and times in days:

* ``veteran`` (R survival 3.5; ``celltype`` a string, squamous the reference as in R) and the
  ``colon`` death records (``rx`` a string, Obs the reference): ``nb.fit(formula, data=df,
  spec=...)`` gives the same draws, bit for bit, as ``fit(toml_spec, csv)`` with the same seed
  (the same design, priors and compiled model); and its posterior means lie within 0.15
  posterior SD of the rstanarm Poisson PEM on ``survSplit`` rows
  (``tests/reference/veteran_rstanarm_pem.json`` and ``colon_rstanarm_pem.json``: R 4.2.2,
  rstanarm 2.21.3; calls, cuts, codings and seeds recorded there), posterior SDs within 15%.
  Same cuts and coefficient priors (Normal(0, 1), the default); R's log baseline rates are
  Normal(log crude rate, 10), ours a vague Gamma(0.001, 0.001 / crude rate) per interval
  (flat on the log scale where the likelihood is), so centring the covariates (our default,
  R's are uncentred) only reparametrises the baseline.
* ``pbc``: ``Surv(time, status == 2)`` gives the draws of the same model on a 0/1 recoding.

Wall time on 2 shared cores: about 1-3 min for the module (4 x 500 draws per fit; the second
fit of each pair loads the compiled model from the compile cache).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import necc_bayes as nb
from necc_bayes.errors import SparseDataWarning
from necc_bayes.spec.io import parse_spec

TESTS = Path(__file__).resolve().parents[1]
DATASETS = TESTS / "datasets"
SAMPLER = {"draws": 500, "tune": 500, "chains": 4, "seed": 20261216}

pytestmark = pytest.mark.slow


def _reference(name: str) -> dict:
    return json.loads((TESTS / "reference" / f"{name}.json").read_text())


def _sections(ref: dict) -> dict:
    rate = float(np.exp(ref["priors"]["log_crude_rate"]))
    return {
        "data": {"time_unit": "days"},
        "intervals": {"rule": "fixed", "cuts": [float(c) for c in ref["cuts"]]},
        "priors": {"log_hr": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
                   "baseline": {"dist": "gamma", "alpha": 0.001, "beta": 0.001 / rate}},
        "sampler": SAMPLER,
    }


def _fit(model, data, spec=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseDataWarning)
        return nb.fit(model, data=data, spec=spec, progressbar=False, warn=False)


def _log_hr(result) -> np.ndarray:
    return result.idata["posterior"]["log_hr"].transpose("chain", "draw", "term").to_numpy()


def _agreement(result, ref: dict, names: dict[str, str]) -> pd.DataFrame:
    r = pd.DataFrame(ref["results"]["informative_normal_0_1"]["coefficients"]).set_index("term")
    draws = result.idata["posterior"]["log_hr"].stack(s=("chain", "draw"))
    rows = []
    for ours, theirs in names.items():
        d = draws.sel(term=ours).to_numpy()
        rows.append({"term": ours, "mean": d.mean(), "sd": d.std(), "r_mean": r.loc[theirs, "mean"],
                     "r_sd": r.loc[theirs, "sd"]})
    out = pd.DataFrame(rows).set_index("term")
    out["diff_sd"] = (out["mean"] - out["r_mean"]) / out["sd"]
    out["sd_ratio"] = out["sd"] / out["r_sd"]
    return out


CASES = {
    "veteran": (
        "veteran_rstanarm_pem",
        DATASETS / "veteran.csv",
        'Surv(time, status) ~ C(celltype, contr.treatment("squamous")) + karno10 + trt',
        {"time": "time", "event": "status"},
        {"terms": ["celltype", "karno10", "trt"],
         "categorical": {"celltype": {"reference": "squamous"}}},
        {"celltype[smallcell]": "celltypesmallcell", "celltype[adeno]": "celltypeadeno",
         "celltype[large]": "celltypelarge", "karno10": "karno10", "trt": "trt"},
    ),
    "colon": (
        "colon_rstanarm_pem",
        DATASETS / "colon_deaths.csv",
        "Surv(time, status) ~ C(rx, contr.treatment('Obs')) + sex + age + obstruct + nodes",
        {"time": "time", "event": "status"},
        {"terms": ["rx", "sex", "age", "obstruct", "nodes"],
         "categorical": {"rx": {"reference": "Obs"}}},
        {"rx[Lev]": "rxLev", "rx[Lev+5FU]": "rxLev+5FU", "sex": "sex", "age": "age",
         "obstruct": "obstruct", "nodes": "nodes"},
    ),
}


@pytest.mark.parametrize("cohort", sorted(CASES))
def test_formula_dataframe_fit_equals_toml_csv_and_rstanarm(cohort):
    ref_name, csv, formula, data, covariates, names = CASES[cohort]
    ref = _reference(ref_name)
    sections = _sections(ref)
    df = pd.read_csv(csv)
    before = df.copy(deep=True)
    by_formula = _fit(formula, df, sections)
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is not modified
    toml = parse_spec({"name": cohort, **sections, "covariates": covariates,
                       "data": {**data, **sections["data"]}})
    by_toml = _fit(toml, csv)
    assert by_formula.checked.cohort.design.terms == by_toml.checked.cohort.design.terms
    np.testing.assert_array_equal(_log_hr(by_formula), _log_hr(by_toml))  # draw for draw
    assert by_formula.diagnostics().passed, by_formula.diagnostics().failures
    table = _agreement(by_formula, ref, names)
    print(f"\n{cohort}: ours (formula, DataFrame) vs rstanarm\n{table.round(4)}")
    assert (table["diff_sd"].abs() < 0.15).all(), table
    assert ((table["sd_ratio"] - 1).abs() < 0.15).all(), table


def test_event_expression_gives_the_draws_of_a_recoded_column():
    pbc = pd.read_csv(DATASETS / "pbc.csv")
    small = {"sampler": {"draws": 200, "tune": 200, "chains": 2, "seed": 5},
             "intervals": {"rule": "quantile", "n": 4}}
    expr = _fit("Surv(time, status == 2) ~ age + bili", pbc, small)
    recoded = pbc.assign(death=(pbc["status"] == 2).astype(int))
    col = _fit("Surv(time, death) ~ age + bili", recoded, small)
    np.testing.assert_array_equal(_log_hr(expr), _log_hr(col))
    assert expr.checked.cohort.n_events == col.checked.cohort.n_events == 161
