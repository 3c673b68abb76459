"""A vectorised Cox (Breslow ties) fit for large cohorts: the fragility check's convergence test.

statsmodels' ``PHReg`` (:func:`~necc_bayes.data.reference.cox_breslow`, the reference used
everywhere else) loops in Python over the event times in every likelihood, gradient and
Hessian evaluation: the fragility check's eleven fits took 41 s at n = 20,000 (issue 21) and
would take hours at 10^6. Here the risk-set sums are weighted counts per event-time bin
summed from the last bin back, so one Newton step costs ``O(n p^2)`` numpy work and memory
``O(n p)``; the risk-set structure (:class:`RiskSets`: which event times each row is at risk
at) depends on the times only and is shared by every fit on the same rows.

The partial log-likelihood (Breslow), with unique event times ``u_k``, ``d_k`` events and
covariate sum ``s_k`` of those events, risk set ``R_k = {i: entry_i < u_k <= time_i}`` and
``w_i = exp(x_i' beta)``::

    l(beta) = sum_k s_k' beta - d_k log S0_k,   S0_k = sum_{R_k} w_i,
    grad    = sum_k s_k - d_k S1_k / S0_k,      S1_k = sum_{R_k} w_i x_i,
    -Hess   = sum_k d_k (S2_k / S0_k - S1_k S1_k' / S0_k^2)
            = sum_i w_i c_i x_i x_i' - sum_k d_k m_k m_k',   c_i = sum_{k: i in R_k} d_k / S0_k,

with ``m_k = S1_k / S0_k``: the second form needs no ``S2_k`` (a ``p x p`` matrix per event
time). Newton's method from 0 with step halving; the fit counts as converged, as
:func:`~necc_bayes.data.reference.cox_breslow`'s does, when the iteration converged, the
estimate and its standard errors are finite, ``|beta| < 10`` and ``se < 10``.
"""

from __future__ import annotations

import numpy as np

from necc_bayes.data.reference import CoxFit

MAX_ITER = 50
TOL = 1e-9  # on the Newton decrement


class RiskSets:
    """Which unique event times each row is at risk at (shared by fits on the same rows).

    Row ``i`` is in the risk set ``R_k`` of event time ``u_k`` for ``k_entry[i] <= k < k_time[i]``.

    Parameters
    ----------
    time, event : ndarray, shape (n,)
        Follow-up times and 0/1 event indicators.
    entry : ndarray, shape (n,), optional
        Entry times (delayed entry).
    """

    def __init__(self, time: np.ndarray, event: np.ndarray, entry: np.ndarray | None = None):
        time = np.asarray(time, dtype=float)
        self.events = np.asarray(event, dtype=float) > 0
        self.u, inverse = np.unique(time[self.events], return_inverse=True)
        self.d = np.bincount(inverse, minlength=self.u.size).astype(float)
        self.k_time = np.searchsorted(self.u, time, side="right")  # u_k <= time_i: k < k_time
        self.k_entry = (  # u_k <= entry_i: not yet at risk at u_k
            None if entry is None
            else np.searchsorted(self.u, np.asarray(entry, dtype=float), side="right")
        )
        self.n = time.size

    def sums(self, values: np.ndarray) -> np.ndarray:
        """``sum_{i in R_k} values_i`` for every event time ``k`` (``values`` shape (n,))."""
        K = self.u.size

        def beyond(bins: np.ndarray) -> np.ndarray:  # sum over rows with bin > k, k < K
            per_bin = np.bincount(bins, weights=values, minlength=K + 1)
            return np.cumsum(per_bin[::-1])[::-1][1:]

        out = beyond(self.k_time)
        if self.k_entry is not None:
            out = out - beyond(self.k_entry)
        return out

    def per_row(self, a: np.ndarray) -> np.ndarray:
        """``sum_{k: i in R_k} a_k`` for every row ``i`` (``a`` shape (K,))."""
        A = np.concatenate([[0.0], np.cumsum(a)])
        out = A[self.k_time]
        if self.k_entry is not None:
            out = out - A[self.k_entry]
        return out

    def evaluate(
        self, X: np.ndarray, beta: np.ndarray, s: np.ndarray | None = None
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Log partial likelihood, gradient and information at ``beta`` (module docstring).

        ``s`` is the covariate sum of the events, ``X[events].sum(axis=0)``, when computed.
        """
        eta = X @ beta
        shift = float(eta.max()) if eta.size else 0.0
        w = np.exp(eta - shift)
        S0 = self.sums(w)
        S1 = np.column_stack([self.sums(w * X[:, j]) for j in range(X.shape[1])])
        s = X[self.events].sum(axis=0) if s is None else s
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            loglik = float(s @ beta - (self.d * (np.log(S0) + shift)).sum())
            mean = S1 / S0[:, None]
            grad = s - (self.d[:, None] * mean).sum(axis=0)
            c = self.per_row(self.d / S0)
            info = X.T @ ((w * c)[:, None] * X) - mean.T @ (self.d[:, None] * mean)
        return loglik, grad, info


def cox_breslow_fast(
    time: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    entry: np.ndarray | None = None,
    *,
    risk: RiskSets | None = None,
) -> CoxFit:
    """Fit the Cox model with Breslow ties by vectorised Newton steps (module docstring).

    Parameters
    ----------
    time, event : ndarray, shape (n,)
        Follow-up times and 0/1 event indicators.
    X : ndarray, shape (n, p)
        Covariates (standardised by the fragility check).
    entry : ndarray, shape (n,), optional
        Entry times (delayed entry).
    risk : RiskSets, optional
        ``RiskSets(time, event, entry)`` when already built (several fits on the same rows).

    Returns
    -------
    CoxFit
    """
    X = np.asarray(X, dtype=float)
    if risk is None:
        risk = RiskSets(time, event, entry)
    p = X.shape[1]
    beta = np.zeros(p)
    s = X[risk.events].sum(axis=0)
    loglik, grad, info = risk.evaluate(X, beta, s)
    converged = False
    for _ in range(MAX_ITER):
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        decrement = float(grad @ step)
        if decrement < TOL:
            converged = True
            break
        for _ in range(30):  # step halving until the likelihood does not decrease
            new = risk.evaluate(X, beta + step, s)
            # accept unless the likelihood falls by more than its rounding (sums of ~n terms)
            if np.isfinite(new[0]) and new[0] >= loglik - 1e-10 * max(1.0, abs(loglik)):
                break
            step = step / 2.0
        else:
            break
        beta = beta + step
        loglik, grad, info = new
    with np.errstate(invalid="ignore"):
        try:
            se = np.sqrt(np.diag(np.linalg.inv(info)))
        except np.linalg.LinAlgError:
            se = np.full(p, np.nan)
    finite = bool(np.all(np.isfinite(beta)) and np.all(np.isfinite(se)))
    ok = converged and finite and bool(np.all(np.abs(beta) < 10)) and bool(np.all(se < 10))
    return CoxFit(beta=beta, se=se, converged=ok)
