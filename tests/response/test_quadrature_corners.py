"""ORR contrasts at the corners: Jeffreys shapes, 0/N and N/N, counts up to 10^6 (issue 22.8).

Before issue 22, ``orr --treated 110/110 --control 0/41 --prior jeffreys`` (and 120/120 with
``--all-priors``) failed with "quadrature did not converge", and 10^6-count arms with "f(a) and
f(b) must have different signs" (the density-weighted QUADPACK integral missed the spike of a
Beta(0.5, 10^6) density and returned a flat CDF).

References (the stored mpmath corners are checked in test_orr_reference_corners.py):

* a live mpmath check of one small corner (the reference method of
  ``scripts/orr_reference_corners.py`` itself);
* an identity the quadrature must satisfy although both sides are computed over different
  arms: ``P(X <= Y + s) = 1 - P(Y < X - s)`` (difference; the ratios with ``1/t``), to 1e-9
  on random corners with counts up to 10^6 and prior shapes 0.1 to 3.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from necc_bayes.cli.main import main
from necc_bayes.response.quadrature import pair_cdf


def test_live_mpmath_reference_of_the_study_numbers():
    """The reference method run here: P(p_t > p_c) for 7/16 vs 9/41 under Jeffreys priors."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 25
    at, bt, ac, bc = map(mp.mpf, (7.5, 9.5, 9.5, 32.5))
    log_b = mp.log(mp.beta(ac, bc))

    def integrand(y):
        dens = mp.exp((ac - 1) * mp.log(y) + (bc - 1) * mp.log1p(-y) - log_b)
        return dens * (1 - mp.betainc(at, bt, 0, y, regularized=True))

    ref = mp.quad(integrand, [0, 0.1, 0.22, 0.4, 1])
    ours = 1 - pair_cdf("diff", 0.0, 7.5, 9.5, 9.5, 32.5)
    assert ours == pytest.approx(float(ref), abs=1e-12)


def _random_corners(n: int, seed: int):
    rng = np.random.default_rng(seed)
    shapes = [0.1, 0.5, 1.0, 3.0]
    for _ in range(n):
        n1, n2 = (int(10 ** rng.uniform(0, 6)) for _ in range(2))
        x1 = int(rng.choice([0, n1, rng.integers(0, n1 + 1)]))
        x2 = int(rng.choice([0, n2, rng.integers(0, n2 + 1)]))
        pa, pb = rng.choice(shapes), rng.choice(shapes)
        at, bt, ac, bc = pa + x1, pb + n1 - x1, pa + x2, pb + n2 - x2
        kind = str(rng.choice(["diff", "ratio", "odds"]))
        mt, mc = at / (at + bt), ac / (ac + bc)
        centre = {"diff": mt - mc, "ratio": mt / mc, "odds": mt * (1 - mc) / ((1 - mt) * mc)}
        t = centre[kind]
        t = t + rng.normal() * 0.01 if kind == "diff" else t * math.exp(rng.normal())
        if kind == "diff":
            t = float(np.clip(t, -0.999, 0.999))
        if math.isfinite(t) and (kind == "diff" or t > 0) and t != 0:
            yield kind, t, at, bt, ac, bc


@pytest.mark.parametrize("seed", [1, 2])
def test_swapping_the_arms_gives_the_complement(seed):
    for kind, t, at, bt, ac, bc in _random_corners(60, seed):
        swapped = -t if kind == "diff" else 1.0 / t
        direct = pair_cdf(kind, t, at, bt, ac, bc)
        other = 1.0 - pair_cdf(kind, swapped, ac, bc, at, bt)
        assert direct == pytest.approx(other, abs=1e-9), (kind, t, at, bt, ac, bc)


@pytest.mark.parametrize(
    "argv",
    [
        ["--treated", "110/110", "--control", "0/41", "--prior", "jeffreys"],
        ["--treated", "120/120", "--control", "0/41", "--all-priors"],
        ["--treated", "1000000/1000000", "--control", "0/1000000", "--prior", "jeffreys"],
        ["--treated", "1/1000000", "--control", "0/1000000", "--prior", "jeffreys"],
    ],
    ids=["110of110-jeffreys", "120of120-all-priors", "1e6-extremes", "1e6-rare"],
)
def test_cli_corners_that_crashed_now_answer(argv, capsys):
    assert main(["orr", *argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out if isinstance(out, list) else [out]
    for row in rows:
        assert all(math.isfinite(row[k]) for k in ("p_treated_better", "rr_median", "or_median"))
