"""One writer per output contract: each command writes exactly its file list, and the Python
call it wraps writes the same list.

* ``fit``: :data:`necc_bayes.survival.save.FIT_FILES` (DESIGN §5) — ``PEMResult.save`` and
  ``necc-bayes fit`` (which calls it);
* ``sensitivity``: :data:`necc_bayes.workflows.sensitivity.result.SENSITIVITY_FILES` —
  ``SensitivityReport.save`` and ``necc-bayes sensitivity``;
* ``sbc``: :data:`necc_bayes.workflows.sbc.run.SBC_FILES` — ``run_sbc`` and ``necc-bayes
  sbc``.

Fast: the sampling is replaced by a hand-made fit (``tests/fake_fit.py``), a hand-made
sensitivity report and a fake simulation record, so what is tested is the writing path of
each command, end to end through the CLI. ``reproduce`` runs one function for the CLI and for
Python (``nb.reproduce``); its exact file list is pinned in ``tests/studies/test_reproduce.py``
(slow tier).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import necc_bayes as nb
from necc_bayes.cli.main import main
from necc_bayes.survival import fit as fit_module
from necc_bayes.survival.save import FIT_FILES
from necc_bayes.workflows.executor import RunStats
from necc_bayes.workflows.sbc import run as sbc_module
from necc_bayes.workflows.sbc.run import SBC_FILES
from necc_bayes.workflows.sensitivity import sweeps as sweeps_module
from necc_bayes.workflows.sensitivity.result import SENSITIVITY_FILES, SensitivityReport


def _names(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_fit_python_and_cli_write_the_same_files(fake_fit, tmp_path, monkeypatch, final_spec):
    result = fake_fit()  # one hand-made fit: its checks are computed once, then cached
    python = result.save(tmp_path / "python")
    assert _names(python) == sorted(FIT_FILES)
    monkeypatch.setattr(fit_module, "fit", lambda *a, **k: result)
    out = tmp_path / "cli"
    assert main(["fit", str(final_spec), "--data", "unused.csv", "--out", str(out)]) == 0
    assert _names(out) == sorted(FIT_FILES)
    # all at once: a non-empty directory is refused untouched, replaced only when asked
    (python / "keep.txt").write_text("precious")
    with pytest.raises(nb.OutputExistsError, match="--overwrite"):
        result.save(python)
    assert "keep.txt" in _names(python)
    assert _names(result.save(python, overwrite=True)) == sorted(FIT_FILES)


def _report() -> SensitivityReport:
    table = pd.DataFrame(
        {
            "sweep": ["prior_scale"] * 2,
            "setting": ["sd=1", "sd=2"],
            "term": ["trt"] * 2,
            "hr_median": [2.0, 2.1],
            "hr_low": [1.2, 1.1],
            "hr_high": [3.0, 3.4],
            "p_hr_gt_1": [0.99, 0.98],
            "diagnostics_passed": [True, True],
        }
    )
    flags = pd.DataFrame({"sweep": ["prior_scale"], "term": ["trt"], "conclusion_changes": [False]})
    return SensitivityReport(
        table=table,
        flags=flags,
        psense=pd.DataFrame({"parameter": ["log_hr[trt]"]}),
        pareto_k=pd.DataFrame({"subject": ["1"], "pareto_k": [0.2]}),
        case_deletion=pd.DataFrame(),
        seconds=1.0,
        stats=RunStats(scheduler="serial", n_tasks=2, compilations=1, workers=1),
    )


def test_sensitivity_python_and_cli_write_the_same_files(
    fake_fit, tmp_path, monkeypatch, final_spec
):
    assert _names(_report().save(tmp_path / "python")) == sorted(SENSITIVITY_FILES)
    monkeypatch.setattr(fit_module, "fit", lambda *a, **k: fake_fit())
    monkeypatch.setattr(sweeps_module, "sensitivity_analysis", lambda *a, **k: _report())
    out = tmp_path / "cli"
    args = ["sensitivity", str(final_spec), "--data", "unused.csv", "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert _names(out) == sorted(SENSITIVITY_FILES)


def _fake_simulation(task) -> dict:
    names = task.setup.parameter_names()
    rng = np.random.default_rng(task.index)
    ranks = rng.integers(0, task.setup.n_ranks, len(names))
    return {
        "index": task.index,
        "ranks": dict(zip(names, (int(r) for r in ranks), strict=True)),
        "truth": dict.fromkeys(names, 0.0),
        "n_events": 10,
        "n_divergent": 0,
        "seconds": 0.0,
    }


def test_sbc_python_and_cli_write_the_same_files(tmp_path, monkeypatch, final_spec, cohort_csv):
    monkeypatch.setattr(sbc_module, "run_simulation", _fake_simulation)
    setup = nb.sbc_setup(final_spec, cohort_csv, n_ranks=20)
    nb.run_sbc(setup, 5, tmp_path / "python")
    assert _names(tmp_path / "python") == sorted(SBC_FILES)
    out = tmp_path / "cli"
    args = ["sbc", str(final_spec), "--data", str(cohort_csv), "--out", str(out)]
    main([*args, "--n-sims", "5", "--n-ranks", "20", "--quiet"])
    assert _names(out) == sorted(SBC_FILES)


def test_sensitivity_of_a_fit_that_failed_its_diagnostics_exits_3(
    fake_fit, tmp_path, monkeypatch, final_spec, capsys
):
    """Every setting is a refit of the swept fit: its failed diagnostics are said, exit 3."""
    monkeypatch.setattr(fit_module, "fit", lambda *a, **k: fake_fit(stuck_chain=True))
    monkeypatch.setattr(sweeps_module, "sensitivity_analysis", lambda *a, **k: _report())
    out = tmp_path / "cli"
    args = ["sensitivity", str(final_spec), "--data", "unused.csv", "--out", str(out), "--quiet"]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert f"diagnostics FAILED for the fit being swept ({final_spec}): R-hat" in err, err
    assert _names(out) == sorted(SENSITIVITY_FILES)  # the result is written all the same
