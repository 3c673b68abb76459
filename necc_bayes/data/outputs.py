"""Write a result directory all at once: into a temporary sibling, then rename.

A failure half-way leaves no partial output directory behind; an existing non-empty
directory is refused unless overwriting was asked for, and is only replaced once the new
one is complete.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from necc_bayes.errors import OutputExistsError


def check_out_dir(out: str | Path, *, overwrite: bool) -> Path:
    """Refuse a non-empty existing ``out`` unless ``overwrite``; return it as a Path.

    Call this before any expensive work, so a user learns about the clash at once.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"--out {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OutputExistsError(
            f"output directory {out} exists and is not empty; pass --overwrite to replace it"
        )
    return out


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
    """
    out = check_out_dir(out, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        writer(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
    return out
