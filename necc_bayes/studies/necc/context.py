"""What the steps of ``necc-bayes reproduce`` share, and what its report is drawn from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from necc_bayes.survival.fit import PEMResult


@dataclass
class Context:
    """What the steps of the job share: settings, results so far, and the output folder."""

    out: Path
    cohort_path: Path
    draws: int | None = None
    chains: int | None = None
    fits: dict[str, PEMResult] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    orr_counts_note: str = ""

    @property
    def cohort(self) -> pd.DataFrame:
        """The synthetic cohort as numbers."""
        return pd.read_csv(self.cohort_path)
