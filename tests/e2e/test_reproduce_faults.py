"""Fault injection into ``necc-bayes reproduce``, the main job: never a half-finished result.

The job's steps (:data:`necc_bayes.studies.necc.reproduce.STEPS`) are replaced by small fakes
that write files into the job's partial directory, then fail, are interrupted or are killed;
what is left at ``--out`` is checked. No sampling (the fits are the hand-made ones of
``tests/fake_fit.py``), so this is the fast tier: ~15 s, most of it the one subprocess that is
killed with SIGKILL. The real ``reproduce`` writes through the same ``run_reproduce`` loop and
``write_atomically`` (tests/studies/test_reproduce.py pins its file list).

Before: a failing step left nothing behind too (``write_atomically`` was already used), but the
error did not say which step failed, and a finished run exited 0 whatever its fits'
diagnostics said; here exit 3 names each failing model on stderr (DESIGN §8, as ``fit``).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from necc_bayes._runstate import PHASE_ENV
from necc_bayes.cli.main import main
from necc_bayes.errors import DataError, IncompleteSamplingError, Problem, StaleOutputWarning
from necc_bayes.studies.necc import reproduce
from tests.fake_fit import fake_result

ROOT = Path(__file__).resolve().parents[2]
INTERRUPTED = "necc-bayes: interrupted ({}); no result was written"


def step_writes(ctx) -> None:
    """A step that did its work: a table, a figure and a fit directory in the partial output."""
    ctx.tables["first"] = pd.DataFrame({"a": [1, 2]})
    (ctx.out / "figures").mkdir()
    (ctx.out / "figures" / "first.png").write_bytes(b"not really a png")
    (ctx.out / "fits" / "m").mkdir(parents=True)
    (ctx.out / "fits" / "m" / "hazard_ratios.csv").write_text("term\nx\n")


def _fits_step(tmp_path: Path, *, stuck: tuple[str, ...] = ()):
    def step_fits(ctx) -> None:
        for name in ("prs_final", "prs_multivariable"):
            directory = tmp_path / "fits" / name
            directory.mkdir(parents=True)
            ctx.fits[name] = fake_result(directory, stuck_chain=name in stuck)

    return step_fits


@pytest.fixture
def use_steps(monkeypatch):
    """Replace the job's steps; the report page is a stub (its sections need every table)."""

    def use(*steps) -> None:
        monkeypatch.setattr(reproduce, "STEPS", [(f"fake {s.__name__}", s) for s in steps])

    monkeypatch.setattr(reproduce, "render_reproduce_report", lambda ctx: "<html>fake</html>")
    return use


def _run(out: Path, *extra: str) -> int:
    return main(["reproduce", "--out", str(out), "--quiet", *extra])


def _nothing_left(out: Path) -> None:
    assert not out.exists()
    assert list(out.parent.iterdir()) == [], "a partial or hidden directory was left"


def _raises(exc: BaseException):
    def step_fails(ctx) -> None:
        raise exc

    return step_fails


FAILURES = [
    (
        "incomplete_sampling",
        IncompleteSamplingError("sampling stopped early: chain 0 has 10 of 100 draws"),
        1,
        "necc-bayes: error: sampling stopped early",
    ),
    (
        "bad_input",
        DataError("cohort.csv", [Problem("time_positive", "must be > 0", "prs_months", [3])]),
        2,
        "[time_positive]",
    ),
    (
        "disk_full",
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        1,
        "necc-bayes: error: No space left on device: ",
    ),
]


@pytest.mark.parametrize(
    ("exc", "code", "text"), [c[1:] for c in FAILURES], ids=[c[0] for c in FAILURES]
)
def test_a_failing_step_leaves_no_result_and_names_the_step(
    tmp_path, capsys, use_steps, exc, code, text
):
    use_steps(step_writes, _raises(exc))
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    assert _run(out) == code
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err, err
    assert "reproduce step 'fake step_fails' (step_fails) failed; no result was written" in err
    _nothing_left(out)


def test_a_bug_in_a_step_keeps_its_traceback_and_leaves_no_result(tmp_path, use_steps):
    use_steps(step_writes, _raises(ZeroDivisionError("a bug")))
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    with pytest.raises(ZeroDivisionError) as info:  # exit 1 with the traceback from the shell
        _run(out)
    assert any("(step_fails) failed" in note for note in info.value.__notes__)
    _nothing_left(out)


def test_a_failure_after_the_steps_leaves_no_result(tmp_path, use_steps, monkeypatch):
    use_steps(step_writes)

    def broken_report(ctx) -> str:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(reproduce, "render_reproduce_report", broken_report)
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    assert _run(out) == 1
    _nothing_left(out)


def _signal_self(signum: int):
    def step_interrupted(ctx) -> None:
        os.kill(os.getpid(), signum)
        for _ in range(500):  # the handler raises KeyboardInterrupt at the next bytecode
            time.sleep(0.01)
        pytest.fail("the signal did not arrive")

    return step_interrupted


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_a_step_exits_128_plus_n_and_leaves_no_result(
    tmp_path, capsys, use_steps, signum, code
):
    use_steps(step_writes, _signal_self(signum))
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    assert _run(out) == code
    err = capsys.readouterr().err
    assert INTERRUPTED.format(signal.Signals(signum).name) in err.splitlines(), err
    assert "Traceback" not in err
    _nothing_left(out)


def test_a_swallowed_ctrl_c_still_discards_the_result(tmp_path, capsys, use_steps):
    """nutpie catches the KeyboardInterrupt and returns what it has: the job must not commit."""

    def step_swallows(ctx) -> None:
        try:
            _signal_self(signal.SIGINT)(ctx)
        except KeyboardInterrupt:
            pass  # what a library that stops "gracefully" does

    use_steps(step_writes, step_swallows)
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    assert _run(out) == 130
    assert INTERRUPTED.format("SIGINT") in capsys.readouterr().err
    _nothing_left(out)


def test_a_ctrl_c_lost_in_a_c_callback_stops_the_job_at_the_next_step(tmp_path, capsys, use_steps):
    """As when numba/LLVM compiles: the KeyboardInterrupt is raised inside a ctypes callback,
    where Python can only print "Exception ignored". Before: no report of that kind was
    suppressed and the job ran its remaining steps (161 s in the real run) before exit 130."""
    import ctypes

    ran = []

    def step_compiles(ctx) -> None:
        callback = ctypes.CFUNCTYPE(None)(lambda: _signal_self(signal.SIGINT)(ctx))
        callback()  # returns: the exception cannot cross the C frame

    def step_after(ctx) -> None:
        ran.append(True)

    use_steps(step_writes, step_compiles, step_after)
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    assert _run(out) == 130
    err = capsys.readouterr().err
    assert INTERRUPTED.format("SIGINT") in err.splitlines()
    assert "Exception ignored" not in err and "Traceback" not in err, err
    assert ran == []  # stopped before the next step
    _nothing_left(out)


def test_an_error_caused_by_the_interrupt_is_reported_as_the_interrupt(
    tmp_path, capsys, use_steps
):
    """Seen for real: a Ctrl-C in the middle of an import, then an error from the half-imported
    module -- a traceback and exit 1 before, one line and 130 now."""

    def step_import_cut_short(ctx) -> None:
        try:
            _signal_self(signal.SIGINT)(ctx)
        except KeyboardInterrupt:
            pass
        raise AttributeError("partially initialized module 'pymc' has no attribute 'Model'")

    use_steps(step_writes, step_import_cut_short)
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    assert _run(out) == 130
    err = capsys.readouterr().err
    assert INTERRUPTED.format("SIGINT") in err.splitlines() and "Traceback" not in err, err
    _nothing_left(out)


def test_a_failed_overwrite_keeps_the_previous_result(tmp_path, capsys, use_steps):
    use_steps(step_writes, _fits_step(tmp_path), _diag())
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    assert _run(out) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    use_steps(step_writes, _raises(IncompleteSamplingError("stopped")))
    assert _run(out, "--overwrite") == 1
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in out.parent.iterdir()] == ["r"]


def test_failed_diagnostics_exit_3_naming_each_model_with_the_result_written(
    tmp_path, capsys, use_steps
):
    use_steps(step_writes, _fits_step(tmp_path, stuck=("prs_multivariable",)), _diag())
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    assert _run(out) == 3
    captured = capsys.readouterr()
    failed = [line for line in captured.err.splitlines() if "diagnostics FAILED" in line]
    assert len(failed) == 1 and failed[0].startswith(
        "necc-bayes: diagnostics FAILED for prs_multivariable: R-hat"
    ), captured.err
    assert "diagnostics: FAILED for 1 model(s)" in captured.out
    table = pd.read_csv(out / "diagnostics_summary.csv")
    assert dict(zip(table["model"], table["passed"], strict=True)) == {
        "prs_final": True,
        "prs_multivariable": False,
    }
    assert (out / "report.html").exists() and (out / "figures" / "first.png").exists()


def test_passed_diagnostics_exit_0(tmp_path, capsys, use_steps):
    use_steps(_fits_step(tmp_path), _diag())
    out = tmp_path / "r"
    assert _run(out) == 0
    assert "diagnostics: passed for every model" in capsys.readouterr().out
    assert pd.read_csv(out / "diagnostics_summary.csv")["passed"].all()


def _diag():
    return reproduce.step_diagnostics


def step_hangs(ctx) -> None:  # pragma: no cover - runs in the killed child
    from necc_bayes._runstate import announce

    step_writes(ctx)
    announce("inside")
    time.sleep(120)


def _child(out: str) -> int:  # pragma: no cover - runs in the killed child
    reproduce.STEPS[:] = [("a step that hangs", step_hangs)]
    return main(["reproduce", "--out", out, "--quiet"])


@pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL and flock as on Linux")
def test_killed_run_leaves_no_result_and_the_next_run_removes_its_partial(
    tmp_path, capsys, use_steps
):
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    phases = tmp_path / "phases.txt"
    code = f"import sys, tests.e2e.test_reproduce_faults as t; sys.exit(t._child({str(out)!r}))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, PHASE_ENV: str(phases)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    start = time.monotonic()
    while not (phases.exists() and "inside" in phases.read_text().split()):
        if proc.poll() is not None or time.monotonic() - start > 120:
            proc.kill()
            pytest.fail(f"the child did not reach its step: {proc.communicate()[1][-2000:]}")
        time.sleep(0.02)
    assert phases.read_text().split() == ["import", "write", "step_hangs", "inside"]
    proc.kill()
    proc.communicate()
    assert not out.exists()
    left = [p.name for p in out.parent.iterdir()]
    assert len(left) == 1 and left[0].startswith(".r.partial-"), left
    # the next run to the same --out removes it, says so, and writes a complete result
    use_steps(step_writes, _fits_step(tmp_path), _diag())
    with warnings.catch_warnings():  # printed by the command as one line, not an error here
        warnings.simplefilter("always", StaleOutputWarning)
        assert _run(out) == 0
    err = capsys.readouterr().err
    assert "StaleOutputWarning" in err and f"removed {left[0]}" in err, err
    assert [p.name for p in out.parent.iterdir()] == ["r"]
    assert (out / "diagnostics_summary.csv").exists()
