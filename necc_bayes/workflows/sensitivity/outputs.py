"""Files of the sensitivity analysis.

``write_sensitivity`` writes, into a directory:

* ``sensitivity.csv`` — one row per sweep, setting and term (``sweep, setting, term,
  hr_median, hr_low, hr_high, p_hr_gt_1, log_hr_mean, log_hr_sd, r_hat, ess_bulk,
  n_divergent, diagnostics_passed, n_intervals, n_subjects``);
* ``sensitivity_flags.csv`` — per sweep and term, whether the conclusion changes;
* ``psense.csv`` — power-scaling sensitivity per parameter with ArviZ's diagnosis;
* ``pareto_k.csv`` and ``case_deletion.csv`` — influential patients and the HR changes
  without them;
* ``sensitivity_partition_prior.csv`` — beside each cut-point partition, the prior predictive
  of S(t) at the summary times and ``prior_differs`` (so a change across partitions can be
  told apart from a change of prior);
* ``sensitivity.png`` and ``sensitivity.svg`` — HR intervals per setting and term;
* ``sensitivity.json`` — wall time, number of refits and of compilations, scheduler.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from necc_bayes.workflows.sensitivity.sweeps import SensitivityReport

if TYPE_CHECKING:

    pass

def write_sensitivity(report: SensitivityReport, out: str | Path) -> list[Path]:
    """Write the report's tables and figure into ``out`` (created if needed).

    Returns
    -------
    list of Path
        The files written.
    """
    from necc_bayes.report.sweep_figures import save, to_svg

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "sensitivity.csv": report.table,
        "sensitivity_flags.csv": report.flags,
        "psense.csv": report.psense,
        "pareto_k.csv": report.pareto_k,
        "case_deletion.csv": report.case_deletion,
        "sensitivity_partition_prior.csv": report.partition_prior,
    }
    written = []
    for name, table in tables.items():
        table.to_csv(out / name, index=False)
        written.append(out / name)
    fig = report.figure()
    save(fig, str(out / "sensitivity.png"))
    (out / "sensitivity.svg").write_text(to_svg(fig))
    (out / "sensitivity.json").write_text(json.dumps(run_summary(report), indent=2))
    return [*written, out / "sensitivity.png", out / "sensitivity.svg", out / "sensitivity.json"]


def run_summary(report: SensitivityReport) -> dict[str, object]:
    """Wall time, refits, compilations, scheduler and the terms whose conclusion changes."""
    changed = report.flags[report.flags["conclusion_changes"]]
    return {
        "seconds": round(report.seconds, 2),
        "n_refits": report.stats.n_tasks,
        "n_compilations": report.stats.compilations,
        "scheduler": report.stats.scheduler,
        "workers": report.stats.workers,
        "conclusion_changes": [f"{r.sweep}: {r.term}" for r in changed.itertuples(index=False)],
    }
