"""A process stopped in the middle of a journal write (Ctrl+Z, `kill -STOP`, a debugger: about
one stop in a hundred of a busy command lands there) keeps SQLite's write lock: every other
process's next write waits 5 s and fails, and the window stops its queue. Its words said
'another program keeps it locked. Close other programs using that folder' — no program to
close, and closing the window would not help: the stopped process has to go on."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runway_desktop.engine.journal import Journal, journal_error
from runway_desktop.engine.records import GenerationSettings

LOCKED = sqlite3.OperationalError("database is locked")  # what the write met after 5 s

_HOLD_THE_WRITE_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE generations SET favourite = 1")
print("writing", flush=True)
time.sleep(60)
"""


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A journal, and a process in the middle of writing it."""
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    journal.add(GenerationSettings("a kite", seed=1))
    process = subprocess.Popen([sys.executable, "-c", _HOLD_THE_WRITE_LOCK, str(path)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "writing\n"
        yield path, process
    finally:
        process.kill()
        process.communicate()  # and its pipe closed
        journal.close()


def test_a_history_locked_by_a_stopped_process_names_it_and_says_to_continue_it(
        writer: tuple[Path, subprocess.Popen[str]]) -> None:
    path, process = writer
    running = journal_error(path, LOCKED).message
    assert "another program keeps it locked" in running  # a running one: as before

    process.send_signal(signal.SIGSTOP)
    while _state(process.pid) not in ("T", "t"):
        pass
    stopped = journal_error(path, LOCKED).message
    assert f"process {process.pid} (" in stopped
    assert "is stopped in the middle of writing it (Ctrl+Z in its terminal, or a debugger)" \
        in stopped
    assert f"Continue that process (`fg` in its terminal, or `kill -CONT {process.pid}`)" \
        in stopped
    assert "Close other programs" not in stopped


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[-1].split()[0]
