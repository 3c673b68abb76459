"""The installed ``necc-bayes`` script (``console``) against ``main`` called in a process.

``console`` exits with ``main``'s code and tunes the garbage collector for a process that ends
with the command (rarer full collections; live objects left to the operating system at exit);
``main`` called in this process leaves the collector as it was. Fast tier: bad input, exit 2.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from necc_bayes.cli.main import console, main
from necc_bayes.cli.runtime import FULL_COLLECTION_EVERY
from necc_bayes.data.bundled import bundled_path
from necc_bayes.errors import EXIT_BAD_INPUT

FINAL = str(bundled_path("models/prs_final.toml"))


def test_main_leaves_the_collector_alone(tmp_path: Path) -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    assert main(["validate-data", FINAL, "--data", str(tmp_path / "missing.csv")]) == 2
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_console_exits_with_mains_code(tmp_path: Path, monkeypatch, capsys) -> None:
    argv = ["necc-bayes", "validate-data", FINAL, "--data", str(tmp_path / "missing.csv")]
    monkeypatch.setattr(sys, "argv", argv)
    before = gc.get_threshold()
    try:
        with pytest.raises(SystemExit) as exit_:
            console()
        assert exit_.value.code == EXIT_BAD_INPUT
        assert "missing.csv" in capsys.readouterr().err
        assert gc.get_threshold() == (*before[:2], FULL_COLLECTION_EVERY)
        assert gc.get_freeze_count() > 0  # everything alive at the end is left to the OS
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
