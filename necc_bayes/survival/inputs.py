"""One entry point that checks a specification and a data file together, and the model's inputs.

:func:`check_inputs` validates a specification and a data file against each other;
:func:`model_inputs` and :func:`model_priors` turn the checked inputs and the resolved
specification into what the model builder takes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from necc_bayes.data.load import DATAFRAME_SOURCE, Cohort, load_cohort
from necc_bayes.errors import Problem, SpecError
from necc_bayes.spec.io import load_spec
from necc_bayes.spec.model import ModelSpec
from necc_bayes.spec.priors import CoefficientPrior
from necc_bayes.survival.imputation import Imputation, build_imputation
from necc_bayes.survival.intervals import PersonPeriod, expand, resolve_cuts
from necc_bayes.survival.model import PEMInputs, PEMPriors
from necc_bayes.survival.time_varying import design_time_varying

CoefPrior = CoefficientPrior


@dataclass(frozen=True)
class Checked:
    """A specification and cohort that passed every check, with the resolved cut points."""

    spec: ModelSpec
    cohort: Cohort
    cuts: np.ndarray

    @cached_property
    def person_period(self) -> PersonPeriod:
        """The exposure / event expansion at the resolved cuts (from each row's entry time).

        Expanded once (an ``n x J`` matrix, used by the model, the checks and the report);
        its arrays are read-only, so the cached expansion cannot be changed by its users.
        """
        pp = expand(self.cohort.time, self.cohort.event, self.cuts, entry=self.cohort.entry)
        if np.shares_memory(pp.event, self.cohort.event):
            pp = replace(pp, event=pp.event.copy())
        for values in (pp.exposure, pp.interval, pp.event, pp.entry, pp.time):
            if values is not None:
                values.flags.writeable = False
        return pp


def check_inputs(spec: ModelSpec | str | Path, data: str | Path | pd.DataFrame) -> Checked:
    """Validate a specification (object or TOML path) and a data file or DataFrame together.

    Raises
    ------
    SpecError
        If the specification is invalid, or its cut points do not fit the follow-up.
    DataError
        If the data violate any rule (every problem is listed).
    """
    source = f"spec '{spec.name}'" if isinstance(spec, ModelSpec) else str(spec)
    spec = spec if isinstance(spec, ModelSpec) else load_spec(spec)
    cohort = load_cohort(data, spec)
    iv = spec.intervals
    try:
        cuts = resolve_cuts(iv.rule, cohort.time, cohort.event, cuts=iv.cuts, n=iv.n)
    except SpecError as err:
        problems = [replace(p, column=p.column or "intervals.cuts") for p in err.problems]
        label = DATAFRAME_SOURCE if isinstance(data, pd.DataFrame) else data
        raise SpecError(f"{source} (against data {label})", problems) from None
    return Checked(spec=spec, cohort=cohort, cuts=cuts)


def model_priors(resolved: ModelSpec) -> PEMPriors:
    """The resolved spec's priors in the form the model builder takes."""
    coefs: dict[str, CoefPrior] = dict(resolved.priors.terms)
    tv_sd = resolved.priors.time_varying_sd
    return PEMPriors(
        coefficients=coefs,
        groups=list(resolved.priors.groups.values()),
        baseline=resolved.priors.baseline,
        tv_sd=None if tv_sd == "auto" else tv_sd,
        frailty_sd=resolved.frailty.sd if resolved.frailty is not None else None,
    )


def model_inputs(checked: Checked) -> PEMInputs:
    """The design (centred if the spec says so), expansion, strata and clusters for the model."""
    cohort, spec = checked.cohort, checked.spec
    design = cohort.design
    strata, clusters = cohort.strata, cohort.clusters
    return PEMInputs(
        X=design.X_model,
        terms=design.terms,
        pp=checked.person_period,
        ids=cohort.ids,
        time_varying=design_time_varying(spec.covariates.time_varying, design),
        strata=None if strata is None else strata.codes,
        strata_labels=[] if strata is None else list(strata.levels),
        clusters=None if clusters is None else clusters.codes,
        cluster_labels=[] if clusters is None else list(clusters.levels),
        imputation=_imputation(checked),
    )


def _imputation(checked: Checked) -> Imputation | None:
    """The covariate models of ``data.missing = "model"`` (None when nothing is missing)."""
    design, spec = checked.cohort.design, checked.spec
    if spec.data.missing != "model" or not design.incomplete:
        return None
    means = design.means if design.center else np.zeros(len(design.terms))
    return build_imputation(design.X, design.terms, spec.imputation, means=means)


def check_fittable(checked: Checked, source: str = "spec") -> None:
    """Rules for a model ``fit`` can sample, beyond what any use of the spec needs.

    ``covariates.terms`` may be empty for workflows that add terms themselves (the univariate
    screen), but not for a fit: a baseline-only model is not supported (issue 22: it passed
    ``validate-data`` and crashed after sampling).

    Raises
    ------
    SpecError
        Rule ``terms_required`` naming ``covariates.terms``.
    """
    if not checked.cohort.design.terms:
        msg = "no covariate terms: a fit needs one at least (baseline-only models: not supported)"
        raise SpecError(source, [Problem("terms_required", msg, column="covariates.terms")])
