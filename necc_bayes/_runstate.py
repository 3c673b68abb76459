"""State of the running command that lower layers may consult: signals received, test phases.

* **Signals.** The command line (:mod:`necc_bayes.cli.runtime`) records SIGINT / SIGTERM here
  with :func:`record_signal` before raising ``KeyboardInterrupt``. A library may swallow that
  exception (nutpie stops sampling and returns a NaN-padded trace); :func:`raise_if_interrupted`
  is called before a result directory is committed
  (:func:`~necc_bayes.data.outputs.write_atomically`), so an interrupted run never leaves a
  complete-looking result. From Python, where no handler records anything, it does nothing.
* **Test-only phase hook.** When ``NECC_BAYES_TEST_PHASE_FILE`` names a file, :func:`announce`
  appends the phase's name and a newline to it. The fault-injection tests
  (``tests/e2e/test_fault_injection.py``) read it to send SIGINT or SIGKILL to a running
  ``necc-bayes fit`` at a known phase. Without the variable -- always, outside those tests --
  it does nothing and never changes what a command computes or writes. Phases: ``import``
  (the scientific stack is about to be imported), ``compile`` (the model is about to be
  compiled and sampled), ``write`` (the partial output directory exists and files are being
  written into it); ``reproduce`` also announces each step by its function name
  (``step_fits``, ...) as it starts it.
"""

from __future__ import annotations

import os

PHASE_ENV = "NECC_BAYES_TEST_PHASE_FILE"

_SIGNALS: list[int] = []


def record_signal(signum: int) -> None:
    """Remember that signal ``signum`` arrived."""
    _SIGNALS.append(int(signum))


def clear_signals() -> None:
    """Forget the signals received (at the start of a command)."""
    _SIGNALS.clear()


def received_signal() -> int | None:
    """The first signal recorded since :func:`clear_signals`, or None."""
    return _SIGNALS[0] if _SIGNALS else None


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a signal was recorded (even if something swallowed it)."""
    if _SIGNALS:
        raise KeyboardInterrupt


def announce(phase: str) -> None:
    """Append ``phase`` to ``$NECC_BAYES_TEST_PHASE_FILE`` if it is set (test-only)."""
    path = os.environ.get(PHASE_ENV)
    if not path:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{phase}\n".encode())
    finally:
        os.close(fd)
