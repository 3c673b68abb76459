"""The 60-day inclusion rule on the synthetic cohort: what the entry changes, exactly (fast).

``cohort_steps.inclusion_rule_table`` and the report's inclusion section say that with the
common entry ``e`` = 60 days before every event, only the first interval's exposure changes
(by ``e`` per patient), so the two PEM curves differ by a constant cumulative hazard after
the first cut: the first interval's maximum-likelihood rate is ``d1 / E1`` without entry and
``d1 / (E1 - n e)`` with it, giving cumulative hazards ``d1 c1 / E1`` and
``d1 (c1 - e) / (E1 - n e)`` at the cut. Checked here on the cohort and the models' own cuts
(closed form; the posterior adds the prior and Monte Carlo error, the reproduce test checks
the files).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necc_bayes.data.bundled import bundled_path
from necc_bayes.spec.io import load_spec
from necc_bayes.studies.necc.cohort_steps import DAYS_PER_MONTH, ENTRY_MODELS
from necc_bayes.studies.necc.reproduce import COHORT
from necc_bayes.survival.fit import resolve_spec
from necc_bayes.survival.inputs import check_inputs
from necc_bayes.survival.intervals import expand


@pytest.mark.parametrize(("model", "factor"), [("prs_final", 0.962), ("prs_by_abdominal", 0.941)])
def test_entry_changes_only_the_first_interval(model, factor):
    path = bundled_path(COHORT)
    df = pd.read_csv(path)
    t, d = df["prs_months"].to_numpy(float), df["death"].to_numpy(int)
    e = df["prs_entry_months"].to_numpy(float)
    # 60 days in months, rounded to 4 decimals in the file; nobody dies or leaves before it
    assert np.allclose(e, 60 / DAYS_PER_MONTH, atol=5e-5) and t.min() > e.max()
    spec = resolve_spec(check_inputs(load_spec(bundled_path(f"models/{model}.toml")), path))
    cuts = np.asarray(spec.intervals.resolved_cuts, dtype=float)
    with_entry, naive = expand(t, d, cuts, entry=e), expand(t, d, cuts)
    np.testing.assert_allclose(with_entry.exposure[:, 1:], naive.exposure[:, 1:], rtol=0, atol=0)
    np.testing.assert_allclose(naive.exposure[:, 0] - with_entry.exposure[:, 0], e, atol=1e-12)
    np.testing.assert_array_equal(with_entry.interval, naive.interval)
    # first-interval cumulative hazards at the first cut, plug-in (maximum likelihood)
    c1, n = cuts[0], len(t)
    d1 = int(((naive.interval == 0) & (d == 1)).sum())
    e1 = naive.exposure[:, 0].sum()
    h_naive = d1 / e1 * c1
    h_entry = d1 / with_entry.exposure[:, 0].sum() * (c1 - e[0])
    assert h_naive / h_entry == pytest.approx(c1 * (e1 - n * e[0]) / ((c1 - e[0]) * e1))
    assert h_naive / h_entry == pytest.approx(factor, abs=5e-4)  # the docstring's numbers
    assert h_naive < h_entry  # without entry S(t) is higher at every time after the cut
    assert model in ENTRY_MODELS
