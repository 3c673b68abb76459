"""One entry point that checks a specification and a data file together."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from necc_bayes.data.load import Cohort, load_cohort
from necc_bayes.errors import SpecError
from necc_bayes.spec.io import load_spec
from necc_bayes.spec.model import ModelSpec
from necc_bayes.survival.intervals import PersonPeriod, expand, resolve_cuts


@dataclass(frozen=True)
class Checked:
    """A specification and cohort that passed every check, with the resolved cut points."""

    spec: ModelSpec
    cohort: Cohort
    cuts: np.ndarray

    @property
    def person_period(self) -> PersonPeriod:
        """The exposure / event expansion at the resolved cuts (from each row's entry time)."""
        return expand(self.cohort.time, self.cohort.event, self.cuts, entry=self.cohort.entry)


def check_inputs(spec: ModelSpec | str | Path, data: str | Path) -> Checked:
    """Validate a specification (object or TOML path) and a data file against each other.

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
        raise SpecError(f"{source} (against data {data})", problems) from None
    return Checked(spec=spec, cohort=cohort, cuts=cuts)
