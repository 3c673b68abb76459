"""How much of each log-HR's posterior comes from its prior: the posterior-to-prior SD ratio.

For a normal prior with SD ``s0`` and a likelihood carrying information ``I`` (1 / variance),
the posterior SD is ``s1 = 1 / sqrt(1 / s0**2 + I)``, so ``(s1 / s0)**2 = 1 / (1 + I s0**2)``.
The ratio is 1 when the data say nothing and falls as they say more; at
``s1 / s0 = 1 / sqrt(2)`` the prior and the data carry the same information. A term is called
**prior-dominated** when ``s1 / s0 >= 1 / sqrt(2)``: its prior carries at least as much
information as the data (hazard_ratios.csv: ``prior_sd``, ``sd_ratio``, ``prior_dominated``).

Prior SDs: exact for normal priors; for the other families (Student-t, groups, the horseshoe)
computed from ``PRIOR_DRAWS`` draws of the family's own numpy sampler with a fixed seed (the
normal-equivalent ``IQR / 1.349`` for families without a finite variance: the horseshoe and
Student-t with ``nu <= 2``).

Normal mixtures (robustified published estimates, MAP priors): the SD of the whole mixture
would be the vague component's (``Normal(0, 10)``: SD 7), which would call a posterior that is
the published estimate "data-dominated". The prior SD compared is instead the SD of the
components **the posterior uses**: ``exp(sum_k r_k log sigma_k)``, with ``r_k`` each
component's posterior membership probability (averaged over a normal approximation of the
posterior by 40-point Gauss-Hermite quadrature; a geometric mean, so that a component with
a small membership moves it little whichever its SD). When the data agree with the
informative component the ratio is taken against it; when they conflict the vague component
takes the weight and the term is rightly data-dominated. With one component it is its SD.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from necc_bayes.evidence.published import from_spec
from necc_bayes.spec.model import ModelSpec
from necc_bayes.spec.priors import (
    HorseshoePrior,
    NormalMixturePrior,
    NormalPrior,
    PublishedPrior,
    StudentTPrior,
)

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


def _mixture(prior: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(weights, mu, sigma) of a normal-mixture prior; ``None`` for other families."""
    if isinstance(prior, PublishedPrior):
        mix = from_spec(prior)
        return np.asarray(mix.weights), np.asarray(mix.mu), np.asarray(mix.sigma)
    if isinstance(prior, NormalMixturePrior):
        return np.asarray(prior.weights), np.asarray(prior.mu), np.asarray(prior.sigma)
    return None


def supported_mixture_sd(
    weights: np.ndarray, mu: np.ndarray, sigma: np.ndarray, post_mean: float, post_sd: float
) -> float:
    """``exp(sum_k r_k log sigma_k)``: the SD of the components the posterior uses.

    The posterior is approximated by ``Normal(post_mean, post_sd)``; ``r_k`` is the posterior
    mean of ``w_k N(b; mu_k, s_k) / sum_j w_j N(b; mu_j, s_j)`` (Gauss-Hermite).
    """
    nodes, gh_w = np.polynomial.hermite_e.hermegauss(40)
    b = post_mean + post_sd * nodes[:, None]
    logp = np.log(np.where(weights > 0, weights, 1e-300)) + stats.norm.logpdf(b, mu, sigma)
    member = np.exp(logp - special.logsumexp(logp, axis=1, keepdims=True))
    r = (gh_w[:, None] * member).sum(0) / gh_w.sum()
    return float(np.exp(np.sum(r * np.log(sigma))))


def with_prior_scale(table: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """Add ``prior_sd``, ``sd_ratio`` and ``prior_dominated`` to a hazard-ratio table."""
    sds = prior_sds(spec, [str(t) for t in table["term"]])
    moments = zip(table["term"], table["log_hr_mean"], table["log_hr_sd"], strict=True)
    for term, mean, sd in moments:
        mix = _mixture(spec.priors.terms.get(str(term)))
        if mix is not None and len(mix[0]) > 1:
            sds[str(term)] = supported_mixture_sd(*mix, float(mean), float(sd))
    prior_sd = np.array([sds[str(t)] for t in table["term"]], dtype=float)
    ratio = table["log_hr_sd"].to_numpy(dtype=float) / prior_sd
    return table.assign(prior_sd=prior_sd, sd_ratio=ratio, prior_dominated=ratio >= DOMINATED_RATIO)
