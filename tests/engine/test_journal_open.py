"""Opening the journal: a damaged, newer or empty file is recognised at once, and can be kept aside.

Before, a corrupt page surfaced in the middle of a command as a raw DatabaseError, a stage from a
newer version as a ValueError on the first read, and a 0-byte file silently became an empty
history.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from runway_desktop.engine.journal import (
    SCHEMA_VERSION,
    Journal,
    JournalError,
    JournalUnusable,
    move_aside,
)
from runway_desktop.engine.records import GenerationSettings, Stage
from tests.helpers.small_disk import fill, tmpfs


def _history(path: Path, rows: int = 1) -> None:
    journal = Journal(path)
    journal.add_many(GenerationSettings(f"kite {n} " + "x" * 300) for n in range(rows))
    journal.close()
    checkpoint = sqlite3.connect(path)  # fold the WAL into the file, as a clean exit does
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()


def test_garbage_bytes_are_a_damaged_file_naming_its_path(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not a database at all\x00\xff" * 200)
    with pytest.raises(JournalUnusable) as exc:
        Journal(path)
    assert not exc.value.from_newer_version
    assert exc.value.path == path
    assert exc.value.message.startswith(f"The history file {path} is damaged and can't be read")


def test_a_corrupt_page_is_found_when_opening_not_in_the_middle_of_a_command(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    _history(path, rows=200)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    assert len(data) > 4 * page_size
    data[2 * page_size:3 * page_size] = b"\xa5" * page_size  # a b-tree page of the table
    path.write_bytes(bytes(data))

    with pytest.raises(JournalUnusable) as exc:
        Journal(path)
    assert "is damaged and can't be read" in exc.value.message


def test_a_newer_schema_is_unusable_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    _history(path)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(JournalUnusable) as exc:
        Journal(path)
    assert exc.value.from_newer_version
    assert exc.value.message == (
        f"The history file {path} was written by a newer Runway Desktop (schema "
        f"{SCHEMA_VERSION + 1}). Update Runway Desktop to use it, or move it aside and start a "
        "fresh history."
    )


@pytest.mark.parametrize(("column", "value"), [("stage", "teleporting"), ("action", "pray")])
def test_a_stage_or_action_from_a_newer_version_is_found_when_opening(
    tmp_path: Path, column: str, value: str
) -> None:
    path = tmp_path / "journal.sqlite3"
    _history(path)
    db = sqlite3.connect(path)
    db.execute(f"UPDATE generations SET {column} = ?", (value,))
    db.commit()
    db.close()
    with pytest.raises(JournalUnusable) as exc:
        Journal(path)
    assert exc.value.from_newer_version
    assert f"states this version doesn't know: '{value}'" in exc.value.message


def test_a_zero_byte_file_starts_a_new_history_and_says_so_once(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.touch()

    journal = Journal(path)
    assert journal.notice == (
        f"The history file {path} was empty (0 bytes), so a new, empty history was started in "
        "it. If generations are missing, restore that file from a backup."
    )
    assert journal.all() == []
    journal.add(GenerationSettings("a kite"))
    journal.close()

    again = Journal(path)
    assert again.notice is None
    assert [g.stage for g in again.all()] == [Stage.PENDING]
    again.close()


def test_a_missing_file_is_a_new_history_without_a_notice(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "new" / "journal.sqlite3")
    assert journal.notice is None
    journal.close()


def test_a_folder_that_cant_hold_it_is_a_plain_journal_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(JournalError) as exc:
        Journal(tmp_path / "file" / "journal.sqlite3")
    assert not isinstance(exc.value, JournalUnusable)  # moving the journal wouldn't help
    assert "Can't open the history file" in str(exc.value)


def test_move_aside_keeps_every_file_and_moving_back_restores_the_history(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live" / "journal.sqlite3"
    journal = Journal(live)
    journal.add(GenerationSettings("only in the WAL"))  # not checkpointed: the row is in -wal
    # What a SIGKILL leaves: the database and its WAL, copied while the connection is open.
    folder = tmp_path / "crashed"
    folder.mkdir()
    for suffix in ("", "-wal", "-shm"):
        source = live.with_name(live.name + suffix)
        (folder / source.name).write_bytes(source.read_bytes())
    journal.close()
    path = folder / "journal.sqlite3"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert before["journal.sqlite3-wal"]

    kept = move_aside(path)

    assert not path.exists()
    assert kept.parent == folder
    assert kept.name.startswith("journal.sqlite3.bad-")
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(after) == sorted(name.replace(path.name, kept.name) for name in before)
    assert sorted(after.values()) == sorted(before.values())  # renamed, nothing lost
    for name in after:
        (folder / name).rename(folder / name.replace(kept.name, path.name))
    restored = Journal(path)
    assert [g.settings.prompt for g in restored.all()] == ["only in the WAL"]
    restored.close()


def test_move_aside_never_overwrites_an_earlier_copy(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"first")
    first = move_aside(path)
    path.write_bytes(b"second")
    second = move_aside(path)
    assert first != second
    assert (first.read_bytes(), second.read_bytes()) == (b"first", b"second")


def test_a_full_or_read_only_drive_is_not_a_damaged_history(tmp_path: Path) -> None:
    """A full or read-only drive failed the open ('disk I/O error', 'unable to open database
    file') and was called a damaged history, with `reset-history` (moving it aside) as the
    way out: that hid the generations still to finish. Real drives: a tmpfs remounted
    read-only and filled up (root only)."""
    with tmpfs(tmp_path / "drive", "size=1m") as drive:
        fresh = drive / "fresh" / "journal.sqlite3"
        path = drive / "journal.sqlite3"
        _history(path, rows=3)
        subprocess.run(["mount", "-o", "remount,ro", str(drive)], check=True)
        with pytest.raises(JournalError) as exc:
            Journal(path)
        assert not isinstance(exc.value, JournalUnusable), exc.value.message
        assert "can't be written (read-only)" in exc.value.message

        subprocess.run(["mount", "-o", "remount,rw", str(drive)], check=True)
        filler = fill(drive)
        for where in (fresh, path):  # a first start, and a history there
            with pytest.raises(JournalError) as exc:
                Journal(where)
            assert not isinstance(exc.value, JournalUnusable), exc.value.message
            assert "the disk is full. Free some space on that drive" in exc.value.message
        assert not fresh.exists()  # not a '0 bytes' history for the next start to warn of

        filler.unlink()
        for where, rows in ((path, 3), (fresh, 0)):  # space freed: both open, nothing lost
            journal = Journal(where)
            assert journal.notice is None
            assert len(journal.all()) == rows
            journal.close()
