"""A trace with missing or NaN draws is refused right after sampling (issue 22).

nutpie returns on Ctrl-C a trace of the requested shape padded with NaN (the before-state of
issue 22: 247,710 real draws of 1,000,000 in chain 1, written as a result).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from necc_bayes.errors import IncompleteSamplingError
from necc_bayes.inference.completeness import check_complete, complete_draws


def _trace(chains=2, draws=50, terms=2, nan_from=None):
    rng = np.random.default_rng(0)
    log_hr = rng.normal(size=(chains, draws, terms))
    if nan_from is not None:
        log_hr[1, nan_from:, :] = np.nan
    post = xr.Dataset(
        {
            "log_hr": (("chain", "draw", "term"), log_hr),
            "sigma": (("chain", "draw"), np.abs(rng.normal(size=(chains, draws)))),
        }
    )
    return xr.DataTree.from_dict({"posterior": post})


def test_complete_trace_passes():
    check_complete(_trace(), draws=50, chains=2)


def test_nan_padded_chain_is_refused_with_counts():
    tree = _trace(nan_from=17)
    assert complete_draws(tree["posterior"].to_dataset()).tolist() == [50, 17]
    with pytest.raises(IncompleteSamplingError, match="chain 1 has 17 of 50 draws"):
        check_complete(tree, draws=50, chains=2)


def test_one_nan_value_is_refused():
    tree = _trace()
    post = tree["posterior"].to_dataset()
    post["sigma"][0, 3] = np.inf
    with pytest.raises(IncompleteSamplingError, match="chain 0 has 49 of 50"):
        check_complete(xr.DataTree.from_dict({"posterior": post}), draws=50, chains=2)


@pytest.mark.parametrize(
    ("draws", "chains", "match"), [(60, 2, "has 50 of 60"), (50, 3, "2 chain")]
)
def test_fewer_draws_or_chains_than_asked_are_refused(draws, chains, match):
    with pytest.raises(IncompleteSamplingError, match=match):
        check_complete(_trace(), draws=draws, chains=chains)


def test_no_posterior_is_refused():
    with pytest.raises(IncompleteSamplingError, match="no posterior"):
        check_complete(xr.DataTree(), draws=1, chains=1)


def test_no_terms_is_complete():
    check_complete(_trace(terms=0), draws=50, chains=2)
