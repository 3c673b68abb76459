"""Prior–data conflict: does the current estimate look like a draw from the prior predictive.

Two diagnostics, both printed and reported beside every informative prior:

* **Prior-predictive tail probability** (Box 1980, J R Stat Soc A 143:383). The prior
  predictive of the observed estimate is ``y ~ sum_k w_k Normal(m_k, sqrt(s_k² + se²))`` for
  a log-HR, the beta-binomial mixture for ``r`` responders of ``n``. ``tail_p =
  2 min(P(Y <= y), P(Y >= y))`` (two-sided, capped at 1) and Box's density-based
  ``box_p = P(p(Y) <= p(y))`` (the prior-predictive mass of outcomes no more probable than
  the one observed; equal to ``tail_p`` for a single normal; for a normal mixture computed
  from the crossing points of the density, for the beta-binomial by enumeration). Small
  values (say < 0.05) flag a conflict: the data are surprising under the borrowed evidence.
* **Posterior weight of the robust component** (Schmidli et al. 2014): with a robustified
  prior, the weight of the vague component moves from its prior value toward 1 when the data
  conflict with the informative part; it is reported with its prior value.

For the log-HR of a term the estimate ``y, se`` is the current data's own estimate (e.g. the
Cox or PEM estimate under a vague prior); the check is then exact for the normal
approximation of that likelihood.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from necc_bayes.evidence.conjugate import (
    binomial_predictive_pmf,
    normal_predictive,
    posterior_binomial,
    posterior_normal,
)
from necc_bayes.evidence.mixtures import BetaMixture, NormalMixture


@dataclass(frozen=True)
class ConflictCheck:
    """Prior–data conflict diagnostics of one informative prior.

    Attributes
    ----------
    tail_p : float
        Two-sided prior-predictive tail probability of the observed value.
    box_p : float
        Box's density-based prior-predictive p-value.
    robust_weight_prior, robust_weight_posterior : float
        Weight of the ``"robust"`` component before and after the data (0 without one).
    """

    tail_p: float
    box_p: float
    robust_weight_prior: float
    robust_weight_posterior: float

    def to_dict(self) -> dict[str, float]:
        """Plain-data form."""
        return {"tail_p": self.tail_p, "box_p": self.box_p,
                "robust_weight_prior": self.robust_weight_prior,
                "robust_weight_posterior": self.robust_weight_posterior}


def _box_p_normal(pred: NormalMixture, y: float) -> float:
    """Return Box's ``P(p(Y) <= p(y))`` for a normal mixture.

    It is ``1 -`` the mass of the intervals where the density exceeds ``p(y)``; their ends are
    located on a 20,001-point grid over ±12 component sd and refined by Brent's method.
    """
    _, m, s = pred._arrays()
    f_y = float(pred.pdf(y))
    grid = np.linspace(float(np.min(m - 12 * s)), float(np.max(m + 12 * s)), 20_001)
    excess = pred.pdf(grid) - f_y
    ends = [float(optimize.brentq(lambda t: float(pred.pdf(t)) - f_y, grid[i], grid[i + 1],
                                  xtol=1e-14))
            for i in np.flatnonzero(np.sign(excess[:-1]) * np.sign(excess[1:]) < 0)]
    points = [grid[0], *ends, grid[-1]]
    above = sum(float(pred.cdf(b) - pred.cdf(a)) for a, b in itertools.pairwise(points)
                if float(pred.pdf((a + b) / 2.0)) > f_y)
    return min(1.0, max(0.0, 1.0 - above))


def conflict_normal(prior: NormalMixture, y: float, se: float) -> ConflictCheck:
    """Conflict between a normal-mixture prior and an estimate ``y`` with standard error ``se``.

    Parameters
    ----------
    prior : NormalMixture
        Prior of the true value (e.g. a log-HR).
    y, se : float
        The current study's estimate and its standard error.

    Returns
    -------
    ConflictCheck
    """
    pred = normal_predictive(prior, se)
    below = float(pred.cdf(y))
    tail = min(1.0, 2.0 * min(below, 1.0 - below))
    post = posterior_normal(prior, y, se)
    return ConflictCheck(tail, _box_p_normal(pred, y), prior.robust_weight, post.robust_weight)


def conflict_binomial(prior: BetaMixture, r: int, n: int) -> ConflictCheck:
    """Conflict between a beta-mixture prior and ``r`` responders of ``n`` (exact sums)."""
    pmf = binomial_predictive_pmf(prior, n)
    tail = min(1.0, 2.0 * min(float(pmf[: r + 1].sum()), float(pmf[r:].sum())))
    box = float(pmf[pmf <= pmf[r] * (1 + 1e-12)].sum())
    post = posterior_binomial(prior, r, n)
    return ConflictCheck(tail, min(box, 1.0), prior.robust_weight, post.robust_weight)
