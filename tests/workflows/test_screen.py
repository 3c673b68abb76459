"""Univariate screen: per-covariate missing-value handling, shared cuts, one compilation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.studies.necc.published import table3_terms
from necc_bayes.survival.inputs import check_inputs
from necc_bayes.survival.refit import process_cache, structure_key
from necc_bayes.workflows.executor import RunStats
from necc_bayes.workflows.screen import (
    SCREEN_COLUMNS,
    SCREEN_PRIOR,
    screen_tasks,
    univariate_screen,
)

SPEC = "models/prs_final.toml"
DATA = "data/synthetic/necc_synthetic_cohort.csv"


def test_table3_covariates_are_columns_of_the_synthetic_cohort():
    terms = table3_terms()
    columns = set(pd.read_csv(DATA, nrows=1).columns)
    assert set(terms) <= columns
    assert len(terms) == 23  # Table 3: 25 rows, 2 of them repeat a term as multivariable


def test_prior_puts_95_percent_on_hr_1_19_to_19():
    assert np.exp(1.96 * SCREEN_PRIOR.sigma) == pytest.approx(18.9, abs=0.05)


def test_tasks_drop_missing_rows_per_covariate_and_share_cuts():
    tasks, skipped = screen_tasks(SPEC, DATA, ["tumor_size_gt4", "site_abdominal"])
    assert skipped == {}
    frame = pd.read_csv(DATA)
    missing = int(frame["tumor_size_gt4"].isna().sum())
    size, site = tasks
    assert (size.n_dropped, size.inputs.X.shape[0]) == (missing, 88 - missing)
    assert (site.n_dropped, site.inputs.X.shape[0]) == (0, 88)
    # cut points from the whole cohort, the same for every covariate
    full = check_inputs(SPEC, DATA).cuts
    for t in tasks:
        np.testing.assert_array_equal(t.inputs.pp.cuts, full)
        assert t.priors.coefficients == {t.term: SCREEN_PRIOR}
        assert abs(t.inputs.X.mean()) < 1e-12  # centred on the patients used
    # same structure: one compiled model serves every covariate
    assert structure_key(size.inputs, size.priors) == structure_key(site.inputs, site.priors)
    # the exposed cell is counted on the recorded 0/1 values
    assert int(site.raw.sum()) == int(frame["site_abdominal"].sum())  # type: ignore[union-attr]


def test_missing_model_fits_every_patient_for_covariates_with_missing_values():
    """missing = "model": an incomplete covariate's task is the one-covariate fit with its
    missing values modelled (what fit() builds for that spec, on the whole cohort's cuts);
    complete covariates are unchanged."""
    from necc_bayes.spec.io import load_spec
    from necc_bayes.survival.fit import prepare

    covs = ["tumor_size_gt4", "site_abdominal"]
    tasks, skipped = screen_tasks(SPEC, DATA, covs, missing="model")
    assert skipped == {}
    size, site = tasks
    frame = pd.read_csv(DATA)
    missing = int(frame["tumor_size_gt4"].isna().sum())
    assert (size.n_dropped, size.n_imputed, size.inputs.X.shape[0]) == (0, missing, 88)
    assert size.inputs.imputation is not None and site.inputs.imputation is None
    assert (site.n_dropped, site.n_imputed) == (0, 0)
    full = check_inputs(SPEC, DATA).cuts
    np.testing.assert_array_equal(size.inputs.pp.cuts, full)
    assert size.priors.coefficients == {"tumor_size_gt4": SCREEN_PRIOR}
    # the same baseline prior fit() resolves for that one-covariate spec (sampled: marginalize
    # is off with missing = "model")
    base = load_spec(SPEC)
    spec = base.model_copy(
        update={
            "data": base.data.model_copy(update={"missing": "model"}),
            "covariates": base.covariates.model_copy(update={"terms": ["tumor_size_gt4"]}),
            "intervals": base.intervals.model_copy(
                update={"rule": "fixed", "cuts": [float(c) for c in full], "n": None}
            ),
        }
    )
    assert size.priors.baseline == prepare(spec, DATA).spec.priors.baseline
    assert not size.priors.baseline.marginalize
    # the fit's own design: same rows, same (centred) values where observed
    np.testing.assert_array_equal(np.isnan(size.inputs.X[:, 0]), frame["tumor_size_gt4"].isna())
    # the rows of the exposed cell are counted on the recorded values
    recorded = frame["tumor_size_gt4"].dropna()
    assert int(np.nansum(size.raw)) == int(recorded.sum())  # type: ignore[arg-type]


def test_unfittable_covariate_is_reported_not_fitted(tmp_path):
    frame = pd.read_csv(DATA)
    frame["always_one"] = 1
    path = tmp_path / "cohort.csv"
    frame.to_csv(path, index=False)
    table = univariate_screen(SPEC, path, ["always_one"])
    assert list(table.columns) == SCREEN_COLUMNS
    assert table.loc[0, "term"] == "always_one"
    assert "single value" in table.loc[0, "note"]
    assert pd.isna(table.loc[0, "hr_median"])


@pytest.mark.slow
def test_screen_of_four_covariates_compiles_once():
    process_cache().clear()
    stats = RunStats(scheduler="")
    from necc_bayes.spec.settings import SamplerSettings

    covs = ["site_abdominal", "tumor_size_gt4", "syn", "site_lung"]
    table = univariate_screen(
        SPEC, DATA, covs, sampler=SamplerSettings(draws=500, tune=500, chains=2), stats=stats
    )
    assert stats.compilations == 1 and stats.n_tasks == 4
    assert list(table["term"]) == covs
    t = table.set_index("term")
    assert t.loc["tumor_size_gt4", "n_used"] == 88 - t.loc["tumor_size_gt4", "n_dropped"] > 0
    assert t.loc["site_abdominal", "n_dropped"] == 0
    # the synthetic cohort's abdominal effect is clear even alone (true log-HR in truth.json)
    assert t.loc["site_abdominal", "hr_low"] > 1.0
    # Syn: almost everyone positive, so the posterior is wide rather than absurd
    assert t.loc["syn", "hr_high"] / t.loc["syn", "hr_low"] > 10
    assert t.loc["syn", "hr_high"] < 1000
    assert t["r_hat"].lt(1.05).all()


@pytest.mark.slow
def test_screen_on_a_dask_local_cluster_matches_serial():
    distributed = pytest.importorskip("distributed")
    from necc_bayes.spec.settings import SamplerSettings

    sampler = SamplerSettings(draws=300, tune=300, chains=2)
    covs = ["site_abdominal", "ici"]
    serial = univariate_screen(SPEC, DATA, covs, sampler=sampler)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        stats = RunStats(scheduler="")
        on_dask = univariate_screen(
            SPEC, DATA, covs, sampler=sampler, scheduler=client, stats=stats
        )
    assert stats.scheduler == "dask" and stats.n_tasks == 2 and stats.compilations <= 1
    # same seeds, same compiled model: the same numbers wherever the refits ran
    pd.testing.assert_frame_equal(on_dask, serial)


@pytest.mark.slow
def test_missing_model_screen_row_is_the_one_covariate_fit():
    """A screened covariate with N/A (syn: 4 missing) sampled by the compiled refit equals a
    fresh fit() of that one-covariate missing = "model" spec within Monte Carlo error (log-HR
    mean within 0.2 posterior SD, 2 x 500 draws each; independent samplers' runs). About 30 s."""
    from necc_bayes.spec.io import load_spec
    from necc_bayes.survival.fit import fit

    sampler = SamplerSettings(draws=500, tune=500, chains=2, seed=3)
    table = univariate_screen(SPEC, DATA, ["syn"], sampler=sampler, missing="model")
    row = table.iloc[0]
    assert (row["n_used"], row["n_dropped"], row["n_imputed"]) == (88, 0, 4)
    base = load_spec(SPEC)
    cuts = [float(c) for c in check_inputs(SPEC, DATA).cuts]
    spec = base.model_copy(
        update={
            "data": base.data.model_copy(update={"missing": "model"}),
            "covariates": base.covariates.model_copy(update={"terms": ["syn"]}),
            "intervals": base.intervals.model_copy(update={"rule": "fixed", "cuts": cuts}),
            "priors": base.priors.model_copy(update={"log_hr": SCREEN_PRIOR}),
            "sampler": sampler,
        }
    )
    ref = fit(spec, DATA, progressbar=False, warn=False).hazard_ratios().iloc[0]
    assert abs(row["log_hr_mean"] - ref["log_hr_mean"]) < 0.2 * ref["log_hr_sd"], (row, ref)
    assert row["log_hr_sd"] == pytest.approx(ref["log_hr_sd"], rel=0.15)
