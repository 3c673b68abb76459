"""How a command runs: exit codes, one-line errors, and Ctrl-C / SIGTERM.

:func:`run` calls a subcommand's handler and turns what can go wrong into one line on stderr
and an exit code (DESIGN §4 and §8):

* 2 -- bad input: data, spec or arguments (:class:`~necc_bayes.errors.InputError`), or an
  unusable ``--out`` (:class:`~necc_bayes.errors.OutputError`), found before any work;
* 1 -- an operating-system error at run time (disk full, permission denied, ...): one line
  naming the file and the error, no traceback; a sampler that stopped early; anything else
  (a bug: the traceback is kept);
* 3 -- returned by ``fit``, ``reproduce`` and ``sensitivity`` themselves when the result was
  written but the diagnostics failed (each failure is printed on stderr);
* 130 (SIGINT, Ctrl-C) / 143 (SIGTERM) -- interrupted: one line, and nothing at ``--out``
  (outputs are written to a partial directory that an interrupt removes).

Once a signal was received, any error is reported as the interrupt (a Ctrl-C that lands in
an import leaves a half-imported module, whose next use fails otherwise than with
``KeyboardInterrupt``). A signal is recorded (:mod:`necc_bayes._runstate`) even when a
library swallows the ``KeyboardInterrupt`` it raises (nutpie stops sampling and returns a
NaN-padded trace, which the completeness check then refuses; numba/LLVM compiling in a C
callback can only print it, which :func:`_unraisable` keeps quiet); the run stops at its next
check, and a result directory is not committed once a signal was recorded, so an interrupted
run never writes a complete-looking result.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from necc_bayes._runstate import clear_signals, received_signal, record_signal
from necc_bayes.errors import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    IncompleteSamplingError,
    InputError,
    OutputError,
)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    record_signal(signum)
    raise KeyboardInterrupt


@contextlib.contextmanager
def _signal_handlers() -> Iterator[None]:
    """Record SIGINT and SIGTERM and raise KeyboardInterrupt for both.

    A signal the parent process set to be ignored (``nohup``, a background job of a
    non-interactive shell) stays ignored.
    """
    clear_signals()
    previous = {}
    if threading.current_thread() is not threading.main_thread():  # handlers: main thread only
        yield
        return
    previous_hook = sys.unraisablehook
    sys.unraisablehook = functools.partial(_unraisable, previous_hook)
    for signum in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN:
            continue
        previous[signum] = current
        signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _unraisable(
    previous: Callable[[sys.UnraisableHookArgs], object], info: sys.UnraisableHookArgs
) -> None:
    """Keep quiet about the KeyboardInterrupt a C callback swallowed; report anything else.

    A Ctrl-C that lands while numba/LLVM compiles raises inside a ctypes callback, where Python
    can only print "Exception ignored ... Traceback". The signal is recorded all the same and
    the run stops at its next check (:func:`~necc_bayes._runstate.raise_if_interrupted`).
    """
    if isinstance(info.exc_value, KeyboardInterrupt) and received_signal():
        return
    previous(info)


def os_error_line(err: OSError) -> str:
    """One line for an operating-system error: what failed, on which file."""
    where = f": {err.filename}" if err.filename else ""
    reason = err.strerror or (errno.errorcode.get(err.errno or 0) if err.errno else None)
    return f"{reason or err}{where}"


def _say(message: str, err: BaseException | None = None) -> None:
    """One line on stderr, then the notes added to ``err`` (e.g. which step of a job failed)."""
    print(f"necc-bayes: {message}", file=sys.stderr)
    for note in getattr(err, "__notes__", ()):
        print(f"necc-bayes: {note}", file=sys.stderr)


def run(handler: Callable[[], int]) -> int:
    """Run ``handler`` and return the exit code (see the module docstring)."""
    with _signal_handlers():
        try:
            return handler()
        except KeyboardInterrupt:
            return _interrupted_exit()
        except Exception as err:
            if received_signal():  # a consequence of the interrupt: a sampler that stopped
                return _interrupted_exit()  # early, a module whose import was cut short, ...
            return _error_exit(err)


def _error_exit(err: Exception) -> int:
    """One line and the exit code for the errors users cause; anything else is re-raised."""
    if isinstance(err, IncompleteSamplingError):
        _say(f"error: {err}", err)
        return EXIT_ERROR
    if isinstance(err, InputError | OutputError):
        _say(str(err), err)
        return EXIT_BAD_INPUT
    if isinstance(err, OSError):
        _say(f"error: {os_error_line(err)}", err)
        return EXIT_ERROR
    raise err


def _interrupted_exit() -> int:
    signum = received_signal() or signal.SIGINT
    name = signal.Signals(signum).name
    _say(f"interrupted ({name}); no result was written")
    return 128 + int(signum)


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables by which a user chooses the BLAS thread count (then left alone)."""


def limit_blas_threads() -> None:
    """Use one BLAS thread in this process unless the environment sets a number.

    nutpie already runs one chain per core, and the post-processing's matrix products have an
    inner dimension of ~10 (terms, intervals), where OpenBLAS's threads cost more than they
    give: on the shared 2-core machine a whole n = 20,000 ``fit`` took 82 s with the default
    two threads and 44 s with one (sampling 25 -> 16 s, LOO 16 -> 5 s, PH check 8 -> 3 s),
    with the same draws and bit-identical output files (issue 21). Libraries loaded later
    read ``OPENBLAS_NUM_THREADS``; those already loaded (numpy imported before ``main``) are
    limited through threadpoolctl.
    """
    if any(name in os.environ for name in BLAS_THREAD_VARIABLES):
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")


FULL_COLLECTION_EVERY = 100
"""Young-generation (gen 1) collections between two full garbage collections in the script
(CPython's default is 10)."""


def short_lived_gc() -> None:
    """Make full (oldest-generation) garbage collections ten times rarer in this process.

    The ``necc-bayes`` script imports ~1,700 modules (PyMC, PyTensor, nutpie, ArviZ,
    matplotlib) and then allocates many small objects (figures, graphs); CPython's default
    full collection every 10 young collections traverses that whole heap again and again.
    A warm n = 88 ``fit`` spent ~1 s of CPU in them (7.2 s -> 6.2 s with
    :func:`leave_objects_to_os` alone, 5.4 s with both; peak memory unchanged at ~575 MiB).
    Young generations are still collected as often as by default, so short-lived cycles are
    freed as soon as before; draws and output files do not depend on it.
    """
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def leave_objects_to_os() -> None:
    """Flush stdout and stderr and exempt every live object from the collector at exit.

    For the script only, after every output file was written and closed: the interpreter's
    final collections otherwise run the finalisers of every object of every imported module,
    ~1.4 s of a warm n = 88 ``fit`` (the operating system frees the memory at once).
    ``atexit`` handlers (logging's flush among them) still run.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()
