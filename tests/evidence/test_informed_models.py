"""The informed study models differ from the final model only in the two site priors.

Reference: models/prs_final.toml (the weakly informative analysis) and the published
numbers of data/literature/hazard_ratios.csv (as printed).
"""

from __future__ import annotations

import pandas as pd
import pytest

from necc_bayes.data.bundled import bundled_path
from necc_bayes.spec import load_spec
from necc_bayes.spec.priors import PublishedPrior


@pytest.mark.parametrize("name, weight", [("prs_final_informed", 0.0), ("prs_final_robust", 0.5)])
def test_same_model_other_priors(name, weight):
    final = load_spec(bundled_path("models/prs_final.toml"))
    informed = load_spec(bundled_path(f"models/{name}.toml"))
    drop = {"name", "description"}
    a = final.model_dump(exclude=drop)
    b = informed.model_dump(exclude=drop)
    a["priors"].pop("terms")
    terms = b["priors"].pop("terms")
    assert a == b  # data (incl. the entry rule), covariates, intervals, baseline, sampler...
    lit = pd.read_csv(bundled_path("data/literature/hazard_ratios.csv")).set_index("study")
    rows = {"n_sites_gt1": "joh2023_multiple_organs", "site_abdominal": "trikalinos2020_liver"}
    assert set(terms) == set(rows)
    for term, study in rows.items():
        p = informed.priors.terms[term]
        assert isinstance(p, PublishedPrior) and p.robust_weight == weight
        assert (p.hr, p.low, p.high) == tuple(lit.loc[study, ["hr", "low", "high"]])
        assert lit.loc[study, "term"] == term
