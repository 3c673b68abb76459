"""A deterministic SYNTHETIC cohort of 88 patients calibrated to the published study.

The study publishes aggregates only. :func:`generate_cohort` builds 88 synthetic patients
who reproduce every published count that can be reproduced exactly (Tables 1, 2 and 4, the
ICI and response numbers of the text, Table 5's 16 patients) and whose survival is drawn
from a piecewise-exponential model with known true parameters. None of these rows is a real
patient. Columns follow DESIGN.md §7; decisions are documented in ``data/README.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from necc_bayes._version import __version__
from necc_bayes.data.bundled import bundled_path
from necc_bayes.data.outputs import write_file_atomically
from necc_bayes.studies.necc.synthetic.calibration import calibration_table
from necc_bayes.studies.necc.synthetic.covariates import (
    SITES,
    build_covariates,
    build_sites,
    build_treatment,
)
from necc_bayes.studies.necc.synthetic.survival import (
    ACCEPT,
    ADMIN_END,
    FOLLOW_UP_MIN,
    PRS_CUTS,
    PRS_ENTRY_MONTHS,
    TRUE_HR,
    TTR_LATE,
    TTR_MEDIAN,
    TTR_P_RANGE,
    TTR_SIGMA,
    assign_syn,
    draw_survival,
    draw_ttr,
    true_baseline,
    true_censoring_mean,
)

DEFAULT_SEED = 2023
N_PATIENTS = 88

COLUMNS: tuple[str, ...] = (
    "patient_id",
    "age",
    "age_gt50",
    "histology",
    "histology_pure",
    "figo_stage",
    "figo_3_4",
    "tumor_size_gt4",
    "invasion_deep",
    "lvsi",
    "nerve_invasion",
    "plnm",
    "syn",
    "cga",
    "cd56",
    "radiation",
    "chemo_cycles_ge4",
    *SITES,
    "n_sites",
    "n_sites_gt1",
    "ici",
    "antiangiogenic",
    "response_assessed",
    "responder",
    "ttr_months",
    "prs_months",
    "death",
    # added columns (DESIGN §7 allows additions)
    "histology_mixed_component",
    "table5_patient",
    "recurrence",
    "prs_entry_months",
)


def generate_cohort(seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Generate the synthetic cohort and its true parameters.

    Parameters
    ----------
    seed : int
        Every random stream is derived from it (``numpy.random.default_rng([seed, k, ...])``):
        1 covariates, 2 PRS attempts, 3 Syn status, 4 TTR attempts, 5 row order.

    Returns
    -------
    cohort : pandas.DataFrame
        88 rows, columns :data:`COLUMNS`; 0/1 indicators are nullable ``Int64`` (missing =
        not available, at the published N/A rates).
    truth : dict
        True PRS model (cuts, baseline hazards, log-HRs), censoring model, TTR model,
        acceptance rule and the accepted draws' statistics.
    """
    rng = np.random.default_rng([seed, 1])
    df = build_treatment(rng, build_covariates(rng, build_sites(rng)))
    abdominal = df["site_abdominal"].to_numpy()
    multi = df["n_sites_gt1"].to_numpy()
    prs = draw_survival(seed, abdominal, multi)
    df["prs_months"] = prs.prs_months
    df["death"] = pd.array(prs.death, dtype="Int64")
    df["syn"] = assign_syn(seed, df["ihc_tested"].to_numpy() == 1, prs.death).array
    ttr, ttr_attempt, ttr_p = draw_ttr(seed, df["site_lung"].to_numpy())
    df["ttr_months"] = ttr
    df["recurrence"] = 1  # the TTR event: every patient in the study recurred
    df["prs_entry_months"] = PRS_ENTRY_MONTHS  # inclusion rule: followed >= 60 days
    order = np.random.default_rng([seed, 5]).permutation(len(df))
    df = df.iloc[order].reset_index(drop=True)
    df["patient_id"] = np.arange(1, len(df) + 1)
    for column in df.columns:
        if df[column].dtype.kind in "iu" and column != "patient_id":
            df[column] = df[column].astype("Int64")
    for column in _STRING_COLUMNS:
        df[column] = df[column].astype("string")
    cohort = df.loc[:, list(COLUMNS)]
    truth = _truth(seed, prs.attempt, prs.checks, ttr_attempt, ttr_p)
    return cohort, truth


def _truth(
    seed: int, attempt: int, checks: dict[str, float], ttr_attempt: int, ttr_p: float
) -> dict[str, Any]:
    baseline = true_baseline()
    edges = [0.0, *PRS_CUTS, None]
    return {
        "title": "True parameters of the SYNTHETIC NECC cohort (not real patients)",
        "seed": seed,
        "generator": "necc_bayes.studies.necc.synthetic.generate.generate_cohort"
        f" (necc-bayes {__version__})",
        "numpy_version": np.__version__,
        "n_patients": N_PATIENTS,
        "prs_model": {
            "type": "piecewise_exponential",
            "time": "prs_months",
            "event": "death",
            "time_unit": "months",
            "cuts": list(PRS_CUTS),
            "intervals": [[edges[k], edges[k + 1]] for k in range(len(baseline))],
            "baseline_hazard_per_month": list(baseline),
            "baseline_refers_to": "site_abdominal = 0 and n_sites_gt1 = 0 (uncentred)",
            "log_hr": {k: float(np.log(v)) for k, v in TRUE_HR.items()},
            "hr": dict(TRUE_HR),
            "other_covariates": "true log-HR 0 for every other column (no effect)",
            "zero_hazard_first_interval": "patients followed < 60 days (1.97 months) were "
            "excluded by the study, so no death before 1.97",
            "baseline_solved_for": "expected PRS median 12.2 (abdominal +) and 26.6 "
            "(abdominal -) months and 5-year PRS 20.6% at the "
            "published composition of abdominal x (> 1 site)",
        },
        "censoring_model": {
            "type": "min(administrative end, 1.97 + exponential loss to follow-up)",
            "administrative_end_months": ADMIN_END,
            "loss_start_months": PRS_CUTS[0],
            "loss_mean_months": true_censoring_mean(),
            "solved_for": "expected median observed PRS time 11.1 months",
        },
        "syn_selection": {
            "mechanism": "the 5 Syn-negative patients are drawn among censored patients "
            "(reproduces the separation of Table 3: HR 23.435, 0.014-38,678.493)",
            "log_hr": None,
            "note": "selection on the outcome, not a hazard effect; no finite true log-HR",
        },
        "ttr_model": {
            "type": "log-normal by site_lung, rescaled to exact Kaplan-Meier medians",
            "median_months": {f"site_lung={k}": v for k, v in TTR_MEDIAN.items()},
            "sigma_log": TTR_SIGMA,
            "late_recurrence_months": TTR_LATE,
            "acceptance": "exactly 4 patients > 36 months, exactly 1 > 60 months (set to "
            f"{TTR_LATE}), log-rank p in {list(TTR_P_RANGE)}",
            "accepted_attempt": ttr_attempt,
            "logrank_p": ttr_p,
        },
        "acceptance": {
            "procedure": "PRS attempt k uses default_rng([seed, 2, k]); the first attempt "
            "whose statistics are all within tolerance, whose longest time is "
            "the administrative end 65.5 and whose second-shortest time "
            "exceeds 2.37 is kept; its shortest time is then set to 2.37",
            "criteria": {
                k: {"published": t, "tolerance": tol, "scale": sc}
                for k, (t, tol, sc) in ACCEPT.items()
            },
            "follow_up_min_set_to": FOLLOW_UP_MIN,
            "accepted_attempt": attempt,
            "achieved": checks,
        },
    }


def write_cohort(
    out: str | Path,
    seed: int = DEFAULT_SEED,
    truth_path: str | Path | None = None,
    calibration_path: str | Path | None = None,
) -> dict[str, Path]:
    """Generate the cohort and write the CSV, the truth JSON and the calibration table.

    Parameters
    ----------
    out : str or Path
        CSV path of the cohort.
    seed : int
        Generator seed.
    truth_path, calibration_path : str or Path, optional
        Default ``<stem>_truth.json`` and ``<stem>_calibration.csv`` beside ``out``.

    Returns
    -------
    dict
        ``{"cohort": Path, "truth": Path, "calibration": Path}``.
    """
    out = Path(out)
    truth_file = Path(truth_path) if truth_path else out.with_name(f"{out.stem}_truth.json")
    calib_file = (
        Path(calibration_path) if calibration_path else out.with_name(f"{out.stem}_calibration.csv")
    )
    cohort, truth = generate_cohort(seed)
    calibration = calibration_table(cohort)
    # each file whole or not at all (computed first, then written through a renamed sibling)
    write_file_atomically(out, lambda tmp: cohort.to_csv(tmp, index=False, lineterminator="\n"))
    text = json.dumps(truth, indent=2) + "\n"
    write_file_atomically(truth_file, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    write_file_atomically(
        calib_file, lambda tmp: calibration.to_csv(tmp, index=False, lineterminator="\n")
    )
    return {"cohort": out, "truth": truth_file, "calibration": calib_file}


_STRING_COLUMNS = ("histology", "figo_stage", "histology_mixed_component")
_FLOAT_COLUMNS = ("ttr_months", "prs_months", "prs_entry_months")


def load_cohort(path: str | Path | None = None) -> pd.DataFrame:
    """Read a synthetic cohort CSV with its dtypes (nullable ``Int64`` indicators).

    Parameters
    ----------
    path : str or Path, optional
        Default: the bundled ``data/synthetic/necc_synthetic_cohort.csv``.

    Returns
    -------
    pandas.DataFrame
        Empty cells are missing values.
    """
    if path is None:
        path = bundled_path("data/synthetic/necc_synthetic_cohort.csv")
    dtypes: dict[str, str] = {c: "string" for c in _STRING_COLUMNS}
    dtypes.update({c: "float64" for c in _FLOAT_COLUMNS})
    df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    for column in df.columns:
        if column not in dtypes:
            df[column] = df[column].astype("Int64")
    return df
