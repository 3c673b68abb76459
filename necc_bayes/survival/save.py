"""The files of ``necc-bayes fit`` (DESIGN §5), written all at once."""

from __future__ import annotations

import json
from pathlib import Path

from necc_bayes.data.outputs import write_atomically
from necc_bayes.spec.io import to_toml
from necc_bayes.survival.fit import PEMResult


def write_fit_files(result: PEMResult, directory: Path) -> None:
    """Write every DESIGN §5 file of a fit into an existing directory."""
    from necc_bayes.report.fit_page import render_fit_report
    from necc_bayes.survival.ppc import posterior_predictive_check

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
    ppc = posterior_predictive_check(result)
    ph = result.ph_check()
    ph.table.to_csv(directory / "ph_check.csv", index=False)
    diagnostics = {
        **result.diagnostics().to_dict(),
        "ppc": ppc.to_dict(),
        "ph_check": ph.to_dict(),
    }
    (directory / "diagnostics.json").write_text(json.dumps(diagnostics, indent=2), encoding="utf-8")
    report = render_fit_report(result, ppc=ppc, ph=ph)
    (directory / "report.html").write_text(report, encoding="utf-8")


def write_fit_outputs(result: PEMResult, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write the fit's files to ``out`` atomically (no partial directory on failure)."""
    return write_atomically(out, lambda d: write_fit_files(result, d), overwrite=overwrite)
