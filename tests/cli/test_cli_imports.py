"""The light commands do not import the modelling, plotting or sampling stack (issue 21).

``necc-bayes --help``, ``cache info`` and ``validate-data`` must start fast: they may import
numpy, pandas, scipy and pydantic, never PyMC, pytensor, numba, nutpie, ArviZ or matplotlib
(about 3 s of imports on the benchmark machine). Checked in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pymc", "pytensor", "numba", "nutpie", "arviz", "arviz_stats", "matplotlib")

SCRIPT = """
import contextlib, io, json, sys
from necc_bayes.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["fit", "--help"],
        ["cache", "info"],
        [
            "validate-data",
            "models/prs_final.toml",
            "--data",
            "data/synthetic/necc_synthetic_cohort.csv",
        ],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_light_commands_import_no_heavy_package(argv, tmp_path):
    env_cache = {"NECC_BAYES_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **env_cache},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["code"] == 0
    assert not set(HEAVY) & set(out["modules"]), set(HEAVY) & set(out["modules"])
