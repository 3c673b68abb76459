"""Building the piecewise-exponential (PEM) survival model in PyMC.

The hazard of row ``i`` in interval ``j`` is ``lambda[s_i, j] exp(eta_ij)`` with
``eta_ij = x_i' beta + sum_k x_ik dev[k, j] + b[c_i]`` (see :mod:`necc_bayes.survival.likelihood`
for the notation: strata ``s``, time-varying deviations ``dev``, cluster frailties ``b``; each
part is absent unless the model has it). The likelihood is written in its compact exact form
through sufficient statistics over the unique patterns: one ``pm.Potential`` named
``"loglik"``, identical to the long-format Poisson likelihood up to a constant, costing
O(patterns x intervals) per gradient instead of O(rows x intervals).

Priors build themselves (:mod:`necc_bayes.spec.priors`): each coefficient family creates the
variables of all its terms, each group its own, the SD priors the frailty and smoothing scales.

Baselines
---------
* gamma families (``GammaProcessBaseline`` default, ``GammaBaseline``) with
  ``marginalize=True``: ``lambda_sj ~ Gamma(a_j, b_j)`` integrated out exactly, per stratum;
  only coefficient-level parameters are sampled; the rates are drawn after sampling from
  ``Gamma(a_j + d_sj, b_j + S_sj)`` (``sampling.py``).
* gamma families with ``marginalize=False``: ``baseline_hazard ~ Gamma(a_j, b_j)`` sampled.
  Kept for comparison: with vague priors and intervals without events it mixes badly
  without divergences (issue 11).
* ``RandomWalkBaseline``: non-centred Brownian motion on ``log lambda`` at the interval
  midpoints, one walk per stratum sharing ``baseline_sigma``.

Names in the model
------------------
``pm.Data`` containers (change them with ``pm.set_data`` to re-sample one compiled model):

* data: ``X_u`` (pattern, term), ``E_u`` (pattern, interval), ``d`` (interval, or stratum x
  interval), ``s`` (term); with strata ``stratum_onehot`` (stratum, pattern); with a frailty
  ``cluster_u`` (pattern) and ``events_cluster`` (cluster); with time-varying terms
  ``s_interval_tv`` (term_tv, interval) and ``tv_step_scale`` (tv_step); a single fit of
  50,000 or more one-follow-up patterns has ``last_interval``, ``last_exposure`` (pattern)
  and ``interval_width`` (interval) instead of ``E_u`` (``build_model(compact=True)``);
* the hyperparameters each prior family declares (``normal_mu``, ``normal_sigma``, ...);
* gamma baseline: ``baseline_alpha``, ``baseline_beta`` (interval);
* random walk: ``rw_init_mu``, ``rw_init_sigma``, ``rw_sigma_scale``, ``rw_step_scale``.

Random variables: those of the prior families; ``baseline_hazard`` (unmarginalised gamma) or
``baseline_z0``, ``baseline_z``, ``baseline_sigma`` (random walk); ``frailty_sd``,
``frailty_z``; ``tv_sd``, ``tv_z``. Deterministics: ``log_hr``, ``hr`` (term); ``frailty``
(cluster); ``log_hr_dev`` (term_tv, interval); for the random walk ``baseline_hazard``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from necc_bayes.errors import SparseDataWarning
from necc_bayes.spec.baseline_priors import GammaBaseline, GammaProcessBaseline, RandomWalkBaseline
from necc_bayes.spec.priors import COEFFICIENT_FAMILIES, CoefficientPrior, GroupPrior, SDPrior
from necc_bayes.survival.imputation import Imputation, imputation_loglik
from necc_bayes.survival.intervals import PersonPeriod, default_n_intervals, interval_labels
from necc_bayes.survival.likelihood import SufficientStats, sufficient_stats
from necc_bayes.survival.model_blocks import (
    COMPACT_EXPOSURE_MIN,
    baseline_dims,
    compact_exposure_sum,
    frailty_block,
    prefix_exposure,
    random_walk_block,
    time_varying_block,
)

if TYPE_CHECKING:  # pymc and pytensor are imported where a model is built (import cost)
    import pymc as pm
    import pytensor.tensor as pt

BaselineFamily = GammaProcessBaseline | GammaBaseline | RandomWalkBaseline


@dataclass(frozen=True)
class PEMInputs:
    """Data entering the model.

    Attributes
    ----------
    X : ndarray, shape (n, p)
        Design matrix, already centred when the specification asks for it.
    terms : list of str
        The ``p`` term names (coordinate ``term``).
    pp : PersonPeriod
        Expansion of the same ``n`` rows (subjects, or ``(start, stop]`` pieces).
    ids : ndarray, optional
        Row ids (coordinate ``subject``); ``1..n`` when absent.
    strata : ndarray of int, shape (n,), optional
        Stratum code of each row (``0 .. S-1``; a baseline per stratum).
    strata_labels : list of str
        Names of the strata (coordinate ``stratum``).
    clusters : ndarray of int, shape (n,), optional
        Cluster code of each row (``0 .. C-1``; a shared frailty per cluster).
    cluster_labels : list of str
        Names of the clusters (coordinate ``cluster``).
    time_varying : tuple of str
        Terms with one log-HR per interval (``log_hr + log_hr_dev[:, j]``).
    """

    X: np.ndarray
    terms: list[str]
    pp: PersonPeriod
    ids: np.ndarray | None = None
    strata: np.ndarray | None = None
    strata_labels: list[str] = field(default_factory=list)
    clusters: np.ndarray | None = None
    cluster_labels: list[str] = field(default_factory=list)
    time_varying: tuple[str, ...] = ()
    imputation: Imputation | None = None

    @property
    def subject_ids(self) -> np.ndarray:
        """Row ids, ``1..n`` if none were given."""
        n = self.X.shape[0]
        return np.arange(1, n + 1) if self.ids is None else np.asarray(self.ids)

    @property
    def time(self) -> np.ndarray:
        """Follow-up (stop) time of each row: its entry plus its exposure (``pp.stop``)."""
        return self.pp.stop

    @property
    def tv_index(self) -> np.ndarray:
        """Columns of ``X`` that are time-varying."""
        return np.array([self.terms.index(t) for t in self.time_varying], dtype=np.int64)

    def stats(self) -> SufficientStats:
        """The sufficient statistics of these inputs (of the complete rows, with missing values).

        Computed once per inputs: the model and the conditional baseline draws both use them,
        and collapsing 10^6 rows into patterns takes ~5 s.
        """
        return self._stats

    @cached_property
    def _stats(self) -> SufficientStats:
        if self.imputation is not None:
            keep = self.imputation.complete
            return sufficient_stats(np.asarray(self.X, dtype=float)[keep], self.pp.subset(keep))
        return sufficient_stats(
            np.asarray(self.X, dtype=float),
            self.pp,
            strata=self.strata,
            n_strata=len(self.strata_labels) or None,
            clusters=self.clusters,
            n_clusters=len(self.cluster_labels) or None,
        )


@dataclass(frozen=True)
class PEMPriors:
    """Resolved (all-numeric) priors.

    Attributes
    ----------
    coefficients : dict
        One prior per term that is not in a group.
    groups : list
        Disjoint sets of jointly modelled terms (hierarchical, monotonic).
    baseline : GammaProcessBaseline, GammaBaseline or RandomWalkBaseline
        Baseline prior with every parameter numeric (``prior.resolve``).
    frailty_sd : ExponentialSD or HalfNormalSD, optional
        Prior of the frailty SD (models with clusters).
    tv_sd : ExponentialSD or HalfNormalSD, optional
        Prior of the smoothing scale of the time-varying deviations, per square root of the
        time unit (models with time-varying terms).
    """

    coefficients: dict[str, CoefficientPrior]
    groups: list[GroupPrior]
    baseline: BaselineFamily
    frailty_sd: SDPrior | None = None
    tv_sd: SDPrior | None = None


def sparse_interval_messages(pp: PersonPeriod) -> list[str]:
    """Describe every interval with no events or no one at risk, and suggest a remedy.

    Parameters
    ----------
    pp : PersonPeriod
        The person-period expansion.

    Returns
    -------
    list of str
        One message per problematic interval, then one suggestion; empty if every interval
        has at least one event.
    """
    d = pp.events_per_interval
    at_risk = pp.at_risk_per_interval
    labels = interval_labels(pp)
    out = []
    for j in range(pp.n_intervals):
        if at_risk[j] == 0:
            out.append(f"interval {j} {labels[j]} has no one at risk")
        elif d[j] == 0:
            out.append(f"interval {j} {labels[j]} has no events ({at_risk[j]} at risk)")
    if out:
        n_events = int(d.sum())
        k = max(1, min(pp.n_intervals - len(out), default_n_intervals(pp.exposure.shape[0])))
        out.append(
            f"{len(out)} of {pp.n_intervals} intervals hold no events ({n_events} events in "
            f"all): their baseline rates are informed by the prior only. Consider "
            f'[intervals] rule = "quantile", n = {k} (cuts at event-time quantiles, so every '
            "interval holds events) or fewer fixed cuts."
        )
    return out


def _log_hr(inputs: PEMInputs, priors: PEMPriors) -> pt.TensorVariable:
    """Add the coefficient priors to the current model; return ``log_hr`` in term order."""
    import pymc as pm
    import pytensor.tensor as pt

    terms = list(inputs.terms)
    grouped = [t for g in priors.groups for t in g.terms]
    covered = sorted([*priors.coefficients, *grouped])
    if covered != sorted(terms) or len(set(grouped)) != len(grouped):
        raise ValueError(
            f"every term needs exactly one prior (coefficients or one group); terms {terms}, "
            f"coefficient priors {sorted(priors.coefficients)}, grouped {grouped}"
        )
    pieces: list[tuple[list[str], pt.TensorVariable]] = []
    for family in COEFFICIENT_FAMILIES:
        names = [t for t in terms if type(priors.coefficients.get(t)) is family]
        if names:
            pieces.append((names, family.build(names, [priors.coefficients[t] for t in names])))
    for g, group in enumerate(priors.groups):
        pieces.append((list(group.terms), group.build(g)))
    if not pieces:
        return pm.Deterministic("log_hr", pt.zeros((0,)), dims="term")
    order = [t for names, _ in pieces for t in names]
    stacked = pt.concatenate([v for _, v in pieces])
    perm = np.array([order.index(t) for t in terms], dtype=np.int64)
    return pm.Deterministic("log_hr", stacked[perm], dims="term")


def build_model(
    inputs: PEMInputs, priors: PEMPriors, *, warn: bool = True, compact: bool = False
) -> pm.Model:
    """Build the piecewise-exponential model.

    Parameters
    ----------
    inputs : PEMInputs
        Design matrix, term names, person-period expansion, ids, and the optional strata,
        clusters and time-varying terms.
    priors : PEMPriors
        Resolved coefficient, group, baseline, frailty and smoothing priors.
    warn : bool
        Emit a :class:`~necc_bayes.errors.SparseDataWarning` naming every interval with no
        events (see :func:`sparse_interval_messages`).
    compact : bool
        Allow the compact exposure sum of large cohorts (one fit; never in refits, whose
        data change): with at least
        :data:`~necc_bayes.survival.model_blocks.COMPACT_EXPOSURE_MIN` patterns that are
        each one follow-up from time 0 and no strata, frailty or time-varying terms, ``S``
        comes from each pattern's last interval (containers ``last_interval``,
        ``last_exposure`` (pattern), ``interval_width`` (interval)) instead of ``E_u``.

    Returns
    -------
    pymc.Model
        A fresh model (nothing is sampled). Coordinates ``term``, ``interval``, ``subject``,
        ``pattern`` (and ``stratum``, ``cluster``, ``term_tv`` when used); names as listed in
        the module docstring.
    """
    import pymc as pm
    import pytensor.tensor as pt

    X = np.asarray(inputs.X, dtype=float)
    if X.ndim != 2 or X.shape[1] != len(inputs.terms):
        raise ValueError(f"X has shape {X.shape} but there are {len(inputs.terms)} terms")
    pp = inputs.pp
    if X.shape[0] != pp.exposure.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows, the expansion {pp.exposure.shape[0]}")
    if warn and (msgs := sparse_interval_messages(pp)):
        warnings.warn("\n".join(msgs), SparseDataWarning, stacklevel=2)
    imp = inputs.imputation
    if imp is not None:
        _check_imputation_model(inputs, priors)
    stats = inputs.stats()
    coords: dict[str, object] = {
        "term": list(inputs.terms),
        "interval": interval_labels(pp),
        "subject": inputs.subject_ids,
        "pattern": np.arange(stats.X_u.shape[0]),
    }
    if stats.stratified:
        coords["stratum"] = list(inputs.strata_labels)
    if inputs.clusters is not None:
        coords["cluster"] = list(inputs.cluster_labels)
    bdims = baseline_dims(stats)
    baseline = priors.baseline
    with pm.Model(coords=coords) as model:
        X_u = pm.Data("X_u", stats.X_u, dims=("pattern", "term"))
        plain = not stats.stratified and inputs.clusters is None and not inputs.time_varying
        prefix = (
            prefix_exposure(stats.E_u, pp.widths)
            if compact and plain and stats.X_u.shape[0] >= COMPACT_EXPOSURE_MIN
            else None
        )
        if prefix is None:
            E_u = pm.Data("E_u", stats.E_u, dims=("pattern", "interval"))
        d = pm.Data("d", stats.d_strata if stats.stratified else stats.d, dims=bdims)
        s = pm.Data("s", stats.s, dims="term")
        log_hr = _log_hr(inputs, priors)
        pm.Deterministic("hr", pt.exp(log_hr), dims="term")
        eta = pt.dot(X_u, log_hr)  # (pattern,)
        linear = pt.dot(log_hr, s)
        if inputs.clusters is not None:
            cluster_u = pm.Data("cluster_u", stats.cluster_u, dims="pattern")
            events_c = pm.Data("events_cluster", stats.events_cluster, dims="cluster")
            b = frailty_block(inputs, priors)
            eta = eta + b[cluster_u]
            linear = linear + pt.dot(b, events_c)
        if prefix is not None:  # large cohorts: O(patterns), not O(patterns x intervals)
            S = compact_exposure_sum(eta, *prefix, pp.widths)
        elif plain:
            S = pt.exp(pt.dot(X_u, log_hr)) @ E_u  # (interval,): the original, cheapest form
        else:
            weight = pt.exp(eta)[:, None] * E_u  # (pattern, interval)
            if inputs.time_varying:
                dev = time_varying_block(inputs, priors)
                tv = inputs.tv_index
                s_tv = pm.Data(
                    "s_interval_tv", stats.s_interval[tv], dims=("term_tv", "interval")
                )
                weight = weight * pt.exp(pt.dot(X_u[:, tv], dev))
                linear = linear + pt.sum(dev * s_tv)
            if stats.stratified:
                onehot = pm.Data(
                    "stratum_onehot", stats.stratum_onehot, dims=("stratum", "pattern")
                )
                S = pt.dot(onehot, weight)  # (stratum, interval)
            else:
                S = pt.sum(weight, axis=0)
        if isinstance(baseline, GammaBaseline | GammaProcessBaseline):
            a_j, b_j = baseline.shape_rate(pp.widths)
            a = pm.Data("baseline_alpha", a_j, dims="interval")
            b = pm.Data("baseline_beta", b_j, dims="interval")
            if baseline.marginalize:
                terms = a * pt.log(b) - pt.gammaln(a) + pt.gammaln(a + d) - (a + d) * pt.log(b + S)
                pm.Potential("loglik", pt.sum(terms) + linear)
            else:
                lam = pm.Gamma("baseline_hazard", alpha=a, beta=b, dims=bdims)
                pm.Potential("loglik", pt.sum(d * pt.log(lam)) + linear - pt.sum(lam * S))
        else:
            log_lam = random_walk_block(baseline, pp, stats)
            lam = pm.Deterministic("baseline_hazard", pt.exp(log_lam), dims=bdims)
            pm.Potential("loglik", pt.sum(d * log_lam) + linear - pt.sum(lam * S))
        if imp is not None:
            pm.Potential(
                "loglik_missing", imputation_loglik(imp, log_hr, lam, pp.subset(imp.incomplete))
            )
    return model


def _check_imputation_model(inputs: PEMInputs, priors: PEMPriors) -> None:
    """Missing covariates need sampled baseline rates and no strata, frailty or tv terms."""
    base = priors.baseline
    if isinstance(base, GammaBaseline | GammaProcessBaseline) and base.marginalize:
        raise ValueError(
            "missing covariates are summed out per subject, which needs the baseline rates: "
            "use a gamma baseline with marginalize = false or the random walk"
        )
    if inputs.strata is not None or inputs.clusters is not None or inputs.time_varying:
        raise ValueError(
            "missing = 'model' is not combined with strata, a frailty or time-varying terms"
        )


def is_marginalized(priors: PEMPriors) -> bool:
    """Return True when the baseline is integrated out (drawn after sampling)."""
    base = priors.baseline
    return isinstance(base, GammaBaseline | GammaProcessBaseline) and base.marginalize
