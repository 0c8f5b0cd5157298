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
import functools
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage

LEGACY_MODEL_ID = "runway-gen4-turbo"  # the model of every row written before schema 4

SCHEMA_VERSION = 4

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
}

_RECORD_FIELDS = tuple(
    f.name for f in dataclasses.fields(Generation) if f.name not in ("id", "settings")
)
_COLUMNS = ("id", "settings_json", *_RECORD_FIELDS)


class JournalError(Exception):
    """The journal file can't be opened or written (disk full, permissions, a newer schema).

    `message` says what happened, where, and what to do; `path` is the journal file.
    """

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def journal_error(path: Path, error: BaseException) -> JournalError:
    """A database error as a message a person can act on (the raw error is in the log)."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name == "SQLITE_FULL" or "full" in text or getattr(error, "errno", None) == 28:
        what = "the disk is full"
        todo = "Free some space on that drive"
    elif name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        what = "the file or its folder can't be written (read-only)"
        todo = "Make the folder and the file writable again (permissions, a read-only drive)"
    elif name.startswith("SQLITE_BUSY") or "locked" in text:
        what = "another program keeps it locked"
        todo = "Close other programs using that folder"
    else:
        what = f"the drive reported an error ({error})"
        todo = "Check that the drive is connected and healthy"
    return JournalError(
        f"Runway Desktop can't save its history in {path}: {what}. {todo}, then start "
        "Runway Desktop again — unfinished generations carry on where they stopped.",
        path,
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
        """fsync the write-ahead log (or the database, once the log is checkpointed). Blocking."""
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
        current = self._db.execute("PRAGMA user_version").fetchone()[0]
        if current > SCHEMA_VERSION:
            raise JournalUnusable.newer(self.path, f"schema {current}")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            step = _MIGRATIONS[version]
            with self._transaction():
                if callable(step):
                    step(self._db)
                else:
                    for statement in _split_sql(step):
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={version}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._committed)

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
        now = time.time()
        row_ids: list[int] = []
        with self._transaction():
            next_position = self._db.execute(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM generations"
            ).fetchone()[0]
            for settings in batch:
                values: dict[str, Any] = {
                    "settings_json": _settings_to_sql(settings),
                    "idempotency_key": str(uuid.uuid4()),
                    "stage": stage.value,
                    "created_at": now,
                    "updated_at": now,
                    "position": next_position,
                    **{k: _to_sql(v) for k, v in fields.items()},
                }
                names = ", ".join(values)
                marks = ", ".join("?" for _ in values)
                cursor = self._db.execute(
                    f"INSERT INTO generations ({names}) VALUES ({marks})", tuple(values.values())
                )
                assert cursor.lastrowid is not None
                row_ids.append(cursor.lastrowid)
                next_position += 1
        return [self.require(row_id) for row_id in row_ids]

    @_typed_errors
    def update(self, generation_id: int, **fields: Any) -> Generation:
        """Change fields of one row and commit at once (durable at the next `flush`)."""
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown journal fields: {sorted(unknown)}")
        fields["updated_at"] = time.time()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._transaction():
            self._db.execute(
                f"UPDATE generations SET {assignments} WHERE id = ?",
                (*(_to_sql(v) for v in fields.values()), generation_id),
            )
        return self.require(generation_id)

    @_typed_errors
    def remove(self, generation_id: int) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM generations WHERE id = ?", (generation_id,))

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
                "UPDATE generations SET position = ?, updated_at = ? WHERE id = ?",
                (position, time.time(), generation_id),
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

    @_typed_errors
    def _select(self, clause: str, params: Iterable[Any] = ()) -> list[Generation]:
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM generations {clause}", tuple(params)
        ).fetchall()
        return [_from_row(row) for row in rows]


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, so two processes never interleave half-written changes."""

    def __init__(self, db: sqlite3.Connection, on_commit: Callable[[], None]) -> None:
        self._db = db
        self._on_commit = on_commit

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

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


def _split_sql(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def _to_sql(value: Any) -> Any:
    if isinstance(value, (Stage, Action)):
        return value.value
    if isinstance(value, bool):
        return int(value)
    return value


def _settings_to_sql(settings: GenerationSettings) -> str:
    return json.dumps(settings.to_json(), ensure_ascii=False, separators=(",", ":"))


def _settings_from_sql(text: str | None) -> GenerationSettings:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    return GenerationSettings.from_json(data if isinstance(data, dict) else {})


def _from_row(row: tuple[Any, ...]) -> Generation:
    data = dict(zip(_COLUMNS, row, strict=True))
    settings = _settings_from_sql(data.pop("settings_json"))
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
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise JournalError(
            f"Can't open the history file {path}: {getattr(exc, 'strerror', None) or exc}. "
            "Check that the folder exists and can be written.", path) from exc
    try:
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # durable at flush(): see the top
        problems = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
    except sqlite3.DatabaseError as exc:
        db.close()
        if _is_busy(exc):
            raise JournalError(
                f"The history file {path} is locked by another program. Close it and try "
                "again.", path) from exc
        raise JournalUnusable.damaged(path, exc) from exc
    if problems != ["ok"]:
        db.close()
        raise JournalUnusable.damaged(path, "; ".join(map(str, problems)))
    return db, notice


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
    make sure no process has the journal open (the engine lock).
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
