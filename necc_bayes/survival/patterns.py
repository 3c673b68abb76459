"""Covariate patterns: the piecewise-exponential likelihood's exact sufficient statistics.

Rows with identical covariates (and stratum / cluster codes) enter the likelihood only through
their summed exposure and events per interval, so the likelihood is evaluated once per pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from necc_bayes.survival.intervals import PersonPeriod


@dataclass(frozen=True)
class PatternStats:
    """Exact sufficient statistics per unique covariate pattern.

    For a piecewise-exponential likelihood the data enter only through, per pattern ``u``
    and interval ``j``, the total exposure ``E_uj`` and number of events ``D_uj``.

    Attributes
    ----------
    X : ndarray, shape (m, p)
        Unique covariate rows.
    exposure : ndarray, shape (m, J)
        Summed exposure per pattern and interval.
    events : ndarray, shape (m, J)
        Summed events per pattern and interval.
    count : ndarray, shape (m,)
        Number of subjects per pattern.
    index : ndarray, shape (n,)
        Pattern of each subject.
    groups : ndarray of int, shape (m, g)
        Group codes (stratum, cluster) of each pattern; ``g = 0`` without groups.
    """

    X: np.ndarray
    exposure: np.ndarray
    events: np.ndarray
    count: np.ndarray
    index: np.ndarray
    groups: np.ndarray


def collapse(X: np.ndarray, pp: PersonPeriod, groups: np.ndarray | None = None) -> PatternStats:
    """Collapse rows with identical covariates (and group codes) into sufficient statistics.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Design matrix.
    pp : PersonPeriod
        Expansion of the same rows.
    groups : ndarray of int, shape (n, g), optional
        Integer codes rows must also share to be pooled (stratum, cluster).

    Returns
    -------
    PatternStats
        One row per unique pattern (``m <= n``); ``groups`` holds each pattern's codes.
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    G = np.zeros((n, 0), dtype=np.int64) if groups is None else np.asarray(groups).reshape(n, -1)
    key = np.column_stack([X, G.astype(float)])
    if key.shape[1] == 0:
        key_u = np.zeros((1, 0))
        index = np.zeros(n, dtype=np.int64)
    else:
        key_u, index = np.unique(key, axis=0, return_inverse=True)
        index = index.ravel()
    m = key_u.shape[0]
    exposure = np.zeros((m, pp.n_intervals))
    events = np.zeros((m, pp.n_intervals))
    np.add.at(exposure, index, pp.exposure)
    np.add.at(events, index, pp.event_matrix)
    return PatternStats(
        X=key_u[:, : X.shape[1]],
        exposure=exposure,
        events=events,
        count=np.bincount(index, minlength=m),
        index=index,
        groups=key_u[:, X.shape[1] :].astype(np.int64),
    )
