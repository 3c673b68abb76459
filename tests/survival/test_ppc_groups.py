"""Posterior predictive check by group: level labels, per-level bands, and what they detect.

No sampling: the "posteriors" are concentrated at known parameters. Reference for the observed
curves: ``scipy.stats.ecdf`` (``data.reference.km_on_grid``) on each level's rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from necc_bayes.data.design import build_design
from necc_bayes.data.reference import km_on_grid
from necc_bayes.spec.io import parse_spec
from necc_bayes.survival.intervals import expand, resolve_cuts
from necc_bayes.survival.likelihood import draw_baseline, sufficient_stats
from necc_bayes.survival.ppc import GROUP_COLUMNS, group_bands, ppc_from_draws
from necc_bayes.survival.ppc_groups import covariate_groups


def test_levels_of_binary_categorical_and_ordinal_terms_continuous_left_out():
    frame = pd.DataFrame(
        {
            "t": [1.0, 2, 3, 4, 5, 6],
            "d": [1, 0, 1, 1, 0, 1],
            "trt": [0, 1, 0, 1, 1, 0],
            "cell": ["sq", "ad", "lg", "sq", "ad", "lg"],
            "sites": [1, 2, 3, 1, 2, 3],
            "age": [50.0, 61, 72, 45, 58, 66],
        }
    )
    spec = parse_spec(
        {
            "name": "g",
            "data": {"time": "t", "event": "d"},
            "covariates": {
                "terms": ["trt", "cell", "sites", "age"],
                "categorical": {"cell": {"reference": "sq"}},
                "ordinal": {"sites": {"levels": [1, 2, 3]}},
            },
        }
    )
    design = build_design(frame, spec)
    groups = covariate_groups(design, {"cell": "sq"})
    assert list(groups) == ["trt", "cell", "sites"]  # age is continuous: no groups
    assert groups["trt"].tolist() == ["0", "1", "0", "1", "1", "0"]
    assert groups["cell"].tolist() == frame["cell"].tolist()
    assert groups["sites"].tolist() == [
        "below sites>=2",
        "sites>=2",
        "sites>=3",
        "below sites>=2",
        "sites>=2",
        "sites>=3",
    ]


def test_group_bands_observed_curves_are_the_levels_km():
    rng = np.random.default_rng(0)
    n, R = 30, 40
    time = rng.uniform(1, 10, n)
    event = (rng.uniform(size=n) < 0.7).astype(int)
    labels = np.where(rng.uniform(size=n) < 0.5, "a", "b")
    rep_t = rng.uniform(1, 10, (R, n))
    rep_e = rng.uniform(size=(R, n)) < 0.7
    grid = np.linspace(0.5, 10, 20)
    table = group_bands({"g": labels}, rep_t, rep_e, time, event, grid, 0.9)
    assert list(table.columns) == GROUP_COLUMNS
    for level in ("a", "b"):
        rows = table[table.level == level]
        sel = labels == level
        np.testing.assert_allclose(rows["observed"], km_on_grid(time[sel], event[sel], grid))
        assert (rows["low"] <= rows["high"]).all()
        assert rows["n"].iloc[0] == sel.sum()


def _crossing_cohort(rng, n, crossing):
    trt = (rng.uniform(size=n) < 0.5).astype(float)
    log_hr_early, log_hr_late = (1.2, -1.2) if crossing else (0.0, 0.0)
    e = rng.exponential(size=n)
    h1, h2 = 0.15 * np.exp(log_hr_early * trt), 0.15 * np.exp(log_hr_late * trt)
    T = np.where(e < h1 * 4.0, e / h1, 4.0 + (e - h1 * 4.0) / h2)
    C = rng.uniform(4, 25, n)
    return trt, np.minimum(T, C), (T <= C).astype(int)


def _group_coverage(crossing: bool) -> float:
    rng = np.random.default_rng(11)
    trt, t, ev = _crossing_cohort(rng, 400, crossing)
    X = (trt - trt.mean())[:, None]
    pp = expand(t, ev, resolve_cuts("quantile", t, ev, n=5))
    beta = rng.normal(0.0, 0.05, size=(300, 1))  # the PH fit of a crossing effect: HR near 1
    lam = draw_baseline(beta, 0.01, 0.01, sufficient_stats(X, pp), rng)
    res = ppc_from_draws(
        lam, beta, X, pp.bounds, t, ev, n_replicates=300, seed=2, groups={"trt": trt.astype(int)}
    )
    cov = res.group_coverage.set_index("level")["coverage"]
    assert set(cov.index) == {"0", "1"}
    assert set(res.to_dict()["group_km_band_coverage"]) == {"trt: 0", "trt: 1"}
    return float(cov.min())


def test_crossing_hazards_leave_the_group_band_proportional_ones_do_not():
    assert _group_coverage(crossing=True) < 0.6
    assert _group_coverage(crossing=False) > 0.9
