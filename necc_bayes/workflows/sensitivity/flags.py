"""Reading a sweep: did a conclusion change, and power-scaling sensitivity.

A term's *conclusion* in one setting is whether its credible interval excludes 1 and which
P(HR > 1) band it falls in (``> 0.95``, ``0.05-0.95``, ``< 0.05``); a sweep flags the terms
whose conclusion is not the same in every setting.
"""

from __future__ import annotations

import logging
import warnings

import pandas as pd
import xarray as xr


def p_band(p: float, prob: float = 0.95) -> str:
    """``"> 0.95"``, ``"< 0.05"`` or ``"0.05-0.95"`` for P(HR > 1) (bands for ``prob``)."""
    low = round(1.0 - prob, 12)
    if p > prob:
        return f"> {prob:g}"
    if p < low:
        return f"< {low:g}"
    return f"{low:g}-{prob:g}"


def flag_conclusions(table: pd.DataFrame, *, prob: float = 0.95) -> pd.DataFrame:
    """Per sweep and term, say whether the conclusion changes across the settings.

    Parameters
    ----------
    table : DataFrame
        Rows as :data:`SENSITIVITY_COLUMNS` (at least ``sweep, setting, term, hr_low,
        hr_high, p_hr_gt_1``).
    prob : float
        Level of the P(HR > 1) bands.

    Returns
    -------
    DataFrame
        ``sweep, term, n_settings, n_ci_excludes_1, p_bands, hr_median_min, hr_median_max,
        ci_changes, p_band_changes, conclusion_changes, differing_settings`` (the settings
        whose conclusion differs from the most common one).
    """
    t = table.copy()
    t["ci_excludes_1"] = (t["hr_low"] > 1.0) | (t["hr_high"] < 1.0)
    t["p_band"] = [p_band(float(p), prob) for p in t["p_hr_gt_1"]]
    rows = []
    for (sweep, term), g in t.groupby(["sweep", "term"], sort=False):
        concl = g["ci_excludes_1"].astype(str) + "|" + g["p_band"]
        usual = concl.mode().iloc[0]
        rows.append(
            {
                "sweep": sweep,
                "term": term,
                "n_settings": len(g),
                "n_ci_excludes_1": int(g["ci_excludes_1"].sum()),
                "p_bands": "; ".join(f"{b}: {n}" for b, n in g["p_band"].value_counts().items()),
                "hr_median_min": float(g["hr_median"].min()),
                "hr_median_max": float(g["hr_median"].max()),
                "ci_changes": g["ci_excludes_1"].nunique() > 1,
                "p_band_changes": g["p_band"].nunique() > 1,
                "conclusion_changes": concl.nunique() > 1,
                "differing_settings": "; ".join(g.loc[concl != usual, "setting"]),
            }
        )
    return pd.DataFrame(rows)


def power_scaling(idata: xr.DataTree, var_names: tuple[str, ...] = ("log_hr",)) -> pd.DataFrame:
    """ArviZ power-scaling sensitivity (``psense_summary``) with its diagnosis per parameter.

    ``prior`` / ``likelihood`` are the cumulative Jensen–Shannon distances of the posterior
    when the prior / likelihood is raised to a power near 1; above 0.05 ArviZ reports
    "potential prior-data conflict" (both) or "strong prior / weak likelihood" (prior only).
    With the integrated-out gamma baseline the baseline prior is part of the likelihood.
    """
    import arviz as az

    # arviz-stats logs "We detected potential issues ..." to the console; the diagnosis is in
    # the table (psense.csv, flags.csv and the report), so the console line is noise
    log = logging.getLogger("arviz_stats.psense")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = az.psense_summary(idata, var_names=list(var_names))
    finally:
        log.setLevel(level)
    return table.rename_axis("parameter").reset_index()
