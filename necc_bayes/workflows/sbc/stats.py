"""Rank statistics of simulation-based calibration and their uniformity tests.

For each simulation the rank of the true value among ``L - 1`` thinned posterior draws takes
a value in ``0 .. L - 1``; if the inference is calibrated the ranks are uniform (Talts et al.
2018). Tested here two ways:

* **ECDF test with simultaneous bands** (Säilynoja, Bürkner & Vehtari 2022, "Graphical test
  for discrete uniformity and its applications in goodness-of-fit evaluation and multiple
  sample comparison"): the ECDF of the ranks at ``z_k = k / L`` is compared with the uniform
  CDF through the pointwise binomial tail probabilities; the statistic is twice the smallest
  of them, and its null distribution (and the band of simultaneous coverage ``prob``) is
  obtained by simulating uniform ranks. The p-value is the share of null statistics at or
  below the observed one.
* **Chi-square** on the ranks binned into ``min(20, L)`` equal bins (Talts et al.'s
  histogram), as a familiar second opinion.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

N_NULL = 4000
"""Simulated uniform rank vectors for the null distribution of the ECDF statistic."""


def _grid(n_ranks: int) -> np.ndarray:
    return np.arange(1, n_ranks) / n_ranks


def _counts(ranks: np.ndarray, n_ranks: int) -> np.ndarray:
    """``N F(z_k)``: ranks below ``k`` for ``k = 1 .. L - 1`` (works on the last axis)."""
    ranks = np.asarray(ranks, dtype=np.int64)
    hist = np.apply_along_axis(np.bincount, -1, ranks, minlength=n_ranks)
    return np.cumsum(hist, axis=-1)[..., :-1]


def ecdf_statistic(ranks: np.ndarray, n_ranks: int) -> np.ndarray:
    """Twice the smallest pointwise binomial tail probability of the rank ECDF.

    Parameters
    ----------
    ranks : ndarray, shape (..., N)
        Ranks in ``0 .. n_ranks - 1``.
    n_ranks : int
        Number of possible ranks ``L``.

    Returns
    -------
    ndarray, shape (...)
        Small values mean the ECDF leaves the uniform CDF somewhere.
    """
    ranks = np.asarray(ranks)
    n = ranks.shape[-1]
    z = _grid(n_ranks)
    c = _counts(ranks, n_ranks)
    lower = stats.binom.cdf(c, n, z)
    upper = stats.binom.sf(c - 1, n, z)
    return np.minimum(2.0 * np.minimum(lower, upper).min(axis=-1), 1.0)


@lru_cache(maxsize=32)
def _null(n_sims: int, n_ranks: int) -> np.ndarray:
    rng = np.random.default_rng(20221121)
    sims = rng.integers(0, n_ranks, size=(N_NULL, n_sims))
    return np.sort(ecdf_statistic(sims, n_ranks))


def ecdf_test(ranks: np.ndarray, n_ranks: int) -> float:
    """p-value of the ECDF uniformity test (see the module docstring)."""
    ranks = np.asarray(ranks)
    observed = float(ecdf_statistic(ranks, n_ranks))
    null = _null(ranks.size, n_ranks)
    return float((np.searchsorted(null, observed, side="right") + 1) / (null.size + 1))


def chisquare_test(ranks: np.ndarray, n_ranks: int, n_bins: int = 20) -> float:
    """p-value of the chi-square test of uniform ranks in ``min(n_bins, n_ranks)`` bins.

    Rank ``r`` falls in bin ``floor(r * bins / L)``; the expected count of a bin is
    proportional to the number of rank values it holds.
    """
    bins = min(n_bins, n_ranks)
    ranks = np.asarray(ranks, dtype=np.int64)
    observed = np.bincount(ranks * bins // n_ranks, minlength=bins)
    width = np.bincount(np.arange(n_ranks) * bins // n_ranks, minlength=bins)
    expected = ranks.size * width / n_ranks
    return float(stats.chisquare(observed, expected).pvalue)


def simultaneous_band(
    n_sims: int, n_ranks: int = 100, *, prob: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The band the rank ECDF stays inside with probability ``prob`` under uniformity.

    Returns
    -------
    z, lower, upper : ndarray
        Grid ``0, 1/L, ..., 1`` and the band's ECDF limits at each point.
    """
    gamma = float(np.quantile(_null(n_sims, n_ranks), 1.0 - prob))
    z = _grid(n_ranks)
    lower = stats.binom.ppf(gamma / 2.0, n_sims, z) / n_sims
    upper = stats.binom.ppf(1.0 - gamma / 2.0, n_sims, z) / n_sims
    pad = np.array([0.0]), np.array([1.0])
    return (
        np.concatenate([pad[0], z, pad[1]]),
        np.concatenate([pad[0], lower, pad[1]]),
        np.concatenate([pad[0], upper, pad[1]]),
    )


def ecdf_difference(ranks: np.ndarray, n_ranks: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid ``z = 0, 1/L, ..., 1`` and ``F(z) - z`` of the rank ECDF."""
    ranks = np.asarray(ranks)
    z = _grid(n_ranks)
    f = _counts(ranks, n_ranks) / ranks.size
    return np.concatenate([[0.0], z, [1.0]]), np.concatenate([[0.0], f - z, [0.0]])


def interval_coverage(ranks: np.ndarray, n_ranks: int, prob: float = 0.9) -> tuple[float, float]:
    """Share of simulations whose true value lies in the central ``prob`` posterior interval.

    The truth lies inside the central interval exactly when its rank among the ``n_ranks``
    thinned draws is between ``round((1 - prob) / 2 * n_ranks)`` (inclusive) and
    ``n_ranks - that`` (exclusive). Returns the observed share and the share expected under
    calibration (the fraction of rank values in that range; 0.9 for 100 rank values).
    """
    lo = round((1.0 - prob) / 2.0 * n_ranks)
    inside = (ranks >= lo) & (ranks < n_ranks - lo)
    return float(np.mean(inside)), (n_ranks - 2 * lo) / n_ranks


def uniformity_tests(ranks: pd.DataFrame, n_ranks: int, *, alpha: float = 0.05) -> pd.DataFrame:
    """ECDF and chi-square p-values per parameter; Bonferroni-adjusted failure flag.

    Also the observed coverage of the central 90% credible interval (``coverage_90``) beside
    its nominal value under calibration (``coverage_90_nominal``).
    """
    rows = [
        {
            "parameter": p,
            "p_ecdf": ecdf_test(ranks[p].to_numpy(), n_ranks),
            "p_chisq": chisquare_test(ranks[p].to_numpy(), n_ranks),
            **dict(
                zip(
                    ("coverage_90", "coverage_90_nominal"),
                    interval_coverage(ranks[p].to_numpy(), n_ranks),
                    strict=True,
                )
            ),
        }
        for p in ranks.columns
    ]
    table = pd.DataFrame(rows)
    table["failed"] = table["p_ecdf"] < alpha / max(len(rows), 1)
    return table
