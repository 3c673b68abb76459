"""Follow-up times far from floating-point trouble: the rules ``time_range`` and ``time_spread``.

A time of 1e308 passed validation and ``fit`` died in PSIS-LOO ("All tail values are the
same", issue 22); a time of 1e-320 is subnormal. Fits themselves do not depend on the unit of
time, so the limits below are about floating point only, with wide margins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from necc_bayes.errors import Problem

TIME_MIN, TIME_MAX = 1e-100, 1e100
"""Follow-up times outside this range are refused (rule ``time_range``). Fits do not depend on
the time unit (hazard ratios identical with all times rescaled by 10^-300 ... 10^300 on the
synthetic cohort, 200 draws x 2 chains); 10^±100 leaves a wide margin to float overflow."""
TIME_SPREAD = 1e12
"""Largest accepted ratio of the longest to the shortest follow-up (rule ``time_spread``). On
the synthetic cohort, one follow-up made 10^15 times longer (ratio 2e17 to the shortest) gave a
NaN PSIS-LOO; 10^6 and 10^12 did not, nor, erratically, 10^20 and 10^50. Such ratios are unit
errors (1e12 is one second against 30,000 years), and the fits they give are dominated by the
one row (hazard ratios of 10^7), so they are refused rather than half-computed."""


def _rows(mask: np.ndarray | pd.Series) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i in np.flatnonzero(np.asarray(mask)))


def check_time_range(time: pd.Series, column: str, problems: list[Problem]) -> None:
    """Append a problem for times outside [TIME_MIN, TIME_MAX] or spread beyond TIME_SPREAD.

    ``time`` is numeric (NaN where not a number); non-positive and infinite values are
    other rules' business and are ignored here.
    """
    out_of_range = np.isfinite(time) & (time > 0) & ((time < TIME_MIN) | (time > TIME_MAX))
    usable = np.isfinite(time) & (time > 0) & ~out_of_range
    if usable.sum() > 1 and time[usable].max() > TIME_SPREAD * time[usable].min():
        lo, hi = float(time[usable].min()), float(time[usable].max())
        problems.append(
            Problem(
                "time_spread",
                f"the longest follow-up ({hi:g}) is more than {TIME_SPREAD:g} times the "
                f"shortest ({lo:g}); exposures that far apart lose floating-point precision "
                "(check the time unit of these rows)",
                column=column,
                rows=_rows(usable & ((time == lo) | (time == hi))),
            )
        )
    if out_of_range.any():
        problems.append(
            Problem(
                "time_range",
                f"must lie between {TIME_MIN:g} and {TIME_MAX:g} (sums of exposures and their "
                "products with hazard rates would overflow or underflow in floating point); "
                f"got {sorted(set(time[out_of_range].tolist()))[:3]}: rescale the time unit",
                column=column,
                rows=_rows(out_of_range),
            )
        )
