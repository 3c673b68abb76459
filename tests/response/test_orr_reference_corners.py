"""ORR contrasts at the corners against stored high-precision references (issue 22.8).

Reference: ``tests/reference/orr_corners.json``, written once by
``scripts/orr_reference_corners.py`` (provenance in the file): for each corner -- 0/N and
N/N arms, Jeffreys, uniform, skeptical and robust priors, counts up to 10^6 per arm -- the
posterior components in 30-digit mpmath, ``P(p_t > p_c)`` and the CDF of the difference,
risk ratio and odds ratio at the package's 2.5%, 50% and 97.5% quantiles (recorded when the
file was written), by mpmath tanh-sinh quadrature on the probability scale: a method that
shares nothing with :mod:`necc_bayes.response.quadrature` (Gauss-Kronrod over logit p) but
scipy's split points (node placement only) and, where a shape of the treated arm exceeds 10^4
or both exceed 200, scipy's ``betainc`` inside the integrand (there the reference is good to
~1e-13, not 30 digits; the integration, where the old code failed, is still independent).

Checked, with the tolerance beside each assertion:

* the package's posterior components equal the reference's (1e-12 relative);
* ``P(p_t > p_c)`` and the package's CDF of each contrast at the recorded points equal the
  reference CDF (1e-9 absolute; the package refuses a quadrature error estimate above 1e-10);
* the package's quantiles still are the recorded values (1e-8 relative), and the reference CDF
  at them is the level (1e-9 absolute; measured at most 4.7e-11). With the root finder's old
  absolute xtol of 1e-10 this failed at four 10^6-count corners -- the median difference of
  1/10^6 vs 0/10^6 (Jeffreys), a posterior on a 10^-6 scale, sat at a reference CDF of
  0.5 + 3.6e-6 -- hence xtol 1e-15 (``beta_binomial._ROOT_XTOL``).

Fast: the package side only (~1 s); mpmath is not needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from necc_bayes.response import beta_binomial as bb
from necc_bayes.response.comparison import compare
from necc_bayes.response.inputs import parse_prior

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "orr_corners.json"
DATA = json.loads(REFERENCE.read_text())
CORNERS = DATA["corners"]
KINDS = {"diff": "diff", "ratio": "ratio", "odds": "odds"}


def _id(c: dict) -> str:
    t, ct = c["treated"], c["control"]
    return f"{t[0]}of{t[1]}-vs-{ct[0]}of{ct[1]}-{c['prior']}"


def _posteriors(c: dict) -> tuple[bb.BetaMixture, bb.BetaMixture]:
    (xt, nt), (xc, nc) = c["treated"], c["control"]
    resolved = parse_prior(c["prior"], "--prior").resolve((xt + xc) / (nt + nc), "prior")
    return bb.posterior(resolved, xt, nt), bb.posterior(resolved, xc, nc)


def test_the_reference_file_is_complete_and_says_where_it_came_from():
    prov = DATA["provenance"]
    assert prov["tool"].startswith("mpmath") and prov["date"] and prov["method"]
    assert (REFERENCE.parents[2] / prov["call"].split()[-1]).is_file()
    assert DATA["complete"] is True and len(CORNERS) >= 10
    assert max(max(c["treated"][1], c["control"][1]) for c in CORNERS) == 1_000_000
    assert {c["prior"] for c in CORNERS} >= {"jeffreys", "uniform", "skeptical:0.1", "robust:0.1"}


@pytest.mark.parametrize("corner", CORNERS, ids=_id)
def test_posterior_components_match_mpmath(corner):
    for post, ref in zip(_posteriors(corner), ("posterior_treated", "posterior_control"),
                         strict=True):  # fmt: skip
        ref_rows = [[float(v) for v in row] for row in corner[ref]]
        kept = [(w, a, b) for w, a, b in zip(post.weights, post.a, post.b, strict=True) if w > 0]
        assert len(kept) == len(ref_rows)
        for ours, theirs in zip(kept, ref_rows, strict=True):
            assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("corner", CORNERS, ids=_id)
def test_probability_and_contrast_cdfs_match_mpmath(corner):
    treated, control = _posteriors(corner)
    ours = compare(tuple(corner["treated"]), tuple(corner["control"]), corner["prior"])
    assert ours.p_treated_better == pytest.approx(float(corner["p_treated_better"]), abs=1e-9)
    for kind in KINDS:
        for row in corner[f"{kind}_quantiles"]:
            cdf = bb.contrast_cdf(kind, treated, control, row["package"])  # type: ignore[arg-type]
            assert cdf == pytest.approx(float(row["reference_cdf"]), abs=1e-9), (kind, row)


@pytest.mark.parametrize("corner", CORNERS, ids=_id)
def test_quantiles_are_where_the_reference_cdf_reaches_the_level(corner):
    ours = compare(tuple(corner["treated"]), tuple(corner["control"]), corner["prior"])
    values = {
        "diff": (ours.diff_low, ours.diff_median, ours.diff_high),
        "ratio": (ours.rr_low, ours.rr_median, ours.rr_high),
        "odds": (ours.or_low, ours.or_median, ours.or_high),
    }
    for kind, quantiles in values.items():
        rows = corner[f"{kind}_quantiles"]
        for level, value, row in zip(DATA["levels"], quantiles, rows, strict=True):
            assert value == pytest.approx(row["package"], rel=1e-8), (kind, level)
            assert float(row["reference_cdf"]) == pytest.approx(level, abs=1e-9), (kind, row)
