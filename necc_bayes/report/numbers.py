"""Numbers as a statistician expects to read them (console, notebook and report tables).

* Hazard ratios with the significant figures that tell median and limits apart: never
  ``1 (1–1)``; a per-unit HR of a lab value prints as ``0.9991 (0.9985–0.9997)``.
* Probabilities with three decimals, ``< 0.001`` and ``> 0.999`` at the ends (never ``0`` or
  ``1``).
* Effective sample sizes as whole numbers (never ``3e+03``), R-hat with three decimals.
* No exponent notation for ordinary magnitudes, and no ``-0``.
"""

from __future__ import annotations

import math


def sig(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant figures, in plain decimal notation (no ``-0``)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(x)))
    if decimals > 12:  # far below anything reported: say how small
        return f"{x:.{digits - 1}e}"
    text = f"{round(x, max(decimals, 0)) + 0.0:.{max(decimals, 0)}f}"
    return "0" if float(text) == 0 else text


def hr_triplet(median: float, low: float, high: float, digits: int = 3) -> tuple[str, str, str]:
    """Median and interval limits with enough significant figures to differ (up to 6)."""
    for d in range(digits, 7):
        out = (sig(median, d), sig(low, d), sig(high, d))
        if len(set(out)) == 3 or median == low == high:
            return out
    return out


def prob(p: float, decimals: int = 3) -> str:
    """A probability: ``decimals`` decimals, ``< 0.001`` / ``> 0.999`` (for 3) at the ends."""
    if p is None or math.isnan(p):
        return "–"
    edge = 10.0**-decimals
    if p < edge:
        return f"< {edge:.{decimals}f}"
    if p > 1.0 - edge:
        return f"> {1.0 - edge:.{decimals}f}"
    return f"{p:.{decimals}f}"


def ess(x: float) -> str:
    """An effective sample size as a whole number."""
    return "–" if x is None or math.isnan(x) else f"{x:.0f}"


def rhat(x: float) -> str:
    """R-hat with three decimals."""
    return "–" if x is None or math.isnan(x) else f"{x:.3f}"
