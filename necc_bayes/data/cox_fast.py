"""A vectorised Cox (Breslow ties) fit for large cohorts: the fragility check's convergence test.

statsmodels' ``PHReg`` (:func:`~necc_bayes.data.reference.cox_breslow`, the reference used
everywhere else) loops in Python over the event times in every likelihood, gradient and
Hessian evaluation: the fragility check's eleven fits took 41 s at n = 20,000 (issue 21) and
would take hours at 10^6. Here the risk-set sums are cumulative sums over the rows sorted by
time (minus those over the entry times with delayed entry), so one Newton step costs
``O(n p^2)`` numpy work.

The partial log-likelihood (Breslow), with unique event times ``u_k``, ``d_k`` events and
covariate sum ``s_k`` of those events, risk set ``R_k = {i: entry_i < u_k <= time_i}`` and
``w_i = exp(x_i' beta)``::

    l(beta) = sum_k s_k' beta - d_k log S0_k,   S0_k = sum_{R_k} w_i,
    grad    = sum_k s_k - d_k S1_k / S0_k,      S1_k = sum_{R_k} w_i x_i,
    -Hess   = sum_k d_k (S2_k / S0_k - S1_k S1_k' / S0_k^2).

Newton's method from 0 with step halving; the fit counts as converged, as
:func:`~necc_bayes.data.reference.cox_breslow`'s does, when the iteration converged, the
estimate and its standard errors are finite, ``|beta| < 10`` and ``se < 10``.
"""

from __future__ import annotations

import numpy as np

from necc_bayes.data.reference import CoxFit

MAX_ITER = 50
TOL = 1e-9  # on the Newton decrement


class _RiskSets:
    """Risk-set sums at the unique event times for any ``beta`` (cumulative sums)."""

    def __init__(
        self, time: np.ndarray, event: np.ndarray, X: np.ndarray, entry: np.ndarray | None
    ):
        order = np.argsort(-time, kind="stable")  # descending: cumsum = sum over time >= t
        self.X = X
        self.t_desc = time[order]
        self.order = order
        ev = event > 0
        self.u, inverse = np.unique(time[ev], return_inverse=True)
        self.d = np.bincount(inverse, minlength=self.u.size).astype(float)
        self.s = np.zeros((self.u.size, X.shape[1]))
        np.add.at(self.s, inverse, X[ev])
        # rows with time >= u_k: the first positions of the descending order
        self.n_exit = np.searchsorted(-self.t_desc, -self.u, side="right")
        self.entry_order = None
        if entry is not None:
            e_order = np.argsort(-entry, kind="stable")
            self.entry_order = e_order
            # rows with entry >= u_k are not at risk at u_k
            self.n_entry = np.searchsorted(-entry[e_order], -self.u, side="right")

    def _sums(self, values: np.ndarray) -> np.ndarray:
        """``sum_{R_k} values_i`` for every event time (``values`` shape (n, ...))."""

        def at(order: np.ndarray, counts: np.ndarray) -> np.ndarray:
            c = np.cumsum(values[order], axis=0)
            c = np.concatenate([np.zeros((1, *values.shape[1:])), c])
            return c[counts]

        out = at(self.order, self.n_exit)
        if self.entry_order is not None:
            out = out - at(self.entry_order, self.n_entry)
        return out

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log partial likelihood, gradient and information at ``beta``."""
        eta = self.X @ beta
        shift = float(eta.max()) if eta.size else 0.0
        w = np.exp(eta - shift)
        S0 = self._sums(w)
        S1 = self._sums(w[:, None] * self.X)
        p = self.X.shape[1]
        S2 = self._sums(
            (w[:, None, None] * self.X[:, :, None] * self.X[:, None, :]).reshape(-1, p * p)
        )
        S2 = S2.reshape(-1, p, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            loglik = float(self.s.sum(axis=0) @ beta - (self.d * (np.log(S0) + shift)).sum())
            mean = S1 / S0[:, None]
            grad = self.s.sum(axis=0) - (self.d[:, None] * mean).sum(axis=0)
            cov = S2 / S0[:, None, None] - mean[:, :, None] * mean[:, None, :]
            info = (self.d[:, None, None] * cov).sum(axis=0)
        return loglik, grad, info


def cox_breslow_fast(
    time: np.ndarray, event: np.ndarray, X: np.ndarray, entry: np.ndarray | None = None
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

    Returns
    -------
    CoxFit
    """
    time = np.asarray(time, dtype=float)
    X = np.asarray(X, dtype=float)
    risk = _RiskSets(
        time,
        np.asarray(event, dtype=float),
        X,
        None if entry is None else np.asarray(entry, dtype=float),
    )
    p = X.shape[1]
    beta = np.zeros(p)
    loglik, grad, info = risk.evaluate(beta)
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
            new = risk.evaluate(beta + step)
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
