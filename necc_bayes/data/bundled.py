"""Locate files bundled with the package (``data/`` and ``models/`` at the repository top).

In a source checkout (editable install) they are read from the repository; in a wheel they
are shipped under ``necc_bayes/_bundled/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # necc_bayes/


def bundled_path(relative: str) -> Path:
    """Return the path of a bundled file, e.g. ``bundled_path("data/published/table2.csv")``.

    Parameters
    ----------
    relative : str
        Path relative to the repository top (``data/...`` or ``models/...``).

    Returns
    -------
    Path
        Existing path of the file or folder.

    Raises
    ------
    FileNotFoundError
        If the file is not bundled.
    """
    for root in (_PACKAGE.parent, _PACKAGE / "_bundled"):
        candidate = root / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"bundled file not found: {relative}")
