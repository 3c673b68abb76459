"""Missing covariates integrated out inside the survival model (``data.missing = "model"``).

Every incomplete covariate gets a covariate model (:mod:`necc_bayes.spec.imputation` states the
defaults); the joint density of a subject's outcome and covariates is

    p(y_i, x_i | theta) = p(y_i | x_i, beta, lambda) * prod_k p(x_ik | x_i,pred(k), theta_k)

in the chain order ``k = 1..K``. Missing values are integrated out per subject:

* **binary** (0/1) covariates are **summed out exactly**: every completion ``c`` of the
  subject's missing 0/1 values is enumerated (``2^k`` of them) and
  ``log p(y_i, x_i,obs) = logsumexp_c [log p(y_i | x_ic) + sum_k log p(x_ick | ...)]``;
* **continuous** covariates are **latent**, sampled non-centred: ``x = mean + sd * u`` with
  ``u = alpha + gamma'(z - mean z) + sigma * eps``, ``eps ~ Normal(0, 1)`` per missing value.

The baseline rates are **sampled** here, not integrated out: the exact gamma marginal couples
all subjects through ``S_j = sum_i E_ij exp(x_i' beta)``, so the per-subject sum over
completions needs the rates (``fit`` resolves a gamma baseline to ``marginalize = false`` and
says so in the resolved spec). Subjects without missing values enter through the usual
pattern statistics; each incomplete subject through its own row of the mixture.

After sampling, ``posterior/missing_prob`` holds each missing 0/1 value's probability of 1
given the data (per draw), ``posterior/missing_value`` each missing continuous value, and
``posterior/loglik_incomplete`` the log-likelihood of each incomplete subject's outcome given
its observed covariates (``log p(y_i | x_i,obs)``, for LOO).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import logsumexp

from necc_bayes.spec.imputation import CovariateModelSection, ImputationSection

if TYPE_CHECKING:
    import pytensor.tensor as pt

    from necc_bayes.survival.intervals import PersonPeriod


@dataclass(frozen=True)
class CovariateModel:
    """The model of one incomplete covariate.

    Attributes
    ----------
    term : str
        Its name.
    column : int
        Its column in the design matrix.
    binary : bool
        0/1 (logistic, summed out) or continuous (normal, latent).
    predictors : tuple of int
        Columns it is regressed on (complete ones and those earlier in the chain).
    pred_means : ndarray
        Observed means of the predictors (they enter centred).
    center, scale : float
        Observed mean and SD of the covariate (continuous: the standardised scale).
    intercept_scale, slope_sigma, sd_scale : float
        Prior scales (see :mod:`necc_bayes.spec.imputation`).
    """

    term: str
    column: int
    binary: bool
    predictors: tuple[int, ...]
    pred_means: np.ndarray
    center: float
    scale: float
    intercept_scale: float
    slope_sigma: float
    sd_scale: float


@dataclass(frozen=True)
class Imputation:
    """The missingness structure of a cohort and its covariate models.

    Attributes
    ----------
    models : tuple of CovariateModel
        In chain order.
    complete : ndarray of int
        Rows with every covariate observed.
    incomplete : ndarray of int
        Rows with at least one missing covariate.
    completions : ndarray, shape (n_inc, C, p)
        Each incomplete row's design for every completion of its missing 0/1 values
        (continuous missing values are 0 here; the model fills them in).
    valid : ndarray of bool, shape (n_inc, C)
        Which completions exist (a row with ``k`` missing 0/1 values has ``2^k``).
    binary_cells : ndarray of int, shape (m_b, 2)
        ``(incomplete row, column)`` of every missing 0/1 value.
    cell_bits : ndarray, shape (m_b, C)
        The value each missing 0/1 cell takes in each completion.
    continuous_cells : ndarray of int, shape (m_c, 2)
        ``(incomplete row, column)`` of every missing continuous value.
    observed : ndarray of bool, shape (n_inc, p)
        Which values of the incomplete rows are observed.
    X_complete : ndarray, shape (n_c, p)
        The complete rows, uncentred (the covariate models' data).
    means : ndarray, shape (p,)
        What the survival model subtracts from every row (its centring; zeros without).
    """

    models: tuple[CovariateModel, ...]
    complete: np.ndarray
    incomplete: np.ndarray
    completions: np.ndarray
    valid: np.ndarray
    binary_cells: np.ndarray
    cell_bits: np.ndarray
    continuous_cells: np.ndarray
    observed: np.ndarray
    X_complete: np.ndarray
    means: np.ndarray

    @property
    def n_completions(self) -> int:
        """``C``: completions per incomplete row (padded)."""
        return self.completions.shape[1]


def chain_order(terms: list[str], X: np.ndarray, section: ImputationSection | None) -> list[str]:
    """The incomplete terms in chain order (``imputation.order``, else fewest missing first)."""
    missing = {t: int(np.isnan(X[:, k]).sum()) for k, t in enumerate(terms)}
    incomplete = [t for t in terms if missing[t] > 0]
    if section is not None and section.order:
        named = [t for t in section.order if t in incomplete]
        return named + [t for t in incomplete if t not in named]
    return sorted(incomplete, key=lambda t: (missing[t], terms.index(t)))


def build_imputation(
    X: np.ndarray,
    terms: list[str],
    section: ImputationSection | None = None,
    means: np.ndarray | None = None,
) -> Imputation:
    """The structure :func:`imputation_loglik` needs, from a design with NaN for missing.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Uncentred design; NaN marks a missing value.
    terms : list of str
        Its column names.
    section : ImputationSection, optional
        Chain order and per-covariate overrides.
    means : ndarray, shape (p,), optional
        The survival model's centring (observed means when it centres; default zeros).

    Returns
    -------
    Imputation
    """
    X = np.asarray(X, dtype=float)
    nan = np.isnan(X)
    order = chain_order(terms, X, section)
    complete_cols = [k for k, t in enumerate(terms) if t not in order]
    overrides = section.covariates if section is not None else {}
    models = []
    for pos, term in enumerate(order):
        col = terms.index(term)
        conf = overrides.get(term, CovariateModelSection())
        if conf.predictors is not None:
            preds = tuple(terms.index(t) for t in conf.predictors)
        else:
            preds = tuple(complete_cols + [terms.index(t) for t in order[:pos]])
        observed = X[~nan[:, col], col]
        binary = bool(np.isin(np.unique(observed), [0.0, 1.0]).all())
        sd = float(observed.std(ddof=1)) if observed.size > 1 else 1.0
        models.append(
            CovariateModel(
                term=term,
                column=col,
                binary=binary,
                predictors=preds,
                pred_means=np.array([np.nanmean(X[:, j]) for j in preds]),
                center=0.0 if binary else float(observed.mean()),
                scale=1.0 if binary else (sd if sd > 0 else 1.0),
                intercept_scale=conf.intercept_scale,
                slope_sigma=conf.slope_sigma,
                sd_scale=conf.sd_scale,
            )
        )
    row_nan = nan.any(axis=1)
    incomplete = np.flatnonzero(row_nan)
    binary_cols = [m.column for m in models if m.binary]
    k_bin = nan[np.ix_(incomplete, binary_cols)].sum(axis=1) if binary_cols else np.zeros(0)
    C = 2 ** int(k_bin.max()) if k_bin.size else 1
    comp = np.repeat(np.nan_to_num(X[incomplete], nan=0.0)[:, None, :], C, axis=1)
    valid = np.zeros((incomplete.size, C), dtype=bool)
    cells, bits, cont = [], [], []
    for r, i in enumerate(incomplete):
        miss_bin = [j for j in binary_cols if nan[i, j]]
        n_c = 2 ** len(miss_bin)
        valid[r, :n_c] = True
        codes = np.arange(C)
        for b, j in enumerate(miss_bin):
            bit = ((codes >> b) & 1).astype(float)
            comp[r, :, j] = bit
            cells.append((r, j))
            bits.append(np.where(valid[r], bit, 0.0))
        cont += [(r, m.column) for m in models if not m.binary and nan[i, m.column]]
    return Imputation(
        models=tuple(models),
        complete=np.flatnonzero(~row_nan),
        incomplete=incomplete,
        completions=comp,
        valid=valid,
        binary_cells=np.array(cells, dtype=np.int64).reshape(-1, 2),
        cell_bits=np.array(bits).reshape(-1, C),
        continuous_cells=np.array(cont, dtype=np.int64).reshape(-1, 2),
        observed=~nan[incomplete],
        X_complete=X[~row_nan],
        means=np.zeros(X.shape[1]) if means is None else np.asarray(means, dtype=float),
    )


# ---------------------------------------------------------------------------------- numpy


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def covariate_loglik_numpy(
    imp: Imputation, X_rows: np.ndarray, params: dict[str, np.ndarray], observed: np.ndarray
) -> np.ndarray:
    """Sum over the chain of ``log p(x_k | predictors)`` for designs ``X_rows`` (..., p).

    ``observed`` (..., p) says which continuous values are data (a missing continuous value's
    density is that of its latent ``eps``, accounted for separately). Binary values contribute
    whether observed or a completion. ``params`` maps ``alpha_{k}``, ``gamma_{k}``,
    ``sigma_{k}`` (by chain position) to numbers.
    """
    total = np.zeros(X_rows.shape[:-1])
    for k, m in enumerate(imp.models):
        z = X_rows[..., list(m.predictors)] - m.pred_means
        lin = params[f"alpha_{k}"] + z @ params[f"gamma_{k}"]
        x = X_rows[..., m.column]
        if m.binary:
            total = total + x * lin - _softplus(lin)
        else:
            u = (x - m.center) / m.scale
            s = params[f"sigma_{k}"]
            ll = -0.5 * ((u - lin) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi) - np.log(m.scale)
            total = total + np.where(observed[..., m.column], ll, 0.0)
    return total


def incomplete_loglik_numpy(
    imp: Imputation,
    log_hr: np.ndarray,
    lam: np.ndarray,
    pp_inc: PersonPeriod,
    params: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Numpy reference of the incomplete rows (binary missing values only).

    Returns
    -------
    (joint, outcome) : ndarray, shape (n_inc,)
        ``log p(y_i, x_i,obs | theta)`` and ``log p(y_i | x_i,obs, theta)`` per incomplete row.
    """
    comp = imp.completions  # (n_inc, C, p)
    obs = np.broadcast_to(imp.observed[:, None, :], comp.shape)
    cov = covariate_loglik_numpy(imp, comp, params, obs)
    eta = (comp - imp.means) @ log_hr
    cum = pp_inc.exposure @ lam  # (n_inc,)
    ev = pp_inc.event.astype(float)
    surv = ev[:, None] * (np.log(lam[pp_inc.interval])[:, None] + eta) - cum[:, None] * np.exp(
        eta
    )
    mask = np.where(imp.valid, 0.0, -np.inf)
    joint = logsumexp(surv + cov + mask, axis=1)
    return joint, joint - logsumexp(cov + mask, axis=1)


# ---------------------------------------------------------------------------------- PyMC


def _covariate_parameters(imp: Imputation) -> list[dict[str, pt.TensorVariable]]:
    """Create each covariate model's PyMC variables (``imp_{term}_alpha`` ...)."""
    import pymc as pm

    out = []
    for m in imp.models:
        name = f"imp_{m.term}"
        n_pred = len(m.predictors)
        # the data-dependent constants are pm.Data, so refits with other data stay exact
        par = {
            "pred_means": pm.Data(f"{name}_pred_means", np.asarray(m.pred_means, dtype=float)),
            "center": pm.Data(f"{name}_center", float(m.center)),
            "scale": pm.Data(f"{name}_scale", float(m.scale)),
        }
        if m.binary:
            par["alpha"] = pm.Logistic(f"{name}_alpha", 0.0, m.intercept_scale)
            par["gamma"] = pm.Normal(f"{name}_gamma", 0.0, m.slope_sigma, shape=(n_pred,))
        else:
            par["alpha"] = pm.Normal(f"{name}_alpha", 0.0, m.intercept_scale)
            par["gamma"] = pm.Normal(
                f"{name}_gamma", 0.0, m.slope_sigma / par["scale"], shape=(n_pred,)
            )
            par["sigma"] = pm.HalfNormal(f"{name}_sigma", m.sd_scale)
        out.append(par)
    return out


def _linear(m: CovariateModel, par: dict, X: pt.TensorVariable) -> pt.TensorVariable:
    import pytensor.tensor as pt

    if not m.predictors:
        return par["alpha"] + pt.zeros(X.shape[:-1])
    z = X[..., list(m.predictors)] - par["pred_means"]
    return par["alpha"] + pt.dot(z, par["gamma"])


def _covariate_terms(
    imp: Imputation,
    pars: list[dict],
    X: pt.TensorVariable,
    observed: pt.TensorVariable | None,
) -> pt.TensorVariable:
    """``sum_k log p(x_k | predictors)`` over the chain, for designs ``X`` (..., p).

    ``observed`` (broadcasting against ``X``; 1 = data) masks the continuous values that are
    latent (their density is that of ``imp_eps``); None means every value is data.
    """
    import pytensor.tensor as pt

    total = pt.zeros(X.shape[:-1])
    for m, par in zip(imp.models, pars, strict=True):
        lin = _linear(m, par, X)
        x = X[..., m.column]
        if m.binary:
            total = total + x * lin - pt.softplus(lin)
        else:
            u = (x - par["center"]) / par["scale"]
            s = par["sigma"]
            ll = -0.5 * ((u - lin) / s) ** 2 - pt.log(s) - 0.5 * np.log(2 * np.pi)
            ll = ll - pt.log(par["scale"])
            total = total + (ll if observed is None else observed[..., m.column] * ll)
    return total


def imputation_loglik(
    imp: Imputation, log_hr: pt.TensorVariable, lam: pt.TensorVariable, pp_inc: PersonPeriod
) -> pt.TensorVariable:
    """The incomplete rows' survival terms and every covariate model's terms (PyMC).

    Must be called inside the model context of :func:`necc_bayes.survival.model.build_model`
    with the sampled baseline rates ``lam`` (J,). Adds the covariate models' variables, the
    latent continuous values (``imp_eps``), and the deterministics ``missing_prob``,
    ``missing_value`` and ``loglik_incomplete``. Returns the log-density to add to the
    model's potential.
    """
    import pymc as pm
    import pytensor.tensor as pt

    pars = _covariate_parameters(imp)
    X_complete = pm.Data("imp_X_complete", imp.X_complete)
    total = pt.sum(_covariate_terms(imp, pars, X_complete, None))
    if imp.incomplete.size == 0:
        return total
    # data of the incomplete rows, in pm.Data so a compiled model can be re-sampled with other
    # outcomes and other missing values (simulations, SBC): only the chain of covariate models
    # and the positions of missing continuous values are structure
    Xf = pm.Data("imp_completions", imp.completions)
    mask = pm.Data("imp_mask", np.where(imp.valid, 0.0, -np.inf))
    observed = pm.Data("imp_observed", imp.observed.astype(float))
    exposure = pm.Data("imp_exposure", pp_inc.exposure)
    ev = pm.Data("imp_event", pp_inc.event.astype(float))
    interval = pm.Data("imp_interval", pp_inc.interval.astype(np.int64))
    values: list[tuple[np.ndarray, pt.TensorVariable]] = []
    if imp.continuous_cells.size:
        eps = pm.Normal("imp_eps", 0.0, 1.0, shape=(len(imp.continuous_cells),))
        for m, par in zip(imp.models, pars, strict=True):
            if m.binary:
                continue
            which = np.flatnonzero(imp.continuous_cells[:, 1] == m.column)
            if not which.size:
                continue
            rows = imp.continuous_cells[which, 0]
            lin = _linear(m, par, Xf[rows])  # (m_k, C): may depend on the completion
            val = par["center"] + par["scale"] * (lin + par["sigma"] * eps[which][:, None])
            Xf = pt.set_subtensor(Xf[rows, :, m.column], val)
            values.append((which, val))
    cov = _covariate_terms(imp, pars, Xf, observed[:, None, :])  # (n_inc, C)
    means = pm.Data("imp_means", imp.means)
    eta = pt.dot(Xf - means, log_hr)  # (n_inc, C)
    cum = pt.dot(exposure, lam)  # (n_inc,)
    log_lam_end = pt.log(lam)[interval]
    surv = ev[:, None] * (log_lam_end[:, None] + eta) - cum[:, None] * pt.exp(eta)
    joint = pm.math.logsumexp(surv + cov + mask, axis=1)
    marginal_cov = pm.math.logsumexp(cov + mask, axis=1)
    pm.Deterministic("loglik_incomplete", joint - marginal_cov)
    weights = pt.exp(surv + cov + mask - joint[:, None])  # (n_inc, C): completion posterior
    if imp.binary_cells.size:
        cell_rows = pm.Data("imp_cell_rows", imp.binary_cells[:, 0])
        bits = pm.Data("imp_cell_bits", imp.cell_bits)
        pm.Deterministic("missing_prob", pt.sum(weights[cell_rows] * bits, axis=1))
    if values:
        # a latent value may depend on the completion (when missing 0/1 values predict it):
        # report its average over the completions, weighted by their posterior probability
        order = np.concatenate([w for w, _ in values])
        rows = imp.continuous_cells[order, 0]
        stacked = pt.concatenate([v for _, v in values], axis=0)  # (m_c, C)
        mean = pt.sum(stacked * weights[rows], axis=1)
        pm.Deterministic("missing_value", mean[np.argsort(order)])
    return total + pt.sum(joint)


def imputation_structure(imp: Imputation | None) -> tuple | None:
    """What two imputation inputs must share to use one compiled model (refits).

    The chain, the latent cells, the counts of incomplete rows and of missing 0/1 values
    (the lengths of ``loglik_incomplete`` / ``missing_prob``, fixed in compiled outputs).
    """
    if imp is None:
        return None
    chain = tuple((m.term, m.binary, m.predictors) for m in imp.models)
    return (
        chain,
        tuple(map(tuple, imp.continuous_cells.tolist())),
        int(imp.incomplete.size),
        len(imp.binary_cells),
    )


def cell_labels(imp: Imputation, ids: np.ndarray, terms: list[str], cells: np.ndarray) -> list[str]:
    """``"<id>:<term>"`` for each ``(incomplete row, column)`` cell."""
    return [f"{ids[imp.incomplete[r]]}:{terms[c]}" for r, c in cells]


def numpy_params(draw: dict[str, float | np.ndarray], imp: Imputation) -> dict[str, np.ndarray]:
    """Map a draw of the PyMC variables to the ``alpha_k/gamma_k/sigma_k`` of the numpy code."""
    out: dict[str, np.ndarray] = {}
    for k, m in enumerate(imp.models):
        out[f"alpha_{k}"] = np.asarray(draw[f"imp_{m.term}_alpha"])
        out[f"gamma_{k}"] = np.asarray(draw.get(f"imp_{m.term}_gamma", np.zeros(0)))
        if not m.binary:
            out[f"sigma_{k}"] = np.asarray(draw[f"imp_{m.term}_sigma"])
    return out
