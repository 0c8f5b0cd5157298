"""Reading a small file only when it is a regular file: never blocking on a FIFO."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runway_desktop.regular_files import NotARegularFile, read_regular_bytes


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"{}")
    assert read_regular_bytes(tmp_path / "a.json") == b"{}"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")  # opening it plainly would wait for a writer for ever
    with pytest.raises(NotARegularFile, match=r"it's a pipe \(FIFO\), not a regular file"):
        read_regular_bytes(tmp_path / "pipe")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotARegularFile, match="it's a folder, not a file"):
        read_regular_bytes(tmp_path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused_before_it_is_read() -> None:
    with pytest.raises(NotARegularFile, match="it's a device"):
        read_regular_bytes(Path("/dev/zero"))


def test_a_missing_file_is_the_usual_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_regular_bytes(tmp_path / "gone.json")
