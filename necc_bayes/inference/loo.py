"""Model comparison by PSIS-LOO on the per-subject log-likelihood (ArviZ implementations).

Every fit stores one log-likelihood value per subject and posterior draw in its
``log_likelihood`` group: ``delta_i (log lambda_{j_i} + x_i' beta) - H(t_i | x_i)``, the full
density of subject ``i``'s observation under the piecewise-exponential model, so fits with
different covariates, priors or cut points of the *same* subjects are comparable.

PSIS-LOO is unreliable for subjects whose Pareto shape ``k`` exceeds ArviZ's threshold
(``min(1 - 1/log10(S), 0.7)`` for ``S`` draws): they are named in a
:class:`ParetoKWarning` and counted in the comparison table.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from necc_bayes.errors import DataError, Problem


class ParetoKWarning(RuntimeWarning):
    """PSIS-LOO's importance weights are unreliable for some subjects (high Pareto k)."""


@dataclass(frozen=True)
class LooSummary:
    """PSIS-LOO of one fit.

    Attributes
    ----------
    elpd : ELPDData
        ArviZ's result (pointwise values included).
    high_k_subjects : list of str
        Subjects whose Pareto k exceeds ``good_k``.
    good_k : float
        ArviZ's threshold for this number of draws.
    """

    elpd: az.ELPDData
    high_k_subjects: list[str]
    good_k: float

    @property
    def message(self) -> str:
        """One sentence about the Pareto-k diagnostic (empty if every k is good)."""
        if not self.high_k_subjects:
            return ""
        shown = ", ".join(self.high_k_subjects[:10])
        more = (
            f" (+{len(self.high_k_subjects) - 10} more)" if len(self.high_k_subjects) > 10 else ""
        )
        return (
            f"PSIS-LOO unreliable for {len(self.high_k_subjects)} subject(s) with Pareto k > "
            f"{self.good_k:.2f}: {shown}{more}; these observations are highly influential "
            "(consider K-fold cross-validation or a more robust model)"
        )

    def to_dict(self) -> dict[str, object]:
        """Summary numbers (elpd_loo, its SE, p_loo, Pareto-k counts)."""
        k = np.asarray(self.elpd.pareto_k)
        return {
            "elpd_loo": float(self.elpd.elpd),
            "elpd_loo_se": float(self.elpd.se),
            "p_loo": float(self.elpd.p),
            "max_pareto_k": float(np.nanmax(k)),
            "n_high_pareto_k": len(self.high_k_subjects),
            "pareto_k_threshold": float(self.good_k),
        }


def log_likelihood_name(idata: xr.DataTree, source: str = "<fit>") -> str:
    """Return the name of the per-subject log-likelihood variable of a fit.

    Raises
    ------
    DataError
        If the fit has no ``log_likelihood`` group or it holds more than one variable.
    """
    if "log_likelihood" not in idata.children:
        raise DataError(
            source,
            [Problem("log_likelihood", "no log_likelihood group: cannot compute PSIS-LOO")],
        )
    names = [str(v) for v in idata["log_likelihood"].data_vars]
    if len(names) != 1:
        raise DataError(
            source,
            [Problem("log_likelihood", f"expected one log-likelihood variable, found {names}")],
        )
    return names[0]


def loo(idata: xr.DataTree, *, source: str = "<fit>", warn: bool = True) -> LooSummary:
    """PSIS-LOO of one fit, with a :class:`ParetoKWarning` naming high-k subjects.

    Parameters
    ----------
    idata : DataTree
        Fit with a ``log_likelihood`` group (one variable, dims chain, draw, subject).
    source : str
        Name of the fit in messages.
    warn : bool
        Emit the warning (ArviZ's own generic warning is always suppressed).

    Returns
    -------
    LooSummary
    """
    name = log_likelihood_name(idata, source)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Pareto distribution.*", category=UserWarning)
        elpd = az.loo(idata, pointwise=True, var_name=name)
    k = elpd.pareto_k
    dim = k.dims[0] if k.dims else None
    labels = [str(v) for v in k[dim].to_numpy()] if dim else ["0"]
    high = [
        lab for lab, v in zip(labels, np.atleast_1d(k.to_numpy()), strict=True) if v > elpd.good_k
    ]
    out = LooSummary(elpd=elpd, high_k_subjects=high, good_k=float(elpd.good_k))
    if warn and high:
        warnings.warn(f"{source}: {out.message}", ParetoKWarning, stacklevel=2)
    return out


def compare_fits(fits: dict[str, xr.DataTree], *, warn: bool = True) -> pd.DataFrame:
    """Compare fits of the same subjects by PSIS-LOO (``arviz.compare``, stacking weights).

    Parameters
    ----------
    fits : dict of str to DataTree
        Fits keyed by name (at least two).
    warn : bool
        Emit a :class:`ParetoKWarning` per fit with high Pareto k.

    Returns
    -------
    DataFrame
        ArviZ's comparison table, best model first (``rank, elpd_diff, dse, p_worse,
        diag_diff, diag_elpd, p, elpd, se, weight``) plus ``n_high_pareto_k`` and
        ``max_pareto_k``.

    Raises
    ------
    DataError
        If fewer than two fits are given or they do not describe the same subjects.
    """
    if len(fits) < 2:
        raise DataError("compare", [Problem("two_fits", "give at least two fits to compare")])
    loos = {name: loo(tree, source=name, warn=warn) for name, tree in fits.items()}
    sizes = {name: int(np.asarray(s.elpd.pareto_k).size) for name, s in loos.items()}
    if len(set(sizes.values())) > 1:
        raise DataError(
            "compare",
            [
                Problem(
                    "same_subjects",
                    f"fits have different numbers of subjects {sizes}: LOO compares models of "
                    "the same data only",
                )
            ],
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Pareto distribution.*", category=UserWarning)
        table = az.compare({name: s.elpd for name, s in loos.items()})
    table["n_high_pareto_k"] = [len(loos[str(m)].high_k_subjects) for m in table.index]
    table["max_pareto_k"] = [float(np.nanmax(loos[str(m)].elpd.pareto_k)) for m in table.index]
    return table


def load_fit_dir(directory: str | Path) -> tuple[str, xr.DataTree]:
    """Read ``DIR/posterior.nc``; return the fit's name (spec name, else DIR) and its tree.

    Raises
    ------
    DataError
        If the file is missing or cannot be read.
    """
    path = Path(directory) / "posterior.nc"
    if not path.is_file():
        raise DataError(str(path), [Problem("file_exists", "no posterior.nc in this directory")])
    try:
        tree = xr.open_datatree(path)
    except (OSError, ValueError) as exc:
        raise DataError(str(path), [Problem("netcdf_read", str(exc))]) from None
    return str(tree.attrs.get("spec_name") or Path(directory).name), tree.load()


def compare_dirs(directories: list[str | Path], *, warn: bool = True) -> pd.DataFrame:
    """Load every ``DIR/posterior.nc`` and compare the fits (:func:`compare_fits`).

    Fits with the same spec name are told apart by their directory.
    """
    loaded = [load_fit_dir(d) for d in directories]
    names = [n for n, _ in loaded]
    fits = {}
    for (name, tree), d in zip(loaded, directories, strict=True):
        key = name if names.count(name) == 1 else f"{name} ({d})"
        fits[key] = tree
    return compare_fits(fits, warn=warn)
