"""Result directories are written atomically and exclusively (issue 22).

No sampling: the writers here are small functions. The same guarantees for real
``necc-bayes fit`` processes (two writers at once, SIGKILL while writing, a full disk) are in
tests/e2e/test_fault_injection.py.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import warnings
from pathlib import Path

import pytest

from necc_bayes.data import outputs
from necc_bayes.data.outputs import check_out_dir, remove_stale_partials, write_atomically
from necc_bayes.errors import OutputError, OutputExistsError, StaleOutputWarning


def _files(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(directory.iterdir())}


def _write(text: str):
    def writer(d: Path) -> None:
        (d / "result.txt").write_text(text)

    return writer


def test_writes_all_at_once_and_leaves_nothing_hidden(tmp_path):
    out = write_atomically(tmp_path / "r", _write("a"), overwrite=False)
    assert _files(out) == {"result.txt": "a"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_mode_follows_the_umask_not_mkdtemp(tmp_path):
    old = os.umask(0o027)
    try:
        out = write_atomically(tmp_path / "r", _write("a"), overwrite=False)
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o750  # mkdtemp alone gives 0o700


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failure_or_interrupt_leaves_no_result(tmp_path, exc):
    def writer(d: Path) -> None:
        (d / "half.txt").write_text("half")
        raise exc

    with pytest.raises(type(exc)):
        write_atomically(tmp_path / "r", writer, overwrite=False)
    assert list(tmp_path.iterdir()) == []


def test_a_directory_that_appeared_meanwhile_is_not_replaced(tmp_path):
    """The race of issue 22: both runs passed the early check; the second must not win."""
    out = tmp_path / "r"

    def slow_writer(d: Path) -> None:
        (d / "result.txt").write_text("second")
        out.mkdir()  # the first run commits while this one is still writing
        (out / "result.txt").write_text("first")

    with pytest.raises(OutputExistsError, match="written by another run"):
        write_atomically(out, slow_writer, overwrite=False)
    assert _files(out) == {"result.txt": "first"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_overwrite_replaces_and_leaves_no_old_copy(tmp_path):
    out = write_atomically(tmp_path / "r", _write("old"), overwrite=False)
    write_atomically(out, _write("new"), overwrite=True)
    assert _files(out) == {"result.txt": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_overwrite_without_renameat2_uses_two_renames(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    out = write_atomically(tmp_path / "r", _write("old"), overwrite=False)
    write_atomically(out, _write("new"), overwrite=True)
    assert _files(out) == {"result.txt": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_an_empty_existing_directory_is_used(tmp_path):
    (tmp_path / "r").mkdir()
    write_atomically(tmp_path / "r", _write("a"), overwrite=False)
    assert _files(tmp_path / "r") == {"result.txt": "a"}


def test_stale_partial_is_removed_and_reported(tmp_path):
    stale = tmp_path / ".r.partial-abc123"
    stale.mkdir()
    (stale / "posterior.nc").write_text("half")
    with pytest.warns(StaleOutputWarning, match=r"removed \.r\.partial-abc123"):
        check_out_dir(tmp_path / "r", overwrite=False)
    assert not stale.exists()


def test_a_live_writers_partial_is_left_alone(tmp_path):
    live = tmp_path / ".r.partial-live"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # what a running writer holds
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert remove_stale_partials(tmp_path / "r") == []
        assert live.exists()
    finally:
        os.close(fd)


def test_old_copy_of_an_interrupted_overwrite_is_restored(tmp_path):
    old = tmp_path / ".r.old-xyz"
    old.mkdir()
    (old / "result.txt").write_text("previous")
    with pytest.warns(StaleOutputWarning, match="restored"):
        remove_stale_partials(tmp_path / "r")
    assert _files(tmp_path / "r") == {"result.txt": "previous"}


def test_out_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="not a directory"):
        check_out_dir(tmp_path / "f", overwrite=True)


def test_parent_that_is_a_file_is_refused_before_any_work(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a directory"):
        check_out_dir(tmp_path / "f" / "sub" / "r", overwrite=False)


def test_non_empty_out_is_refused_without_overwrite(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "keep.txt").write_text("precious")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        check_out_dir(tmp_path / "r", overwrite=False)


def test_read_only_file_system_is_refused_before_any_work(tmpfs):
    ro = tmpfs("ro", "ro,size=64k")
    with pytest.raises(OutputError, match="cannot create a directory") as info:
        check_out_dir(ro / "r", overwrite=False)
    assert "Read-only file system" in str(info.value)


def test_full_disk_is_an_os_error_even_when_the_writer_hides_it(tmpfs):
    """netCDF reports ENOSPC as ``RuntimeError: NetCDF: HDF error``; it becomes ENOSPC."""
    small = tmpfs("small", "size=256k")

    def writer(d: Path) -> None:
        with contextlib.suppress(OSError), open(d / "posterior.nc", "wb") as f:
            f.write(b"x" * (1 << 20))  # fills the disk (ENOSPC), as the netCDF library would
        raise RuntimeError("NetCDF: HDF error")

    with pytest.raises(OSError) as info:
        write_atomically(small / "r", writer, overwrite=False)
    assert info.value.errno == errno.ENOSPC
    assert list(small.iterdir()) == []


def test_single_file_is_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "sub" / "plot.png"
    outputs.write_file_atomically(target, lambda tmp: tmp.write_text("first"))
    assert target.read_text() == "first"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    def fails(tmp: Path) -> None:
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError, match="No space left"):
        outputs.write_file_atomically(target, fails)
    assert target.read_text() == "first"  # the old file, not half of the new one
    assert [p.name for p in target.parent.iterdir()] == ["plot.png"]  # no hidden leftover


@pytest.mark.parametrize(
    ("name", "suffixes", "text"),
    [
        ("dir", (), "is a directory, not a file"),
        ("afile/x.csv", (), "is a file, not a directory"),
        ("p.gifx", outputs.FIGURE_SUFFIXES, "unsupported file type '.gifx'"),
    ],
    ids=["a_directory", "parent_is_a_file", "unknown_figure_type"],
)
def test_unusable_output_file_is_refused(tmp_path, name, suffixes, text):
    (tmp_path / "dir").mkdir()
    (tmp_path / "afile").write_text("x")
    before = sorted(tmp_path.iterdir())
    with pytest.raises(OutputError, match=text):
        outputs.check_out_file(tmp_path / name, option="--plot", suffixes=suffixes)
    assert sorted(tmp_path.iterdir()) == before


def test_output_file_on_a_read_only_file_system_is_refused(tmpfs):
    ro = tmpfs("ro_file", "ro,size=64k")
    with pytest.raises(OutputError, match="Read-only file system"):
        outputs.check_out_file(ro / "t.csv", option="--csv")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
