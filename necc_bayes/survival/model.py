"""Building the piecewise-exponential (PEM) survival model in PyMC.

The hazard of subject ``i`` in interval ``j`` is ``lambda_j exp(x_i' beta)``. The likelihood
is written in its compact exact form through sufficient statistics (see ``pem_math``): events
per interval ``d``, ``s = sum_i delta_i x_i`` and ``S_j(beta) = exp(X_u beta) @ E_u`` over the
unique covariate patterns. It is one ``pm.Potential`` named ``"loglik"``, identical to the
long-format Poisson likelihood up to a constant, and costs O(patterns x intervals) per
gradient instead of O(subjects x intervals) rows.

Baselines
---------
* ``GammaBaseline(marginalize=True)`` (default): ``lambda_j ~ Gamma(a, b)`` integrated out
  exactly; only coefficient-level parameters are sampled. ``lambda_j`` is drawn after sampling
  from ``Gamma(a + d_j, b + S_j(beta))`` (``sampling.py``).
* ``GammaBaseline(marginalize=False)``: ``baseline_hazard ~ Gamma(a, b)`` sampled (log
  transform). Kept for comparison: with vague priors and intervals without events it mixes
  badly without divergences (issue 11).
* ``RandomWalkBaseline``: non-centred Gaussian random walk on ``log lambda_j``.

Names in the model
------------------
``pm.Data`` containers (change them with ``pm.set_data`` to re-sample one compiled model):

* data: ``X_u`` (pattern, term), ``E_u`` (pattern, interval), ``d`` (interval), ``s`` (term);
* normal terms: ``normal_mu``, ``normal_sigma`` (term_normal);
* Student-t terms: ``student_t_nu``, ``student_t_mu``, ``student_t_sigma`` (term_student_t);
* horseshoe: ``hs_global_scale``, ``hs_slab_scale``, ``hs_slab_df``;
* group ``g``: ``group{g}_mu_sigma``, ``group{g}_tau_sigma`` (hierarchical) or
  ``group{g}_sigma`` (monotonic);
* gamma baseline: ``baseline_alpha``, ``baseline_beta``;
* random walk: ``rw_init_mu``, ``rw_init_sigma``, ``rw_sigma_scale``.

Random variables: ``log_hr_normal``, ``log_hr_student_t``; ``hs_z``, ``hs_tau``, ``hs_lambda``,
``hs_c2``; ``group{g}_mu``, ``group{g}_tau``, ``group{g}_z`` (hierarchical) or
``group{g}_total``, ``group{g}_zeta`` (monotonic); ``baseline_hazard`` (unmarginalised
gamma) or ``baseline_z0``, ``baseline_z``, ``baseline_sigma`` (random walk; ``baseline_z`` has dims
``baseline_step``, the intervals after the first). Deterministics:
``log_hr``, ``hr`` (term) and, for the random walk, ``baseline_hazard`` (interval).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from necc_bayes.errors import SparseDataWarning
from necc_bayes.spec.priors import (
    GammaBaseline,
    HierarchicalGroup,
    HorseshoePrior,
    MonotonicGroup,
    NormalPrior,
    RandomWalkBaseline,
    StudentTPrior,
)
from necc_bayes.survival.intervals import PersonPeriod, default_n_intervals
from necc_bayes.survival.likelihood import SufficientStats, sufficient_stats


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
        Expansion of the same ``n`` subjects.
    ids : ndarray, optional
        Subject ids (coordinate ``subject``); ``1..n`` when absent.
    """

    X: np.ndarray
    terms: list[str]
    pp: PersonPeriod
    ids: np.ndarray | None = None

    @property
    def subject_ids(self) -> np.ndarray:
        """Subject ids, ``1..n`` if none were given."""
        n = self.X.shape[0]
        return np.arange(1, n + 1) if self.ids is None else np.asarray(self.ids)

    @property
    def time(self) -> np.ndarray:
        """Follow-up (stop) time of each row: its entry plus its exposure (``pp.stop``)."""
        return self.pp.stop


@dataclass(frozen=True)
class PEMPriors:
    """Resolved (all-numeric) priors.

    Attributes
    ----------
    coefficients : dict
        One prior per term that is not in a group.
    groups : list of HierarchicalGroup
        Disjoint sets of partially pooled terms.
    baseline : GammaBaseline or RandomWalkBaseline
        Baseline prior with every parameter numeric (see ``priors.resolve_baseline``).
    """

    coefficients: dict[str, NormalPrior | StudentTPrior | HorseshoePrior]
    groups: list[HierarchicalGroup | MonotonicGroup]
    baseline: GammaBaseline | RandomWalkBaseline


def interval_labels(pp: PersonPeriod) -> list[str]:
    """Return labels ``"(0, c1]", ..., "(ck, inf)"`` for the intervals."""
    b = pp.bounds
    labels = [f"({b[j]:g}, {b[j + 1]:g}]" for j in range(pp.n_intervals - 1)]
    return [*labels, f"({b[-2]:g}, inf)"]


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


def _coef_data(name: str, values: list[float], dims: str) -> pt.TensorVariable:
    return pm.Data(name, np.asarray(values, dtype=float), dims=dims)


def _log_hr(inputs: PEMInputs, priors: PEMPriors) -> pt.TensorVariable:
    """Add the coefficient priors to the current model; return ``log_hr`` in term order."""
    terms = list(inputs.terms)
    grouped = [t for g in priors.groups for t in g.terms]
    covered = sorted([*priors.coefficients, *grouped])
    if covered != sorted(terms) or len(set(grouped)) != len(grouped):
        raise ValueError(
            f"every term needs exactly one prior (coefficients or one group); terms {terms}, "
            f"coefficient priors {sorted(priors.coefficients)}, grouped {grouped}"
        )
    model = pm.modelcontext(None)
    pieces: list[tuple[list[str], pt.TensorVariable]] = []
    by_family: dict[str, list[str]] = {"normal": [], "student_t": [], "horseshoe": []}
    for t in terms:
        if t in priors.coefficients:
            by_family[priors.coefficients[t].dist].append(t)

    if names := by_family["normal"]:
        model.add_coord("term_normal", names)
        ps = [priors.coefficients[t] for t in names]
        mu = _coef_data("normal_mu", [p.mu for p in ps], "term_normal")  # type: ignore[union-attr]
        sd = _coef_data("normal_sigma", [p.sigma for p in ps], "term_normal")  # type: ignore[union-attr]
        pieces.append((names, pm.Normal("log_hr_normal", mu, sd, dims="term_normal")))

    if names := by_family["student_t"]:
        model.add_coord("term_student_t", names)
        ts = [priors.coefficients[t] for t in names]
        nu = _coef_data("student_t_nu", [p.nu for p in ts], "term_student_t")  # type: ignore[union-attr]
        mu = _coef_data("student_t_mu", [p.mu for p in ts], "term_student_t")  # type: ignore[union-attr]
        sd = _coef_data("student_t_sigma", [p.sigma for p in ts], "term_student_t")  # type: ignore[union-attr]
        pieces.append(
            (names, pm.StudentT("log_hr_student_t", nu=nu, mu=mu, sigma=sd, dims="term_student_t"))
        )

    if names := by_family["horseshoe"]:
        pieces.append((names, _horseshoe(names, [priors.coefficients[t] for t in names])))

    for g, group in enumerate(priors.groups):
        dim = f"group{g}_term"
        model.add_coord(dim, group.terms)
        if isinstance(group, MonotonicGroup):
            sigma = pm.Data(f"group{g}_sigma", float(group.sigma))
            total = pm.Normal(f"group{g}_total", 0.0, sigma)
            conc = np.full(len(group.terms), float(group.concentration))
            zeta = pm.Dirichlet(f"group{g}_zeta", a=conc, dims=dim)
            pieces.append((list(group.terms), total * zeta))
            continue
        mu_sigma = pm.Data(f"group{g}_mu_sigma", float(group.mu_sigma))
        tau_sigma = pm.Data(f"group{g}_tau_sigma", float(group.tau_sigma))
        mu = pm.Normal(f"group{g}_mu", 0.0, mu_sigma)
        tau = pm.HalfNormal(f"group{g}_tau", tau_sigma)
        z = pm.Normal(f"group{g}_z", 0.0, 1.0, dims=dim)
        pieces.append((list(group.terms), mu + tau * z))

    if not pieces:
        return pm.Deterministic("log_hr", pt.zeros((0,)), dims="term")
    order = [t for names, _ in pieces for t in names]
    stacked = pt.concatenate([v for _, v in pieces])
    perm = np.array([order.index(t) for t in terms], dtype=np.int64)
    return pm.Deterministic("log_hr", stacked[perm], dims="term")


def _horseshoe(names: list[str], hs: list) -> pt.TensorVariable:
    """Regularised horseshoe (Piironen & Vehtari 2017), non-centred, shared by ``names``."""
    first: HorseshoePrior = hs[0]
    if any(h != first for h in hs):
        raise ValueError(
            f"the horseshoe is shared by terms {names}: they must use the same "
            f"global_scale, slab_scale and slab_df, got {[str(h) for h in hs]}"
        )
    pm.modelcontext(None).add_coord("term_horseshoe", names)
    global_scale = pm.Data("hs_global_scale", float(first.global_scale))
    slab_scale = pm.Data("hs_slab_scale", float(first.slab_scale))
    slab_df = pm.Data("hs_slab_df", float(first.slab_df))
    tau = pm.HalfStudentT("hs_tau", nu=1.0, sigma=global_scale)
    lam = pm.HalfCauchy("hs_lambda", beta=1.0, dims="term_horseshoe")
    c2 = pm.InverseGamma("hs_c2", alpha=slab_df / 2.0, beta=slab_df * slab_scale**2 / 2.0)
    z = pm.Normal("hs_z", 0.0, 1.0, dims="term_horseshoe")
    lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
    return z * tau * lam_tilde


def _data_stats(stats: SufficientStats) -> tuple[pt.TensorVariable, ...]:
    X_u = pm.Data("X_u", stats.X_u, dims=("pattern", "term"))
    E_u = pm.Data("E_u", stats.E_u, dims=("pattern", "interval"))
    d = pm.Data("d", stats.d, dims="interval")
    s = pm.Data("s", stats.s, dims="term")
    return X_u, E_u, d, s


def build_model(inputs: PEMInputs, priors: PEMPriors, *, warn: bool = True) -> pm.Model:
    """Build the piecewise-exponential model.

    Parameters
    ----------
    inputs : PEMInputs
        Design matrix, term names, person-period expansion and subject ids.
    priors : PEMPriors
        Resolved coefficient, group and baseline priors.
    warn : bool
        Emit a :class:`~necc_bayes.errors.SparseDataWarning` naming every interval with no
        events (see :func:`sparse_interval_messages`).

    Returns
    -------
    pymc.Model
        A fresh model (nothing is sampled). Coordinates ``term``, ``interval``, ``subject``
        and ``pattern``; names as listed in the module docstring.
    """
    X = np.asarray(inputs.X, dtype=float)
    if X.ndim != 2 or X.shape[1] != len(inputs.terms):
        raise ValueError(f"X has shape {X.shape} but there are {len(inputs.terms)} terms")
    pp = inputs.pp
    if X.shape[0] != pp.exposure.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows, the expansion {pp.exposure.shape[0]}")
    if warn and (msgs := sparse_interval_messages(pp)):
        warnings.warn("\n".join(msgs), SparseDataWarning, stacklevel=2)
    stats = sufficient_stats(X, pp)
    coords = {
        "term": list(inputs.terms),
        "interval": interval_labels(pp),
        "subject": inputs.subject_ids,
        "pattern": np.arange(stats.X_u.shape[0]),
    }
    baseline = priors.baseline
    with pm.Model(coords=coords) as model:
        X_u, E_u, d, s = _data_stats(stats)
        log_hr = _log_hr(inputs, priors)
        pm.Deterministic("hr", pt.exp(log_hr), dims="term")
        S = pt.exp(pt.dot(X_u, log_hr)) @ E_u  # (interval,)
        linear = pt.dot(log_hr, s)
        if isinstance(baseline, GammaBaseline):
            a = pm.Data("baseline_alpha", float(baseline.alpha))
            b = pm.Data("baseline_beta", float(baseline.beta))
            if baseline.marginalize:
                terms = a * pt.log(b) - pt.gammaln(a) + pt.gammaln(a + d) - (a + d) * pt.log(b + S)
                pm.Potential("loglik", pt.sum(terms) + linear)
            else:
                lam = pm.Gamma("baseline_hazard", alpha=a, beta=b, dims="interval")
                pm.Potential("loglik", pt.sum(d * pt.log(lam)) + linear - pt.sum(lam * S))
        else:
            init_mu = pm.Data("rw_init_mu", float(baseline.init_mu))
            init_sigma = pm.Data("rw_init_sigma", float(baseline.init_sigma))
            sigma_scale = pm.Data("rw_sigma_scale", float(baseline.sigma_scale))
            z0 = pm.Normal("baseline_z0", 0.0, 1.0)
            sigma = pm.HalfNormal("baseline_sigma", sigma_scale)
            model.add_coord("baseline_step", interval_labels(pp)[1:])
            steps = pm.Normal("baseline_z", 0.0, 1.0, dims="baseline_step")
            log_lam = (
                init_mu
                + init_sigma * z0
                + pt.concatenate([pt.zeros((1,)), pt.cumsum(sigma * steps)])
            )
            lam = pm.Deterministic("baseline_hazard", pt.exp(log_lam), dims="interval")
            pm.Potential("loglik", pt.sum(d * log_lam) + linear - pt.sum(lam * S))
    return model


def is_marginalized(priors: PEMPriors) -> bool:
    """Return True when the baseline is integrated out (drawn after sampling)."""
    return isinstance(priors.baseline, GammaBaseline) and priors.baseline.marginalize
