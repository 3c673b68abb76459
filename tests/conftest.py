"""Fixtures shared by every test package: cohort and spec paths, small sampler settings, the
hand-made fit of ``tests/fake_fit.py`` (no sampling), and a tmpfs mount for disk-full and
read-only file-system tests.

Tests run from the repository root (``make test``); the paths here are absolute, so a fixture
works from anywhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
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


def _mount(target: Path, options: str) -> str | None:
    """Mount a tmpfs at ``target``; return None, or why it could not be mounted."""
    if os.name != "posix" or shutil.which("mount") is None:
        return "no mount command"
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    target.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if res.returncode == 0 else f"mount failed: {res.stderr.strip()}"


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """``tmpfs(name, options)`` mounts a tmpfs (e.g. ``"size=300k"`` or ``"ro,size=64k"``).

    Skips the test, with the reason, where mounting is not allowed (not root, containers
    without CAP_SYS_ADMIN). Everything mounted is unmounted afterwards.
    """
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        target = tmp_path / name
        why = _mount(target, options)
        if why is not None:
            pytest.skip(f"cannot mount a tmpfs here ({why})")
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        with contextlib.suppress(OSError):
            subprocess.run(["umount", str(target)], capture_output=True, check=False)
