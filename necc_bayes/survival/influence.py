"""Influential patients: PSIS-LOO Pareto k per patient and case-deletion bookkeeping.

The patients with the largest Pareto k are the ones whose leave-one-out predictive density
the importance sampling finds hardest to estimate — those whose omission would change the
posterior most. :func:`necc_bayes.workflows.sensitivity.sweeps.case_deletion_settings` refits
without each of
them (compile once: only the collapsed data change) and :func:`case_deletion_changes` reports
how each hazard ratio moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from necc_bayes.inference.loo import loo
from necc_bayes.survival.model import PEMInputs

if TYPE_CHECKING:
    import xarray as xr


def drop_subjects(inputs: PEMInputs, drop: list[Any]) -> PEMInputs:
    """The inputs without the subjects whose ids are in ``drop`` (same cuts, same coding).

    Raises
    ------
    KeyError
        If an id is not among the subjects.
    """
    ids = np.asarray(inputs.subject_ids)
    labels = [str(i) for i in ids]
    unknown = [d for d in drop if str(d) not in labels]
    if unknown:
        raise KeyError(f"subjects {unknown} not found")
    keep = ~np.isin(labels, [str(d) for d in drop])
    sub = inputs.pp.subset(keep)
    return PEMInputs(X=inputs.X[keep], terms=inputs.terms, pp=sub, ids=ids[keep])


def pareto_k_table(idata: xr.DataTree) -> pd.DataFrame:
    """PSIS-LOO Pareto k per subject, largest first (``subject, pareto_k, time, event``)."""
    summary = loo(idata, warn=False)
    k = summary.elpd.pareto_k
    obs = idata["observed_data"]
    table = pd.DataFrame(
        {
            "subject": [str(s) for s in k[k.dims[0]].to_numpy()],
            "pareto_k": np.asarray(k.to_numpy(), dtype=float),
            "time": obs["time"].to_numpy(),
            "event": obs["event"].to_numpy(),
        }
    )
    table["high_k"] = table["pareto_k"] > summary.good_k
    return table.sort_values("pareto_k", ascending=False, kind="stable").reset_index(drop=True)


def case_deletion_changes(table: pd.DataFrame, full: pd.DataFrame) -> pd.DataFrame:
    """Change of each HR when a subject is left out, against the full-data fit.

    Adds ``hr_median_full``, ``hr_ratio`` (median without / with the subject) and
    ``shift_sd`` (change of the posterior mean log-HR in units of the full posterior SD).
    """
    ref = full.set_index("term")
    out = table.copy()
    out["hr_median_full"] = out["term"].map(ref["hr_median"])
    out["hr_ratio"] = out["hr_median"] / out["hr_median_full"]
    out["shift_sd"] = (out["log_hr_mean"] - out["term"].map(ref["log_hr_mean"])) / out["term"].map(
        ref["log_hr_sd"]
    )
    return out
