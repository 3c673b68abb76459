"""Write a result directory all at once, and only if nobody else did: atomic and exclusive.

The files are written into a hidden sibling ``.NAME.partial-XXXX`` (locked with ``flock``
while its writer lives), which is then renamed to ``NAME``:

* a failure or an interrupt half-way removes the partial directory, so ``NAME`` never holds a
  half-finished result;
* the final rename refuses a non-empty ``NAME`` that appeared meanwhile (another run writing
  to the same ``--out``): of two concurrent writers one succeeds, the other raises
  :class:`~necc_bayes.errors.OutputExistsError` and keeps the first one's files. With
  ``overwrite`` the old directory is swapped out atomically (Linux ``renameat2`` with
  ``RENAME_EXCHANGE``; elsewhere two renames) and removed afterwards;
* partial directories left by a killed run (SIGKILL, power loss) are unlocked: the next run
  to the same parent removes them and says so (:class:`~necc_bayes.errors.StaleOutputWarning`);
* :func:`check_out_dir` is called before any expensive work: it refuses an unusable ``--out``
  (a file, a parent that is a file, a directory it cannot write in -- tested by creating and
  removing a probe directory) so that a fit is not sampled only to fail at the end;
* the finished directory gets the mode ``mkdir`` would give it (``0777`` minus the umask),
  not ``mkdtemp``'s ``0700``.

Single output files (``orr --plot FILE``, ``orr-oc --csv FILE``, ``synthesize --out CSV``) are
checked the same way before any work (:func:`check_out_file`) and written through a hidden
sibling renamed into place (:func:`write_file_atomically`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from necc_bayes._runstate import announce, raise_if_interrupted
from necc_bayes.errors import OutputError, OutputExistsError, StaleOutputWarning

_PARTIAL, _NEW, _OLD = "partial", "new", "old"
_NEW_GRACE_SECONDS = 60.0


def _hidden(out: Path, kind: str) -> str:
    return f".{out.name}.{kind}-"


def check_out_dir(out: str | Path, *, overwrite: bool) -> Path:
    """Refuse an output directory that cannot be used; return it as a Path.

    Call this before any expensive work, so a user learns about the problem at once. Stale
    partial directories of killed runs next to ``out`` are removed (with a warning).

    Raises
    ------
    OutputExistsError
        ``out`` is a non-empty directory and ``overwrite`` is false.
    OutputError
        ``out`` or one of its parents is not a directory, or the nearest existing parent
        is not writable.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OutputExistsError(
            f"output directory {out} exists and is not empty; pass --overwrite to replace it"
        )
    parent = _existing_parent(out)
    _probe_writable(out, parent)
    if parent == out.parent.absolute():
        remove_stale_partials(out)
    return out


def _existing_parent(out: Path) -> Path:
    """The nearest existing ancestor of ``out``, which must be a directory."""
    for parent in out.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"--out {out}: {parent} is a file, not a directory")
            return parent
    raise OutputError(f"--out {out}: no existing parent directory")  # pragma: no cover


def _probe_writable(out: Path, parent: Path) -> None:
    """Create and remove a directory in ``parent``, the test that the result can be written."""
    try:
        probe = tempfile.mkdtemp(prefix=_hidden(out, "probe"), dir=parent)
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(
            f"--out {out}: cannot create a directory in {parent} ({exc.strerror})"
        ) from None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[int]:
    """Hold an exclusive ``flock`` on directory ``path`` (released if the process dies)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # no flock on this file system: run unlocked
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def _is_unlocked(path: Path) -> bool:
    """True if no live process holds the ``flock`` of directory ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by a live writer, or locks unsupported here: leave it alone
        return False
    finally:
        os.close(fd)
    return True


def remove_stale_partials(out: str | Path) -> list[Path]:
    """Remove the unlocked ``.NAME.partial-*`` / ``.old-*`` / ``.new-*`` directories by ``out``.

    Their writer was killed (a live writer holds the lock). A stale ``.old-`` directory whose
    ``out`` is missing is the previous result of an interrupted overwrite: it is renamed back
    to ``out`` instead. Emits a :class:`StaleOutputWarning` naming what was done.

    Returns
    -------
    list of Path
        The stale directories found.
    """
    out = Path(out)
    found = []
    for kind in (_PARTIAL, _OLD, _NEW):
        for path in sorted(out.parent.glob(_hidden(out, kind) + "*")):
            # a ".new-" directory is unlocked for a moment after its creation: only old ones
            young = kind == _NEW and time.time() - path.stat().st_mtime < _NEW_GRACE_SECONDS
            if path.is_dir() and not young and _is_unlocked(path):
                found.append(path)
    done = []
    for path in found:
        if path.name.startswith(_hidden(out, _OLD)) and not out.exists():
            with contextlib.suppress(OSError):
                path.rename(out)
                done.append(f"restored {path.name} (an interrupted --overwrite) to {out.name}")
                continue
        shutil.rmtree(path, ignore_errors=True)
        done.append(f"removed {path.name}")
    if done:
        warnings.warn(
            f"{out.parent}: found output left by a killed run: {'; '.join(done)}",
            StaleOutputWarning,
            stacklevel=2,
        )
    return found


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap directories ``a`` and ``b`` (Linux renameat2); False if unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _commit(tmp: Path, out: Path, *, overwrite: bool) -> None:
    """Rename the finished ``tmp`` to ``out``; exclusive unless ``overwrite``."""
    try:
        tmp.rename(out)  # POSIX: replaces a missing or *empty* directory, nothing else
        return
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise OutputError(f"--out {out} exists and is not a directory") from None
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    if not overwrite:
        raise OutputExistsError(
            f"output directory {out} was written by another run while this one was working; "
            "its files were kept and this run's result was discarded (pass --overwrite to "
            "replace it)"
        )
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous result
        return
    old = Path(tempfile.mkdtemp(prefix=_hidden(out, _OLD), dir=out.parent))
    with _locked(out):
        old.rmdir()
        out.rename(old)
        tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def write_atomically(out: str | Path, writer: Callable[[Path], None], *, overwrite: bool) -> Path:
    """Call ``writer(tmp_dir)`` and move the finished directory to ``out``.

    Parameters
    ----------
    out : path
        Final directory.
    writer : callable
        Writes every file into the directory it is given.
    overwrite : bool
        Replace an existing non-empty ``out``.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    OutputExistsError
        ``out`` is not empty (now, or when the result was complete) and ``overwrite`` is false.
    """
    out = check_out_dir(out, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    # created under a name cleaners ignore, locked, then renamed: a ".partial-" directory is
    # always either locked by its live writer or stale
    new = Path(tempfile.mkdtemp(prefix=_hidden(out, _NEW), dir=out.parent))
    tmp = new.with_name(new.name.replace(_hidden(out, _NEW), _hidden(out, _PARTIAL), 1))
    try:
        with _locked(new):
            new.rename(tmp)
            announce("write")
            writer(tmp)
            tmp.chmod(0o777 & ~_umask())
            raise_if_interrupted()  # a Ctrl-C that a library swallowed still discards it
            _commit(tmp, out, overwrite=overwrite)
    except BaseException as exc:
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, Exception) and not isinstance(exc, OSError) and _disk_full(out):
            # netCDF/HDF5 report a full disk as "RuntimeError: NetCDF: HDF error"
            raise _with_notes(
                OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out.parent)), exc
            ) from exc
        if isinstance(exc, OSError) and exc.filename is None:  # say where: a write() error
            raise _with_notes(OSError(exc.errno, exc.strerror, str(out.parent)), exc) from exc
        raise
    return out


def _with_notes(new: OSError, old: BaseException) -> OSError:
    """``new`` carrying the notes of ``old`` (which step of a job failed, say)."""
    for note in getattr(old, "__notes__", ()):
        new.add_note(note)
    return new


_FULL_BYTES = 1 << 20


def _disk_full(out: Path) -> bool:
    """True if the file system of ``out`` has less than 1 MiB left (after cleaning up)."""
    try:
        return shutil.disk_usage(out.parent).free < _FULL_BYTES
    except OSError:
        return False


FIGURE_SUFFIXES = (".png", ".svg", ".svgz", ".pdf", ".eps", ".ps", ".jpg", ".jpeg", ".tif", ".tiff")
"""File types a figure option (``--plot FILE``) accepts (matplotlib picks the format by suffix)."""


def check_out_file(path: str | Path, *, option: str, suffixes: tuple[str, ...] = ()) -> Path:
    """Refuse an output file that cannot be written, before any work; return it as a Path.

    The file may exist (it is replaced); it must not be a directory, its nearest existing
    parent must be a directory this process can create files in (a probe file is created and
    removed), and its suffix one of ``suffixes`` when given.

    Raises
    ------
    OutputError
        Naming ``option``, the file and the reason.
    """
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputError(
            f"{option} {path}: unsupported file type {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(suffixes)}"
        )
    if path.is_dir():
        raise OutputError(f"{option} {path} is a directory, not a file")
    parent = _existing_parent(path)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"{option} {path}: cannot create a file in {parent} ({exc.strerror})"
        ) from None
    return path


def write_file_atomically(path: str | Path, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp_file)`` and rename the finished file to ``path`` (replacing it).

    The temporary file is a hidden sibling with the same suffix (a figure's format follows
    it); a failure or an interrupt removes it, so ``path`` is either the old file or the
    complete new one, never half of one. Missing parent directories are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.partial-", suffix=path.suffix, dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        writer(tmp)
        tmp.chmod(0o666 & ~_umask())
        raise_if_interrupted()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
