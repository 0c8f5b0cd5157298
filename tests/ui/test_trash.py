"""Videos to the freedesktop trash and back, under a private XDG_DATA_HOME."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from runway_desktop.ui import trash

pytestmark = pytest.mark.skipif(sys.platform in ("darwin", "win32"),
                                reason="checks the freedesktop trash")


def test_a_trashed_file_is_found_and_restored(tmp_path: Path, trash_dir: Path) -> None:
    video = tmp_path / "videos" / "kite [1].mp4"
    video.parent.mkdir()
    video.write_bytes(b"first")
    first = trash.move_to_trash(video)
    assert not video.exists()
    video.write_bytes(b"second")  # the same name again: the trash renames the second one
    second = trash.move_to_trash(video)
    assert first.files_path is not None
    assert second.files_path is not None
    assert first.files_path.parent == trash_dir / "files"
    assert first.files_path != second.files_path

    assert trash.restore(second)
    assert video.read_bytes() == b"second"
    assert second.info_path is not None
    assert not second.info_path.exists()
    assert not trash.restore(first)  # never over a file that is back in its place
    video.unlink()
    assert trash.restore(first)
    assert video.read_bytes() == b"first"
    assert list((trash_dir / "files").iterdir()) == []


def test_a_file_that_cannot_be_trashed_says_why(tmp_path: Path, trash_dir: Path) -> None:
    with pytest.raises(trash.TrashError) as raised:
        trash.move_to_trash(tmp_path / "gone.mp4")
    assert raised.value.reason
