"""Structure, log-density and gradients of the PyMC PEM (fast tier: no sampling).

The reference for every log-density is ``necc_bayes.survival.likelihood`` (itself checked against
the
long-format Poisson likelihood and quadrature in ``test_pem_math.py``) plus the prior
log-densities from ``scipy.stats``.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pymc as pm
import pytest
from scipy import stats

from necc_bayes.errors import SparseDataWarning
from necc_bayes.spec.baseline_priors import GammaBaseline, RandomWalkBaseline
from necc_bayes.spec.priors import HierarchicalGroup, HorseshoePrior, NormalPrior, StudentTPrior
from necc_bayes.survival import likelihood as pem_math
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import (
    PEMInputs,
    PEMPriors,
    build_model,
    interval_labels,
    sparse_interval_messages,
)

TERMS = ["a", "b", "c", "d"]


@pytest.fixture(scope="module")
def inputs() -> PEMInputs:
    rng = np.random.default_rng(11)
    n = 40
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, size=(n, 3))]).astype(float)
    X = X - X.mean(0)
    time = rng.exponential(8.0, size=n) + 0.05
    event = rng.integers(0, 2, size=n)
    pp = expand(time, event, np.array([1.0, 3.0, 6.0, 10.0]))
    return PEMInputs(X=X, terms=TERMS, pp=pp, ids=np.arange(101, 101 + n))


COEF_SETS = {
    "normal": ({t: NormalPrior(mu=0.1, sigma=1.5) for t in TERMS}, []),
    "student_t": ({t: StudentTPrior(nu=4.0, mu=-0.2, sigma=0.7) for t in TERMS}, []),
    "horseshoe": ({t: HorseshoePrior() for t in TERMS}, []),
    "mixed": (
        {"a": NormalPrior(sigma=2.0), "b": StudentTPrior()},
        [HierarchicalGroup(terms=["d", "c"], mu_sigma=0.8, tau_sigma=0.3)],
    ),
}
BASELINES = {
    "gamma_marginal": GammaBaseline(alpha=0.5, beta=4.0),
    "gamma": GammaBaseline(alpha=0.5, beta=4.0, marginalize=False),
    "random_walk": RandomWalkBaseline(init_mu=-2.0, init_sigma=1.5, sigma_scale=0.4),
}
COMBOS = list(itertools.product(COEF_SETS, BASELINES))


def make(inputs: PEMInputs, coef: str, base: str) -> tuple[pm.Model, PEMPriors]:
    c, g = COEF_SETS[coef]
    priors = PEMPriors(coefficients=c, groups=g, baseline=BASELINES[base])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseDataWarning)
        return build_model(inputs, priors), priors


def random_point(model: pm.Model, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in model.initial_point().items()
    }


def prior_logp(point: dict[str, np.ndarray], priors: PEMPriors) -> float:
    """Sum of the prior log-densities (constrained space, no Jacobian), with scipy.stats."""
    total = 0.0
    c = list(priors.coefficients.values())
    fam = {p.dist for p in c}
    if "normal" in fam:
        ps = [p for p in c if isinstance(p, NormalPrior)]
        total += sum(
            stats.norm.logpdf(v, p.mu, p.sigma)
            for v, p in zip(point["log_hr_normal"], ps, strict=True)
        )
    if "student_t" in fam:
        ts = [p for p in c if isinstance(p, StudentTPrior)]
        total += sum(
            stats.t.logpdf(v, p.nu, p.mu, p.sigma)
            for v, p in zip(point["log_hr_student_t"], ts, strict=True)
        )
    if "horseshoe" in fam:
        h = next(p for p in c if isinstance(p, HorseshoePrior))
        tau = np.exp(point["hs_tau_log__"])
        total += np.log(2) + stats.t.logpdf(tau, 1, scale=h.global_scale)
        total += stats.halfcauchy.logpdf(np.exp(point["hs_lambda_log__"])).sum()
        total += stats.invgamma.logpdf(
            np.exp(point["hs_c2_log__"]), h.slab_df / 2, scale=h.slab_df * h.slab_scale**2 / 2
        )
        total += stats.norm.logpdf(point["hs_z"]).sum()
    for g, grp in enumerate(priors.groups):
        total += stats.norm.logpdf(point[f"group{g}_mu"], 0, grp.mu_sigma)
        total += stats.halfnorm.logpdf(np.exp(point[f"group{g}_tau_log__"]), scale=grp.tau_sigma)
        total += stats.norm.logpdf(point[f"group{g}_z"]).sum()
    b = priors.baseline
    if isinstance(b, GammaBaseline) and not b.marginalize:
        lam = np.exp(point["baseline_hazard_log__"])
        total += stats.gamma.logpdf(lam, b.alpha, scale=1 / b.beta).sum()
    if isinstance(b, RandomWalkBaseline):
        total += stats.norm.logpdf(point["baseline_z0"])
        total += stats.halfnorm.logpdf(np.exp(point["baseline_sigma_log__"]), scale=b.sigma_scale)
        total += stats.norm.logpdf(point["baseline_z"]).sum()
    return float(total)


def log_hr_at(point: dict[str, np.ndarray], priors: PEMPriors) -> np.ndarray:
    """Reassemble log-HR in TERMS order from a point (numpy mirror of the model)."""
    out = {}
    c = priors.coefficients
    for fam, name in [("normal", "log_hr_normal"), ("student_t", "log_hr_student_t")]:
        names = [t for t in TERMS if t in c and c[t].dist == fam]
        out.update(dict(zip(names, point.get(name, []), strict=True)))
    names = [t for t in TERMS if t in c and c[t].dist == "horseshoe"]
    if names:
        h = c[names[0]]
        assert isinstance(h, HorseshoePrior)
        tau = np.exp(point["hs_tau_log__"])
        lam = np.exp(point["hs_lambda_log__"])
        c2 = np.exp(point["hs_c2_log__"])
        beta = point["hs_z"] * tau * np.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
        out.update(dict(zip(names, beta, strict=True)))
    for g, grp in enumerate(priors.groups):
        beta = point[f"group{g}_mu"] + np.exp(point[f"group{g}_tau_log__"]) * point[f"group{g}_z"]
        out.update(dict(zip(grp.terms, beta, strict=True)))
    return np.array([out[t] for t in TERMS])


def baseline_at(
    point: dict[str, np.ndarray], priors: PEMPriors, widths: np.ndarray
) -> np.ndarray | None:
    """Rates at a point: the random walk's steps have sd sigma * sqrt(midpoint spacing)."""
    b = priors.baseline
    if isinstance(b, RandomWalkBaseline):
        sigma = np.exp(point["baseline_sigma_log__"])
        mid = np.cumsum(widths) - widths / 2
        scale = np.sqrt(np.diff(mid))
        log_lam = b.init_mu + b.init_sigma * point["baseline_z0"]
        steps = np.cumsum(sigma * scale * point["baseline_z"])
        return np.exp(log_lam + np.concatenate([[0.0], steps]))
    if not b.marginalize:
        return np.exp(point["baseline_hazard_log__"])
    return None


@pytest.mark.parametrize(("coef", "base"), COMBOS)
def test_logp_matches_numpy_reference(inputs, coef, base):
    """model.compile_logp(jacobian=False) == pem_math log-likelihood + scipy prior logpdfs."""
    model, priors = make(inputs, coef, base)
    logp = model.compile_logp(jacobian=False)
    st = pem_math.sufficient_stats(inputs.X, inputs.pp)
    # PyMC's HalfStudentT / HalfCauchy / InverseGamma log-densities differ from scipy's by
    # constants of up to 2e-8 (checked: 1.8e-8, 1.9e-9, 7.6e-9 at any x), hence 1e-7 there.
    tol = 1e-7 if coef == "horseshoe" else 1e-8
    for seed in (1, 2):
        point = random_point(model, seed)
        beta = log_hr_at(point, priors)
        lam = baseline_at(point, priors, inputs.pp.widths)
        if lam is None:
            b = priors.baseline
            assert isinstance(b, GammaBaseline)
            ll = pem_math.loglik_marginal(beta, b.alpha, b.beta, st)  # type: ignore[arg-type]
        else:
            ll = pem_math.loglik_conditional(beta, lam, st)
        assert logp(point) == pytest.approx(ll + prior_logp(point, priors), abs=tol)


@pytest.mark.parametrize(("coef", "base"), COMBOS)
def test_finite_gradients(inputs, coef, base):
    model, _ = make(inputs, coef, base)
    dlogp = model.compile_dlogp()
    for point in (model.initial_point(), random_point(model, 3)):
        g = dlogp(point)
        assert np.all(np.isfinite(g))
        assert g.size == sum(np.size(v) for v in point.values())


@pytest.mark.parametrize(("coef", "base"), COMBOS)
def test_log_hr_in_term_order(inputs, coef, base):
    model, priors = make(inputs, coef, base)
    point = random_point(model, 4)
    outs = model.replace_rvs_by_values([model["log_hr"], model["hr"]])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    log_hr, hr = fn(point)
    np.testing.assert_allclose(log_hr, log_hr_at(point, priors), rtol=1e-12)
    np.testing.assert_allclose(hr, np.exp(log_hr), rtol=1e-12)


def test_structure_marginal_gamma_has_no_baseline_rvs(inputs):
    model, _ = make(inputs, "mixed", "gamma_marginal")
    names = {rv.name for rv in model.free_RVs}
    assert names == {"log_hr_normal", "log_hr_student_t", "group0_mu", "group0_tau", "group0_z"}
    assert [p.name for p in model.potentials] == ["loglik"]
    assert list(model.coords["term"]) == TERMS
    assert list(model.coords["interval"]) == interval_labels(inputs.pp)
    assert list(model.coords["subject"]) == list(range(101, 141))
    assert list(model.coords["group0_term"]) == ["d", "c"]
    assert model.named_vars_to_dims["log_hr"] == ("term",)


def test_structure_other_baselines(inputs):
    m_gamma, _ = make(inputs, "normal", "gamma")
    assert {rv.name for rv in m_gamma.free_RVs} == {"log_hr_normal", "baseline_hazard"}
    assert m_gamma.named_vars_to_dims["baseline_hazard"] == ("interval",)
    m_rw, _ = make(inputs, "horseshoe", "random_walk")
    assert {rv.name for rv in m_rw.free_RVs} == {
        "hs_tau",
        "hs_lambda",
        "hs_c2",
        "hs_z",
        "baseline_z0",
        "baseline_sigma",
        "baseline_z",
    }
    assert "baseline_hazard" in {d.name for d in m_rw.deterministics}


def test_set_data_changes_hyperparameters(inputs):
    """Prior hyperparameters live in pm.Data: a sweep can change them without rebuilding."""
    model, priors = make(inputs, "normal", "gamma_marginal")
    point = random_point(model, 5)
    before = model.compile_logp(jacobian=False)(point)
    with model:
        J = inputs.pp.n_intervals
        pm.set_data({"normal_sigma": np.full(4, 3.0), "baseline_alpha": np.full(J, 2.0)})
    after = model.compile_logp(jacobian=False)(point)
    beta = log_hr_at(point, priors)
    st = pem_math.sufficient_stats(inputs.X, inputs.pp)
    expected = before + (
        stats.norm.logpdf(beta, 0.1, 3.0).sum()
        - stats.norm.logpdf(beta, 0.1, 1.5).sum()
        + pem_math.loglik_marginal(beta, 2.0, 4.0, st)
        - pem_math.loglik_marginal(beta, 0.5, 4.0, st)
    )
    assert after == pytest.approx(expected, abs=1e-8)


def test_every_term_needs_one_prior(inputs):
    priors = PEMPriors({"a": NormalPrior()}, [], GammaBaseline(alpha=1.0, beta=1.0))
    with pytest.raises(ValueError, match="exactly one prior"):
        build_model(inputs, priors, warn=False)
    overlapping = PEMPriors(
        {"a": NormalPrior(), "b": NormalPrior(), "c": NormalPrior()},
        [HierarchicalGroup(terms=["c", "d"])],
        GammaBaseline(alpha=1.0, beta=1.0),
    )
    with pytest.raises(ValueError, match="exactly one prior"):
        build_model(inputs, overlapping, warn=False)


def test_horseshoe_must_be_shared(inputs):
    priors = PEMPriors(
        {t: HorseshoePrior(global_scale=0.5 if t != "d" else 1.0) for t in TERMS},
        [],
        GammaBaseline(alpha=1.0, beta=1.0),
    )
    with pytest.raises(ValueError, match="horseshoe is shared"):
        build_model(inputs, priors, warn=False)


def test_shape_mismatch_refused(inputs):
    bad = PEMInputs(X=inputs.X[:, :3], terms=TERMS, pp=inputs.pp)
    with pytest.raises(ValueError, match="terms"):
        build_model(bad, make(inputs, "normal", "gamma")[1], warn=False)


def test_sparse_interval_messages_and_warning():
    """Intervals 1 and 3 of a hand-made cohort hold no events: both are named."""
    time = np.array([0.5, 0.8, 2.5, 3.5, 4.5, 6.0, 6.5, 7.0])
    event = np.array([1, 1, 0, 0, 1, 0, 0, 1])
    pp = expand(time, event, np.array([1.0, 3.0, 5.0, 6.2]))
    assert pp.events_per_interval.tolist() == [2, 0, 1, 0, 1]
    msgs = sparse_interval_messages(pp)
    assert msgs[0] == "interval 1 (1, 3] has no events (6 at risk)"
    assert msgs[1] == "interval 3 (5, 6.2] has no events (3 at risk)"
    assert 'rule = "quantile", n = 2' in msgs[2]
    assert len(msgs) == 3
    inputs = PEMInputs(X=np.zeros((8, 1)), terms=["x"], pp=pp)
    priors = PEMPriors({"x": NormalPrior()}, [], GammaBaseline(alpha=1.0, beta=1.0))
    with pytest.warns(SparseDataWarning, match=r"interval 1 \(1, 3\][\s\S]*interval 3"):
        build_model(inputs, priors)


def test_no_messages_when_every_interval_has_events(inputs):
    pp = expand(np.array([1.0, 2.0, 3.0]), np.array([1, 1, 1]), np.array([1.5]))
    assert sparse_interval_messages(pp) == []


def test_no_covariates(inputs):
    """An intercept-only model builds; the marginal gamma model then has no free RVs."""
    none = PEMInputs(X=np.zeros((inputs.X.shape[0], 0)), terms=[], pp=inputs.pp)
    priors = PEMPriors({}, [], GammaBaseline(alpha=1.0, beta=1.0))
    model = build_model(none, priors, warn=False)
    assert model.free_RVs == []
    st = pem_math.sufficient_stats(none.X, none.pp)
    assert model.compile_logp()({}) == pytest.approx(
        pem_math.loglik_marginal(np.zeros(0), 1.0, 1.0, st), abs=1e-9
    )
