"""Journals as earlier versions of the app wrote them: the schema built by the app's own
migrations up to a version, and nothing later (for migration tests)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from runway_desktop.engine import journal as journal_module


def old_schema(path: Path, version: int) -> sqlite3.Connection:
    """An open connection to a new journal at `path` in schema `version` (its `user_version`
    set); the caller inserts the rows that version would hold, commits and closes."""
    db = sqlite3.connect(path)
    for step_version in range(1, version + 1):
        step = journal_module._MIGRATIONS[step_version]
        if callable(step):
            step(db)
        else:
            for statement in journal_module._split_sql(step):
                db.execute(statement)
    db.execute(f"PRAGMA user_version={int(version)}")
    return db
