"""MAP priors for a log-HR term (``dist = "map"`` -> ``"normal_mixture"``) and the fit's
ESS / prior-data conflict table (fast: no sampling).

References: the evidence layer's MAP computation (validated against brute force, NUTS and
RBesT in test_meta_normal.py / test_mixfit.py), the mixture density (closed form) for the
PyMC log density, and a direct Cox fit (statsmodels, data.reference) for the data estimate.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from necc_bayes.errors import DataError, SpecError
from necc_bayes.evidence import conflict_normal, ess, fit_normal, map_normal, normal_mixture
from necc_bayes.evidence.resolve import as_mixture, resolve_map
from necc_bayes.spec import parse_spec, to_toml
from necc_bayes.spec.baseline_priors import GammaBaseline
from necc_bayes.spec.priors import MapPrior, NormalMixturePrior, NormalPrior
from necc_bayes.survival.fit import resolve_spec
from necc_bayes.survival.informative_priors import COLUMNS, informative_prior_table
from necc_bayes.survival.inputs import check_inputs
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors, build_model
from necc_bayes.survival.prior_sample import sample_prior
from necc_bayes.survival.result import PEMResult
from tests.fake_fit import SPEC, fake_result, write_cohort

TABLE = ("study,source,hr,low,high\n"
         "a,Test table A (not real data),1.8,1.2,2.7\n"
         "b,Test table B (not real data),1.3,0.9,1.9\n"
         "c,Test table C (not real data),2.4,1.1,5.2\n")


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "studies.csv"
    path.write_text(TABLE)
    return path


def test_map_resolves_to_the_evidence_layers_mixture(table):
    prior = MapPrior(studies=str(table), robust_weight=0.2)
    got = resolve_map(prior)
    y = [math.log(v) for v in (1.8, 1.3, 2.4)]
    se = [math.log(h / lo) / (2 * 1.959963984540054) for lo, h in ((1.2, 2.7), (0.9, 1.9),
                                                                  (1.1, 5.2))]
    fit = fit_normal(map_normal(y, se).predictive).mixture
    assert got.weights[:-1] == pytest.approx([0.8 * w for w in fit.weights])
    assert got.mu[:-1] == pytest.approx(list(fit.mu))
    assert (got.mu[-1], got.sigma[-1], got.weights[-1]) == (0.0, 10.0, pytest.approx(0.2))
    assert got.labels[-1] == "robust" and "a, b, c" in got.source
    mix = as_mixture(got)
    assert mix is not None and mix.robust_weight == pytest.approx(0.2)


def test_resolved_spec_holds_the_mixture_and_reads_back(tmp_path, table):
    csv = write_cohort(tmp_path / "cohort.csv")
    raw = {**SPEC, "priors": {"terms": {"trt": {"dist": "map", "studies": str(table)}}}}
    resolved = resolve_spec(check_inputs(parse_spec(raw), csv))
    prior = resolved.priors.terms["trt"]
    assert isinstance(prior, NormalMixturePrior)
    assert isinstance(resolved.priors.terms["age"], NormalPrior)
    text = to_toml(resolved)
    assert 'dist = "normal_mixture"' in text and "priors.terms.trt: normal-mixture" in text
    assert parse_spec(tomllib.loads(text)) == resolved


def test_missing_or_bad_study_table_is_bad_input(tmp_path):
    csv = write_cohort(tmp_path / "cohort.csv")
    raw = {**SPEC, "priors": {"terms": {"trt": {"dist": "map", "studies": "no/such.csv"}}}}
    with pytest.raises(DataError):
        resolve_spec(check_inputs(parse_spec(raw), csv))
    with pytest.raises(SpecError):
        parse_spec({**SPEC, "priors": {"terms": {"trt": {"dist": "normal_mixture",
                                                          "weights": [0.5, 0.6],
                                                          "mu": [0, 1], "sigma": [1, 1]}}}})


def test_normal_mixture_family_density_and_sampler():
    rng = np.random.default_rng(2)
    t, e = rng.exponential(10.0, 50), (rng.random(50) < 0.7).astype(int)
    X = rng.integers(0, 2, (50, 2)).astype(float)
    inputs = PEMInputs(X - X.mean(0), ["a", "b"], expand(t, e, [5.0]))
    pa = NormalMixturePrior(weights=[0.7, 0.3], mu=[0.4, 0.0], sigma=[0.2, 2.0])
    pb = NormalMixturePrior(weights=[1.0], mu=[-0.1], sigma=[0.5])
    priors = PEMPriors({"a": pa, "b": pb}, [], GammaBaseline(alpha=1.0, beta=1.0))
    model = build_model(inputs, priors, warn=False)
    fn = model.compile_logp(vars=[model["log_hr_normal_mixture"]], sum=False)
    ref = [normal_mixture(p.weights, p.mu, p.sigma) for p in (pa, pb)]
    for point in ([0.3, 0.1], [-2.0, 1.5]):
        got = np.asarray(fn({"log_hr_normal_mixture": np.array(point)})[0])
        np.testing.assert_allclose(got, [float(m.logpdf(v)) for m, v in zip(ref, point,
                                                                                strict=True)],
                                   rtol=1e-10)
    draws = sample_prior(inputs, priors, np.random.default_rng(3), 100_000).log_hr
    for k, m in enumerate(ref):
        assert draws[:, k].mean() == pytest.approx(m.mean(), abs=4 * m.sd() / math.sqrt(1e5))
        assert draws[:, k].std() == pytest.approx(m.sd(), rel=0.02)


def test_informative_prior_table_of_a_fit(tmp_path):
    base = fake_result(tmp_path)
    published = parse_spec({**SPEC, "priors": {"terms": {"trt": {
        "dist": "published", "hr": 1.51, "low": 1.34, "high": 1.70, "robust_weight": 0.2,
        "source": "test source"}}}}).priors.terms["trt"]
    spec = base.spec.model_copy(update={"priors": base.spec.priors.model_copy(
        update={"terms": {**base.spec.priors.terms, "trt": published}})})
    result = PEMResult(idata=base.idata, spec=spec, checked=base.checked)
    table = informative_prior_table(result)
    assert list(table.columns) == COLUMNS and table["term"].tolist() == ["trt"]
    row = table.iloc[0]
    mix = as_mixture(published)
    assert row["prior_ess_events"] == pytest.approx(ess(mix))
    from necc_bayes.data.reference import cox_breslow

    cohort = result.checked.cohort
    cox = cox_breslow(cohort.time, cohort.event, cohort.design.X)
    check = conflict_normal(mix, float(cox.beta[0]), float(cox.se[0]))
    assert row["data_hr"] == pytest.approx(math.exp(cox.beta[0]))
    assert row["conflict_tail_p"] == pytest.approx(check.tail_p)
    assert row["robust_weight_posterior"] == pytest.approx(check.robust_weight_posterior)
    assert informative_prior_table(base).empty
