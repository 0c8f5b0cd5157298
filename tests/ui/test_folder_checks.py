"""The output folder's check before paid work: what it says of real folders, and that a drive
that doesn't answer never holds Generate."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from runway_desktop.ui import folder_checks
from runway_desktop.ui.folder_checks import output_folder_problem, output_folder_problem_soon


def test_what_the_check_says_of_real_folders(tmp_path: Path) -> None:
    usable = tmp_path / "videos"
    usable.mkdir()
    assert output_folder_problem(usable) is None
    # Gone, its parent there: the engine makes it again when the video comes.
    assert output_folder_problem(tmp_path / "new") is None
    gone = tmp_path / "usb" / "videos"  # the drive's folder gone with it
    assert "isn't there" in (output_folder_problem(gone) or "")
    assert output_folder_problem(gone, may_make_parents=True) is None  # the default folder
    a_file = tmp_path / "file"
    a_file.write_bytes(b"x")
    assert "is a file, not a folder" in (output_folder_problem(a_file) or "")


def test_a_drive_that_does_not_answer_lets_the_work_go(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """A stat of an unplugged network drive can hang for minutes: past the bound the check
    answers None (as before it existed), and its stuck thread is none of the loop's."""
    release = threading.Event()

    def hung(folder: Path, *, may_make_parents: bool = False) -> str | None:
        release.wait()
        return "never heard"

    monkeypatch.setattr(folder_checks, "output_folder_problem", hung)
    try:
        assert asyncio.run(output_folder_problem_soon(tmp_path, seconds=0.05)) is None
    finally:
        release.set()
