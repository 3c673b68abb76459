"""How much of each log-HR's posterior comes from its prior: the posterior-to-prior SD ratio.

For a normal prior with SD ``s0`` and a likelihood carrying information ``I`` (1 / variance),
the posterior SD is ``s1 = 1 / sqrt(1 / s0**2 + I)``, so ``(s1 / s0)**2 = 1 / (1 + I s0**2)``.
The ratio is 1 when the data say nothing and falls as they say more; at
``s1 / s0 = 1 / sqrt(2)`` the prior and the data carry the same information. A term is called
**prior-dominated** when ``s1 / s0 >= 1 / sqrt(2)``: its prior carries at least as much
information as the data (hazard_ratios.csv: ``prior_sd``, ``sd_ratio``, ``prior_dominated``).

Prior SDs: exact for normal priors; for the other families (Student-t, mixtures, published
estimates, groups, the horseshoe) computed from ``PRIOR_DRAWS`` draws of the family's own numpy
sampler with a fixed seed (the normal-equivalent ``IQR / 1.349`` for families without a finite
variance: the horseshoe and Student-t with ``nu <= 2``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from necc_bayes.spec.model import ModelSpec
from necc_bayes.spec.priors import HorseshoePrior, NormalPrior, StudentTPrior

DOMINATED_RATIO = 1.0 / math.sqrt(2.0)
"""Posterior/prior SD ratio at which prior and data carry equal information."""
PRIOR_DRAWS = 40_000
"""Prior draws for the SD of families without a closed form."""
PRIOR_SEED = 20261201
"""Seed of those draws (the same spec always gives the same prior SDs)."""
_IQR_TO_SD = 1.3489795003921634  # Phi^-1(0.75) - Phi^-1(0.25)


def _scale(draws: np.ndarray, heavy: bool) -> np.ndarray:
    if heavy:
        q1, q3 = np.quantile(draws, [0.25, 0.75], axis=0)
        return (q3 - q1) / _IQR_TO_SD
    return draws.std(axis=0, ddof=1)


def prior_sds(spec: ModelSpec, terms: list[str]) -> dict[str, float]:
    """The prior SD of every term's log-HR in a resolved specification.

    Parameters
    ----------
    spec : ModelSpec
        Resolved specification (every term not in a group has a prior in ``priors.terms``).
    terms : list of str
        Design terms.

    Returns
    -------
    dict
        Term -> prior SD (NaN for a term without a prior, which a resolved spec never has).
    """
    rng = np.random.default_rng(PRIOR_SEED)
    out: dict[str, float] = {}
    for term in terms:
        p = spec.priors.terms.get(term)
        if p is None:
            continue
        if isinstance(p, NormalPrior):
            out[term] = float(p.sigma)
            continue
        heavy = isinstance(p, HorseshoePrior) or (isinstance(p, StudentTPrior) and p.nu <= 2)
        family: Any = type(p)
        draws = family.sample([p], rng, PRIOR_DRAWS)[:, 0]
        out[term] = float(_scale(draws, heavy))
    for group in spec.priors.groups.values():
        draws = group.sample(rng, PRIOR_DRAWS)
        for term, sd in zip(group.terms, _scale(draws, False), strict=True):
            out[term] = float(sd)
    return {t: out.get(t, float("nan")) for t in terms}


def with_prior_scale(table: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """Add ``prior_sd``, ``sd_ratio`` and ``prior_dominated`` to a hazard-ratio table."""
    sds = prior_sds(spec, [str(t) for t in table["term"]])
    prior_sd = np.array([sds[str(t)] for t in table["term"]], dtype=float)
    ratio = table["log_hr_sd"].to_numpy(dtype=float) / prior_sd
    return table.assign(prior_sd=prior_sd, sd_ratio=ratio, prior_dominated=ratio >= DOMINATED_RATIO)
