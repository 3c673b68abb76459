"""The files of ``necc-bayes fit`` (DESIGN §5), written all at once by ``PEMResult.save``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from necc_bayes.data.outputs import write_atomically
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


def write_fit_files(result: PEMResult, directory: Path) -> None:
    """Write every file of :data:`FIT_FILES` into an existing directory."""
    result.to_netcdf(directory / "posterior.nc")
    header = (
        f"# Resolved specification written by necc-bayes for data {result.checked.cohort.source}\n"
        "# (every default made explicit; re-running with it gives the same model).\n"
    )
    (directory / "spec.toml").write_text(to_toml(result.spec, header=header), encoding="utf-8")
    result.hazard_ratios().to_csv(directory / "hazard_ratios.csv", index=False)
    if result.time_varying:
        by_interval = result.hazard_ratios_by_interval()
        by_interval.to_csv(directory / "hazard_ratios_by_interval.csv", index=False)
    result.survival().to_csv(directory / "survival.csv", index=False)
    result.survival_summary().to_csv(directory / "survival_summary.csv", index=False)
    if (frailty := result.frailty()) is not None:  # models with a shared frailty
        frailty.to_csv(directory / "frailty.csv", index=False)
    if (imputed := result.imputed_values()) is not None:  # data.missing = "model"
        imputed.to_csv(directory / "imputation.csv", index=False)
    ph = result.ph_check()
    ph.table.to_csv(directory / "ph_check.csv", index=False)
    diagnostics = {
        **result.diagnostics().to_dict(),
        "ppc": result.posterior_predictive_check().to_dict(),
        "ph_check": ph.to_dict(),
    }
    (directory / "diagnostics.json").write_text(json.dumps(diagnostics, indent=2), encoding="utf-8")
    (directory / "report.html").write_text(render_fit_report(result), encoding="utf-8")


def write_fit_outputs(result: PEMResult, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write the fit's files to ``out`` atomically (no partial directory on failure)."""
    return write_atomically(out, lambda d: write_fit_files(result, d), overwrite=overwrite)
