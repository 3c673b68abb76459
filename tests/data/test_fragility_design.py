"""Fragility checks of any fit's design (sparse cells, separation, events per parameter).

On R survival's ``ovarian`` (26 patients, 12 deaths): a constructed binary marker present in 4
patients who all survived is quasi-separated (``coxph`` warns that the coefficient may be
infinite: the partial likelihood rises monotonically as its log-HR goes to -inf); ``rx``
(13 vs 13 patients, 7 vs 5 deaths) is well supported and must not be flagged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from necc_bayes.data.fragility import design_fragility
from necc_bayes.data.load import load_cohort
from necc_bayes.spec.io import compose_spec, parse_spec

OVARIAN = Path(__file__).resolve().parents[1] / "datasets" / "ovarian.csv"


def _ovarian_with_marker() -> pd.DataFrame:
    ov = pd.read_csv(OVARIAN)
    marker = np.zeros(len(ov), dtype=int)
    marker[np.flatnonzero(ov["fustat"].to_numpy() == 0)[:4]] = 1
    return ov.assign(marker=marker)


def _fragility(df: pd.DataFrame, rhs: str):
    cohort = load_cohort(df, compose_spec(f"Surv(futime, fustat) ~ {rhs}"))
    d = cohort.design
    return design_fragility(cohort.time, cohort.event, d.X, d.terms, d.binary)


def test_quasi_separated_marker_is_flagged_with_its_counts():
    frag = _fragility(_ovarian_with_marker(), "marker")
    row = frag.table.set_index("term").loc["marker"]
    assert (row["n_1"], row["events_1"], row["n_0"], row["events_0"]) == (4, 0, 22, 12)
    assert "separation" in row["flags"].split(";")
    (message,) = frag.messages()
    assert "term 'marker'" in message and "4 of 26 rows" in message and "0 events" in message


def test_well_supported_term_is_silent():
    frag = _fragility(pd.read_csv(OVARIAN), "C(rx)")
    assert frag.flagged.empty and frag.joint_cox_converged
    assert frag.messages() == []  # 12 events for 1 log-HR: events per parameter 12 >= 10


def test_few_events_per_parameter_are_reported():
    frag = _fragility(pd.read_csv(OVARIAN), "age + C(rx) + C(resid_ds)".replace(
        "resid_ds", "`resid.ds`"))
    assert frag.events_per_parameter == 4.0
    assert any("4 events per parameter" in m for m in frag.messages())


def test_skewed_continuous_covariate_is_not_called_separated():
    # pbc bili (skewed, max 28 mg/dl): a one-term Cox fit must converge (statsmodels' Newton
    # step from 0 overflows on it; the BFGS retry in cox_breslow finds the maximum)
    pbc = pd.read_csv(OVARIAN.parent / "pbc.csv")
    cohort = load_cohort(pbc, compose_spec("Surv(time, status == 2) ~ bili"))
    d = cohort.design
    frag = design_fragility(cohort.time, cohort.event, d.X, d.terms, d.binary)
    assert frag.flagged.empty, frag.table


def test_prepared_model_states_the_fragility_before_sampling():
    from necc_bayes.survival.fit import prepare

    text = str(prepare("Surv(futime, fustat) ~ marker", _ovarian_with_marker()))
    assert "term 'marker' (4 of 26 rows have marker = 1 with 0 events" in text
    assert "quasi-separation" in text
    quiet = str(prepare("Surv(futime, fustat) ~ C(rx)", pd.read_csv(OVARIAN)))
    assert "fragility checks: no term flagged" in quiet


def test_missing_values_are_left_out_of_each_terms_check():
    # data.missing = "model" keeps incomplete covariates as NaN in the design: each term is
    # checked on the rows where it is observed (the 4-patient marker still quasi-separated,
    # its counts those of the observed rows), the joint fit on the complete rows; before this
    # every missing = "model" fit stopped here with "zero-size array" (exit 1)
    df = _ovarian_with_marker()
    marked = np.flatnonzero(df["marker"].to_numpy() == 1)
    unmarked_dead = np.flatnonzero((df["marker"].to_numpy() == 0) & (df["fustat"] == 1))
    df["marker"] = df["marker"].astype(float)
    df.loc[unmarked_dead[:2], "marker"] = np.nan
    spec = parse_spec({"name": "ovarian", "data": {"time": "futime", "event": "fustat",
                                                  "missing": "model"},
                       "covariates": {"terms": ["marker", "age"]}})
    cohort = load_cohort(df, spec)
    d = cohort.design
    assert np.isnan(d.X).sum() == 2
    frag = design_fragility(cohort.time, cohort.event, d.X, d.terms, d.binary)
    row = frag.table.set_index("term").loc["marker"]
    assert (row["n_1"], row["events_1"], row["n_0"], row["events_0"]) == (len(marked), 0, 20, 10)
    assert "separation" in row["flags"].split(";")
    assert frag.table.set_index("term").loc["age", "cox_converged"]
