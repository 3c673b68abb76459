"""The ``[summaries]`` and ``[ph_check]`` sections: what is reported after a fit.

Kept apart from :mod:`necc_bayes.spec.model` (which re-exports them) to keep one concept per
module: these sections change what is summarised, never what is fitted.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ProfileSection(_Section):
    """A covariate profile for survival curves; unnamed terms are set to their means.

    Attributes
    ----------
    name : str
        Label of the profile in ``survival.csv`` and the report.
    values : dict of str to float
        Term values of the profile (design-column names, e.g. ``celltype[adeno] = 1``);
        terms not named are at their means.
    """

    name: str
    values: dict[str, float] = Field(default_factory=dict)


class SummarySection(_Section):
    """What the posterior summaries report.

    Attributes
    ----------
    ci_prob : float
        Probability of the reported credible intervals (0.95: 95%).
    interval : {"equal_tailed"}
        Kind of credible interval (equal-tailed: the 2.5% and 97.5% posterior quantiles).
    times : list of float or None
        Times at which survival probabilities are summarised, in the data's time unit; unset:
        with ``data.time_unit`` 0.5, 1, 2, 3 and 5 years (those within follow-up), without
        one the quartiles of the follow-up times (resolved in the written spec). Times past
        the largest follow-up time are flagged ``beyond_follow_up`` in every table.
    rmst_horizon : float or None
        Horizon of the restricted mean survival time; unset: the largest summary time, or
        the longest follow-up if that is shorter (resolved in the written spec).
    profiles : list of tables or None
        ``[[summaries.profiles]]``: covariate profiles for survival curves; unset: the
        covariate means, then one real patient per level of each categorical column (that
        level's dummy 1, the column's other dummies 0) and each other 0/1 term at 0 and at 1,
        with the other categorical columns at their reference level and the remaining terms
        at their means.
    """

    ci_prob: float = Field(default=0.95, gt=0.0, lt=1.0)
    interval: Literal["equal_tailed"] = "equal_tailed"
    # default (resolved against the data): with data.time_unit 0.5, 1, 2, 3 and 5 years within
    # follow-up; without a unit the 25%, 50% and 75% quantiles of the follow-up times
    times: list[float] | None = None
    rmst_horizon: float | None = Field(default=None, gt=0.0)
    profiles: list[ProfileSection] | None = None

    @property
    def time_points(self) -> list[float]:
        """The summary times of a resolved specification (empty before it is resolved)."""
        return list(self.times or [])


PHTransform = Literal["km", "identity", "log"]


class PHCheckSection(_Section):
    """Settings of the proportional-hazards check run after every fit (``ph_check.csv``).

    ``transform``: the time scale ``g(t)`` of the tested log-HR trend (``"km"``:
    ``1 - KM(t-)``, as ``survival::cox.zph``; ``"identity"``: ``t``; ``"log"``: ``log t``);
    ``alpha``: a row is flagged when its posterior predictive p-value is below it;
    ``n_replicates``: posterior draws used, one simulated cohort each.

    Attributes
    ----------
    transform : {"km", "identity", "log"}
        Time scale ``g(t)`` of the tested log-HR trend.
    alpha : float
        A row is flagged when its posterior predictive p-value is below ``alpha``.
    n_replicates : int
        Posterior draws used, one simulated replicate cohort each.
    replicate_subjects : int or None
        Subjects in the replicate cohorts of this check *and* of the posterior predictive
        check: all when unset; the resolved spec sets 100,000 above 100,000 subjects (a
        seeded random subset, the same for both checks, compared with their observed data;
        not for (start, stop] pieces, which are not replicated). Set it to at least the
        number of subjects to use every subject.
    """

    transform: PHTransform = "km"
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    n_replicates: PositiveInt = 400
    replicate_subjects: PositiveInt | None = None
