"""A hand-made PEMResult for fast tests (no sampling).

The cohort is simulated from a known piecewise-exponential model and written to a CSV; the
"posterior" is independent normal / gamma draws close to the truth (so R-hat and ESS pass),
with a per-subject log-likelihood from ``pem_math.pointwise_loglik``. ``stuck_chain=True``
shifts one chain of one log hazard ratio, which the diagnostics must flag by name.
"""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

from necc_bayes.spec.io import parse_spec
from necc_bayes.survival.fit import PEMResult, resolve_spec
from necc_bayes.survival.inputs import Checked, check_inputs
from necc_bayes.survival.likelihood import pointwise_loglik
from necc_bayes.survival.replicates import simulate_event_times

TRUE_LAM = np.array([0.06, 0.04, 0.03])
TRUE_BETA = np.array([0.7, 0.03])


def write_cohort(path: Path, n: int = 80, seed: int = 0) -> Path:
    """Simulate a cohort with a 0/1 term ``trt`` and a numeric ``age``; write it as CSV."""
    rng = np.random.default_rng(seed)
    trt = rng.integers(0, 2, n).astype(float)
    age = rng.normal(60, 8, n).round(1)
    X = np.column_stack([trt, age - age.mean()])
    bounds = np.array([0.0, 6.0, 18.0, np.inf])
    T = simulate_event_times(TRUE_LAM[None], TRUE_BETA[None], X, bounds, rng)[0]
    C = rng.uniform(12, 48, n)
    frame = pd.DataFrame(
        {
            "patient_id": np.arange(1, n + 1),
            "months": np.round(np.minimum(T, C), 2) + 0.01,
            "death": (T <= C).astype(int),
            "trt": trt.astype(int),
            "age": age,
        }
    )
    frame.to_csv(path, index=False)
    return path


SPEC = {
    "name": "fake",
    "description": "hand-made posterior for tests",
    "data": {"time": "months", "event": "death", "id": "patient_id"},
    "covariates": {"terms": ["trt", "age"]},
    "intervals": {"rule": "fixed", "cuts": [6.0, 18.0]},
}


def fake_result(tmp_path: Path, *, stuck_chain: bool = False, seed: int = 1) -> PEMResult:
    """Return a PEMResult with a hand-made posterior near the true parameters."""
    csv = write_cohort(tmp_path / "cohort.csv")
    checked = check_inputs(parse_spec(SPEC), csv)
    return fake_posterior(checked, TRUE_BETA, [0.25, 0.01], TRUE_LAM, stuck_chain=stuck_chain,
                          seed=seed)


def fake_posterior(
    checked: Checked,
    beta: np.ndarray | list[float],
    beta_sd: np.ndarray | list[float],
    lam: np.ndarray | list[float],
    *,
    stuck_chain: bool = False,
    seed: int = 1,
) -> PEMResult:
    """A PEMResult of any checked inputs: log-HR ~ Normal(beta, beta_sd), rates ~ Gamma(30)."""
    resolved = resolve_spec(checked)
    rng = np.random.default_rng(seed)
    chains, draws = 4, 250
    p, J = len(beta), len(lam)
    beta = rng.normal(beta, beta_sd, size=(chains, draws, p))
    if stuck_chain:
        beta[0, :, 0] += 1.5
    lam = rng.gamma(30.0, np.asarray(lam) / 30.0, size=(chains, draws, J))
    design = checked.cohort.design
    pp = checked.person_period
    ll = pointwise_loglik(beta.reshape(-1, p), lam.reshape(-1, J), design.X_model, pp)
    from necc_bayes.survival.model import interval_labels

    idata = az.from_dict(
        {
            "posterior": {"log_hr": beta, "hr": np.exp(beta), "baseline_hazard": lam},
            "sample_stats": {
                "diverging": np.zeros((chains, draws), bool),
                "energy": rng.normal(size=(chains, draws)),
            },
            "log_likelihood": {"survival": ll.reshape(chains, draws, -1)},
        },
        dims={
            "log_hr": ["term"],
            "hr": ["term"],
            "baseline_hazard": ["interval"],
            "survival": ["subject"],
        },
        coords={
            "term": design.terms,
            "interval": interval_labels(pp),
            "subject": [str(i) for i in checked.cohort.ids],
        },
    )
    idata.attrs.update({"spec_hash": "fake", "spec_name": "fake", "seed": 1})
    return PEMResult(idata=idata, spec=resolved, checked=checked)
