"""Is a sampled trace complete? Every chain has every draw, and no draw is NaN.

An interrupted sampler can return a trace of the requested shape padded with NaN (nutpie does
on Ctrl-C: it stops the chains and returns what it has). Summaries of such a trace look like
results -- hazard ratios from the finite part, or NaN tables with probabilities computed
from them -- so :func:`check_complete` is called right after sampling, before any
post-processing or writing, and refuses it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from necc_bayes.errors import IncompleteSamplingError


def complete_draws(posterior: xr.Dataset) -> np.ndarray:
    """Number of draws per chain at which every posterior variable is finite.

    Parameters
    ----------
    posterior : xarray.Dataset
        Variables with dims ``(chain, draw, ...)``.

    Returns
    -------
    ndarray of int
        One count per chain.
    """
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    ok = np.ones((n_chain, n_draw), dtype=bool)
    for var in posterior.data_vars.values():
        values = var.transpose("chain", "draw", ...).to_numpy().reshape(n_chain, n_draw, -1)
        if values.dtype.kind in "fc":
            ok &= np.isfinite(values).all(axis=-1)
    return ok.sum(axis=1)


def check_complete(idata: xr.DataTree, draws: int, chains: int) -> None:
    """Refuse a trace that lacks chains or draws, or holds non-finite draws.

    Parameters
    ----------
    idata : xarray.DataTree
        The sampler's output (a ``posterior`` group with dims ``chain`` and ``draw``).
    draws, chains : int
        What was asked for.

    Raises
    ------
    IncompleteSamplingError
        Naming the chains and how many complete draws each has, e.g. ``chain 0 has 247,710
        of 1,000,000 draws``.
    """
    if "posterior" not in idata.children:
        raise IncompleteSamplingError("sampling returned no posterior draws")
    post = idata["posterior"].to_dataset()
    got_chains, got_draws = post.sizes.get("chain", 0), post.sizes.get("draw", 0)
    if got_chains != chains:
        raise IncompleteSamplingError(
            f"sampling returned {got_chains} chain(s) of the {chains} asked for"
        )
    counts = complete_draws(post) if got_draws else np.zeros(chains, dtype=int)
    short = [(c, int(n)) for c, n in enumerate(counts) if n < draws]
    if short:
        parts = ", ".join(f"chain {c} has {n:,} of {draws:,} draws" for c, n in short)
        raise IncompleteSamplingError(
            f"sampling stopped early or gave non-finite draws: {parts}; nothing was kept"
        )
