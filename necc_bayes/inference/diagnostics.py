"""Convergence diagnostics checked after every fit (ArviZ implementations).

Every posterior variable is checked — sampled parameters, hyperparameters and derived
quantities such as hazard ratios and baseline rates — so a fit whose log-HR mixes badly cannot
pass on the strength of the other parameters. Thresholds (keyword-only, defaults after Vehtari
et al. 2021 and Betancourt 2016): rank-normalised R-hat < 1.01, bulk and tail ESS >= 400,
no divergent transitions, E-BFMI >= 0.3 in every chain. Transitions that hit the maximum
tree depth are an efficiency problem, not a validity one: they are reported as a note, not a
failure.

For the report, :meth:`DiagnosticsReport.flagged_table` marks every parameter's checks,
:meth:`DiagnosticsReport.worst_parameters` ranks parameters by how far they are from passing
and :func:`parameter_draws` returns one parameter's ``(chain, draw)`` draws by its label.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from necc_bayes.errors import ConvergenceWarning
from necc_bayes.spec.settings import Thresholds


@dataclass(frozen=True)
class DiagnosticsReport:
    """The outcome of the convergence checks of one fit.

    Attributes
    ----------
    table : DataFrame
        One row per scalar parameter: ``parameter, r_hat, ess_bulk, ess_tail``.
    n_divergent : int
        Divergent transitions after warm-up, all chains.
    min_bfmi : float
        Smallest E-BFMI over chains (NaN if the sampler gives no energy).
    max_tree_depth_hits : int
        Transitions that hit the maximum tree depth (0 if not reported).
    thresholds : Thresholds
        The thresholds used.
    failures : list of str
        One message per failed check, naming the worst parameter.
    notes : list of str
        Advisory findings that do not fail the fit (tree-depth saturation).
    """

    table: pd.DataFrame
    n_divergent: int
    min_bfmi: float
    max_tree_depth_hits: int
    thresholds: Thresholds
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return not self.failures

    @property
    def max_r_hat(self) -> float:
        """Largest R-hat over parameters."""
        return float(self.table["r_hat"].max())

    @property
    def min_ess_bulk(self) -> float:
        """Smallest bulk ESS over parameters."""
        return float(self.table["ess_bulk"].min())

    @property
    def min_ess_tail(self) -> float:
        """Smallest tail ESS over parameters."""
        return float(self.table["ess_tail"].min())

    def to_dict(self) -> dict[str, object]:
        """Return the ``diagnostics.json`` content (DESIGN §5 keys plus details)."""

        def clean(v: float) -> float | None:
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

        return {
            "max_r_hat": clean(self.max_r_hat),
            "min_ess_bulk": clean(self.min_ess_bulk),
            "min_ess_tail": clean(self.min_ess_tail),
            "n_divergent": self.n_divergent,
            "min_bfmi": clean(self.min_bfmi),
            "max_tree_depth_hits": self.max_tree_depth_hits,
            "passed": self.passed,
            "thresholds": self.thresholds.model_dump(),
            "failures": self.failures,
            "notes": self.notes,
            "worst_parameters": {
                "r_hat": self._worst("r_hat", largest=True),
                "ess_bulk": self._worst("ess_bulk", largest=False),
                "ess_tail": self._worst("ess_tail", largest=False),
            },
        }

    def to_json(self) -> str:
        """Return :meth:`to_dict` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2)

    def flagged_table(self) -> pd.DataFrame:
        """Return the table with pass/fail columns ``r_hat_ok, ess_bulk_ok, ess_tail_ok, ok``.

        Rows are sorted worst first (see :meth:`worst_parameters`).
        """
        th = self.thresholds
        out = self.table.copy()
        out["r_hat_ok"] = out["r_hat"] < th.r_hat_max
        out["ess_bulk_ok"] = out["ess_bulk"] >= th.ess_min
        out["ess_tail_ok"] = out["ess_tail"] >= th.ess_min
        out["ok"] = out[["r_hat_ok", "ess_bulk_ok", "ess_tail_ok"]].all(axis=1)
        order = np.argsort(-self._badness(), kind="stable")
        return out.iloc[order].reset_index(drop=True)

    def worst_parameters(self, k: int = 4) -> list[str]:
        """Return the labels of the ``k`` parameters furthest from passing.

        Badness is the largest of ``(r_hat - 1) / (r_hat_max - 1)`` and ``ess_min / ess``
        (bulk and tail): above 1 the parameter fails. NaN statistics (constant draws) count
        as neither good nor bad and sort last.
        """
        order = np.argsort(-self._badness(), kind="stable")
        return [str(self.table["parameter"].iloc[i]) for i in order[:k]]

    def _badness(self) -> np.ndarray:
        th = self.thresholds
        with np.errstate(divide="ignore", invalid="ignore"):
            parts = np.column_stack(
                [
                    (self.table["r_hat"].to_numpy() - 1.0) / (th.r_hat_max - 1.0),
                    th.ess_min / self.table["ess_bulk"].to_numpy(),
                    th.ess_min / self.table["ess_tail"].to_numpy(),
                ]
            )
        parts = np.where(np.isnan(parts), -np.inf, parts)
        return parts.max(axis=1)

    def _worst(self, col: str, *, largest: bool) -> str:
        s = self.table.set_index("parameter")[col].dropna()
        if s.empty:
            return ""
        return str(s.idxmax() if largest else s.idxmin())


def _flat_table(idata: xr.DataTree, var_names: list[str]) -> pd.DataFrame:
    # constant draws (e.g. log_hr_dev of the first interval, 0 by construction) make ArviZ
    # divide 0 by 0: their NaN statistics count as neither good nor bad (see _badness)
    with np.errstate(divide="ignore", invalid="ignore"):
        stats = {
            "r_hat": az.rhat(idata, var_names=var_names),
            "ess_bulk": az.ess(idata, var_names=var_names, method="bulk"),
            "ess_tail": az.ess(idata, var_names=var_names, method="tail"),
        }
    rows: dict[str, dict[str, float]] = {}
    for stat, tree in stats.items():
        ds = tree.to_dataset() if isinstance(tree, xr.DataTree) else tree
        for name, da in ds.data_vars.items():
            stacked = da.stack(_k=da.dims) if da.dims else da.expand_dims("_k")
            for idx in range(stacked.sizes["_k"]):
                item = stacked.isel(_k=idx)
                label = _label(str(name), item, list(da.dims)) if da.dims else str(name)
                rows.setdefault(label, {})[stat] = float(item)
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("parameter").reset_index()
    return table[["parameter", "r_hat", "ess_bulk", "ess_tail"]]


def parameter_draws(idata: xr.DataTree, label: str) -> xr.DataArray:
    """Return the ``(chain, draw)`` draws of one scalar parameter named as in the table.

    Parameters
    ----------
    idata : DataTree
        The fit.
    label : str
        ``"name"`` or ``"name[c1, c2]"`` with the coordinate values of the non-sample dims.
    """
    name = label.partition("[")[0]
    da = idata["posterior"].to_dataset()[name]
    dims = [d for d in da.dims if d not in ("chain", "draw")]
    if not dims:
        return da
    stacked = da.stack(_k=dims)
    for idx in range(stacked.sizes["_k"]):
        item = stacked.isel(_k=idx)
        if _label(name, item, dims) == label:
            return item.drop_vars(["_k", *dims])
    raise KeyError(f"no parameter {label!r} in the posterior")


def _label(name: str, item: xr.DataArray, dims: list) -> str:
    """``name[c1, c2]`` from the coordinate values of one element (as in the table)."""
    return name + "[" + ", ".join(str(item[d].item()) for d in dims) + "]"


def distinct_worst_parameters(
    report: DiagnosticsReport, idata: xr.DataTree, k: int = 4
) -> list[str]:
    """The ``k`` worst parameters, skipping monotone transforms of ones already chosen.

    ``hr[a]`` is ``exp(log_hr[a])`` and a family-specific variable such as
    ``log_hr_normal[a]`` is a copy of ``log_hr[a]``: their draws have identical ranks and
    identical diagnostics, so only the first of them is kept.
    """
    chosen: list[str] = []
    ranks: list[np.ndarray] = []
    for label in report.worst_parameters(len(report.table)):
        r = np.argsort(np.argsort(parameter_draws(idata, label).to_numpy().ravel()))
        if any(
            np.array_equal(r, other) or np.array_equal(r, r.size - 1 - other) for other in ranks
        ):
            continue
        chosen.append(label)
        ranks.append(r)
        if len(chosen) == k:
            break
    return chosen


def _checked_variables(idata: xr.DataTree) -> list[str]:
    post = idata["posterior"].to_dataset()
    return [str(name) for name, da in post.data_vars.items() if {"chain", "draw"} <= set(da.dims)]


def check_convergence(
    idata: xr.DataTree,
    *,
    thresholds: Thresholds | None = None,
    warn: bool = True,
) -> DiagnosticsReport:
    """Compute R-hat, ESS, divergences, E-BFMI and tree-depth hits, and judge them.

    Parameters
    ----------
    idata : DataTree
        Result of sampling with ``posterior`` and ``sample_stats`` groups.
    thresholds : Thresholds, optional
        Pass/fail thresholds (defaults in the module docstring).
    warn : bool
        Emit a :class:`ConvergenceWarning` naming each failed check.

    Returns
    -------
    DiagnosticsReport
        The checks and their verdict.
    """
    th = thresholds or Thresholds()
    table = _flat_table(idata, _checked_variables(idata))
    stats = idata["sample_stats"] if "sample_stats" in idata.children else None
    n_div = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    min_bfmi = float("nan")
    if stats is not None and "energy" in stats:
        min_bfmi = float(np.min(az.bfmi(idata)["energy"].to_numpy()))
    depth_hits = 0
    if stats is not None and "reached_max_treedepth" in stats:
        depth_hits = int(stats["reached_max_treedepth"].sum())
    elif stats is not None and "maxdepth_reached" in stats:
        depth_hits = int(stats["maxdepth_reached"].sum())
    failures = []
    worst = table.sort_values("r_hat", ascending=False).iloc[0]
    if not worst["r_hat"] < th.r_hat_max:
        failures.append(
            f"R-hat {worst['r_hat']:.3f} >= {th.r_hat_max} for {worst['parameter']} "
            f"({int((table['r_hat'] >= th.r_hat_max).sum())} parameters fail)"
        )
    for col in ("ess_bulk", "ess_tail"):
        low = table.sort_values(col).iloc[0]
        if not low[col] >= th.ess_min:
            failures.append(
                f"{col.replace('_', ' ')} {low[col]:.0f} < {th.ess_min:g} for {low['parameter']}"
            )
    if n_div > th.max_divergences:
        failures.append(f"{n_div} divergent transitions (allowed: {th.max_divergences})")
    if not math.isnan(min_bfmi) and min_bfmi < th.bfmi_min:
        failures.append(f"E-BFMI {min_bfmi:.2f} < {th.bfmi_min} in at least one chain")
    notes = []
    if depth_hits:
        n_total = int(idata["posterior"].sizes["chain"] * idata["posterior"].sizes["draw"])
        notes.append(
            f"{depth_hits} of {n_total} transitions hit the maximum tree depth (an efficiency "
            "problem: consider reparameterising or centring covariates)"
        )
    report = DiagnosticsReport(table, n_div, min_bfmi, depth_hits, th, failures, notes)
    if warn:
        warn_failures(report)
    return report


def warn_failures(report: DiagnosticsReport) -> None:
    """Emit one :class:`ConvergenceWarning` per failed check of ``report``."""
    for msg in report.failures:
        warnings.warn(f"convergence check failed: {msg}", ConvergenceWarning, stacklevel=3)
