"""What each evidence-based log-HR prior of a fit is worth, and whether the data conflict with it.

For every term whose prior comes from other studies (``dist = "published"``, ``"map"`` resolved
to ``"normal_mixture"``, or a ``normal_mixture`` written directly): the prior as it enters the
model, its effective sample size in events (ELIR; a ``Normal(m, s)`` log-HR prior is worth
``4 / s²`` events), the current data's own estimate of the term -- a Cox fit of the model's
terms on the same rows (Breslow ties, with the rows' entry times; strata and frailty are not
used) -- and the prior-data conflict checks of :func:`necc_bayes.evidence.conflict_normal`
against it (prior-predictive tail probability, Box's p, and the weight of the robust
component before and after the data under the normal approximation of the likelihood).
Printed by ``necc-bayes fit`` and shown in the fit report.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from necc_bayes.data.reference import Z_95, cox_breslow
from necc_bayes.evidence import conflict_normal, ess
from necc_bayes.evidence.resolve import as_mixture

if TYPE_CHECKING:
    from necc_bayes.survival.result import PEMResult

COLUMNS = [
    "term",
    "prior",
    "source",
    "prior_ess_events",
    "data_hr",
    "data_hr_low",
    "data_hr_high",
    "conflict_tail_p",
    "conflict_box_p",
    "robust_weight_prior",
    "robust_weight_posterior",
]


def informative_prior_table(result: PEMResult) -> pd.DataFrame:
    """One row per term with an evidence-based prior (empty, with :data:`COLUMNS`, if none)."""
    mixtures = {t: m for t, p in result.spec.priors.terms.items() if (m := as_mixture(p))}
    if not mixtures:
        return pd.DataFrame(columns=COLUMNS)
    cohort = result.checked.cohort
    cox = cox_breslow(cohort.time, cohort.event, cohort.design.X, entry=cohort.entry)
    rows = []
    for term, mix in mixtures.items():
        prior = result.spec.priors.terms[term]
        k = cohort.design.terms.index(term)
        y, se = float(cox.beta[k]), float(cox.se[k])
        usable = cox.converged and math.isfinite(y) and math.isfinite(se) and se > 0
        check = conflict_normal(mix, y, se) if usable else None
        rows.append({
            "term": term,
            "prior": str(prior),
            "source": getattr(prior, "source", None),
            "prior_ess_events": ess(mix),
            "data_hr": math.exp(y) if usable else math.nan,
            "data_hr_low": math.exp(y - Z_95 * se) if usable else math.nan,
            "data_hr_high": math.exp(y + Z_95 * se) if usable else math.nan,
            "conflict_tail_p": check.tail_p if check else math.nan,
            "conflict_box_p": check.box_p if check else math.nan,
            "robust_weight_prior": mix.robust_weight,
            "robust_weight_posterior": check.robust_weight_posterior if check else math.nan,
        })
    return pd.DataFrame(rows, columns=COLUMNS)
