"""The one sampler-settings type and the one diagnostics-thresholds type.

:class:`SamplerSettings` *is* the spec's ``[sampler]`` section and what every sampling path
takes (``fit``, compile-once refits, the sensitivity sweeps, the screen, SBC, ``reproduce``);
:class:`Thresholds` *is* the spec's ``[diagnostics]`` section and what the convergence checks
take. Command-line overrides are applied to the spec and re-validated
(:func:`necc_bayes.spec.io.with_sampler_overrides`), so a bad ``--draws`` gets the same
message as a bad ``draws =`` in a spec, before any model is built.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_DRAWS = 100_000
"""Upper bound of ``draws`` and ``tune`` per chain."""
MAX_CHAINS = 64
"""Upper bound of ``chains``."""
MAX_TOTAL_DRAWS = 400_000
"""Upper bound of ``draws x chains`` (the stored posterior grows with it)."""
MAX_SEED = 2**32 - 1
"""Seeds are integers in ``[0, 2**32 - 1]`` (what every sampler and netCDF attribute takes)."""


class SamplerSettings(BaseModel):
    """NUTS settings.

    Attributes
    ----------
    draws, tune : int
        Posterior draws and warm-up steps per chain (1 to 100,000).
    chains : int
        Number of chains (1 to 64); ``draws x chains`` at most 400,000.
    seed : int
        Seed of the sampler and of every post-sampling random step, in ``[0, 2**32 - 1]``.
    sampler : {"nutpie", "pymc"}
        NUTS implementation.
    target_accept : float or None
        Target acceptance rate of the step-size adaptation. ``None`` means the model's
        default, made explicit in the resolved spec: 0.95 for the random-walk baseline
        (0.9 left divergences on sparse intervals), 0.9 otherwise.
    cores : int or None
        Chains run in parallel (the sampler's default, all CPUs, when None).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    draws: int = Field(default=1000, ge=1, le=MAX_DRAWS)
    tune: int = Field(default=1000, ge=1, le=MAX_DRAWS)
    chains: int = Field(default=4, ge=1, le=MAX_CHAINS)
    seed: int = Field(default=20260101, ge=0, le=MAX_SEED)
    sampler: Literal["nutpie", "pymc"] = "nutpie"
    target_accept: float | None = Field(default=None, gt=0.5, lt=1.0)
    cores: int | None = Field(default=None, ge=1, le=MAX_CHAINS)

    @model_validator(mode="after")
    def _total(self) -> SamplerSettings:
        if self.draws * self.chains > MAX_TOTAL_DRAWS:
            raise ValueError(
                f"draws x chains = {self.draws} x {self.chains} = {self.draws * self.chains:,} "
                f"exceeds {MAX_TOTAL_DRAWS:,} posterior draws in all"
            )
        return self


class Thresholds(BaseModel):
    """Pass/fail thresholds of the convergence diagnostics.

    Defaults after Vehtari et al. (2021) and Betancourt (2016): rank-normalised R-hat < 1.01,
    bulk and tail ESS >= 400, no divergent transitions, E-BFMI >= 0.3 in every chain.

    Attributes
    ----------
    r_hat_max : float
        A quantity fails when its rank-normalised R-hat is at or above this value.
    ess_min : float
        A quantity fails when its bulk or tail ESS is below this value.
    max_divergences : int
        The fit fails with more divergent transitions than this (over all chains).
    bfmi_min : float
        The fit fails when a chain's E-BFMI is below this value.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    r_hat_max: float = Field(default=1.01, gt=1.0)
    ess_min: float = Field(default=400.0, gt=0.0)
    max_divergences: int = Field(default=0, ge=0)
    bfmi_min: float = Field(default=0.3, gt=0.0)
