"""Survival of new patients, curves per level, standardised curves, and simultaneous bands.

* :func:`predict_survival` -- ``S(t | x)`` for every row of a new DataFrame (categorical values
  as level names, coded exactly as the fitted data) at given times: one row per (new row,
  time) with ``surv_median, surv_low, surv_high`` (pointwise equal-tailed), ``sim_low,
  sim_high`` (simultaneous over the requested times of that row) and ``beyond_follow_up``.
* :func:`curve_bands` -- the draws of a set of curves on a grid, summarised with both bands.
* :func:`standardised_draws` -- the cohort-averaged ("standardised") curve with every subject
  set to one level of a column, per draw (rstanarm ``posterior_survfit(standardise = TRUE)``,
  flexsurv ``standsurv``): ``S_L(t) = mean_i S(t | x_i with column = L)``.

**Simultaneous band** (a global extreme-rank envelope; Myllymäki et al. 2017, J. R. Stat.
Soc. B 79:381, applied to posterior draws as the max-deviation bands of BayesSurvival,
Castillo & van der Pas 2021): with ``S`` posterior draws ``S_d(t)`` on a grid, rank the draws
at every time; a draw's extremeness is its smallest tail rank over the grid,
``e_d = min_t min(rank_d(t), S + 1 - rank_d(t))``. The band at rank ``k`` runs from the
``k``-th smallest to the ``k``-th largest draw at every time, and contains draw ``d`` over the
whole grid exactly when ``e_d >= k``; ``k`` is the largest rank with at least a ``ci_prob``
share of the draws inside. It is then widened to contain the pointwise band (it never is
narrower). So at least ``ci_prob`` of the posterior curves lie inside it at every time at once;
it follows skewed posteriors near 0 and 1 without clipping. Grid points where every draw is
equal (``t = 0``) are left out of the ranks.

With strata a new row needs the strata column (its baseline is used); with a shared frailty
the curves are conditional on a cluster of median frailty (log-frailty 0); with delayed
entry they are conditional on survival to the earliest entry (as every curve of the fit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from necc_bayes.data.columns import as_text, numeric_values, rows
from necc_bayes.data.design import build_design
from necc_bayes.data.reference import km_step
from necc_bayes.errors import DataError, Problem
from necc_bayes.report.survival_figures import Band, curve_band_plot
from necc_bayes.survival.curves import survival_curve
from necc_bayes.survival.resolve import categorical_groups

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from necc_bayes.survival.curve_sets import CurveSet
    from necc_bayes.survival.result import PEMResult

NEW_DATA = "new data"


def _check_new_rows(result: PEMResult, new: pd.DataFrame) -> None:
    """Named-rule problems of new rows: columns, missing values, numbers, known levels."""
    design = result.checked.cohort.design
    needed = list(design.columns)
    strata = result.spec.covariates.strata
    if strata is not None:
        needed.append(strata)
    problems = [
        Problem("column_exists", "needed to predict but not in the new data", column=c)
        for c in needed
        if c not in new.columns
    ]
    if problems:
        raise DataError(NEW_DATA, problems)
    for col in needed:
        values = new[col]
        if values.isna().any():
            missing = rows(values.isna())
            problems.append(Problem("missing", "missing value", column=col, rows=missing))
            continue
        known = design.levels.get(col)
        if col == strata:
            known = list(result.checked.cohort.strata.levels)  # type: ignore[union-attr]
        if known is not None:
            unknown = ~as_text(values).isin(known)
            if unknown.any():
                problems.append(
                    Problem(
                        "unknown_level",
                        f"values {sorted(set(as_text(values)[unknown]))[:3]} are not levels of "
                        f"the fitted data {known}",
                        column=col,
                        rows=rows(unknown),
                    )
                )
        elif numeric_values(values).isna().any():
            bad = numeric_values(values).isna()
            problems.append(Problem("numeric", f"must be numeric, got "
                                    f"{sorted({str(v) for v in values[bad]})[:3]}",
                                    column=col, rows=rows(bad)))
    if problems:
        raise DataError(NEW_DATA, problems)


def new_design(result: PEMResult, new: pd.DataFrame) -> np.ndarray:
    """New rows in the model's coding (centred as the fit), shape ``(rows, p)``.

    Raises
    ------
    DataError
        Naming the column, rows and rule: a column the model needs is absent, a value is
        missing or not a number, or a categorical value is not a level of the fitted data
        (rule ``unknown_level``).
    """
    _check_new_rows(result, new)
    design = result.checked.cohort.design
    frame = new.reset_index(drop=True)
    coded = build_design(frame, result.spec, levels=design.levels, source=NEW_DATA,
                         encoder=design.encoder)
    X = coded.X
    if coded.terms != design.terms:  # pragma: no cover - same coding by construction
        raise DataError(NEW_DATA, [Problem("unknown_level", f"new rows code to {coded.terms}, "
                                                            f"the fit to {design.terms}")])
    return X - design.means if design.center else X


def simultaneous_band(draws: np.ndarray, ci_prob: float) -> tuple[np.ndarray, np.ndarray]:
    """The simultaneous band of curve draws ``(draws, G)`` (module docstring).

    Returns
    -------
    low, high : ndarray, shape (G,)
        At least ``ci_prob`` of the draws lie within ``[low, high]`` at every grid point.
    """
    n = draws.shape[0]
    ordered = np.sort(draws, axis=0)
    live = ordered[0] < ordered[-1]
    if not live.any():
        return ordered[0].copy(), ordered[-1].copy()
    ranks = np.argsort(np.argsort(draws[:, live], axis=0, kind="stable"), axis=0) + 1
    extremeness = np.minimum(ranks, n + 1 - ranks).min(axis=1)
    counts = np.bincount(extremeness, minlength=n + 2)
    inside = counts[::-1].cumsum()[::-1]  # inside[k] = number of draws with e_d >= k
    k = int(np.flatnonzero(inside >= ci_prob * n).max())
    k = max(k, 1)
    tail = (1.0 - ci_prob) / 2.0
    low = np.minimum(ordered[k - 1], np.quantile(draws, tail, axis=0))
    high = np.maximum(ordered[n - k], np.quantile(draws, 1.0 - tail, axis=0))
    return low, high


def band_table(draws: np.ndarray, grid: np.ndarray, ci_prob: float) -> pd.DataFrame:
    """Median, pointwise and simultaneous bands of curve draws ``(draws, G)`` on ``grid``."""
    tail = (1.0 - ci_prob) / 2.0
    sim_low, sim_high = simultaneous_band(draws, ci_prob)
    return pd.DataFrame(
        {
            "time": grid,
            "surv_median": np.quantile(draws, 0.5, axis=0),
            "surv_low": np.quantile(draws, tail, axis=0),
            "surv_high": np.quantile(draws, 1.0 - tail, axis=0),
            "surv_mean": draws.mean(axis=0),
            "sim_low": sim_low,
            "sim_high": sim_high,
        }
    )


def _curve_set(result: PEMResult, stratum: str | None) -> CurveSet:
    sets = [cs for cs in result.curve_sets() if cs.frailty in (None, "conditional")]
    if stratum is None:
        return sets[0]
    return next(cs for cs in sets if cs.stratum == stratum)


def row_draws(result: PEMResult, new: pd.DataFrame, times: np.ndarray) -> list[np.ndarray]:
    """``S(t | x)`` draws ``(draws, len(times))`` for every new row."""
    X = new_design(result, new)
    strata = result.spec.covariates.strata
    labels = as_text(new[strata]).tolist() if strata is not None else [None] * len(new)
    log_hr = result._curve_log_hr()
    out = []
    for x, label in zip(X, labels, strict=True):
        cs = _curve_set(result, label)
        out.append(survival_curve(times, cs.lam, log_hr, x, cs.bounds))
    return out


def predict_survival(
    result: PEMResult,
    new: pd.DataFrame,
    times: list[float] | np.ndarray,
    *,
    ci_prob: float | None = None,
) -> pd.DataFrame:
    """Posterior survival of new patients at given times (see the module docstring).

    Parameters
    ----------
    result : PEMResult
        The fit.
    new : DataFrame
        One row per new patient, with every covariate column of the model (not modified).
    times : list of float
        Times at which to report survival (in the data's time unit).
    ci_prob : float, optional
        Band probability (default: the spec's ``summaries.ci_prob``).

    Returns
    -------
    DataFrame
        ``row`` (position of the new row, from 0), ``time``, ``surv_median``, ``surv_low``,
        ``surv_high``, ``surv_mean``, ``sim_low``, ``sim_high`` and ``beyond_follow_up`` (the
        time is past the largest follow-up time: the last interval's hazard is extrapolated).
    """
    ci = ci_prob or result.spec.summaries.ci_prob
    grid = np.asarray(times, dtype=float).ravel()
    t_max = float(result.checked.cohort.time.max())
    frames = []
    for k, draws in enumerate(row_draws(result, new, grid)):
        table = band_table(draws, grid, ci)
        table.insert(0, "row", k)
        frames.append(table.assign(beyond_follow_up=grid > t_max))
    return pd.concat(frames, ignore_index=True)


def standardised_draws(result: PEMResult, column: str, level: str, grid: np.ndarray) -> np.ndarray:
    """Cohort-averaged survival draws with every subject's ``column`` set to ``level``."""
    frame = result.checked.cohort.frame.copy()
    frame[column] = level
    return _mean_curve(result, frame, grid)


def _mean_curve(result: PEMResult, frame: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """Mean over the rows of ``frame`` of each draw's ``S(t | x)`` (one row at a time)."""
    X = new_design(result, frame)
    strata = result.spec.covariates.strata
    labels = as_text(frame[strata]).tolist() if strata is not None else [None] * len(frame)
    log_hr = result._curve_log_hr()
    total: np.ndarray | None = None
    for x, label in zip(X, labels, strict=True):
        cs = _curve_set(result, label)
        curve = survival_curve(grid, cs.lam, log_hr, x, cs.bounds)
        total = curve if total is None else total + curve
    assert total is not None  # a validated cohort has rows
    return total / len(frame)


def level_frame(result: PEMResult, column: str, level: str) -> pd.DataFrame:
    """One new row: ``column = level``, every other covariate column at its mean or reference.

    Numeric columns take their mean; other categorical columns their reference level.
    """
    frame = result.checked.cohort.frame
    design = result.checked.cohort.design
    groups = categorical_groups(result.checked)
    row: dict[str, object] = {}
    for col in design.columns:
        if col == column:
            row[col] = level
        elif col in groups:
            row[col] = groups[col][0]
        elif col in design.levels:
            row[col] = design.levels[col][0]
        else:
            row[col] = float(numeric_values(frame[col]).mean())
    strata = result.spec.covariates.strata
    if strata is not None:
        row[strata] = str(result.checked.cohort.strata.levels[0])  # type: ignore[union-attr]
    return pd.DataFrame([row])


def plot_data(
    result: PEMResult,
    by: str | None = None,
    *,
    new_data: pd.DataFrame | None = None,
    standardise: bool = False,
    grid: np.ndarray | None = None,
    ci_prob: float | None = None,
) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The curves :meth:`PEMResult.plot_survival` draws, and Kaplan–Meier steps to overlay.

    Returns
    -------
    curves : DataFrame
        :func:`band_table` columns plus ``curve`` (its label).
    km : dict
        Label -> ``(times, survival)`` Kaplan–Meier steps of the subjects at each level (with
        ``by``; unadjusted), else of the whole cohort.
    """
    cohort = result.checked.cohort
    ci = ci_prob or result.spec.summaries.ci_prob
    t_max = float(cohort.time.max())
    grid = np.linspace(0.0, t_max, 101) if grid is None else np.asarray(grid, dtype=float)
    frames: list[pd.DataFrame] = []
    km: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if new_data is not None:
        for k, draws in enumerate(row_draws(result, new_data, grid)):
            frames.append(band_table(draws, grid, ci).assign(curve=f"row {k}"))
        _add_km(km, "Kaplan–Meier (all)", cohort.time, cohort.event, cohort.entry)
    elif by is not None:
        groups = categorical_groups(result.checked)
        levels = groups.get(by)
        if levels is None:
            raise DataError(NEW_DATA, [Problem(
                "categorical_column", f"is not a categorical column of the model (categorical: "
                f"{sorted(groups)})", column=by)])
        text = as_text(cohort.frame[by])
        for level in levels:
            if standardise:
                draws = standardised_draws(result, by, level, grid)
            else:
                draws = row_draws(result, level_frame(result, by, level), grid)[0]
            frames.append(band_table(draws, grid, ci).assign(curve=f"{by}={level}"))
            mask = (text == level).to_numpy()
            _add_km(km, f"{by}={level}", cohort.time[mask], cohort.event[mask],
                    None if cohort.entry is None else cohort.entry[mask])
    else:
        draws = standardised_draws_all(result, grid)
        frames.append(band_table(draws, grid, ci).assign(curve="cohort average"))
        _add_km(km, "cohort average", cohort.time, cohort.event, cohort.entry)
    return pd.concat(frames, ignore_index=True), km


def _add_km(
    km: dict[str, tuple[np.ndarray, np.ndarray]],
    label: str,
    time: np.ndarray,
    event: np.ndarray,
    entry: np.ndarray | None,
) -> None:
    """Add the Kaplan–Meier steps of a subset (nothing when it has no events)."""
    step = km_step(time, event, entry=entry)
    if step is not None:
        km[label] = (step.time, step.surv)


def standardised_draws_all(result: PEMResult, grid: np.ndarray) -> np.ndarray:
    """The cohort-averaged survival draws of the subjects as observed."""
    return _mean_curve(result, result.checked.cohort.frame, grid)


def survival_figure(
    result: PEMResult,
    by: str | None = None,
    *,
    new_data: pd.DataFrame | None = None,
    standardise: bool = False,
    band: Band = "both",
    times: np.ndarray | list[float] | None = None,
    ci_prob: float | None = None,
    km: bool = True,
) -> Figure:
    """Posterior survival curves with pointwise and simultaneous bands.

    Parameters
    ----------
    result : PEMResult
        The fit.
    by : str, optional
        A categorical column: one curve per level, a real patient with that level, the other
        numeric columns at their means and the other categorical columns at their reference
        (``standardise=False``), or the cohort-averaged curve with every subject set to the
        level (``standardise=True``, as rstanarm ``posterior_survfit(standardise = TRUE)`` /
        flexsurv ``standsurv``).
    new_data : DataFrame, optional
        One curve per row (instead of ``by``).
    standardise : bool
        See ``by``.
    band : {"both", "pointwise", "simultaneous"}
        Bands drawn: pointwise equal-tailed (shaded) and/or the sup-t simultaneous band
        (dashed; module docstring).
    times : array, optional
        Time grid (default 101 points from 0 to the largest follow-up time); times past the
        largest follow-up are shaded as extrapolated.
    ci_prob : float, optional
        Band probability (default ``summaries.ci_prob``).
    km : bool
        Overlay Kaplan–Meier curves of the data (per level with ``by``; unadjusted).

    Returns
    -------
    matplotlib.figure.Figure
        The x-axis carries ``data.time_unit``.
    """
    ci = ci_prob or result.spec.summaries.ci_prob
    grid = None if times is None else np.asarray(times, dtype=float)
    curves, steps = plot_data(result, by, new_data=new_data, standardise=standardise,
                              grid=grid, ci_prob=ci)
    unit = result.spec.data.time_unit
    kind = "standardised (cohort-averaged) " if standardise else ""
    title = f"Posterior {kind}survival" + (f" by {by}" if by else "")
    return curve_band_plot(
        curves,
        km=steps if km else None,
        time_label=f"time ({unit})" if unit else "time",
        t_max=float(result.checked.cohort.time.max()),
        band=band,
        ci_prob=ci,
        title=title,
    )
