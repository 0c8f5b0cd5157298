"""The journal: every generation as a SQLite row, committed before anything leaves the machine.

One small module with explicit SQL. WAL mode so readers (the CLI's `jobs`, the window) never
block the writer.

Durability: a row that names an idempotency key must survive a power cut before the request that
uses the key leaves (the POST that creates, and charges, a job). Commits don't wait for the disk
(`synchronous=NORMAL`: an app crash or SIGKILL loses nothing, the OS has the data); the engine
awaits `flush()` — an fsync of the WAL in a worker thread, shared by everyone waiting at that
moment — right before such a request. Every commit used to fsync on the event loop instead
(`synchronous=FULL`): while videos were being written one commit could stall the window for
100 ms and more (responsiveness benchmark).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import functools
import json
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from runway_desktop.engine.lock_holders import write_lock_holder
from runway_desktop.engine.records import (
    Action,
    Generation,
    GenerationSettings,
    Stage,
    StopCause,
)
from runway_desktop.regular_files import kind_problem

LEGACY_MODEL_ID = "runway-gen4-turbo"  # the model of every row written before schema 4

SCHEMA_VERSION = 7

# How long a write waits for another process's write to end (SQLite's busy handler), and the
# first part of it, after which a lock holder that is stopped is not waited for (_begin_write).
BUSY_TIMEOUT_MS = 5000
FIRST_WAIT_MS = 200

_LEGACY_SETTINGS = ("prompt", "duration", "aspect_ratio", "seed", "image_path", "image_url")


def _settings_as_json(db: sqlite3.Connection) -> None:
    """Version 4: settings move from six columns into one `{model, params, images}` JSON text.

    Every row written before had Gen-4 Turbo (the only model then). The old columns are
    dropped only after every row's JSON is written, in the same transaction.
    """
    db.execute("ALTER TABLE generations ADD COLUMN settings_json TEXT")
    rows = db.execute(f"SELECT id, {', '.join(_LEGACY_SETTINGS)} FROM generations").fetchall()
    for row_id, *values in rows:
        settings = GenerationSettings(**dict(zip(_LEGACY_SETTINGS, values, strict=True)),
                                      model=LEGACY_MODEL_ID)
        db.execute("UPDATE generations SET settings_json = ? WHERE id = ?",
                   (_settings_to_sql(settings), row_id))
    for column in _LEGACY_SETTINGS:
        db.execute(f"ALTER TABLE generations DROP COLUMN {column}")


# Each entry upgrades the schema from version N-1 to N. Append only: never edit a shipped step.
_MIGRATIONS: dict[int, str | Callable[[sqlite3.Connection], None]] = {
    1: """
    CREATE TABLE generations (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        prompt          TEXT    NOT NULL,
        duration        INTEGER NOT NULL,
        aspect_ratio    TEXT    NOT NULL,
        seed            INTEGER NOT NULL,
        image_path      TEXT,
        image_url       TEXT,
        idempotency_key TEXT    NOT NULL UNIQUE,
        stage           TEXT    NOT NULL,
        created_at      REAL    NOT NULL,
        updated_at      REAL    NOT NULL,
        position        REAL    NOT NULL DEFAULT 0,
        job_id          TEXT UNIQUE,
        progress        INTEGER NOT NULL DEFAULT 0,
        credit_cost     INTEGER,
        error           TEXT,
        action          TEXT,
        uploaded_url    TEXT,
        uploaded_at     REAL,
        submitted_at    REAL,
        finished_at     REAL,
        video_url       TEXT,
        video_path      TEXT,
        thumbnail_path  TEXT
    );
    CREATE INDEX generations_stage ON generations(stage);
    """,
    2: """
    ALTER TABLE generations ADD COLUMN favourite INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE generations ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    """,
    3: """
    ALTER TABLE generations ADD COLUMN output_dir TEXT;
    """,
    4: _settings_as_json,
    # Many processes, one queue (engine/leases.py): each generation is driven by the process
    # that holds its lease (owner "host:pid:token", expiry renewed by a heartbeat); `revision`
    # grows with every change a person can see, so a process finds what others changed.
    5: """
    ALTER TABLE generations ADD COLUMN lease_owner TEXT;
    ALTER TABLE generations ADD COLUMN lease_expires REAL;
    ALTER TABLE generations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX generations_lease ON generations(lease_owner);
    CREATE INDEX generations_revision ON generations(revision);
    """,
    # Jobs whose rows the person removed: a later import skips them (never downloaded again).
    6: """
    CREATE TABLE removed_jobs (
        job_id     TEXT PRIMARY KEY,
        removed_at REAL NOT NULL
    );
    """,
    # Extend and sequences (engine/extension.py, engine/sequences.py): a generation made from
    # another's last frame names its parent; a sequence is an ordered list of shots, each
    # with its takes (generations) and the one chosen. The SQL of sequences is in
    # engine/sequence_store.py. No foreign keys: removing a generation leaves its takes'
    # ids dangling, which the store reads as "no such take".
    7: """
    ALTER TABLE generations ADD COLUMN parent_id INTEGER;
    CREATE INDEX generations_parent ON generations(parent_id);
    CREATE TABLE sequences (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT    NOT NULL,
        created_at  REAL    NOT NULL,
        updated_at  REAL    NOT NULL,
        run_state   TEXT    NOT NULL DEFAULT 'idle',
        error       TEXT,
        output_dir  TEXT,
        source      TEXT
    );
    CREATE INDEX sequences_source ON sequences(source);
    CREATE TABLE shots (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        sequence_id  INTEGER NOT NULL,
        position     REAL    NOT NULL,
        prompt       TEXT    NOT NULL,
        changes_json TEXT    NOT NULL DEFAULT '{}',
        chosen_id    INTEGER
    );
    CREATE INDEX shots_sequence ON shots(sequence_id, position);
    CREATE TABLE takes (
        shot_id       INTEGER NOT NULL,
        generation_id INTEGER NOT NULL UNIQUE,
        added_at      REAL    NOT NULL,
        PRIMARY KEY (shot_id, generation_id)
    );
    """,
}

# `stop_cause` and `sent_again_as` have no column of their own: they live in the settings JSON,
# under "stop" and "sent_again".
_IN_SETTINGS_JSON = ("stop_cause", "sent_again_as")
_RECORD_FIELDS = tuple(
    f.name for f in dataclasses.fields(Generation)
    if f.name not in ("id", "settings", *_IN_SETTINGS_JSON)
)
_COLUMNS = ("id", "settings_json", *_RECORD_FIELDS)
_STOP_KEY = "$.stop"
_SENT_AGAIN_KEY = "$.sent_again"
# The next revision: one more than any row's, read inside the write's own transaction (BEGIN
# IMMEDIATE), so revisions only grow, across every process writing the journal.
_NEXT_REVISION = "(SELECT COALESCE(MAX(revision), 0) + 1 FROM generations)"


class LeaseLost(Exception):
    """A guarded write found the generation no longer leased by the writer: another process
    took it over (the lease expired) or a person's command moved it (cancel, stop, remove)."""

    def __init__(self, generation_id: int) -> None:
        super().__init__(f"generation {generation_id} is no longer leased by this process")
        self.generation_id = generation_id


class RowMovedOn(Exception):
    """A write meant for a row in one stage found it in another: a process driving it (the
    window, a command) moved it between the writer's read and its write. Nothing was written;
    what the writer decided from its read no longer holds."""

    def __init__(self, generation_id: int, expected: Stage) -> None:
        super().__init__(f"generation {generation_id} is no longer {expected.value}")
        self.generation_id = generation_id


class JournalError(Exception):
    """The journal file can't be opened or written (disk full, permissions, a newer schema).

    `message` says what happened, where, and what to do; `path` is the journal file.
    """

    def __init__(self, message: str, path: Path | None = None, *, locked: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        # Only another process's write lock was in the way: it goes once that process goes on.
        self.locked = locked


def journal_error(path: Path, error: BaseException) -> JournalError:
    """A database error as a message a person can act on (the raw error is in the log)."""
    name = getattr(error, "sqlite_errorname", "") or ""
    code = getattr(error, "errno", None)
    # An OSError's words only, never its file name (a folder may be called "full").
    text = (error.strerror or "" if isinstance(error, OSError) else str(error)).lower()
    if name == "SQLITE_FULL" or "full" in text or code in (
            errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        what = "the disk is full"
        todo = "Free some space on that drive"
    elif (name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text
          or code in (errno.EROFS, errno.EACCES, errno.EPERM)):
        what = "the file or its folder can't be written (read-only)"
        todo = "Make the folder and the file writable again (permissions, a read-only drive)"
    elif (name.startswith("SQLITE_BUSY") or "locked" in text) and (
            holder := write_lock_holder(path)) is not None and holder.stopped:
        # A process stopped mid-write keeps the lock until continued: closing programs won't.
        what = (f"process {holder.pid} ({holder.command}) is stopped in the middle of writing "
                "it (Ctrl+Z in its terminal, or a debugger) and keeps it locked")
        todo = f"Continue that process (`fg` in its terminal, or `kill -CONT {holder.pid}`)"
    elif name.startswith("SQLITE_BUSY") or "locked" in text:
        what = "another program keeps it locked"
        todo = "Close other programs using that folder"
    else:
        what = f"the drive reported an error ({error})"
        todo = "Check that the drive is connected and healthy"
    return JournalError(
        f"Runway Desktop can't save its history in {path}: {what}. {todo}, then start "
        "Runway Desktop again — unfinished generations carry on where they stopped.",
        path, locked=name.startswith("SQLITE_BUSY") or "locked" in text,
    )


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _typed_errors(method: _Method) -> _Method:
    """Raise JournalError, never a raw sqlite3 error, from a journal method."""

    @functools.wraps(method)
    def wrapper(self: Journal, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise journal_error(self.path, exc) from exc

    return cast(_Method, wrapper)


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._commits = 0  # commits made through this connection
        self._durable = 0  # of those, how many are known to be on disk
        self._syncing: asyncio.Future[None] | None = None
        # Revisions written and ids removed through this connection, so a watcher reports only
        # what other processes changed (`changes_since`).
        self._own_revisions: set[int] = set()
        self._own_removals: set[int] = set()
        self._own_additions: set[int] = set()
        # Set when opening needed the person's attention without failing (a 0-byte file).
        self.notice: str | None = None
        self._db, self.notice = open_checked(path)
        try:
            self._migrate()
            _check_known_values(self._db, path)
        except sqlite3.Error as exc:
            self._db.close()
            raise JournalUnusable.damaged(path, exc) from exc
        except JournalError:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    # -- durability -----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Return once every commit made so far is on disk; the loop keeps running meanwhile.

        Callers that arrive while an fsync runs wait for it and, if they committed after it
        started, for one more: one fsync serves a whole burst of generations.
        """
        wanted = self._commits
        while self._durable < wanted:
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._sync())
            await asyncio.shield(self._syncing)

    async def _sync(self) -> None:
        upto = self._commits
        try:
            await asyncio.to_thread(self.sync)
            self._durable = max(self._durable, upto)
        except OSError as exc:
            raise journal_error(self.path, exc) from exc
        finally:
            self._syncing = None

    def sync(self) -> None:
        """Put every commit so far on disk, in the database file itself. Blocking.

        A checkpoint copies the write-ahead log into the database and syncs both. The synced log
        alone survives a power cut, but not its `-wal` file deleted after a crash (a cleaner, a
        sync tool, a person tidying up): the row that names an idempotency key must, or the
        paid job is lost. Its own connection: this runs in a worker thread. A checkpoint held
        back by a reader elsewhere still leaves the log synced (below)."""
        with (contextlib.suppress(sqlite3.Error),  # busy elsewhere: the synced log will do
              contextlib.closing(sqlite3.connect(self.path, timeout=5)) as db):
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        for path in (self.path.with_name(self.path.name + "-wal"), self.path):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            return

    # -- schema ---------------------------------------------------------------------------------

    def _migrate(self) -> None:
        current = self._user_version()
        if current > SCHEMA_VERSION:
            raise JournalUnusable.newer(self.path, f"schema {current}")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            step = _MIGRATIONS[version]
            with self._transaction():
                # Several processes may open a new or old history at once (four `generate`
                # commands): read the version again under the write lock, so each step runs once.
                if self._user_version() >= version:
                    continue
                if callable(step):
                    step(self._db)
                else:
                    for statement in _split_sql(step):
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={version}")

    def _user_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self.path, self._committed)

    def _committed(self) -> None:
        self._commits += 1

    # -- writes ---------------------------------------------------------------------------------

    def add(self, settings: GenerationSettings, *, stage: Stage = Stage.PENDING,
            **fields: Any) -> Generation:
        """Journal a new generation with a fresh idempotency key, last in the pending order."""
        return self.add_many([settings], stage=stage, **fields)[0]

    @_typed_errors
    def add_many(self, batch: Iterable[GenerationSettings], *, stage: Stage = Stage.PENDING,
                 **fields: Any) -> list[Generation]:
        """`add` for each, in one transaction: one commit (one fsync) for a whole batch."""
        with self._transaction():
            # The last position once (a scan of every row: `position` has no index), not per row.
            first = self._next_position()
            row_ids = [self.insert(settings, stage=stage, position=first + i, **fields)
                       for i, settings in enumerate(batch)]
        self.note_added(row_ids)
        return [self.require(row_id) for row_id in row_ids]

    @_typed_errors
    def add_copy(self, original_id: int, settings: GenerationSettings,
                 **fields: Any) -> Generation | None:
        """Journal a copy of `original_id` (Retry sending a refunded failure anew) and link the
        original to it (`sent_again_as`), in one transaction and only if the original has no
        copy yet; else None (another process — the window, a command — sent it again first:
        two copies would be paid twice)."""
        with self._transaction():
            row = self._db.execute(
                f"SELECT json_extract(settings_json, '{_SENT_AGAIN_KEY}') FROM generations "
                "WHERE id = ?", (original_id,)).fetchone()
            if row is None or row[0] is not None:
                return None
            copy_id = self.insert(settings, **fields)
            link, extra = _sent_again_assignment({"sent_again_as": copy_id}) or ("", ())
            self._db.execute(
                f"UPDATE generations SET {link}, updated_at = ?, revision = ? WHERE id = ?",
                (*extra, time.time(), self._next_revision(), original_id))
        self.note_added([copy_id])
        return self.require(copy_id)

    def insert(self, settings: GenerationSettings, *, stage: Stage = Stage.PENDING,
               position: float | None = None, **fields: Any) -> int:
        """Inside `transaction()`: write one new generation row (a fresh idempotency key, last
        in the pending order, or at `position`); its id. For stores that must write it together
        with their own rows, in one commit (engine/sequence_store.py: a shot's take). Once
        committed, the caller passes the id to `note_added`."""
        now = time.time()
        values: dict[str, Any] = {
            "settings_json": _settings_to_sql(settings),
            "idempotency_key": str(uuid.uuid4()),
            "stage": stage.value,
            "created_at": now,
            "updated_at": now,
            "position": self._next_position() if position is None else position,
            "revision": self._next_revision(),
            **{k: _to_sql(v) for k, v in fields.items()},
        }
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self._db.execute(
            f"INSERT INTO generations ({names}) VALUES ({marks})", tuple(values.values()))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def note_added(self, row_ids: Iterable[int]) -> None:
        """Rows `insert`ed and committed through this connection (a watcher of other
        processes' changes skips them: their events are out already)."""
        self._own_additions.update(row_ids)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One consistent read of several statements (a deferred transaction: no write lock),
        for the stores kept beside the generations."""
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("COMMIT")

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT on the journal's connection (yielded), for the stores kept
        beside the generations (engine/sequence_store.py). sqlite3 errors pass through: the
        caller turns them into JournalError (`journal_error`)."""
        return _Transaction(self._db, self.path, self._committed)

    def locked_elsewhere(self) -> bool:
        """Whether another process holds the write lock now, found without waiting (a write
        started and given up at once): the engine's light check for a lock to go. Other
        trouble (a read-only file) is not a lock: the write that follows says what it is."""
        try:
            self._db.execute("PRAGMA busy_timeout=0")
            try:
                self._db.execute("BEGIN IMMEDIATE")
            finally:
                self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            return _is_busy(exc)
        return False

    @_typed_errors
    def update(self, generation_id: int, *, held_by: str | None = None,
               free_lease: bool = False, if_stage: Stage | None = None,
               **fields: Any) -> Generation:
        """Change fields of one row and commit at once (durable at the next `flush`).

        `held_by`: write only while that lease owner holds the row, else raise LeaseLost (the
        driving process's writes). `free_lease`: end whatever lease the row has, in the same
        write (a person's command moved it: whoever drove it stops at its next write).
        `if_stage`: write only while the row is still in that stage, else raise RowMovedOn (a
        person's command decided on what it read; another process may have moved the row on
        since — a cancel written over its 'submitting' would lose a job it is paying for).
        """
        unknown = set(fields) - set(_COLUMNS) - set(_IN_SETTINGS_JSON)
        if unknown:
            raise ValueError(f"unknown journal fields: {sorted(unknown)}")
        fields["updated_at"] = time.time()
        if free_lease:
            fields |= {"lease_owner": None, "lease_expires": None}
        sent_again = _sent_again_assignment(fields)  # takes `sent_again_as` out of fields
        stop = _stop_assignment(fields)  # takes `stop_cause` (and settings_json) out of fields
        if sent_again is not None and stop is not None:
            raise ValueError("sent_again_as is written on its own")
        stop = stop or sent_again
        assignments = [f"{name} = ?" for name in fields]
        values = [_to_sql(v) for v in fields.values()]
        if stop is not None:
            assignments.append(stop[0])
            values.extend(stop[1])
        conditions: list[str] = []
        guard: list[Any] = []
        if held_by:
            conditions.append("AND lease_owner = ?")
            guard.append(held_by)
        if if_stage is not None:
            conditions.append("AND stage = ?")
            guard.append(if_stage.value)
        with self._transaction():
            revision = self._next_revision()
            cursor = self._db.execute(
                f"UPDATE generations SET {', '.join(assignments)}, revision = ? "
                f"WHERE id = ? {' '.join(conditions)}",
                (*values, revision, generation_id, *guard),
            )
            if conditions and cursor.rowcount == 0:
                self._own_revisions.discard(revision)
                if held_by:
                    raise LeaseLost(generation_id)
                assert if_stage is not None
                raise RowMovedOn(generation_id, if_stage)
        return self.require(generation_id)

    @_typed_errors
    def forget_links_to_removed(self) -> list[Generation]:
        """Rows 'sent again as' a generation no longer in the history lose that link (their
        Retry may send anew: the person removed what it made); those rows, changed."""
        ids = [row[0] for row in self._db.execute(
            "SELECT id FROM generations WHERE settings_json LIKE '%\"sent_again\"%' AND "
            f"(CASE WHEN json_valid(settings_json) THEN json_extract(settings_json, "
            f"'{_SENT_AGAIN_KEY}') END) NOT IN (SELECT id FROM generations)")]
        return [self.update(generation_id, sent_again_as=None) for generation_id in ids]

    def _next_position(self) -> float:
        """Inside a write transaction: the position after every row's."""
        return float(self._db.execute(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM generations").fetchone()[0])

    def _next_revision(self) -> int:
        """Inside a write transaction: the revision this write gives its row."""
        revision = int(self._db.execute(f"SELECT {_NEXT_REVISION}").fetchone()[0])
        self._own_revisions.add(revision)
        return revision

    @_typed_errors
    def remove(self, generation_id: int) -> None:
        """Out of the history; its job id is kept so an import doesn't bring it back."""
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO removed_jobs (job_id, removed_at) "
                "SELECT job_id, ? FROM generations WHERE id = ? AND job_id IS NOT NULL",
                (time.time(), generation_id))
            self._db.execute("DELETE FROM generations WHERE id = ?", (generation_id,))
        self._own_removals.add(generation_id)

    @_typed_errors
    def move_before(self, generation_id: int, before_id: int | None) -> Generation:
        """Reorder pending work: put one row just before another (or last when None)."""
        with self._transaction():
            if before_id is None:
                position = self._db.execute(
                    "SELECT COALESCE(MAX(position), 0) + 1 FROM generations"
                ).fetchone()[0]
            else:
                target = self._db.execute(
                    "SELECT position FROM generations WHERE id = ?", (before_id,)
                ).fetchone()
                if target is None:
                    raise KeyError(before_id)
                previous = self._db.execute(
                    "SELECT MAX(position) FROM generations WHERE position < ? AND id != ?",
                    (target[0], generation_id),
                ).fetchone()[0]
                low = previous if previous is not None else target[0] - 1
                position = (low + target[0]) / 2
            self._db.execute(
                "UPDATE generations SET position = ?, updated_at = ?, revision = ? WHERE id = ?",
                (position, time.time(), self._next_revision(), generation_id),
            )
        return self.require(generation_id)

    # -- reads ----------------------------------------------------------------------------------

    @_typed_errors
    def get(self, generation_id: int) -> Generation | None:
        row = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM generations WHERE id = ?", (generation_id,)
        ).fetchone()
        return _from_row(row) if row else None

    def require(self, generation_id: int) -> Generation:
        generation = self.get(generation_id)
        if generation is None:
            raise KeyError(generation_id)
        return generation

    @_typed_errors
    def by_job_id(self, job_id: str) -> Generation | None:
        row = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM generations WHERE job_id = ?", (job_id,)
        ).fetchone()
        return _from_row(row) if row else None

    @_typed_errors
    def removed_job_ids(self) -> set[str]:
        """Job ids of rows the person removed (import skips them)."""
        return {row[0] for row in self._db.execute("SELECT job_id FROM removed_jobs")}

    def all(self) -> list[Generation]:
        """Every row, oldest first."""
        return self._select("ORDER BY created_at, id")

    def with_stages(self, stages: Iterable[Stage]) -> list[Generation]:
        wanted = [s.value for s in stages]
        marks = ", ".join("?" for _ in wanted)
        return self._select(f"WHERE stage IN ({marks}) ORDER BY position, id", wanted)

    @_typed_errors
    def ids_with_stages(self, stages: Iterable[Stage]) -> list[int]:
        """Like `with_stages`, ids only (cheap enough to run on every stage change)."""
        wanted = [s.value for s in stages]
        marks = ", ".join("?" for _ in wanted)
        rows = self._db.execute(
            f"SELECT id FROM generations WHERE stage IN ({marks}) ORDER BY position, id", wanted
        ).fetchall()
        return [row[0] for row in rows]

    def done_without_thumbnail(self) -> list[Generation]:
        """Finished videos with no thumbnail yet (made by the CLI, which has no Qt)."""
        return self._select(
            "WHERE stage = ? AND (thumbnail_path IS NULL OR thumbnail_path = '') "
            "ORDER BY position, id", [Stage.DONE.value]
        )

    def unfinished(self) -> list[Generation]:
        return self.with_stages(s for s in Stage if not s.is_terminal)

    # -- what other processes changed (engine/journal_watch.py) ---------------------------------

    @_typed_errors
    def data_version(self) -> int:
        """Changes when another connection commits (SQLite's `PRAGMA data_version`); cheap."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    @_typed_errors
    def last_revision(self) -> int:
        return int(self._db.execute("SELECT COALESCE(MAX(revision), 0) FROM generations")
                   .fetchone()[0])

    @_typed_errors
    def changes_since(self, revision: int) -> tuple[list[Generation], int]:
        """Rows another process changed after `revision` (not those this connection wrote
        last), and the revision to ask from next time."""
        rows = self._db.execute(
            f"SELECT revision, {', '.join(_COLUMNS)} FROM generations WHERE revision > ? "
            "ORDER BY revision", (revision,)).fetchall()
        latest = max((row[0] for row in rows), default=revision)
        changed = [_from_row(row[1:]) for row in rows if row[0] not in self._own_revisions]
        self._own_revisions = {r for r in self._own_revisions if r > latest}
        return changed, latest

    def drop_own_revisions(self) -> int:
        """Forget the revisions this connection wrote; the highest of them (0: none). For a
        watcher that knows no other process committed since it last looked."""
        latest = max(self._own_revisions, default=0)
        self._own_revisions.clear()
        return latest

    @_typed_errors
    def ids(self) -> set[int]:
        return {row[0] for row in self._db.execute("SELECT id FROM generations")}

    def take_own_changes(self) -> tuple[set[int], set[int]]:
        """Ids this connection added and removed since the last call (their events are out
        already)."""
        added, self._own_additions = self._own_additions, set()
        removed, self._own_removals = self._own_removals, set()
        return added, removed

    # -- leases (engine/leases.py decides who holds what; this is the SQL) ----------------------

    @_typed_errors
    def claim(self, owner: str, until: float, now: float, stages: Iterable[Stage],
              dead: Iterable[str] = ()) -> list[int]:
        """Lease every row in `stages` whose lease is free, expired or a dead process's; the
        ids newly leased by `owner` (not those it held already). Atomic across processes."""
        wanted = [s.value for s in stages]
        free, free_params = _lease_free(owner, now, list(dead), mine_too=False)
        where = f"stage IN ({_marks(wanted)}) AND {free}"
        params = (*wanted, *free_params)
        # A read first: nothing to claim (the usual case) takes no write lock.
        if not self._db.execute(f"SELECT 1 FROM generations WHERE {where} LIMIT 1",
                                params).fetchall():
            return []
        with self._transaction():
            rows = self._db.execute(
                f"UPDATE generations SET lease_owner = ?, lease_expires = ? WHERE {where} "
                "RETURNING id", (owner, until, *params)).fetchall()
        return sorted(row[0] for row in rows)

    @_typed_errors
    def claim_waiting(self, owner: str, until: float, now: float, *, limit: int,
                      waiting: Iterable[Stage], holding: Iterable[Stage],
                      local: Iterable[Stage], dead: Iterable[str] = (),
                      prefer: Iterable[int] = ()) -> list[int]:
        """Lease waiting rows (in `position` order, `prefer`red ids first) while fewer than
        `limit` are running, counted over every process in one transaction: rows in `holding`
        stages (those in `local` ones only while leased: nothing of theirs is on the server)
        and waiting rows already leased. The ids newly leased by `owner`."""
        waiting_ = [s.value for s in waiting]
        holding_ = [s.value for s in holding]
        local_ = [s.value for s in local]
        dead_ = list(dead)
        free, free_params = _lease_free(owner, now, dead_, mine_too=False)
        live = (f"(lease_owner IS NOT NULL AND lease_expires >= ? "
                f"AND lease_owner NOT IN ({_marks(dead_)}))")
        preferred = list(prefer)
        candidates = (f"SELECT id FROM generations WHERE stage IN ({_marks(waiting_)}) AND {free}"
                      f" ORDER BY id IN ({_marks(preferred)}) DESC, position, id LIMIT ?")
        running = (f"SELECT COUNT(*) FROM generations WHERE (stage IN ({_marks(holding_)}) "
                   f"AND (stage NOT IN ({_marks(local_)}) OR {live})) "
                   f"OR (stage IN ({_marks(waiting_)}) AND {live})")
        running_params = (*holding_, *local_, now, *dead_, *waiting_, now, *dead_)
        # Reads first: nothing waiting, or no slot free (the usual cases), takes no write lock.
        if (not self._db.execute(candidates, (*waiting_, *free_params, *preferred, 1)).fetchall()
                or self._db.execute(running, running_params).fetchone()[0] >= limit):
            return []
        with self._transaction():  # counted again under the lock: another may have claimed
            free_slots = limit - int(self._db.execute(running, running_params).fetchone()[0])
            if free_slots <= 0:
                return []
            ids = [row[0] for row in self._db.execute(
                candidates, (*waiting_, *free_params, *preferred, free_slots)).fetchall()]
            self._db.execute(
                f"UPDATE generations SET lease_owner = ?, lease_expires = ? "
                f"WHERE id IN ({_marks(ids)})", (owner, until, *ids))
        return ids

    @_typed_errors
    def renew(self, owner: str, until: float) -> set[int]:
        """Extend every lease of `owner`; the ids it still holds (others may have taken some)."""
        with self._transaction():
            self._db.execute("UPDATE generations SET lease_expires = ? WHERE lease_owner = ?",
                             (until, owner))
            rows = self._db.execute("SELECT id FROM generations WHERE lease_owner = ?",
                                    (owner,)).fetchall()
        return {row[0] for row in rows}

    @_typed_errors
    def release(self, owner: str, generation_ids: Iterable[int] | None = None) -> None:
        """End `owner`'s leases (of these rows, or all); a row leased by another is untouched."""
        ids = None if generation_ids is None else list(generation_ids)
        if ids == []:
            return
        only = "" if ids is None else f" AND id IN ({_marks(ids)})"
        with self._transaction():
            self._db.execute(
                f"UPDATE generations SET lease_owner = NULL, lease_expires = NULL "
                f"WHERE lease_owner = ?{only}", (owner, *(ids or ())))

    @_typed_errors
    def lease_owners(self, now: float) -> set[str]:
        """Owners holding a lease that has not expired (some may be dead processes)."""
        rows = self._db.execute(
            "SELECT DISTINCT lease_owner FROM generations WHERE lease_owner IS NOT NULL "
            "AND lease_expires >= ?", (now,)).fetchall()
        return {row[0] for row in rows}

    @_typed_errors
    def lease_of(self, generation_id: int) -> tuple[str | None, float | None]:
        row = self._db.execute("SELECT lease_owner, lease_expires FROM generations WHERE id = ?",
                               (generation_id,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    @_typed_errors
    def _select(self, clause: str, params: Iterable[Any] = ()) -> list[Generation]:
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM generations {clause}", tuple(params)
        ).fetchall()
        return [_from_row(row) for row in rows]


class _Transaction(contextlib.AbstractContextManager[sqlite3.Connection]):
    """BEGIN IMMEDIATE … COMMIT, so two processes never interleave half-written changes."""

    def __init__(self, db: sqlite3.Connection, path: Path,
                 on_commit: Callable[[], None]) -> None:
        self._db = db
        self._path = path
        self._on_commit = on_commit

    def __enter__(self) -> sqlite3.Connection:
        _begin_write(self._db, self._path)
        return self._db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        # A failed statement (disk full…) may have ended the transaction already: the rollback
        # must not hide the error that matters. Callers turn sqlite3 errors into JournalError.
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._rollback()
                raise
            self._on_commit()
        else:
            self._rollback()

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")


def _begin_write(db: sqlite3.Connection, path: Path) -> None:
    """BEGIN IMMEDIATE, waiting up to BUSY_TIMEOUT_MS for another process's write to end — but
    not for a process stopped in the middle of one (Ctrl+Z, a debugger): it keeps the lock until
    it is continued, so waiting only froze the window for 5 s before failing all the same."""
    db.execute(f"PRAGMA busy_timeout={FIRST_WAIT_MS}")
    try:
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or ((holder := write_lock_holder(path)) is not None
                                     and holder.stopped):
                raise
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS - FIRST_WAIT_MS}")
        db.execute("BEGIN IMMEDIATE")
    finally:
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


def _lease_free(owner: str, now: float, dead: list[str],
                mine_too: bool = True) -> tuple[str, tuple[Any, ...]]:
    """SQL for "this row's lease may be taken by `owner`", and its parameters."""
    mine = "lease_owner = ? OR " if mine_too else ""
    return (f"({mine}lease_owner IS NULL OR lease_expires IS NULL OR lease_expires < ? "
            f"OR lease_owner IN ({_marks(dead)}))",
            ((owner,) if mine_too else ()) + (now, *dead))


def _split_sql(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def _to_sql(value: Any) -> Any:
    if isinstance(value, (Stage, Action, StopCause)):
        return value.value
    if isinstance(value, bool):
        return int(value)
    return value


def _settings_to_sql(settings: GenerationSettings) -> str:
    return json.dumps(settings.to_json(), ensure_ascii=False, separators=(",", ":"))


def _stop_cause_from_sql(text: str | None) -> StopCause | None:
    """The stop cause kept beside the settings; None when there is none, or one this version
    doesn't know (a newer version's: the row then waits for the person, as before)."""
    if not text or '"stop"' not in text:  # most rows: no second JSON parse
        return None
    try:
        data = json.loads(text)
        return StopCause(str(data.get("stop"))) if isinstance(data, dict) else None
    except ValueError:
        return None


def _sent_again_from_sql(text: str | None) -> int | None:
    if not text or '"sent_again"' not in text:  # most rows: no second JSON parse
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    value = data.get("sent_again") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _sent_again_assignment(fields: dict[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
    """The SQL that keeps `sent_again_as` (`$.sent_again` in the settings JSON); None when the
    write leaves it as it is. Takes `sent_again_as` out of `fields`."""
    if "sent_again_as" not in fields:
        return None
    link = fields.pop("sent_again_as")
    extra: tuple[Any, ...] = ()
    if link is None:
        change = f"json_remove(settings_json, '{_SENT_AGAIN_KEY}')"
    else:
        change, extra = f"json_set(settings_json, '{_SENT_AGAIN_KEY}', ?)", (int(link),)
    return (f"settings_json = CASE WHEN json_valid(settings_json) THEN {change} "
            "ELSE settings_json END", extra)


def _settings_from_sql(text: str | None) -> GenerationSettings:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    return GenerationSettings.from_json(data if isinstance(data, dict) else {})


def _stop_assignment(fields: dict[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
    """The SQL that keeps a row's stop cause (`$.stop` in its settings JSON) in step with the
    write in `fields`: set as given; cleared by any write of `error` that gives none (the cause
    belongs to the stop its error describes). Takes `stop_cause`, and `settings_json` when the
    write replaces it, out of `fields`; None when the cause is left as it is."""
    if "stop_cause" not in fields and "error" not in fields:
        return None
    cause = fields.pop("stop_cause", None)
    base, params = "settings_json", cast(tuple[Any, ...], ())
    if "settings_json" in fields:
        base, params = "?", (fields.pop("settings_json"),)
    # Only ever on valid JSON: a damaged settings text stays as it is (never an SQL error).
    if cause is None:
        change, extra = f"json_remove({base}, '{_STOP_KEY}')", cast(tuple[Any, ...], ())
    else:
        change, extra = f"json_set({base}, '{_STOP_KEY}', ?)", (_to_sql(cause),)
    return (f"settings_json = CASE WHEN json_valid({base}) THEN {change} ELSE {base} END",
            (*params, *params, *extra, *params))


def _from_row(row: tuple[Any, ...]) -> Generation:
    data = dict(zip(_COLUMNS, row, strict=True))
    text = data.pop("settings_json")
    settings = _settings_from_sql(text)
    data["stop_cause"] = _stop_cause_from_sql(text)
    data["sent_again_as"] = _sent_again_from_sql(text)
    data["stage"] = Stage(data["stage"])
    data["action"] = Action(data["action"]) if data["action"] else None
    data["favourite"] = bool(data["favourite"])
    return Generation(settings=settings, **data)


# -- opening and checking the file (what a person may need to move aside) -----------------------


class JournalUnusable(JournalError):
    """The journal file itself can't be used: damaged, or written by a newer version.

    Nothing can fix it in place; the way on is to move it aside (`move_aside`, which keeps it,
    renamed) and start a fresh history. `message` says what happened and names the file; the
    front end adds how to do that there (a CLI command, a button).
    """

    def __init__(self, message: str, path: Path, *, from_newer_version: bool) -> None:
        super().__init__(message, path)
        self.from_newer_version = from_newer_version

    @classmethod
    def damaged(cls, path: Path, detail: object) -> JournalUnusable:
        return cls(f"The history file {path} is damaged and can't be read ({detail}).", path,
                   from_newer_version=False)

    @classmethod
    def newer(cls, path: Path, detail: str) -> JournalUnusable:
        return cls(
            f"The history file {path} was written by a newer Runway Desktop ({detail}). "
            "Update Runway Desktop to use it, or move it aside and start a fresh history.",
            path, from_newer_version=True)


def open_checked(path: Path) -> tuple[sqlite3.Connection, str | None]:
    """Connect, set the pragmas and check the file's integrity; (connection, notice).

    A file that isn't a database or fails SQLite's `quick_check` raises JournalUnusable (it
    used to surface later, as a raw DatabaseError in the middle of a command). A 0-byte file
    (an interrupted first start, or a file emptied by a disk fault) becomes a new history, on
    purpose and not silently: the notice says so.
    """
    notice = None
    try:
        empty = path.is_file() and path.stat().st_size == 0 and not _has_wal(path)
    except OSError:
        empty = False
    if empty:
        notice = (f"The history file {path} was empty (0 bytes), so a new, empty history was "
                  "started in it. If generations are missing, restore that file from a backup.")
    try:
        problem = kind_problem(path.stat().st_mode)  # a folder or a FIFO where the file goes
    except OSError:
        problem = None  # not there yet (a first start), or the folder's error comes below
    if problem:
        raise JournalUnusable(f"The history file {path} can't be used: {problem}.", path,
                              from_newer_version=False)
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise JournalError(
            f"Can't open the history file {path}: {getattr(exc, 'strerror', None) or exc}. "
            "Check that the folder exists and can be written.", path) from exc
    try:
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _switch_to_wal(db)
        db.execute("PRAGMA synchronous=NORMAL")  # durable at flush(): see the top
        problems = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
    except sqlite3.DatabaseError as exc:
        db.close()
        if _is_busy(exc):
            raise JournalError(
                f"The history file {path} is locked by another program. Close it and try "
                "again.", path) from exc
        # A full or read-only drive fails the open too ('disk I/O error', 'unable to open'):
        # the file is fine, and moving it aside (the way out of a damaged one) would only hide
        # the generations still to finish.
        trouble = _drive_trouble(path.parent, exc)
        if trouble is not None:
            if not existed:
                _forget_empty(path)  # not a history this start left '0 bytes' for the next
            raise journal_error(path, trouble) from exc
        raise JournalUnusable.damaged(path, exc) from exc
    if problems != ["ok"]:
        db.close()
        raise JournalUnusable.damaged(path, "; ".join(map(str, problems)))
    return db, notice


def _drive_trouble(folder: Path, error: sqlite3.DatabaseError) -> BaseException | None:
    """What keeps the history's drive from taking writes (full, read-only), or None when it
    takes them: then `error` is the file's own."""
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return None
    if name == "SQLITE_FULL":
        return error
    try:  # a few KB, as a page of the history would take
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(bytes(16 * 1024))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as trouble:
        return trouble
    return None


def _forget_empty(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            if leftover.stat().st_size == 0:
                leftover.unlink()


def _switch_to_wal(db: sqlite3.Connection, patience: float = 5.0) -> None:
    """WAL mode, waiting for a process that is switching or creating the file at this moment:
    the switch needs the file to itself and SQLite answers it BUSY without its busy handler."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _has_wal(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0


def _is_busy(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def _check_known_values(db: sqlite3.Connection, path: Path) -> None:
    """Every stage and action in the file is one this version knows (else: a newer version)."""
    stages = {row[0] for row in db.execute("SELECT DISTINCT stage FROM generations")}
    actions = {row[0] for row in db.execute(
        "SELECT DISTINCT action FROM generations WHERE action IS NOT NULL AND action != ''")}
    unknown = sorted(map(str, (stages - {s.value for s in Stage})
                         | (actions - {a.value for a in Action})))
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:3])
        raise JournalUnusable.newer(path, f"it has generations in states this version doesn't "
                                          f"know: {shown}")


def move_aside(path: Path) -> Path:
    """Rename the journal (and its -wal/-shm files) to `<name>.bad-<time>`; the new name.

    Nothing is deleted: moving the files back restores the history exactly. The caller must
    make sure no process has the journal open (engine/presence.py: `sole_user`).
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.bad-{stamp}")
    for n in range(2, 1000):
        if not target.exists():
            break
        target = path.with_name(f"{path.name}.bad-{stamp}-{n}")
    # The -wal file holds committed rows: it travels with the database, under the same name.
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    if path.exists():
        os.replace(path, target)
    return target
