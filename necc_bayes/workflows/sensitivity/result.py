"""The result of a sensitivity analysis and the files of ``necc-bayes sensitivity``.

:meth:`SensitivityReport.save` is the one writer of that output contract (the command calls
it); it writes, all at once (a temporary sibling directory renamed at the end):

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from necc_bayes.data.outputs import write_atomically
from necc_bayes.report.sweep_figures import plot_sensitivity, save, to_svg
from necc_bayes.workflows.executor import RunStats

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SENSITIVITY_FILES = (
    "sensitivity.csv",
    "sensitivity_flags.csv",
    "psense.csv",
    "pareto_k.csv",
    "case_deletion.csv",
    "sensitivity_partition_prior.csv",
    "sensitivity.png",
    "sensitivity.svg",
    "sensitivity.json",
)
"""Every file :meth:`SensitivityReport.save` writes."""


@dataclass
class SensitivityReport:
    """Everything the sensitivity analysis of one fit produced.

    Attributes
    ----------
    table : DataFrame
        ``sensitivity.csv``: one row per sweep, setting and term.
    flags : DataFrame
        Per sweep and term, whether the conclusion changes (``flag_conclusions``).
    psense : DataFrame
        Power-scaling sensitivity of the fit (``power_scaling``).
    pareto_k : DataFrame
        PSIS-LOO Pareto k per subject of the fit.
    case_deletion : DataFrame
        The case-deletion rows with the changes against the full fit.
    partition_prior : DataFrame
        Beside each cut-point partition, the prior predictive of S(t) at the summary times
        and whether that partition's prior differs materially from the others
        (:func:`~necc_bayes.workflows.sensitivity.partition_prior.partition_priors`).
    seconds : float
        Wall time of the refits.
    stats : RunStats
        Scheduler, number of refits, compilations, workers.
    """

    table: pd.DataFrame
    flags: pd.DataFrame
    psense: pd.DataFrame
    pareto_k: pd.DataFrame
    case_deletion: pd.DataFrame
    seconds: float
    stats: RunStats
    partition_prior: pd.DataFrame = field(default_factory=pd.DataFrame)

    def figure(self, terms: list[str] | None = None) -> Figure:
        """HR medians and CrIs per setting (rows) and term (panels)."""
        return plot_sensitivity(self.table, terms=terms)

    def summary(self) -> dict[str, object]:
        """Wall time, refits, compilations, scheduler and the terms whose conclusion changes."""
        changed = self.flags[self.flags["conclusion_changes"]]
        return {
            "seconds": round(self.seconds, 2),
            "n_refits": self.stats.n_tasks,
            "n_compilations": self.stats.compilations,
            "scheduler": self.stats.scheduler,
            "workers": self.stats.workers,
            "conclusion_changes": [
                f"{r.sweep}: {r.term}" for r in changed.itertuples(index=False)
            ],
        }

    def write_files(self, directory: Path) -> None:
        """Write every file of :data:`SENSITIVITY_FILES` into an existing directory."""
        tables = {
            "sensitivity.csv": self.table,
            "sensitivity_flags.csv": self.flags,
            "psense.csv": self.psense,
            "pareto_k.csv": self.pareto_k,
            "case_deletion.csv": self.case_deletion,
            "sensitivity_partition_prior.csv": self.partition_prior,
        }
        for name, table in tables.items():
            table.to_csv(directory / name, index=False)
        fig = self.figure()
        save(fig, str(directory / "sensitivity.png"))
        (directory / "sensitivity.svg").write_text(to_svg(fig), encoding="utf-8")
        summary = json.dumps(self.summary(), indent=2)
        (directory / "sensitivity.json").write_text(summary, encoding="utf-8")

    def save(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write :data:`SENSITIVITY_FILES` into ``out`` (new or empty unless ``overwrite``).

        All at once, as :meth:`necc_bayes.survival.result.PEMResult.save` does; returns
        ``out``. ``necc-bayes sensitivity`` calls this method.
        """
        return write_atomically(out, self.write_files, overwrite=overwrite)
