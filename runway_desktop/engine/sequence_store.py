"""The SQL of sequences, shots and takes, beside the generations in the journal (schema 7).

Every write is one transaction on the journal's connection. The one that matters for money:
`add_take` writes a shot's new generation row and its link to the shot in the same commit,
before any request leaves, and only while the shot has no chosen take when asked to — so a
crash, a restart or a second process running the same sequence never makes a shot twice (the
generation's own idempotency key then keeps its POST from being paid twice).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from runway_desktop.engine.journal import Journal, journal_error
from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.engine.sequence_records import (
    RunState,
    Sequence,
    SequenceRefused,
    SequenceRunning,
    Shot,
)
from runway_desktop.engine.settings_changes import SettingsChanges

_Method = TypeVar("_Method", bound=Callable[..., Any])

# The columns `remove` keeps and `restore` writes back, in this order.
_SEQUENCE_COLUMNS = "id, name, created_at, updated_at, run_state, error, output_dir, source"
_SHOT_COLUMNS = "id, sequence_id, position, prompt, changes_json, chosen_id"
_TAKE_COLUMNS = "shot_id, generation_id, added_at"


@dataclass(frozen=True)
class RemovedSequence:
    """A removed sequence (as it read) and its journal rows, for `SequenceStore.restore`."""

    sequence: Sequence
    row: tuple[Any, ...]
    shots: tuple[tuple[Any, ...], ...]
    takes: tuple[tuple[Any, ...], ...]


def _typed_errors(method: _Method) -> _Method:
    """JournalError, never a raw sqlite3 error (like the journal's own methods)."""

    @functools.wraps(method)
    def wrapper(self: SequenceStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise journal_error(self.journal.path, exc) from exc

    return cast(_Method, wrapper)


class SequenceStore:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    # -- reads ----------------------------------------------------------------------------------

    @_typed_errors
    def get(self, sequence_id: int) -> Sequence | None:
        with self.journal.snapshot() as db:  # one consistent read of the three tables
            return self._read(db, sequence_id)

    def require(self, sequence_id: int) -> Sequence:
        sequence = self.get(sequence_id)
        if sequence is None:
            raise KeyError(sequence_id)
        return sequence

    @_typed_errors
    def all(self) -> list[Sequence]:
        """Every sequence, oldest first."""
        with self.journal.snapshot() as db:
            ids = [row[0] for row in db.execute("SELECT id FROM sequences ORDER BY id")]
            found = [self._read(db, sequence_id) for sequence_id in ids]
        return [s for s in found if s is not None]

    @_typed_errors
    def ids_in_state(self, state: RunState) -> list[int]:
        with self.journal.snapshot() as db:
            return [row[0] for row in db.execute(
                "SELECT id FROM sequences WHERE run_state = ? ORDER BY id", (state.value,))]

    @_typed_errors
    def stamps(self) -> dict[int, float]:
        """Each sequence's last change time (engine/sequence_watch.py)."""
        with self.journal.snapshot() as db:
            return {row[0]: row[1] for row in db.execute("SELECT id, updated_at FROM sequences")}

    @_typed_errors
    def unfinished_from(self, source: str) -> Sequence | None:
        """The newest sequence made from this plan that isn't DONE (a second `sequence run`
        of the same file carries it on instead of paying for a new one)."""
        with self.journal.snapshot() as db:
            row = db.execute("SELECT id FROM sequences WHERE source = ? AND run_state != ? "
                             "ORDER BY id DESC LIMIT 1", (source, RunState.DONE.value)).fetchone()
            return self._read(db, row[0]) if row else None

    @_typed_errors
    def sequences_of(self, generation_id: int) -> list[int]:
        """The sequences that have this generation as a take."""
        with self.journal.snapshot() as db:
            return [row[0] for row in db.execute(
                "SELECT DISTINCT shots.sequence_id FROM takes JOIN shots ON shots.id = "
                "takes.shot_id WHERE takes.generation_id = ?", (generation_id,))]

    @_typed_errors
    def take_ids(self) -> set[int]:
        """Every generation that is a take of a shot of any sequence."""
        with self.journal.snapshot() as db:
            return {row[0] for row in db.execute("SELECT DISTINCT generation_id FROM takes")}

    def _read(self, db: sqlite3.Connection, sequence_id: int) -> Sequence | None:
        row = db.execute("SELECT id, name, run_state, created_at, updated_at, error, output_dir, "
                         "source FROM sequences WHERE id = ?", (sequence_id,)).fetchone()
        if row is None:
            return None
        existing = {r[0] for r in db.execute(
            "SELECT generations.id FROM takes JOIN shots ON shots.id = takes.shot_id "
            "JOIN generations ON generations.id = takes.generation_id "
            "WHERE shots.sequence_id = ?", (sequence_id,))}
        shots = []
        for shot_id, prompt, changes, chosen in db.execute(
                "SELECT id, prompt, changes_json, chosen_id FROM shots WHERE sequence_id = ? "
                "ORDER BY position, id", (sequence_id,)).fetchall():
            takes = tuple(r[0] for r in db.execute(
                "SELECT generation_id FROM takes WHERE shot_id = ? ORDER BY added_at, "
                "generation_id", (shot_id,)) if r[0] in existing)
            shots.append(Shot(shot_id, sequence_id, prompt, _changes_from_sql(changes), takes,
                              chosen if chosen in existing else None))
        state = _run_state(row[2])
        if state is RunState.DONE and any(shot.chosen_id is None for shot in shots):
            state = RunState.IDLE  # a take left the history since: not every shot is made
        return Sequence(id=row[0], name=row[1], run_state=state,
                        shots=tuple(shots), created_at=row[3], updated_at=row[4],
                        error=row[5], output_dir=row[6], source=row[7])

    # -- writes ---------------------------------------------------------------------------------

    @_typed_errors
    def create(self, name: str, shots: Iterable[tuple[str, SettingsChanges]], *,
               output_dir: str | None = None, source: str | None = None,
               first_take: int | None = None) -> Sequence:
        """A new sequence with these shots (prompt, changes) in order; `first_take`: an
        existing generation that is the first shot's chosen take. With a `source` (a plan
        file), an unfinished sequence from the same source is returned instead, checked in
        the same transaction: two commands starting one plan at once make one sequence."""
        now = time.time()
        with self.journal.transaction() as db:
            if source is not None:
                row = db.execute("SELECT id FROM sequences WHERE source = ? AND run_state != ? "
                                 "ORDER BY id DESC LIMIT 1",
                                 (source, RunState.DONE.value)).fetchone()
                if row is not None:
                    existing = self._read(db, row[0])
                    assert existing is not None
                    return existing
            cursor = db.execute(
                "INSERT INTO sequences (name, created_at, updated_at, output_dir, source) "
                "VALUES (?, ?, ?, ?, ?)", (name, now, now, output_dir, source))
            sequence_id = cursor.lastrowid
            assert sequence_id is not None
            for index, (prompt, changes) in enumerate(shots):
                shot_id = self._insert_shot(db, sequence_id, float(index + 1), prompt, changes)
                if index == 0 and first_take is not None:
                    self._link_first_take(db, shot_id, first_take, now)
        return self.require(sequence_id)

    def _link_first_take(self, db: sqlite3.Connection, shot_id: int, generation_id: int,
                         at: float) -> None:
        """A generation is a take of one shot only (takes.generation_id is UNIQUE): one that
        is another sequence's take already is refused (SequenceRefused; the transaction rolls
        back), never a first shot left "not made yet" for Run to make and pay for again."""
        row = db.execute("SELECT sequences.id, sequences.name FROM takes JOIN shots ON "
                         "shots.id = takes.shot_id JOIN sequences ON sequences.id = "
                         "shots.sequence_id WHERE takes.generation_id = ?",
                         (generation_id,)).fetchone()
        if row is not None:
            raise SequenceRefused(
                f"#{generation_id} is already a take of “{row[1]}” (sequence {row[0]}): a clip "
                "is a take of one sequence only. Open that one, or extend from its end.")
        self._link(db, shot_id, generation_id, choose=True, at=at)

    @_typed_errors
    def add_shot(self, sequence_id: int, prompt: str, changes: SettingsChanges, *,
                 before_shot_id: int | None = None) -> Shot:
        """A new shot, last (or just before another)."""
        with self.journal.transaction() as db:
            position = self._position_before(db, sequence_id, before_shot_id)
            shot_id = self._insert_shot(db, sequence_id, position, prompt, changes)
            self._touch(db, sequence_id)
        return self.require(sequence_id).shot(shot_id)

    @_typed_errors
    def move_shot(self, shot_id: int, before_shot_id: int | None) -> None:
        """Put a shot just before another of its sequence (None: last)."""
        with self.journal.transaction() as db:
            sequence_id = self._sequence_of(db, shot_id)
            position = self._position_before(db, sequence_id, before_shot_id, moving=shot_id)
            db.execute("UPDATE shots SET position = ? WHERE id = ?", (position, shot_id))
            self._touch(db, sequence_id)

    @_typed_errors
    def edit_shot(self, shot_id: int, *, prompt: str | None = None,
                  changes: SettingsChanges | None = None) -> None:
        """A new prompt or changes for the shot's next takes (its takes stay as they were)."""
        with self.journal.transaction() as db:
            if prompt is not None:
                db.execute("UPDATE shots SET prompt = ? WHERE id = ?", (prompt, shot_id))
            if changes is not None:
                db.execute("UPDATE shots SET changes_json = ? WHERE id = ?",
                           (_changes_to_sql(changes), shot_id))
            self._touch(db, self._sequence_of(db, shot_id))

    @_typed_errors
    def remove_shot(self, shot_id: int) -> None:
        """The shot leaves the sequence; its takes stay in the history as generations."""
        with self.journal.transaction() as db:
            sequence_id = self._sequence_of(db, shot_id)
            db.execute("DELETE FROM takes WHERE shot_id = ?", (shot_id,))
            db.execute("DELETE FROM shots WHERE id = ?", (shot_id,))
            self._touch(db, sequence_id)

    @_typed_errors
    def choose(self, shot_id: int, generation_id: int) -> None:
        """Make one of the shot's takes the chosen one (KeyError: not a take of it)."""
        with self.journal.transaction() as db:
            if db.execute("SELECT 1 FROM takes WHERE shot_id = ? AND generation_id = ?",
                          (shot_id, generation_id)).fetchone() is None:
                raise KeyError(generation_id)
            db.execute("UPDATE shots SET chosen_id = ? WHERE id = ?", (generation_id, shot_id))
            self._touch(db, self._sequence_of(db, shot_id))

    @_typed_errors
    def link_take(self, shot_id: int, generation_id: int, *, choose: bool = True) -> None:
        """An existing generation becomes a take of the shot."""
        with self.journal.transaction() as db:
            self._link(db, shot_id, generation_id, choose=choose, at=time.time())
            self._touch(db, self._sequence_of(db, shot_id))

    @_typed_errors
    def adopt_copy(self, original_id: int, copy_id: int) -> int | None:
        """The generation Retry sent anew for a failed take (`original_id`, refunded) becomes
        a take of the same shot, and its chosen one while the failed take is: it is that
        shot made again, already paid for, so nothing asks for a new take. A sequence stopped
        at the failed take says so instead of "Make a new take of it". The id of the sequence
        changed (None: the original is no shot's take, or the copy is one already)."""
        with self.journal.transaction() as db:
            row = db.execute("SELECT takes.shot_id, shots.sequence_id, shots.chosen_id FROM "
                             "takes JOIN shots ON shots.id = takes.shot_id WHERE "
                             "takes.generation_id = ?", (original_id,)).fetchone()
            taken = db.execute("SELECT 1 FROM takes WHERE generation_id = ?",
                               (copy_id,)).fetchone()
            if row is None or taken is not None:
                return None
            shot_id, sequence_id, chosen_id = row
            chosen = chosen_id == original_id
            self._link(db, shot_id, copy_id, choose=chosen, at=time.time())
            self._touch(db, sequence_id)
            if chosen:
                self._stopped_on_it_no_more(db, sequence_id, shot_id, original_id, copy_id)
        return int(sequence_id)

    def _stopped_on_it_no_more(self, db: sqlite3.Connection, sequence_id: int, shot_id: int,
                               original_id: int, copy_id: int) -> None:
        """A run stopped at the failed take (its error names it: "Shot 2 (#5) stopped …")
        says that its copy is the shot's take now, and that Run carries on."""
        state, error = db.execute("SELECT run_state, error FROM sequences WHERE id = ?",
                                  (sequence_id,)).fetchone()
        if state != RunState.STOPPED.value or f"(#{original_id})" not in (error or ""):
            return
        (number,) = db.execute(
            "SELECT COUNT(*) FROM shots WHERE sequence_id = ? AND (position < (SELECT position "
            "FROM shots WHERE id = ?) OR (position = (SELECT position FROM shots WHERE id = ?) "
            "AND id <= ?))", (sequence_id, shot_id, shot_id, shot_id)).fetchone()
        db.execute("UPDATE sequences SET error = ? WHERE id = ?", (
            f"Shot {number}'s failed take #{original_id} was sent again as #{copy_id}, now "
            "its take: Run carries on from there.", sequence_id))

    @_typed_errors
    def add_take(self, shot_id: int, settings: GenerationSettings, *,
                 only_if_unchosen: bool = False, replacing: int | None = None,
                 **fields: Any) -> tuple[Generation, bool]:
        """Journal a new generation as the shot's chosen take, in one transaction with its
        link; (the take, whether it is new). With `only_if_unchosen`, a shot that already has
        a chosen take (made by another process, or before a crash) gets no new one: that take
        is returned instead. With `replacing`, likewise unless the chosen take is still that
        one (a failed take is replaced once, however many processes try)."""
        with self.journal.transaction() as db:
            if only_if_unchosen or replacing is not None:
                chosen = self._chosen(db, shot_id)
                if chosen is not None and chosen != replacing:
                    existing = self.journal.get(chosen)
                    if existing is not None:
                        return existing, False
            generation_id = self.journal.insert(settings, stage=Stage.PENDING, **fields)
            self._link(db, shot_id, generation_id, choose=True, at=time.time())
            self._touch(db, self._sequence_of(db, shot_id))
        self.journal.note_added([generation_id])
        return self.journal.require(generation_id), True

    @_typed_errors
    def set_run_state(self, sequence_id: int, state: RunState, error: str | None = None) -> None:
        with self.journal.transaction() as db:
            db.execute("UPDATE sequences SET run_state = ?, error = ?, updated_at = ? "
                       "WHERE id = ?", (state.value, error, time.time(), sequence_id))

    @_typed_errors
    def rename(self, sequence_id: int, name: str) -> None:
        """A new name (as given: `sequence_records.sequence_name` cleans what people type);
        KeyError when there is no such sequence (removed meanwhile)."""
        with self.journal.transaction() as db:
            if db.execute("UPDATE sequences SET name = ?, updated_at = ? WHERE id = ?",
                          (name, time.time(), sequence_id)).rowcount == 0:
                raise KeyError(sequence_id)

    @_typed_errors
    def remove(self, sequence_id: int, *, even_if_running: bool = False) -> RemovedSequence:
        """The sequence, its shots and their links go; the generations (its takes) stay in the
        history and their files on disk. Checked in the same transaction: a sequence that is
        RUNNING (a process makes its shots) is refused with SequenceRunning, unless
        `even_if_running` (nobody runs it: its process ended). KeyError: no such sequence.
        What was removed comes back, row for row, with `restore` (Undo)."""
        with self.journal.transaction() as db:
            sequence = self._read(db, sequence_id)
            if sequence is None:
                raise KeyError(sequence_id)
            if sequence.run_state is RunState.RUNNING and not even_if_running:
                raise SequenceRunning(sequence)
            row = db.execute(f"SELECT {_SEQUENCE_COLUMNS} FROM sequences WHERE id = ?",
                             (sequence_id,)).fetchone()
            shots = db.execute(f"SELECT {_SHOT_COLUMNS} FROM shots WHERE sequence_id = ?",
                               (sequence_id,)).fetchall()
            takes = db.execute(f"SELECT {_TAKE_COLUMNS} FROM takes WHERE shot_id IN (SELECT id "
                               "FROM shots WHERE sequence_id = ?)", (sequence_id,)).fetchall()
            db.execute("DELETE FROM takes WHERE shot_id IN (SELECT id FROM shots WHERE "
                       "sequence_id = ?)", (sequence_id,))
            db.execute("DELETE FROM shots WHERE sequence_id = ?", (sequence_id,))
            db.execute("DELETE FROM sequences WHERE id = ?", (sequence_id,))
        return RemovedSequence(sequence, tuple(row), tuple(map(tuple, shots)),
                               tuple(map(tuple, takes)))

    @_typed_errors
    def restore(self, removed: RemovedSequence) -> Sequence:
        """Put a removed sequence back as it was, under its own id and its shots' (the ids are
        never given again: AUTOINCREMENT). A take whose generation has become another
        sequence's meanwhile stays that one's; a generation removed from the history since
        reads as no take, as always. Restoring twice changes nothing."""
        sequence_id = removed.sequence.id
        with self.journal.transaction() as db:
            if db.execute("SELECT 1 FROM sequences WHERE id = ?",
                          (sequence_id,)).fetchone() is None:
                # Stamped now, so every process watching (engine/sequence_watch.py) sees it.
                row = {**dict(zip(_SEQUENCE_COLUMNS.split(", "), removed.row, strict=True)),
                       "updated_at": time.time()}
                db.execute(f"INSERT INTO sequences ({', '.join(row)}) VALUES "
                           f"({', '.join('?' for _ in row)})", tuple(row.values()))
                db.executemany(f"INSERT OR IGNORE INTO shots ({_SHOT_COLUMNS}) VALUES "
                               "(?, ?, ?, ?, ?, ?)", removed.shots)
                db.executemany(f"INSERT OR IGNORE INTO takes ({_TAKE_COLUMNS}) VALUES "
                               "(?, ?, ?)", removed.takes)
        return self.require(sequence_id)

    # -- inside a transaction -------------------------------------------------------------------

    @staticmethod
    def _insert_shot(db: sqlite3.Connection, sequence_id: int, position: float, prompt: str,
                     changes: SettingsChanges) -> int:
        cursor = db.execute(
            "INSERT INTO shots (sequence_id, position, prompt, changes_json) VALUES (?, ?, ?, ?)",
            (sequence_id, position, prompt, _changes_to_sql(changes)))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @staticmethod
    def _link(db: sqlite3.Connection, shot_id: int, generation_id: int, *, choose: bool,
              at: float) -> None:
        db.execute("INSERT OR IGNORE INTO takes (shot_id, generation_id, added_at) "
                   "VALUES (?, ?, ?)", (shot_id, generation_id, at))
        if choose:
            db.execute("UPDATE shots SET chosen_id = ? WHERE id = ?", (generation_id, shot_id))

    @staticmethod
    def _chosen(db: sqlite3.Connection, shot_id: int) -> int | None:
        row = db.execute("SELECT chosen_id FROM shots WHERE id = ?", (shot_id,)).fetchone()
        if row is None:
            raise KeyError(shot_id)
        return cast(int | None, row[0])

    @staticmethod
    def _sequence_of(db: sqlite3.Connection, shot_id: int) -> int:
        row = db.execute("SELECT sequence_id FROM shots WHERE id = ?", (shot_id,)).fetchone()
        if row is None:
            raise KeyError(shot_id)
        return int(row[0])

    @staticmethod
    def _position_before(db: sqlite3.Connection, sequence_id: int, before_shot_id: int | None,
                         moving: int | None = None) -> float:
        if before_shot_id is None:
            return float(db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM shots "
                                    "WHERE sequence_id = ?", (sequence_id,)).fetchone()[0])
        target = db.execute("SELECT position FROM shots WHERE id = ? AND sequence_id = ?",
                            (before_shot_id, sequence_id)).fetchone()
        if target is None:
            raise KeyError(before_shot_id)
        previous = db.execute("SELECT MAX(position) FROM shots WHERE sequence_id = ? AND "
                              "position < ? AND id != ?",
                              (sequence_id, target[0], moving or -1)).fetchone()[0]
        low = previous if previous is not None else target[0] - 1
        return float((low + target[0]) / 2)

    @staticmethod
    def _touch(db: sqlite3.Connection, sequence_id: int) -> None:
        db.execute("UPDATE sequences SET updated_at = ? WHERE id = ?", (time.time(), sequence_id))


def _changes_to_sql(changes: SettingsChanges) -> str:
    return json.dumps(changes.to_json(), ensure_ascii=False, separators=(",", ":"))


def _changes_from_sql(text: str | None) -> SettingsChanges:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    return SettingsChanges.from_json(data if isinstance(data, dict) else {})


def _run_state(text: str) -> RunState:
    try:
        return RunState(text)
    except ValueError:  # written by a newer version: shown as idle, never run by itself
        return RunState.IDLE
