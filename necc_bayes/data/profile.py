"""A short profile of a validated cohort (``validate-data`` prints it; the fit report shows it)."""

from __future__ import annotations

import numpy as np

from necc_bayes.data.load import Cohort
from necc_bayes.data.structure import structure_profile


def data_profile(cohort: Cohort) -> dict[str, object]:
    """Return a short profile: n, events, censoring, follow-up range, per-covariate counts.

    For 0/1 terms the count of ones is given; for other terms the mean and range. Subjects,
    pieces per subject, late entries, strata and cluster sizes follow
    (:func:`~necc_bayes.data.structure.structure_profile`).
    """
    per_term: dict[str, str] = {}
    for k, term in enumerate(cohort.design.terms):
        col = cohort.design.X[:, k]
        obs = col[~np.isnan(col)]
        missing = f" ({col.size - obs.size} missing, modelled)" if obs.size < col.size else ""
        if cohort.design.binary[k]:
            per_term[term] = f"{int(obs.sum())}/{obs.size} = 1{missing}"
        else:
            per_term[term] = (
                f"mean {obs.mean():.3g}, range {obs.min():.3g}-{obs.max():.3g}{missing}"
            )
    return {
        "source": cohort.source,
        "n": cohort.n,
        "events": cohort.n_events,
        "censored": cohort.n - cohort.n_events,
        "censoring_fraction": round(1 - cohort.n_events / cohort.n, 4),
        "follow_up_min": float(cohort.time.min()),
        "follow_up_median": float(np.median(cohort.time)),
        "follow_up_max": float(cohort.time.max()),
        "dropped_rows": list(cohort.dropped_rows),
        **structure_profile(
            ids=cohort.ids,
            entry=cohort.entry,
            event=cohort.event,
            strata=cohort.strata,
            clusters=cohort.clusters,
        ),
        "terms": per_term,
    }
