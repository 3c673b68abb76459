"""Fault injection: real ``necc-bayes fit`` runs interrupted, killed, raced, starved (issue 22).

Every test starts the command line as a subprocess and checks what is left at ``--out``:

* SIGINT and SIGKILL at each phase -- import, compile, sampling, writing. The phase is found
  deterministically with the test-only hook of :mod:`necc_bayes._runstate`
  (``NECC_BAYES_TEST_PHASE_FILE``: the command appends ``import``, ``compile``, ``sample``,
  ``write`` as it reaches them); the signal is sent when the phase is announced (after a short
  delay for compile and sampling, which last seconds). SIGINT must give exit 130, one line,
  no result and no partial directory; SIGKILL leaves no result, and a partial directory killed
  while writing is removed -- and reported -- by the next run to the same ``--out``.
* Two writers started together on one ``--out``: one succeeds, the other exits 2 saying why.
* A full disk (a 512 KiB tmpfs; skipped with the reason where mounting is not allowed): exit
  1, one line naming ENOSPC, nothing left.
* Cold and warm compile cache: the same seed gives byte-identical ``hazard_ratios.csv`` and
  bit-identical draws, and no file is left in ``$TMPDIR``. This exercises the package's
  compile cache (``NECC_BAYES_CACHE_DIR``, :mod:`necc_bayes.inference.compile_cache`, where
  nutpie's model and pytensor's numba entries for it live), pointed at a fresh directory for
  the cold run and reused for the warm one.

* ``reproduce`` (the main job) interrupted 2 s into its fits: SIGINT gives 130 and nothing,
  SIGKILL only its partial directory (~30 s for both; the job's other phases and failures are
  injected into fake steps in the fast tier, tests/e2e/test_reproduce_faults.py).

Runtime: 20 min on the shared 2-core development machine under a load of ~10 (two cold
numba compilations take 150 s each there); expect about 5 minutes on an idle 2-core CI
machine. Each fit is 100 draws x 2 chains; the sampling-phase runs use 50,000 draws,
interrupted after about a second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from necc_bayes._runstate import PHASE_ENV
from necc_bayes.data.bundled import bundled_path

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="signals, flock and tmpfs as on Linux"),
]

COHORT = str(bundled_path("data/synthetic/necc_synthetic_cohort.csv"))
FINAL = str(bundled_path("models/prs_final.toml"))
QUICK = ["--draws", "100", "--tune", "100", "--chains", "2", "--quiet"]
CLI = [sys.executable, "-m", "necc_bayes.cli.main"]
INTERRUPTED = "necc-bayes: interrupted (SIGINT); no result was written"
PHASE_TIMEOUT = 300.0


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TMPDIR": str(tmp_path / "tmp"), PHASE_ENV: str(tmp_path / "phases.txt")})
    env.update(extra)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return env


def _default_sigint() -> None:  # pragma: no cover - runs in the child
    # a test runner started in the background may ignore SIGINT; the child must not inherit it
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def _wait_for_phase(proc: subprocess.Popen, phase_file: Path, phase: str) -> None:
    start = time.monotonic()
    while time.monotonic() - start < PHASE_TIMEOUT:
        if phase_file.exists() and phase in phase_file.read_text().split():
            return
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"exited ({proc.returncode}) before phase {phase!r}:\n{err[-2000:]}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"phase {phase!r} not reached in {PHASE_TIMEOUT:.0f} s")


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# phase -> (extra arguments, delay after the phase is announced, fresh compile cache?)
PHASES = {
    "import": ([], 0.0, False),
    "compile": ([], 0.3, True),  # a cold cache: compiling takes seconds, not milliseconds
    "sample": (["--draws", "50000"], 1.0, False),
    "write": ([], 0.0, False),
}


def _interrupt(tmp_path: Path, phase: str, sig: int) -> tuple[subprocess.CompletedProcess, Path]:
    extra, delay, cold = PHASES[phase]
    env = _env(tmp_path)
    if cold:
        env["NECC_BAYES_CACHE_DIR"] = str(tmp_path / "cache")
    out = tmp_path / "work" / "f"
    out.parent.mkdir()
    proc = _start(["fit", FINAL, "--data", COHORT, "--out", str(out), *QUICK, *extra], env)
    _wait_for_phase(proc, tmp_path / "phases.txt", phase)
    time.sleep(delay)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=PHASE_TIMEOUT)
    reached = (tmp_path / "phases.txt").read_text().split()
    assert reached[-1] == phase, f"the signal landed after {phase!r}: phases {reached}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), out


@pytest.mark.parametrize("phase", list(PHASES))
def test_sigint_at_each_phase_exits_130_and_leaves_nothing(tmp_path, phase):
    res, out = _interrupt(tmp_path, phase, signal.SIGINT)
    assert res.returncode == 130, res.stderr[-3000:]
    lines = [line for line in res.stderr.splitlines() if "interrupted" in line]
    assert lines == [INTERRUPTED], res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    assert "wrote" not in res.stdout
    assert list(out.parent.iterdir()) == []  # no result, no partial directory


@pytest.mark.parametrize("phase", list(PHASES))
def test_sigkill_at_each_phase_leaves_no_result(tmp_path, phase):
    res, out = _interrupt(tmp_path, phase, signal.SIGKILL)
    assert res.returncode == -signal.SIGKILL
    assert not out.exists()
    hidden = _hidden(out.parent)
    if phase != "write":
        assert hidden == []
        return
    # killed while writing: the partial directory stays behind (nothing can remove it) ...
    assert len(hidden) == 1 and hidden[0].startswith(".f.partial-"), hidden
    # ... until the next run to the same --out, which removes it and says so (here the run
    # itself is refused at once: its --draws is impossible)
    nxt = subprocess.run(
        [*CLI, "fit", FINAL, "--data", COHORT, "--out", str(out), "--draws", "0"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert nxt.returncode == 2
    assert f"StaleOutputWarning: {out.parent}: found output left by a killed run" in nxt.stderr
    assert f"removed {hidden[0]}" in nxt.stderr
    assert list(out.parent.iterdir()) == []


def test_two_writers_to_one_out_one_wins_the_other_exits_2(tmp_path):
    out = tmp_path / "work" / "f"
    out.parent.mkdir()
    env = _env(tmp_path)
    procs = [
        _start(["fit", FINAL, "--data", COHORT, "--out", str(out), *QUICK, "--seed", str(s)], env)
        for s in (1, 2)
    ]
    results = [p.communicate(timeout=PHASE_TIMEOUT) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(c == 2 for c in codes) == [False, True], (codes, [r[1][-2000:] for r in results])
    winner = codes.index(next(c for c in codes if c != 2))
    loser_err = results[1 - winner][1]
    assert codes[winner] in (0, 3)
    assert "written by another run" in loser_err or "exists and is not empty" in loser_err
    assert "Traceback" not in loser_err
    spec = (out / "spec.toml").read_text()
    assert f"seed = {winner + 1}\n" in spec  # the winner's files, complete
    assert _hidden(out.parent) == []


def test_full_disk_is_one_line_exit_1_and_nothing_left(tmp_path, tmpfs):
    disk = tmpfs("disk", "size=512k")
    out = disk / "f"
    res = subprocess.run(
        [*CLI, "fit", FINAL, "--data", COHORT, "--out", str(out), *QUICK],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 1, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("necc-bayes: error:")]
    assert errors == [f"necc-bayes: error: No space left on device: {disk}"], res.stderr[-3000:]
    assert list(disk.iterdir()) == []


def _draws(out: Path) -> np.ndarray:
    with xr.open_datatree(out / "posterior.nc") as tree:
        return tree["posterior"]["log_hr"].to_numpy()


def test_killed_compile_then_cold_and_warm_cache_give_identical_results(tmp_path):
    """Issue 22.3: every draw differed at ~1e-13 between a cold and a warm numba cache.

    The cache starts empty; a first run is killed 0.3 s into compiling (it must leave nothing
    that breaks the next run), a second compiles and fills the cache (cold), a third loads it
    (warm).
    """
    killed, _ = _interrupt(tmp_path, "compile", signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    env = _env(tmp_path, NECC_BAYES_CACHE_DIR=str(tmp_path / "cache"))
    outs = []
    for name in ("cold", "warm"):
        out = tmp_path / name
        res = subprocess.run(
            [*CLI, "fit", FINAL, "--data", COHORT, "--out", str(out), *QUICK],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert res.returncode in (0, 3), res.stderr[-3000:]  # 3: written, diagnostics failed
        outs.append(out)
    cold, warm = outs
    assert (cold / "hazard_ratios.csv").read_bytes() == (warm / "hazard_ratios.csv").read_bytes()
    np.testing.assert_array_equal(_draws(cold), _draws(warm))
    # issue 22.11: pytensor wrote ~13 source files per fit to $TMPDIR and never removed them
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_reproduce_interrupted_while_fitting_leaves_no_result(tmp_path, sig):
    """The main job, for real: a signal 2 s into its fits (compiling or sampling prs_final).

    The other phases and failures of ``reproduce`` are injected into fake steps in the fast
    tier (tests/e2e/test_reproduce_faults.py); this checks the real sampler path once (~30 s).
    """
    env = _env(tmp_path)
    out = tmp_path / "work" / "r"
    out.parent.mkdir()
    proc = _start(["reproduce", "--out", str(out), "--quiet", "--draws", "100"], env)
    _wait_for_phase(proc, tmp_path / "phases.txt", "step_fits")
    time.sleep(2.0)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=PHASE_TIMEOUT)
    assert not out.exists()
    hidden = _hidden(out.parent)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        assert len(hidden) == 1 and hidden[0].startswith(".r.partial-"), hidden
        return  # the next run removes it: test_killed_run_leaves_no_result_and_the_next_...
    assert proc.returncode == 130, stderr[-3000:]
    assert INTERRUPTED in stderr.splitlines() and "Traceback" not in stderr, stderr[-3000:]
    assert hidden == []
