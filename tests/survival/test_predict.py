"""Predictions for new patients, real-patient profiles, defaults from the time unit (no NUTS).

Posteriors are hand-made (``tests/fake_fit.py``: log-HR and rate draws, no sampling), so the
survival of a new patient has a closed form per draw,
``S(t | x) = exp(-exp((x - xbar) . beta) * sum_j lam_j |(0, t] ∩ interval_j|)``,
computed here with numpy independently of ``necc_bayes.survival.curves``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from necc_bayes.errors import DataError
from necc_bayes.spec.io import compose_spec
from necc_bayes.survival.inputs import check_inputs
from necc_bayes.survival.predict import simultaneous_band
from necc_bayes.survival.resolve import default_times
from tests.fake_fit import fake_posterior

VETERAN = Path(__file__).resolve().parents[1] / "datasets" / "veteran.csv"
CUTS = [30.0, 90.0, 180.0]
BETA = [0.9, 0.4, -0.3, -0.3, 0.1]  # celltype[large], [smallcell], [squamous], karno10, trt
LAM = [0.012, 0.008, 0.006, 0.004]


@pytest.fixture(scope="module")
def veteran_fit():
    spec = compose_spec(
        "Surv(time, status) ~ celltype + karno10 + trt",
        {"data": {"time_unit": "days"}, "intervals": {"rule": "fixed", "cuts": CUTS}},
    )
    checked = check_inputs(spec, pd.read_csv(VETERAN))
    return fake_posterior(checked, BETA, [0.1] * 5, LAM, seed=4)


def _closed_form(result, x: np.ndarray, times: np.ndarray) -> np.ndarray:
    post = result.idata["posterior"]
    beta = post["log_hr"].stack(s=("chain", "draw")).transpose("s", "term").to_numpy()
    lam = post["baseline_hazard"].stack(s=("chain", "draw")).transpose("s", "interval")
    edges = np.array([0.0, *CUTS, np.inf])
    overlap = np.clip(times[:, None], edges[:-1], edges[1:]) - edges[:-1]  # (T, J)
    H0 = lam.to_numpy() @ overlap.T  # (S, T)
    xbar = result.checked.cohort.design.means
    return np.exp(-np.exp((x - xbar) @ beta.T)[:, None] * H0)


def test_predict_survival_of_new_patients_matches_the_closed_form(veteran_fit):
    new = pd.DataFrame({"celltype": ["squamous", "adeno"], "karno10": [8.0, 4.0],
                        "trt": [0, 1]})
    times = [30.0, 100.0, 365.0, 1200.0]
    table = veteran_fit.predict_survival(new, times=times)
    assert list(table.columns[:5]) == ["row", "time", "surv_median", "surv_low", "surv_high"]
    assert len(table) == 8 and table["row"].tolist() == [0] * 4 + [1] * 4
    X = np.array([[0, 0, 1, 8.0, 0], [0, 0, 0, 4.0, 1]])
    for k in range(2):
        draws = _closed_form(veteran_fit, X[k], np.array(times))
        got = table[table["row"] == k]
        np.testing.assert_allclose(got["surv_median"], np.median(draws, axis=0), rtol=1e-10)
        np.testing.assert_allclose(got["surv_low"], np.quantile(draws, 0.025, axis=0),
                                   rtol=1e-10)
    # 1200 days is past the last follow-up (999 days): flagged
    assert table["beyond_follow_up"].tolist() == [False, False, False, True] * 2


def test_unknown_level_and_missing_column_are_refused_by_rule(veteran_fit):
    with pytest.raises(DataError) as err:
        veteran_fit.predict_survival(
            pd.DataFrame({"celltype": ["squamous", "oat cell"], "karno10": [6, 6],
                          "trt": [0, 0]}), times=[30.0])
    problem = err.value.problems[0]
    assert (problem.rule, problem.column, problem.rows) == ("unknown_level", "celltype", (2,))
    with pytest.raises(DataError) as err:
        veteran_fit.predict_survival(pd.DataFrame({"celltype": ["adeno"], "trt": [0]}), [30.0])
    assert err.value.problems[0].column == "karno10"


def test_default_profiles_are_real_patients(veteran_fit):
    profiles = {p.name: p.values for p in veteran_fit.spec.summaries.profiles}
    dummies = ["celltype[large]", "celltype[smallcell]", "celltype[squamous]"]
    assert profiles["celltype=adeno"] == dict.fromkeys(dummies, 0.0)
    assert profiles["celltype=large"] == {**dict.fromkeys(dummies, 0.0), "celltype[large]": 1.0}
    assert "celltype[large]=0" not in profiles  # no "one dummy at 0, the others at means"
    assert profiles["trt=1"] == {**dict.fromkeys(dummies, 0.0), "trt": 1.0}  # adeno, trt 1
    assert set(profiles) >= {"covariate means", "trt=0", "trt=1", "celltype=squamous"}


def test_default_summary_times_follow_the_unit_and_the_follow_up():
    t = np.array([5.0, 200.0, 999.0])
    assert default_times(t, "days") == [183.0, 365.0, 730.0]
    assert default_times(np.array([1.0, 70.0]), "months") == [6.0, 12.0, 24.0, 36.0, 60.0]
    assert default_times(np.array([1.0, 2.5]), "years") == [0.5, 1.0, 2.0]
    assert default_times(np.array([1.0, 30.0]), "weeks") == [26.0]
    # without a unit: the quartiles of the follow-up times, 2 significant figures
    q = np.quantile(np.arange(1.0, 101.0), [0.25, 0.5, 0.75])
    assert default_times(np.arange(1.0, 101.0), None) == [
        float(f"{v:.2g}") for v in q]


def test_resolved_spec_states_times_and_horizon(veteran_fit):
    s = veteran_fit.spec.summaries
    assert s.times == [183.0, 365.0, 730.0] and s.rmst_horizon == 730.0


def test_simultaneous_band_holds_a_ci_prob_share_of_whole_curves():
    rng = np.random.default_rng(0)
    grid = np.linspace(0.0, 10.0, 41)
    rate = rng.gamma(50.0, 0.1 / 50.0, size=4000)
    draws = np.exp(-np.outer(rate, grid))
    low, high = simultaneous_band(draws, 0.95)
    inside = ((draws >= low - 1e-12) & (draws <= high + 1e-12)).all(axis=1).mean()
    assert 0.94 <= inside <= 0.96
    lo_pw, hi_pw = np.quantile(draws, [0.025, 0.975], axis=0)
    assert (low <= lo_pw + 1e-12).all() and (high >= hi_pw - 1e-12).all()  # wider


def test_plot_survival_by_level_draws_one_curve_per_level_with_unit(veteran_fit):
    fig = veteran_fit.plot_survival("celltype", times=np.linspace(0, 900, 10), km=False)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (days)"
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == [f"celltype={lev}" for lev in ["adeno", "large", "smallcell", "squamous"]]


def test_standardised_curve_is_the_mean_of_the_cohort_curves(veteran_fit):
    from necc_bayes.survival.predict import row_draws, standardised_draws

    grid = np.array([50.0, 200.0])
    frame = veteran_fit.checked.cohort.frame.assign(celltype="large")
    expected = np.mean(row_draws(veteran_fit, frame, grid), axis=0)
    np.testing.assert_allclose(standardised_draws(veteran_fit, "celltype", "large", grid),
                               expected, rtol=1e-12)


def test_result_presents_itself_compactly(veteran_fit):
    text = repr(veteran_fit)
    assert text.startswith("necc-bayes fit 'formula': Surv(time, status) ~ celltype")
    assert "137 subjects, 128 events" in text and "diagnostics passed" in text
    assert "celltype[squamous]" in text and "Normal(mu=0, sigma=1)" in text
    assert "e+" not in text and " 1 (1–1)" not in text
    html = veteran_fit._repr_html_()
    assert html.startswith("<div>") and "<table>" in html and "celltype[large]" in html
    assert len(text.splitlines()) < 30


def test_summary_flags_quantities_beyond_follow_up(veteran_fit):
    table = veteran_fit.survival_summary()
    rows = table[table["profile"] == "covariate means"].set_index("quantity")
    assert not rows.loc["surv_at_365", "beyond_follow_up"]
    far = veteran_fit.spec.model_copy(update={"summaries": veteran_fit.spec.summaries.model_copy(
        update={"times": [365.0, 1500.0], "rmst_horizon": 1500.0})})
    from necc_bayes.survival.result import PEMResult

    moved = PEMResult(idata=veteran_fit.idata, spec=far, checked=veteran_fit.checked)
    rows = moved.survival_summary().set_index(["profile", "quantity"]).loc["covariate means"]
    assert rows.loc["surv_at_1500", "beyond_follow_up"] and rows.loc["rmst_1500",
                                                                        "beyond_follow_up"]
    assert not rows.loc["surv_at_365", "beyond_follow_up"]


def test_report_page_has_fragility_and_real_patient_km_panels(veteran_fit):
    from necc_bayes.survival.page import fit_page

    page = fit_page(veteran_fit)
    assert page.fragility is not None and list(page.fragility["term"]) == \
        veteran_fit.checked.cohort.design.terms
    panel = next(p for p in page.survival_panels if p.title == "celltype")
    assert [o.profile for o in panel.overlays] == [
        "celltype=adeno", "celltype=large", "celltype=smallcell", "celltype=squamous"]
    counts = pd.read_csv(VETERAN)["celltype"].value_counts()
    assert panel.overlays[0].label == f"KM celltype=adeno (n={counts['adeno']})"


def test_plot_survival_per_new_row_shades_beyond_follow_up(veteran_fit):
    new = pd.DataFrame({"celltype": ["squamous", "adeno"], "karno10": [8.0, 4.0], "trt": [0, 1]})
    fig = veteran_fit.plot_survival(new_data=new, times=np.linspace(0, 1300, 14), km=False,
                                    band="simultaneous")
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["row 0", "row 1"]
    assert any("beyond follow-up" in t.get_text() for t in ax.texts)


def test_profiles_hold_other_categoricals_at_their_reference():
    df = pd.read_csv(VETERAN).assign(prior=lambda d: d["prior"].map({0: "no", 10: "yes"}))
    checked = check_inputs(compose_spec("Surv(time, status) ~ celltype + prior + trt"), df)
    from necc_bayes.survival.resolve import default_profiles

    profiles = {p.name: p.values for p in default_profiles(checked)}
    cell = ["celltype[large]", "celltype[smallcell]", "celltype[squamous]"]
    assert profiles["prior=yes"] == {**dict.fromkeys(cell, 0.0), "prior[yes]": 1.0}
    assert profiles["celltype=large"]["prior[yes]"] == 0.0  # prior at its reference, "no"
    assert profiles["trt=0"] == {**dict.fromkeys(cell, 0.0), "prior[yes]": 0.0, "trt": 0.0}
