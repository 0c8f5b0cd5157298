"""Several processes opening one history at once (four `generate` commands on a new data dir).

Found by the fresh-machine CI: two of four parallel commands exited 8 ("the history file is
damaged": `table generations already exists`, `duplicate column name`) or said it was locked,
because each process read the schema version before taking the write lock and ran the same
migration step again.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from runway_desktop.engine.journal import SCHEMA_VERSION

PROCESSES = 4
ROUNDS = 5


def _open(path: str, barrier: multiprocessing.synchronize.Barrier,
          answers: multiprocessing.queues.Queue[str]) -> None:
    from runway_desktop.engine.journal import Journal

    barrier.wait(timeout=60)
    try:
        Journal(Path(path)).close()
        answers.put("ok")
    except Exception as exc:
        answers.put(f"{type(exc).__name__}: {exc}")


def _open_at_once(path: Path) -> list[str]:
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold Qt
    barrier = context.Barrier(PROCESSES)
    answers = context.Queue()
    workers = [context.Process(target=_open, args=(str(path), barrier, answers))
               for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    results = [answers.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return results


def test_processes_opening_a_new_history_at_once_all_get_it(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        path = tmp_path / f"round{round_}" / "journal.sqlite3"
        path.parent.mkdir()
        assert _open_at_once(path) == ["ok"] * PROCESSES
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
