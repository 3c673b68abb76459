"""Time-varying effects: spec key, per-interval summaries, curves (no sampling).

References: hand computations on hand-made posteriors (the per-interval log-HR is
``log_hr + log_hr_dev``; the time average is weighted by the events per interval) and the
closed-form piecewise-exponential survival ``exp(-sum_j lambda_j exp(x b_j) |I_j ∩ (0, t]|)``.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest

from necc_bayes.data.design import build_design
from necc_bayes.errors import SpecError
from necc_bayes.spec.io import parse_spec
from necc_bayes.spec.priors import HalfNormalSD
from necc_bayes.survival.curves import (
    condition_log_hr,
    condition_on,
    cumulative_hazard,
    median_survival,
    rmst,
)
from necc_bayes.survival.hazard_ratios import hazard_ratio_table
from necc_bayes.survival.time_varying import (
    BY_INTERVAL_COLUMNS,
    TIME_AVERAGED,
    design_time_varying,
    hazard_ratio_by_interval_table,
    log_hr_by_interval,
    resolve_time_varying_sd,
    time_averaged_log_hr,
)

SPEC = {
    "name": "tv",
    "data": {"time": "t", "event": "d"},
    "covariates": {
        "terms": ["cell", "karno", "trt"],
        "categorical": {"cell": {"reference": "sq"}},
        "time_varying": ["karno"],
    },
}


def test_time_varying_names_must_be_terms_with_a_hint():
    bad = {**SPEC, "covariates": {**SPEC["covariates"], "time_varying": ["karn"]}}
    with pytest.raises(SpecError) as err:
        parse_spec(bad)
    assert "covariates.time_varying 'karn' is not a model term (did you mean 'karno'?)" in str(
        err.value
    )


def test_auto_smoothing_scale_is_one_over_root_follow_up():
    assert parse_spec(SPEC).priors.time_varying_sd == "auto"
    resolved = resolve_time_varying_sd("auto", 400.0)
    assert resolved == HalfNormalSD(sigma=0.05)
    given = HalfNormalSD(sigma=0.2)
    assert resolve_time_varying_sd(given, 400.0) is given


def test_a_covariate_name_makes_all_its_columns_time_varying():
    frame = pd.DataFrame(
        {
            "t": [1.0, 2, 3, 4],
            "d": [1, 1, 0, 1],
            "cell": ["sq", "ad", "lg", "ad"],
            "karno": [6.0, 7, 8, 5],
            "trt": [0, 1, 1, 0],
        }
    )
    design = build_design(frame, parse_spec(SPEC))
    assert design_time_varying(["karno"], design) == ("karno",)
    assert design_time_varying(["cell", "trt"], design) == ("cell[ad]", "cell[lg]", "trt")
    assert design_time_varying(["cell[lg]"], design) == ("cell[lg]",)


def _idata(rng, chains=2, draws=300):
    terms = ["karno", "trt"]
    intervals = ["(0, 30]", "(30, 60]", "(60, inf)"]
    log_hr = np.stack(
        [rng.normal(-0.4, 0.05, (chains, draws)), rng.normal(0.1, 0.2, (chains, draws))], -1
    )
    dev = np.zeros((chains, draws, 1, 3))
    dev[..., 0, 1] = rng.normal(0.2, 0.05, (chains, draws))
    dev[..., 0, 2] = rng.normal(0.4, 0.05, (chains, draws))
    idata = az.from_dict(
        {
            "posterior": {
                "log_hr": log_hr,
                "log_hr_dev": dev,
                "baseline_hazard": rng.gamma(20, 0.01 / 20, (chains, draws, 3)),
            },
            "constant_data": {
                "interval_start": np.array([0.0, 30.0, 60.0]),
                "interval_end": np.array([30.0, 60.0, np.inf]),
                "events_per_interval": np.array([40, 20, 20]),
            },
        },
        dims={
            "log_hr": ["term"],
            "log_hr_dev": ["term_tv", "interval"],
            "baseline_hazard": ["interval"],
            "interval_start": ["interval"],
            "interval_end": ["interval"],
            "events_per_interval": ["interval"],
        },
        coords={"term": terms, "term_tv": ["karno"], "interval": intervals},
    )
    return idata, log_hr, dev


def test_per_interval_log_hr_and_time_average_by_hand():
    idata, log_hr, dev = _idata(np.random.default_rng(0))
    by_int = log_hr_by_interval(idata)
    assert by_int.dims == ("chain", "draw", "interval", "term")
    np.testing.assert_allclose(
        by_int.sel(term="karno").to_numpy(), log_hr[..., [0]] + dev[..., 0, :]
    )
    np.testing.assert_allclose(  # a constant term is repeated in every interval
        by_int.sel(term="trt").to_numpy(), np.repeat(log_hr[..., [1]], 3, axis=-1)
    )
    w = np.array([40, 20, 20]) / 80
    avg = time_averaged_log_hr(idata)
    np.testing.assert_allclose(
        avg.sel(term="karno").to_numpy(), log_hr[..., 0] + dev[..., 0, :] @ w
    )
    np.testing.assert_allclose(avg.sel(term="trt").to_numpy(), log_hr[..., 1])


def test_tables_say_which_terms_vary_and_summarise_each_interval():
    idata, log_hr, dev = _idata(np.random.default_rng(1))
    hr = hazard_ratio_table(idata).set_index("term")
    assert hr.loc["karno", "effect"] == TIME_AVERAGED
    assert hr.loc["trt", "effect"].startswith("constant")
    flat = (log_hr[..., 0] + dev[..., 0, :] @ np.array([0.5, 0.25, 0.25])).ravel()
    assert hr.loc["karno", "log_hr_mean"] == pytest.approx(flat.mean())
    assert hr.loc["karno", "hr_median"] == pytest.approx(np.median(np.exp(flat)))
    by_int = hazard_ratio_by_interval_table(idata, ci_prob=0.9)
    assert list(by_int.columns) == BY_INTERVAL_COLUMNS
    assert by_int["term"].tolist() == ["karno"] * 3
    draws = (log_hr[..., [0]] + dev[..., 0, :]).reshape(-1, 3)
    np.testing.assert_allclose(by_int["hr_median"], np.median(np.exp(draws), axis=0))
    np.testing.assert_allclose(by_int["hr_low"], np.quantile(np.exp(draws), 0.05, axis=0))
    np.testing.assert_allclose(by_int["p_hr_gt_1"], (draws > 0).mean(axis=0))
    assert by_int["interval_end"].iloc[-1] == np.inf


BOUNDS = np.array([0.0, 2.0, 5.0, np.inf])


def test_curves_with_per_interval_log_hr_by_hand():
    rng = np.random.default_rng(2)
    lam = rng.uniform(0.1, 0.3, (4, 3))
    b = rng.normal(size=(4, 3, 2))
    x = np.array([0.5, -1.0])
    t = np.array([1.0, 3.0, 7.0])
    h = lam * np.exp(b @ x)  # (4, 3)
    overlap = np.clip(t[:, None] - BOUNDS[:-1], 0, np.diff(BOUNDS))
    np.testing.assert_allclose(cumulative_hazard(t, lam, b, x, BOUNDS), h @ overlap.T)
    # constant per-interval log-HRs give the proportional-hazards results
    const = np.repeat(b[:, :1, :], 3, axis=1)
    for f in (median_survival,):
        np.testing.assert_allclose(f(lam, const, x, BOUNDS), f(lam, b[:, 0, :], x, BOUNDS))
    np.testing.assert_allclose(
        rmst(lam, const, x, BOUNDS, 6.0), rmst(lam, b[:, 0, :], x, BOUNDS, 6.0)
    )


def test_conditioning_splits_the_per_interval_log_hr_like_the_baseline():
    rng = np.random.default_rng(3)
    lam = rng.uniform(0.1, 0.3, (2, 3))
    b = rng.normal(size=(2, 3, 1))
    lam_c, bounds_c = condition_on(lam, BOUNDS, 3.0)  # splits (2, 5] at 3
    b_c = condition_log_hr(b, BOUNDS, 3.0)
    assert bounds_c.tolist() == [0.0, 2.0, 3.0, 5.0, np.inf]
    np.testing.assert_array_equal(b_c[:, [1, 2]], b[:, [1, 1]])
    x = np.array([1.0])
    H = cumulative_hazard(np.array([6.0]), lam_c, b_c, x, bounds_c)
    full = cumulative_hazard(np.array([6.0, 3.0]), lam, b, x, BOUNDS)
    np.testing.assert_allclose(H[:, 0], full[:, 0] - full[:, 1])
