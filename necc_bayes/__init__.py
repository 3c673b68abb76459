"""necc-bayes: Bayesian survival and response-rate analysis of small clinical cohorts.

The public API (``import necc_bayes as nb``)::

    result = nb.fit("models/prs_final.toml", "cohort.csv")   # -> nb.PEMResult
    result = nb.fit("Surv(time, status == 2) ~ celltype + karno", data=df,
                    spec={"data": {"time_unit": "days"}})      # a formula and a DataFrame
    print(nb.prepare("Surv(time, status) ~ trt", data=df))    # resolved priors, before sampling
    result.predict_survival(new_df, times=[180, 365]); result.plot_survival("celltype")
    result.hazard_ratios(); result.diagnostics(); result.save("out/")
    report = nb.sensitivity_analysis(result); report.save("sens/")
    nb.run_sbc(nb.sbc_setup("models/prs_final.toml", "cohort.csv"), 100, "sbc/")
    nb.compare_orr((7, 16), (9, 41))                          # -> nb.OrrComparison
    nb.reproduce("results/")                                  # the study, on SYNTHETIC data

Every name in ``__all__`` is imported on first use (PEP 562), so ``import necc_bayes`` and the
command line stay fast: PyMC is loaded when a model is first fitted, not before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from necc_bayes._version import __version__
from necc_bayes.errors import (
    ConvergenceWarning,
    DataError,
    InputError,
    NeccBayesError,
    OutputExistsError,
    PriorScaleWarning,
    ProportionalHazardsWarning,
    SparseDataWarning,
    SpecError,
)

if TYPE_CHECKING:
    from necc_bayes.inference.loo import compare_fits
    from necc_bayes.response.comparison import OrrComparison
    from necc_bayes.response.comparison import compare as compare_orr
    from necc_bayes.spec.io import load_spec, parse_spec
    from necc_bayes.spec.model import ModelSpec
    from necc_bayes.spec.settings import SamplerSettings, Thresholds
    from necc_bayes.studies.necc.reproduce import run_reproduce as reproduce
    from necc_bayes.survival.fit import PreparedModel, fit, prepare
    from necc_bayes.survival.result import PEMResult
    from necc_bayes.workflows.sbc.run import SBCResult, SBCSetup, run_sbc
    from necc_bayes.workflows.sbc.run import setup_from_spec as sbc_setup
    from necc_bayes.workflows.sensitivity.result import SensitivityReport
    from necc_bayes.workflows.sensitivity.sweeps import sensitivity_analysis

_LAZY: dict[str, tuple[str, str]] = {
    "fit": ("necc_bayes.survival.fit", "fit"),
    "prepare": ("necc_bayes.survival.fit", "prepare"),
    "PreparedModel": ("necc_bayes.survival.fit", "PreparedModel"),
    "PEMResult": ("necc_bayes.survival.result", "PEMResult"),
    "load_spec": ("necc_bayes.spec.io", "load_spec"),
    "parse_spec": ("necc_bayes.spec.io", "parse_spec"),
    "ModelSpec": ("necc_bayes.spec.model", "ModelSpec"),
    "SamplerSettings": ("necc_bayes.spec.settings", "SamplerSettings"),
    "Thresholds": ("necc_bayes.spec.settings", "Thresholds"),
    "compare_fits": ("necc_bayes.inference.loo", "compare_fits"),
    "sensitivity_analysis": ("necc_bayes.workflows.sensitivity.sweeps", "sensitivity_analysis"),
    "SensitivityReport": ("necc_bayes.workflows.sensitivity.result", "SensitivityReport"),
    "sbc_setup": ("necc_bayes.workflows.sbc.run", "setup_from_spec"),
    "run_sbc": ("necc_bayes.workflows.sbc.run", "run_sbc"),
    "SBCSetup": ("necc_bayes.workflows.sbc.run", "SBCSetup"),
    "SBCResult": ("necc_bayes.workflows.sbc.run", "SBCResult"),
    "compare_orr": ("necc_bayes.response.comparison", "compare"),
    "OrrComparison": ("necc_bayes.response.comparison", "OrrComparison"),
    "reproduce": ("necc_bayes.studies.necc.reproduce", "run_reproduce"),
}

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "InputError",
    "ModelSpec",
    "NeccBayesError",
    "OrrComparison",
    "OutputExistsError",
    "PEMResult",
    "PreparedModel",
    "PriorScaleWarning",
    "ProportionalHazardsWarning",
    "SBCResult",
    "SBCSetup",
    "SamplerSettings",
    "SensitivityReport",
    "SparseDataWarning",
    "SpecError",
    "Thresholds",
    "__version__",
    "compare_fits",
    "compare_orr",
    "fit",
    "load_spec",
    "parse_spec",
    "prepare",
    "reproduce",
    "run_sbc",
    "sbc_setup",
    "sensitivity_analysis",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'necc_bayes' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
