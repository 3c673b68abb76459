"""Fixtures of the evidence tests: RBesT's vignette numbers (tests/reference)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "rbest_vignettes.json"


@pytest.fixture(scope="session")
def rbest() -> dict[str, Any]:
    """RBesT 1.11-0 vignette numbers; provenance inside the file."""
    with REFERENCE.open() as fh:
        return json.load(fh)
