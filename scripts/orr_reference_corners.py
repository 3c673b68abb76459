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
regularised incomplete beta, or its continued fraction (Lentz, as in Numerical Recipes 6.4)
when both shapes exceed 200, where mpmath's hypergeometric series is too slow. The split
points are taken from scipy: they only place the quadrature nodes, not the value.

Run: ``.venv/bin/python scripts/orr_reference_corners.py`` (about 30 minutes).
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


def _betacf(a: mp.mpf, b: mp.mpf, x: mp.mpf) -> mp.mpf:
    """Continued fraction of the incomplete beta (modified Lentz), for x < (a+1)/(a+b+2)."""
    tiny = mp.mpf(10) ** (-mp.mp.dps * 3)
    c, d = mp.mpf(1), 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 200_000):
        m2 = 2 * m
        for num in (
            m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)),
        ):
            d = 1 + num * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < mp.mpf(10) ** (-mp.mp.dps + 2):
            return h
    raise RuntimeError("continued fraction did not converge")


def betainc(a: mp.mpf, b: mp.mpf, x: mp.mpf) -> mp.mpf:
    """Regularised incomplete beta I_x(a, b) to 30 digits."""
    if x <= 0:
        return mp.mpf(0)
    if x >= 1:
        return mp.mpf(1)
    if min(a, b) <= 200:
        return mp.betainc(a, b, 0, x, regularized=True)
    front = mp.exp(a * mp.log(x) + b * mp.log1p(-x) - mp.log(mp.beta(a, b)))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


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
        print(f"{t} vs {c} {prior}: {secs:.0f} s", flush=True)
    payload = {
        "provenance": {
            "tool": f"mpmath {mp.__version__}, {mp.mp.dps} digits",
            "date": datetime.date.today().isoformat(),
            "call": "python scripts/orr_reference_corners.py",
            "method": __doc__.split("Method", 1)[1].split("Run:", 1)[0].strip(),
        },
        "levels": list(LEVELS),
        "corners": corners,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
