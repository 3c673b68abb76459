"""The files of ``necc-bayes fit`` (DESIGN §5), written all at once by ``PEMResult.save``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from necc_bayes.data.outputs import write_atomically
from necc_bayes.spec.cohort import cohort_conventions
from necc_bayes.spec.io import to_toml
from necc_bayes.survival.page import render_fit_report

if TYPE_CHECKING:
    from necc_bayes.survival.result import PEMResult

FIT_FILES = (
    "posterior.nc",
    "spec.toml",
    "hazard_ratios.csv",
    "survival.csv",
    "survival_summary.csv",
    "ph_check.csv",
    "diagnostics.json",
    "report.html",
)
"""Every file a fit's output directory holds (DESIGN §5); plus ``hazard_ratios_by_interval.csv``
with time-varying terms, ``frailty.csv`` with a shared frailty and ``imputation.csv`` (the
posterior of every missing covariate value) with ``data.missing = "model"``."""


def write_fit_files(result: PEMResult, directory: Path, *, data_label: str | None = None) -> None:
    """Write every file of :data:`FIT_FILES` into an existing directory.

    Parameters
    ----------
    result : PEMResult
        The fit.
    directory : Path
        An existing directory.
    data_label : str, optional
        Provenance of the data (e.g. ``"SYNTHETIC cohort (not study data)"``): added to the
        CSV tables as a last column ``data_source`` and to the report's title and figures.
    """
    result.to_netcdf(directory / "posterior.nc")
    header = (
        f"# Resolved specification written by necc-bayes for data {result.checked.cohort.source}\n"
        "# (every default made explicit; re-running with it gives the same model).\n"
    )
    (directory / "spec.toml").write_text(to_toml(result.spec, header=header), encoding="utf-8")
    ph = result.ph_check()
    tables = [("hazard_ratios", result.hazard_ratios())]
    if result.time_varying:
        tables.append(("hazard_ratios_by_interval", result.hazard_ratios_by_interval()))
    tables += [("survival", result.survival()), ("survival_summary", result.survival_summary())]
    if (frailty := result.frailty()) is not None:  # models with a shared frailty
        tables.append(("frailty", frailty))
    if (imputed := result.imputed_values()) is not None:  # data.missing = "model"
        tables.append(("imputation", imputed))
    tables.append(("ph_check", ph.table))
    for name, table in tables:
        labelled = table.assign(data_source=data_label) if data_label else table
        labelled.to_csv(directory / f"{name}.csv", index=False)
    diagnostics = {
        **result.diagnostics().to_dict(),
        # the conventions that change the answer (delayed entry, pieces, strata, frailty)
        "cohort_features": cohort_conventions(result.spec),
        "ppc": result.posterior_predictive_check().to_dict(),
        "ph_check": ph.to_dict(),
    }
    (directory / "diagnostics.json").write_text(json.dumps(diagnostics, indent=2), encoding="utf-8")
    report = render_fit_report(result, data_label=data_label)
    (directory / "report.html").write_text(report, encoding="utf-8")


def write_fit_outputs(result: PEMResult, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write the fit's files to ``out`` atomically (no partial directory on failure)."""
    return write_atomically(out, lambda d: write_fit_files(result, d), overwrite=overwrite)
