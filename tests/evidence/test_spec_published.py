"""The ``dist = "published"`` prior family in the spec and the PEM (fast: no sampling).

References: the evidence layer's mixture (:func:`necc_bayes.evidence.published_prior`,
itself checked against closed forms) for the PyMC log density and the numpy sampler; the
round trip of the resolved spec.toml; DESIGN section 8's keys.
"""

from __future__ import annotations

import math
import tomllib
import warnings

import numpy as np
import pytest

from necc_bayes.errors import SparseDataWarning, SpecError
from necc_bayes.evidence import published_prior
from necc_bayes.spec import parse_spec, to_toml
from necc_bayes.spec.baseline_priors import GammaBaseline
from necc_bayes.spec.priors import NormalPrior, PublishedPrior
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors, build_model
from necc_bayes.survival.prior_sample import sample_prior

RAW = {
    "name": "published",
    "data": {"time": "prs_months", "event": "death"},
    "covariates": {"terms": ["site_abdominal", "n_sites_gt1"]},
    "priors": {"terms": {
        "n_sites_gt1": {"dist": "published", "hr": 1.51, "low": 1.34, "high": 1.70,
                        "robust_weight": 0.2, "source": "Joh et al. 2023"},
        "site_abdominal": {"dist": "published", "hr": 1.677, "low": 1.226, "high": 2.294},
    }},
}


def test_design_section_8_keys_and_defaults():
    p = parse_spec(RAW).priors.terms["site_abdominal"]
    assert isinstance(p, PublishedPrior)
    assert (p.hr, p.low, p.high, p.robust_weight, p.vague_sigma) == (1.677, 1.226, 2.294, 0.0,
                                                                      10.0)
    assert p.mu == pytest.approx(math.log(1.677))
    assert p.sigma == pytest.approx(math.log(2.294 / 1.226) / (2 * 1.959963984540054))
    assert str(p) == "Published(HR 1.677 (1.226–2.294)) = Normal(0.5170, 0.1598)".replace(
        "0.5170", f"{math.log(1.677):.4g}")


def test_resolved_spec_shows_the_converted_numbers_and_reads_back():
    spec = parse_spec(RAW)
    text = to_toml(spec)
    # the conventions block wraps long sentences onto "#   " continuation lines
    comments = " ".join(x.lstrip("# ").strip() for x in text.splitlines() if x.startswith("#"))
    line = comments[comments.index("priors.terms.n_sites_gt1:"):]
    line = line[: line.index("priors.terms.site_abdominal:")]
    assert "published HR 1.51 (1.34–1.7) [Joh et al. 2023]" in line
    assert "0.8·Normal(0.4121, 0.0607) + 0.2·Normal(0, 10)" in line
    assert "mu = log hr = 0.41211" in line and "weights 0.8 / 0.2" in line
    assert parse_spec(tomllib.loads(text)) == spec


@pytest.mark.parametrize("bad, message", [
    ({"hr": 2.0, "low": 1.34, "high": 1.7}, "outside its interval"),
    ({"hr": 1.5, "low": 1.7, "high": 1.34}, "must be below high"),
    ({"hr": 1.5, "low": 1.34, "high": 1.7, "robust_weight": 1.0}, "less than 1"),
    ({"hr": -1.0, "low": 1.34, "high": 1.7}, "greater than 0"),
    ({"low": 1.34, "high": 1.7}, "required key"),
])
def test_bad_published_priors_name_the_key(bad, message):
    raw = {**RAW, "priors": {"terms": {"n_sites_gt1": {"dist": "published", **bad}}}}
    with pytest.raises(SpecError) as err:
        parse_spec(raw, source="models/informed.toml")
    text = str(err.value)
    assert "models/informed.toml" in text and "priors.terms.n_sites_gt1" in text
    assert message in text


def _inputs():
    rng = np.random.default_rng(3)
    t = rng.exponential(10.0, 60)
    e = (rng.random(60) < 0.7).astype(int)
    X = np.column_stack([rng.integers(0, 2, 60), rng.integers(0, 2, 60)]).astype(float)
    return PEMInputs(X - X.mean(0), ["site_abdominal", "n_sites_gt1"], expand(t, e, [5.0, 10.0]))


def _priors():
    spec = parse_spec(RAW)
    return PEMPriors(dict(spec.priors.terms), [], GammaBaseline(alpha=1.0, beta=1.0))


def test_pymc_prior_density_equals_the_evidence_mixture():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparseDataWarning)
        model = build_model(_inputs(), _priors())
    logp_fn = model.compile_logp(vars=[model["log_hr_published"]], sum=False)

    def logp(value: np.ndarray) -> np.ndarray:
        return np.asarray(logp_fn({"log_hr_published": value})[0])
    spec = parse_spec(RAW).priors.terms
    ref = {t: published_prior(p.hr, p.low, p.high, p.robust_weight, p.vague_sigma)
           for t, p in spec.items()}
    order = list(model.coords["term_published"])
    for point in ([0.3, 0.4], [1.5, -2.0], [0.52, 0.41]):
        got = logp(np.array(point))
        want = [float(ref[t].logpdf(v)) for t, v in zip(order, point, strict=True)]
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_numpy_sampler_matches_the_mixture():
    draws = sample_prior(_inputs(), _priors(), np.random.default_rng(11), 200_000).log_hr
    ref = published_prior(1.51, 1.34, 1.70, robust_weight=0.2)
    x = draws[:, 1]  # n_sites_gt1
    # 200,000 draws: 4 Monte Carlo SE of the mean and of P(x <= q) at the informative quantiles
    assert x.mean() == pytest.approx(ref.mean(), abs=4 * ref.sd() / math.sqrt(len(x)))
    for q in (0.1, 0.5, 0.9):
        frac = float(np.mean(x <= ref.ppf(q)))
        assert frac == pytest.approx(q, abs=4 * math.sqrt(q * (1 - q) / len(x)))


def test_new_family_does_not_change_the_draws_of_existing_families():
    # families are appended to COEFFICIENT_FAMILIES: a spec without published priors draws as before
    inputs = _inputs()
    priors = PEMPriors({t: NormalPrior() for t in inputs.terms}, [], GammaBaseline(alpha=1, beta=1))
    a = sample_prior(inputs, priors, np.random.default_rng(5), 10).log_hr
    b = np.random.default_rng(5).standard_normal((10, 2))
    np.testing.assert_array_equal(a, b)
