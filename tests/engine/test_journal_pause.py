"""A process stopped in the middle of a journal write (Ctrl+Z, `kill -STOP`, a debugger: about
one stop in a hundred of a busy command lands there) keeps SQLite's write lock: every other
process's next write waited 5 s and failed, and the window stopped its queue. Its words said
'another program keeps it locked. Close other programs using that folder' — no program to
close, and closing the window would not help: the stopped process has to go on. A write no
longer waits for a stopped holder (the window froze 5 s for nothing), and the queue carries on
by itself once the process is continued (it stayed stopped until Try again)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runway_desktop.engine.events import EngineEvent, ProblemChanged, ProblemKind
from runway_desktop.engine.journal import Journal, JournalError, journal_error
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.scheduler import RESUMES_BY_ITSELF
from runway_desktop.simulator import Simulator
from tests.conftest import run
from tests.engine.conftest import EngineFactory

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


# Stops itself in the middle of a write, as Ctrl+Z would; continued, it commits and ends.
_STOP_WHILE_WRITING = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE generations SET favourite = favourite")
os.kill(os.getpid(), signal.SIGSTOP)
db.execute("COMMIT")
"""


def _stopped_writer(path: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", _STOP_WHILE_WRITING, str(path)])
    while _state(process.pid) not in ("T", "t"):  # stopped by itself, the lock held
        assert process.poll() is None
    return process


def test_a_write_does_not_wait_for_a_stopped_process(
        writer: tuple[Path, subprocess.Popen[str]]) -> None:
    """The write failed only after SQLite's 5 s wait (the window frozen meanwhile): here the
    holder goes on after 2 s and frees the lock, so a write still waiting then succeeds."""
    path, process = writer
    process.send_signal(signal.SIGSTOP)
    while _state(process.pid) not in ("T", "t"):
        pass
    journal = Journal(path)  # another process's: its own connection
    released = threading.Timer(2.0, process.kill)  # its lock goes with it
    released.start()
    try:
        with pytest.raises(JournalError, match="is stopped in the middle of writing it"):
            journal.update(1, favourite=True)
        assert journal.locked_elsewhere()  # the engine's check, which never waits
        released.cancel()
        process.kill()
        process.wait()
        assert not journal.locked_elsewhere()
    finally:
        released.cancel()
        journal.close()


@pytest.mark.expect_log_warnings(r"(?s)Stopping the queue: .* is stopped in the middle of writing")
def test_a_queue_stopped_by_a_stopped_writer_carries_on_by_itself_once_it_goes_on(
        make_engine: EngineFactory, simulator: Simulator, data_dir: Path, png: Path) -> None:
    problems: list[ProblemChanged] = []

    def note(event: EngineEvent) -> None:
        if isinstance(event, ProblemChanged):
            problems.append(event)

    async def scenario() -> None:
        engine = make_engine()
        engine.subscribe(note)
        await engine.start()
        try:
            generation = engine.submit(GenerationSettings("a kite", image_path=str(png), seed=3))
            # Started while the loop waits here: the engine's next write meets the lock.
            writer = _stopped_writer(data_dir / "journal.sqlite3")
            try:
                while engine.halted is None:
                    await asyncio.sleep(0.01)
                assert engine.halted.locked
                [halt] = problems
                assert halt.problem is not None
                assert halt.problem.kind is ProblemKind.JOURNAL
                assert f"kill -CONT {writer.pid}" in halt.problem.message
                assert RESUMES_BY_ITSELF in halt.problem.message
                assert "start Runway Desktop again" not in halt.problem.message
                await asyncio.sleep(0.6)  # checked meanwhile: still locked, still halted
                assert engine.halted is not None
                writer.send_signal(signal.SIGCONT)
                assert await asyncio.to_thread(writer.wait, 10) == 0
            finally:
                writer.kill()
                writer.wait()
            while (row := engine.get(generation.id)) is None or row.stage is not Stage.DONE:
                assert row is None or not row.stage.is_settled, (row.stage, row.error)
                await asyncio.sleep(0.02)
            assert engine.halted is None
            assert problems[-1].problem is None  # the banner went by itself
            assert simulator.jobs_created() == 1  # paid once
        finally:
            await engine.stop()

    run(scenario(), timeout=30)
