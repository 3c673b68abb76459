"""Integrity of the recorded R references (fast).

Every ``tests/reference/*.json`` written by ``scripts/reference/*.R`` (schema "necc-bayes R
reference v1") must carry its provenance: the tool and package versions, the date and the
script that wrote it (which must exist). A reference computed on a shipped data set also
names the data sets with the sha256 of the CSV in ``tests/datasets/``, the exact R calls,
the coding of every covariate and its results (one built on inline hand-made rows records
them in ``data_preparation`` instead); Bayesian references also their cuts, priors, seeds,
chains and iterations. The sha256 check fails if a CSV is
edited after the references were computed, so a test can never silently compare against
numbers computed on other rows. The lifelines-derived CSVs must also equal what lifelines
loads, and the numbers the tests rely on must be finite.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = ROOT / "tests" / "reference"
DATASET_DIR = ROOT / "tests" / "datasets"
SCHEMA = "necc-bayes R reference v1"

R_REFERENCES = sorted(
    p for p in REFERENCE_DIR.glob("*.json") if json.loads(p.read_text()).get("schema") == SCHEMA
)
DATASET_REFERENCES = [p for p in R_REFERENCES if "datasets" in json.loads(p.read_text())]
COMMON_KEYS = {"tool", "versions", "date", "script"}
DATASET_KEYS = {"datasets", "calls", "coding", "results"}
BAYES_KEYS = {"cuts", "priors", "seed", "chains", "iter", "warmup"}
POSTERIOR_KEYS = {"mean", "sd", "mcse_mean", "rhat", "ess_bulk"}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_references_found() -> None:
    names = {p.stem for p in R_REFERENCES}
    expected = {
        "veteran_cox",
        "veteran_cox_zph",
        "veteran_interval_glm",
        "veteran_rstanarm_pem",
        "colon_cox",
        "colon_rstanarm_pem",
        "heart_cox",
        "heart_rstanarm_pem",
        "stratified_cox",
        "rats_frailty_rstanarm",
        "ovarian_cox",
        "rossi_cox",
        "larynx_cox",
        "pbc_mice",
    }
    assert expected <= names, sorted(expected - names)


@pytest.mark.parametrize("path", R_REFERENCES, ids=lambda p: p.stem)
def test_metadata_present(path: Path) -> None:
    ref = _load(path)
    missing = COMMON_KEYS - set(ref)
    assert not missing, f"{path.name}: missing {sorted(missing)}"
    assert ref["tool"] == "R"
    assert ref["versions"]["R"].startswith("4.") and "survival" in ref["versions"]
    assert (ROOT / ref["script"]).is_file(), ref["script"]
    if "datasets" not in ref:
        assert ref["data_preparation"], f"{path.name}: neither datasets nor inline data"
        return
    missing = DATASET_KEYS - set(ref)
    assert not missing, f"{path.name}: missing {sorted(missing)}"
    assert ref["calls"] and all(isinstance(c, str) and c for c in ref["calls"])
    assert ref["coding"] and ref["results"]
    if "rstanarm" in ref["versions"]:
        missing = BAYES_KEYS - set(ref)
        assert not missing, f"{path.name}: Bayesian reference missing {sorted(missing)}"
        assert ref["chains"] == 4 and ref["warmup"] == 1000 and ref["iter"] >= 2000
        assert all(float(c) > 0 for c in ref["cuts"]) and ref["cuts"] == sorted(ref["cuts"])
    if "mice" in ref["versions"]:
        assert {"seed", "imputation_model"} <= set(ref)


@pytest.mark.parametrize("path", DATASET_REFERENCES, ids=lambda p: p.stem)
def test_dataset_sha256_matches_shipped_csv(path: Path) -> None:
    ref = _load(path)
    assert ref["datasets"], path.name
    for ds in ref["datasets"]:
        csv = ROOT / ds["file"]
        assert csv.parent == DATASET_DIR and csv.is_file(), ds["file"]
        changed = f"{path.name}: {ds['file']} changed since the reference"
        assert _sha256(csv) == ds["sha256"], changed
        assert len(pd.read_csv(csv)) == ds["n_rows_file"]


def _posterior_blocks(ref: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for fit in ref["results"].values():
        blocks.extend(fit["coefficients"])
        blocks.extend(fit["log_baseline_rates"])
        if "litter_sd" in fit:
            blocks.append(fit["litter_sd"])
    return blocks


@pytest.mark.parametrize(
    "path", [p for p in R_REFERENCES if "rstanarm" in _load(p)["versions"]], ids=lambda p: p.stem
)
def test_bayesian_summaries_complete_and_converged(path: Path) -> None:
    ref = _load(path)
    for fit in ref["results"].values():
        assert fit["diagnostics"]["divergent"] == 0, path.name
    for block in _posterior_blocks(ref):
        assert POSTERIOR_KEYS <= set(block), block
        assert all(math.isfinite(block[k]) for k in POSTERIOR_KEYS)
        assert block["rhat"] < 1.01 and block["ess_bulk"] > 400, block


@pytest.mark.parametrize("name", ["rossi", "larynx"])
def test_lifelines_csvs_equal_lifelines(name: str) -> None:
    # lifelines' load_<name>() is pd.read_csv of datasets/<name>.csv; locating the file
    # without importing lifelines keeps this test fast (the import takes seconds).
    spec = importlib.util.find_spec("lifelines")
    if spec is None or spec.origin is None:
        pytest.skip("lifelines not installed")
    source = Path(spec.origin).parent / "datasets" / f"{name}.csv"
    shipped = pd.read_csv(DATASET_DIR / f"{name}.csv")
    pd.testing.assert_frame_equal(shipped, pd.read_csv(source), check_dtype=False)


def test_every_shipped_csv_is_used_by_a_reference() -> None:
    used = {Path(ds["file"]).name for p in DATASET_REFERENCES for ds in _load(p)["datasets"]}
    shipped = {p.name for p in DATASET_DIR.glob("*.csv")}
    assert shipped == used, f"unused: {sorted(shipped - used)}, missing: {sorted(used - shipped)}"
