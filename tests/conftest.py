"""Fixtures shared by every test package: cohort and spec paths, small sampler settings, and
the hand-made fit of ``tests/fake_fit.py`` (no sampling).

Tests run from the repository root (``make test``); the paths here are absolute, so a fixture
works from anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival.result import PEMResult
from tests.fake_fit import fake_result

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "synthetic" / "necc_synthetic_cohort.csv"
"""The bundled SYNTHETIC NECC cohort (88 patients)."""
FINAL_SPEC = ROOT / "models" / "prs_final.toml"
"""The paper's final multivariable model."""
QUICK = {"draws": 200, "tune": 200, "chains": 2, "seed": 11}
"""Sampler overrides of the slow tier's small fits (``fit(..., overrides=QUICK)``)."""


@pytest.fixture(scope="session")
def cohort_csv() -> Path:
    """Path of the bundled synthetic cohort."""
    return COHORT


@pytest.fixture(scope="session")
def final_spec() -> Path:
    """Path of ``models/prs_final.toml``."""
    return FINAL_SPEC


@pytest.fixture(scope="session")
def quick_overrides() -> dict[str, int]:
    """Small fixed-seed sampler overrides for slow-tier fits."""
    return dict(QUICK)


@pytest.fixture(scope="session")
def quick_sampler() -> SamplerSettings:
    """The same small settings as a :class:`SamplerSettings` (refits, sweeps, SBC)."""
    return SamplerSettings(**QUICK)


@pytest.fixture
def fake_fit(tmp_path: Path) -> Callable[..., PEMResult]:
    """Factory of hand-made fits (``fake_fit(stuck_chain=True)``), one cohort per call."""
    calls = iter(range(1_000))

    def make(**kwargs: Any) -> PEMResult:
        directory = tmp_path / f"fake{next(calls)}"
        directory.mkdir()
        return fake_result(directory, **kwargs)

    return make
