"""Large cohorts: the log-likelihood is not stored, LOO is computed from the posterior in blocks.

Reference: the same fit with its stored ``log_likelihood`` group (``inference.loo.loo``,
itself equal to ``arviz.loo``, tests/inference/test_psis.py). The blocks recompute the
log-likelihood from the posterior draws exactly as the stored group was made, so the results
agree to rounding (1e-10).
"""

from __future__ import annotations

import numpy as np
import pytest

from necc_bayes.survival import sampling
from necc_bayes.survival.result import PEMResult
from tests.fake_fit import fake_result


def test_blocks_reproduce_the_stored_log_likelihood_and_its_loo(tmp_path):
    result = fake_result(tmp_path)
    stored = result.idata["log_likelihood"]["survival"].to_numpy()
    blocks = list(sampling.log_likelihood_blocks(result.idata, result.model_inputs(), block=7))
    assert [b.shape[1] for b in blocks][:2] == [7, 7] and sum(b.shape[1] for b in blocks) == 80
    np.testing.assert_allclose(np.concatenate(blocks, axis=1), stored.reshape(1000, -1), atol=1e-12)

    with_group = result.loo()
    tree = result.idata.copy()
    del tree["log_likelihood"]
    without = PEMResult(idata=tree, spec=result.spec, checked=result.checked).loo()
    for attr in ("elpd", "se", "p"):
        assert getattr(without.elpd, attr) == pytest.approx(
            getattr(with_group.elpd, attr), abs=1e-9
        )
    np.testing.assert_allclose(without.elpd.pareto_k, with_group.elpd.pareto_k, atol=1e-10)
    assert list(without.elpd.pareto_k["subject"].to_numpy()) == list(
        with_group.elpd.pareto_k["subject"].to_numpy()
    )


def test_store_rule():
    assert sampling.stores_log_likelihood(20_000, 1000)  # 2e7 values (160 MB): stored
    assert not sampling.stores_log_likelihood(20_000, 4000)  # 8e7 (640 MB): not
    assert not sampling.stores_log_likelihood(1_000_000, 1000)
    assert sampling.LOGLIK_STORE_MAX * 8 <= 256 * 2**20
