"""The result of the posterior predictive check (:mod:`necc_bayes.survival.ppc` computes it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from necc_bayes.survival.ppc_groups import GROUP_COLUMNS
from necc_bayes.survival.replicates import CENSORING_RULE


@dataclass(frozen=True)
class PPCResult:
    """Posterior predictive check of survival against the observed Kaplan–Meier curve.

    Attributes
    ----------
    grid : ndarray
        Time grid (excluding 0).
    observed : ndarray
        Observed Kaplan–Meier curve on the grid.
    low, median, high : ndarray
        Pointwise quantiles of the replicate Kaplan–Meier curves.
    ci_prob : float
        Probability of the band.
    coverage : float
        Share of the grid where ``low <= observed <= high``.
    events : DataFrame
        Per interval: ``interval, observed, rep_mean, rep_low, rep_high, ppp``.
    n_replicates : int
        Number of simulated cohorts.
    censoring : str
        How replicate censoring times were drawn.
    """

    grid: np.ndarray
    observed: np.ndarray
    low: np.ndarray
    median: np.ndarray
    high: np.ndarray
    ci_prob: float
    coverage: float
    events: pd.DataFrame
    n_replicates: int
    censoring: str = CENSORING_RULE
    groups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=GROUP_COLUMNS))

    @property
    def group_coverage(self) -> pd.DataFrame:
        """Per covariate level: ``covariate, level, n, n_events, coverage``.

        ``coverage`` is the share of the grid where the level's observed KM is inside its
        replicate band.
        """
        g = self.groups
        if g.empty:
            return pd.DataFrame(columns=["covariate", "level", "n", "n_events", "coverage"])
        inside = (g["observed"] >= g["low"] - 1e-12) & (g["observed"] <= g["high"] + 1e-12)
        out = (
            g.assign(inside=inside)
            .groupby(["covariate", "level"], sort=False)
            .agg(n=("n", "first"), n_events=("n_events", "first"), coverage=("inside", "mean"))
            .reset_index()
        )
        return out

    def to_dict(self) -> dict[str, object]:
        """Summary numbers for ``diagnostics.json``."""
        ppp = self.events["ppp"].to_numpy()
        cov = self.group_coverage
        return {
            "km_band_coverage": None if np.isnan(self.coverage) else round(float(self.coverage), 4),
            "band_prob": self.ci_prob,
            "n_replicates": self.n_replicates,
            "events_ppp": {
                str(k): round(float(v), 4)
                for k, v in zip(self.events["interval"], ppp, strict=True)
            },
            "events_ppp_extreme": int(((ppp < 0.025) | (ppp > 0.975)).sum()),
            "censoring": self.censoring,
            "group_km_band_coverage": {
                f"{c}: {lev}": round(float(v), 4)
                for c, lev, v in zip(
                    cov["covariate"], cov["level"], cov["coverage"].astype(float), strict=True
                )
            },
        }
