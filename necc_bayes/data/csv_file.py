"""Read a cohort CSV file as text, refusing what would be misread rather than guessing.

:func:`read_csv` returns every column as text (so that ``"yes"`` in a numeric column is
reported, not turned into a missing value) and raises :class:`~necc_bayes.errors.DataError`
with a named rule for a file that cannot be read as intended:

* ``file_exists`` / ``file_is_file``: no such path, or a directory. Other non-regular files
  (a pipe such as ``--data <(...)``, ``/dev/stdin``) are read; ``/dev/null`` is empty;
* ``csv_read``: empty, no header, or unparsable (ragged rows: pandas' message);
* ``encoding_utf8``: not UTF-8 -- the line, data row and column of the first bad byte are
  named (typically Latin-1 or Windows-1252 text). A UTF-8 byte-order mark is accepted;
* ``csv_delimiter``: one column whose name contains ``;`` or a tab -- a file separated by
  semicolons (often with decimal commas, which are named too) or tabs; the columns it would
  have are listed;
* ``column_unique``: two columns with the same name, also after surrounding spaces are
  removed (``death`` and ``" death"``): which copy is meant cannot be known.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from necc_bayes.errors import DataError, Problem

_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV file as text columns, turning I/O and format problems into DataError.

    Parameters
    ----------
    path : path
        The file (UTF-8, comma-separated, one header row).

    Returns
    -------
    DataFrame
        One text column per header field (names stripped of surrounding spaces); empty
        fields are missing values.

    Raises
    ------
    DataError
        With one of the rules of the module docstring.
    """
    path = Path(path)
    source = str(path)
    text = _decode(_read_bytes(path), source)
    header = _header(text, source)
    _check_delimiter(header, text, source)
    _check_unique(header, source)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(source, [Problem("csv_read", str(exc).strip())]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DataError(str(path), [Problem("file_exists", "data file not found")])
    if path.is_dir():
        raise DataError(
            str(path), [Problem("file_is_file", "is a directory; give the CSV file inside it")]
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        msg = f"cannot read: {exc.strerror}"
        raise DataError(str(path), [Problem("file_exists", msg)]) from None


def _decode(raw: bytes, source: str) -> str:
    """UTF-8 text (a byte-order mark removed); the first bad byte located if not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
        pos = exc.start
        line_no = raw.count(b"\n", 0, pos) + 1
        line_start = raw.rfind(b"\n", 0, pos) + 1
        before = raw[max(line_start, start) : pos].decode("utf-8", errors="replace")
        field = len(next(csv.reader([before]), [""])) - 1 if before else 0
        header = next(csv.reader([raw[start:].split(b"\n", 1)[0].decode("latin-1")]), [])
        column = header[field].strip() if 0 <= field < len(header) and line_no > 1 else None
        line_end = raw.find(b"\n", pos)
        shown = raw[line_start : line_end if line_end >= 0 else None].decode("latin-1").strip()
        where = f"line {line_no}" + (f" (data row {line_no - 1})" if line_no > 1 else "")
        msg = (
            f"not UTF-8: byte 0x{raw[pos]:02x} on {where} ({shown[:60]!r} read as Latin-1); "
            "save the file as UTF-8"
        )
        rows = (line_no - 1,) if line_no > 1 else ()
        raise DataError(source, [Problem("encoding_utf8", msg, column=column, rows=rows)]) from None


def _header(text: str, source: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text)), None)
    if not text.strip() or not first or not any(f.strip() for f in first):
        raise DataError(source, [Problem("csv_read", "the file is empty (no header row)")])
    return first


def _check_delimiter(header: list[str], text: str, source: str) -> None:
    """Refuse a file that is one column because it is separated by ';' or tabs."""
    if len(header) != 1:
        return
    found = [(sep, name) for sep, name in ((";", "semicolon"), ("\t", "tab")) if sep in header[0]]
    if not found:
        return
    sep, name = found[0]
    columns = [c.strip() for c in header[0].split(sep)]
    lines = text.splitlines()[1:21]
    values = [v for line in lines for v in line.split(sep)]
    decimal = [v.strip() for v in values if _DECIMAL_COMMA.match(v)][:3]
    hint = (
        f"; numbers such as {decimal} use a decimal comma: write them with a decimal point"
        if decimal
        else ""
    )
    msg = (
        f"the file is {name}-separated ({sep!r}), but a comma-separated file is expected; "
        f"columns found: {columns}{hint}"
    )
    raise DataError(source, [Problem("csv_delimiter", msg)])


def _check_unique(header: list[str], source: str) -> None:
    """Refuse repeated column names, also after surrounding spaces are removed."""
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header, start=1):
        positions.setdefault(name.strip(), []).append(i)
    problems = []
    for name, where in positions.items():
        if len(where) > 1:
            spelled = sorted({header[i - 1] for i in where})
            same = "" if len(spelled) == 1 else f" (written {spelled})"
            problems.append(
                Problem(
                    "column_unique",
                    f"appears {len(where)} times, as columns {where}{same}; which one the "
                    "spec means cannot be known: rename or remove the copies",
                    column=name,
                )
            )
    if problems:
        raise DataError(source, problems)
