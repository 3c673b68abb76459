"""High-precision (mpmath) references for the ORR contrasts at extreme counts (issue 22).

Writes ``tests/reference/orr_corners.json``: for each corner (counts per arm and a prior), the
posterior components recomputed in mpmath, ``P(p_t > p_c)``, and for the 2.5%, 50% and 97.5%
quantiles of the difference, risk ratio and odds ratio the package's value at recording time
with the reference CDF there: a quantile is right when the reference CDF at it equals its level
(the test checks both that and that the package still gives the recorded value).

Method (independent of :mod:`necc_bayes.response.quadrature`): 30-digit arithmetic;
``P(contrast <= t) = ∫_0^1 f_c(y) F_t(g_t(y)) dy`` on the probability scale by tanh-sinh
quadrature (``mpmath.quad``), split at the control's quantiles, at the points where ``g_t``
crosses the treated arm's quantiles and where it leaves [0, 1]; ``F_t`` is mpmath's
regularised incomplete beta (30 digits) when one shape is at most 200 and both at most 10^4,
and scipy's ``betainc`` (double precision, relative error ~1e-15) otherwise, where mpmath's
hypergeometric series and a 30-digit continued fraction are too slow (0.13 s per value at
shapes 5e5; one 10^6-count corner ran over 20 minutes without finishing) -- there the
reference is good to ~1e-13, not 30 digits. What the reference shares with the package is
therefore at most scipy's incomplete beta at the large corners, never the integration: the
package's failure mode (a quadrature missing the spike of a 10^6-count density) is what it
checks. The split points are taken from scipy: they only place the quadrature nodes.

Run: ``.venv/bin/python scripts/orr_reference_corners.py`` (about 30 minutes under load; the
file is rewritten after each corner).
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import mpmath as mp
from scipy import special

from necc_bayes.response.comparison import compare
from necc_bayes.response.inputs import parse_prior

mp.mp.dps = 30
OUT = Path(__file__).resolve().parents[1] / "tests" / "reference" / "orr_corners.json"

CORNERS = [
    ((110, 110), (0, 41), "jeffreys"),  # issue 22: quadrature did not converge
    ((120, 120), (0, 41), "uniform"),
    ((120, 120), (0, 41), "jeffreys"),  # issue 22, with --all-priors
    ((120, 120), (0, 41), "skeptical:0.1"),
    ((120, 120), (0, 41), "robust:0.1"),
    ((0, 1), (1, 1), "jeffreys"),
    ((1_000_000, 1_000_000), (0, 1_000_000), "jeffreys"),
    ((1, 1_000_000), (0, 1_000_000), "jeffreys"),
    ((0, 1_000_000), (0, 1_000_000), "jeffreys"),
    ((999_999, 1_000_000), (1_000_000, 1_000_000), "uniform"),
    ((500_000, 1_000_000), (499_000, 1_000_000), "uniform"),
]
LEVELS = (0.025, 0.5, 0.975)


def betainc(a: mp.mpf, b: mp.mpf, x: mp.mpf) -> mp.mpf:
    """Regularised incomplete beta I_x(a, b): 30 digits, or double precision (see Method)."""
    if x <= 0:
        return mp.mpf(0)
    if x >= 1:
        return mp.mpf(1)
    if min(a, b) <= 200 and max(a, b) <= 1e4:
        return mp.betainc(a, b, 0, x, regularized=True)
    return mp.mpf(float(special.betainc(float(a), float(b), float(x))))


def mp_posterior(prior, x: int, n: int) -> list[tuple[mp.mpf, mp.mpf, mp.mpf]]:
    """Posterior components (weight, a, b) of a Beta mixture prior, in mpmath."""
    comps = []
    for w, a, b in zip(prior.weights, prior.a, prior.b, strict=True):
        a, b = mp.mpf(a), mp.mpf(b)
        log_m = mp.log(mp.beta(a + x, b + n - x)) - mp.log(mp.beta(a, b))
        comps.append((mp.mpf(w) * mp.exp(log_m), a + x, b + n - x))
    total = sum(c[0] for c in comps)
    return [(w / total, a, b) for w, a, b in comps if w > 0]


def _g(kind: str, t: mp.mpf, y: mp.mpf) -> mp.mpf:
    if kind == "diff":
        return y + t
    if kind == "ratio":
        return t * y
    return t * y / (1 - y + t * y)


def _g_inv(kind: str, t: mp.mpf, x: mp.mpf) -> mp.mpf:
    if kind == "diff":
        return x - t
    if kind == "ratio":
        return x / t
    return x / (t - t * x + x)


def pair_cdf(kind: str, t, at, bt, ac, bc) -> mp.mpf:
    """P(contrast <= t) for Beta(at, bt) vs Beta(ac, bc), by mpmath quadrature."""
    t = mp.mpf(t)
    log_b = mp.log(mp.beta(ac, bc))

    def f(y):
        if y <= 0 or y >= 1:  # a node rounded onto an endpoint: the density may be infinite
            return mp.mpf(0)  # there (shape < 1), an integrable singularity of zero measure
        dens = mp.exp((ac - 1) * mp.log(y) + (bc - 1) * mp.log1p(-y) - log_b)
        return dens * betainc(at, bt, min(max(_g(kind, t, y), mp.mpf(0)), mp.mpf(1)))

    probs = [1e-15, 1e-10, 1e-6, 1e-3, 0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98, 1 - 1e-3, 1 - 1e-6]
    pts = {mp.mpf(special.betaincinv(float(ac), float(bc), p)) for p in probs}
    for p in probs:
        x = mp.mpf(special.betaincinv(float(at), float(bt), p))
        pts.add(_g_inv(kind, t, x))
    for edge in (mp.mpf(0), mp.mpf(1)):  # g(y) = 0 or 1
        if kind == "diff":
            pts.add(edge - t)
        elif kind == "ratio" and edge == 1:
            pts.add(1 / t)
    cuts = sorted(p for p in pts if 0 < p < 1)
    return mp.quad(f, [mp.mpf(0), *cuts, mp.mpf(1)])


def mixture_cdf(kind: str, t, treated, control) -> mp.mpf:
    """P(contrast <= t) for two mixtures (weighted sum over component pairs)."""
    return sum(
        wt * wc * pair_cdf(kind, t, at, bt, ac, bc)
        for wt, at, bt in treated
        for wc, ac, bc in control
    )


def corner(treated_counts, control_counts, prior_text) -> dict:
    """Reference numbers of one corner; the package's values only start the root search."""
    prior = parse_prior(prior_text, "--prior")
    pooled = (treated_counts[0] + control_counts[0]) / (treated_counts[1] + control_counts[1])
    resolved = prior.resolve(pooled, "prior")
    post_t = mp_posterior(resolved, *treated_counts)
    post_c = mp_posterior(resolved, *control_counts)
    pkg = compare(treated_counts, control_counts, prior_text)
    p_better = 1 - mixture_cdf("diff", 0, post_t, post_c)
    out = {
        "treated": list(treated_counts),
        "control": list(control_counts),
        "prior": prior_text,
        "posterior_treated": [[mp.nstr(v, 25) for v in c] for c in post_t],
        "posterior_control": [[mp.nstr(v, 25) for v in c] for c in post_c],
        "p_treated_better": mp.nstr(p_better, 20),
    }
    package = {
        "diff": (pkg.diff_low, pkg.diff_median, pkg.diff_high),
        "ratio": (pkg.rr_low, pkg.rr_median, pkg.rr_high),
        "odds": (pkg.or_low, pkg.or_median, pkg.or_high),
    }
    for kind, values in package.items():
        out[f"{kind}_quantiles"] = [
            {
                "package": float(x),
                "reference_cdf": mp.nstr(mixture_cdf(kind, x, post_t, post_c), 20),
            }
            for x in values
        ]
    return out


def main() -> int:
    """Compute every corner and write the JSON file."""
    corners = []
    for t, c, prior in CORNERS:
        start = datetime.datetime.now()
        corners.append(corner(t, c, prior))
        secs = (datetime.datetime.now() - start).total_seconds()
        corners[-1]["seconds"] = round(secs)
        print(f"{t} vs {c} {prior}: {secs:.0f} s", flush=True)
        _write(corners)
    print(f"wrote {OUT}")
    return 0


def _write(corners: list[dict]) -> None:
    import scipy

    payload = {
        "provenance": {
            "tool": f"mpmath {mp.__version__}, {mp.mp.dps} digits; scipy {scipy.__version__}",
            "date": datetime.date.today().isoformat(),
            "call": "python scripts/orr_reference_corners.py",
            "method": __doc__.split("Method", 1)[1].split("Run:", 1)[0].strip(),
        },
        "levels": list(LEVELS),
        "complete": len(corners) == len(CORNERS),
        "corners": corners,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
