"""Reading a cohort file: what is refused, what the messages say, what is accepted (issue 22).

The rule of each refused file is asserted in the bad-input catalogue
(tests/data/test_bad_inputs.py); here are the message contents and the accepted variants.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from necc_bayes.data.csv_file import read_csv
from necc_bayes.errors import DataError

BAD = Path(__file__).resolve().parents[1] / "bad_inputs"


def _problem(path):
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert len(info.value.problems) == 1, info.value.render()
    return info.value.problems[0]


def test_bom_is_accepted_and_removed():
    frame = read_csv(BAD / "bom.csv")
    pd.testing.assert_frame_equal(frame, read_csv(BAD / "valid.csv"))


def test_duplicate_header_names_both_positions():
    p = _problem(BAD / "header_duplicate.csv")
    assert "columns [3, 7]" in p.message


def test_colliding_header_shows_both_spellings():
    p = _problem(BAD / "header_colliding.csv")
    assert "columns [4, 7]" in p.message and "' x1'" in p.message


def test_semicolon_file_lists_columns_and_decimal_commas():
    p = _problem(BAD / "semicolon_decimal_comma.csv")
    assert "semicolon-separated" in p.message
    assert "['id', 'time', 'event', 'x1', 'x2', 'stage']" in p.message
    assert "decimal comma" in p.message and "'5,0'" in p.message


def test_tab_separated_file_is_named(tmp_path):
    path = tmp_path / "tabs.csv"
    path.write_text((BAD / "valid.csv").read_text().replace(",", "\t"))
    p = _problem(path)
    assert p.rule == "csv_delimiter" and "tab-separated" in p.message
    assert "decimal comma" not in p.message


def test_latin1_names_line_row_column_and_text():
    p = _problem(BAD / "latin1.csv")
    assert p.column == "stage" and p.rows == (3,)
    assert "byte 0xe9 on line 4 (data row 3)" in p.message and "IIIé" in p.message


def test_latin1_in_the_header_names_line_1(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes("id,t\u00e9,event\n1,2,1\n".encode("latin-1"))
    p = _problem(path)
    assert p.rule == "encoding_utf8" and p.column is None and p.rows == ()
    assert "on line 1 " in p.message


def test_directory_is_not_reported_as_missing(tmp_path):
    p = _problem(tmp_path)
    assert p.rule == "file_is_file" and "directory" in p.message


def test_dev_null_is_empty_not_missing():
    p = _problem("/dev/null")
    assert p.rule == "csv_read" and "empty" in p.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_read(tmp_path):
    """``--data <(zcat cohort.csv.gz)`` gives a pipe, not a regular file: it is read."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    text = (BAD / "valid.csv").read_bytes()

    def feed():
        with open(fifo, "wb") as f:
            f.write(text)

    writer = threading.Thread(target=feed)
    writer.start()
    frame = read_csv(fifo)
    writer.join()
    assert frame.shape == (8, 6)


def test_quoted_decimal_comma_is_a_numeric_problem_later(tmp_path):
    """A comma-separated file with quoted "5,0" values parses; the value check names them."""
    from necc_bayes.spec.io import load_spec
    from necc_bayes.survival.inputs import check_inputs

    path = tmp_path / "q.csv"
    rows = (BAD / "valid.csv").read_text().splitlines()
    rows[1] = rows[1].replace("5.0", '"5,0"')
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as info:
        check_inputs(load_spec(BAD / "spec.toml"), path)
    assert info.value.rules == ["numeric"] and "'5,0'" in info.value.render()
    assert "decimal commas" in info.value.render()
