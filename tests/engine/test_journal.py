from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runway_desktop.engine.journal import SCHEMA_VERSION, Journal, JournalError
from runway_desktop.engine.records import Action, GenerationSettings, Stage


def test_a_row_is_committed_and_visible_to_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    generation = journal.add(GenerationSettings("a kite", duration=10, seed=7))
    other = sqlite3.connect(path)
    try:
        row = other.execute("SELECT prompt, stage, idempotency_key FROM generations").fetchone()
    finally:
        other.close()
        journal.close()
    assert row == ("a kite", "pending", generation.idempotency_key)


def test_round_trip_of_every_field(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    g = journal.add(GenerationSettings("p", image_url="https://x.test/a.png"))
    updated = journal.update(g.id, stage=Stage.ATTENTION, action=Action.BUY_CREDITS,
                             error="no credits", favourite=True, job_id="j1", progress=40)
    journal.close()
    again = Journal(tmp_path / "j.sqlite3")
    loaded = again.require(g.id)
    again.close()
    assert loaded == updated
    assert loaded.stage is Stage.ATTENTION
    assert loaded.action is Action.BUY_CREDITS
    assert loaded.favourite is True
    assert loaded.settings.image_url == "https://x.test/a.png"


def test_idempotency_keys_are_unique_per_generation(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    keys = {journal.add(GenerationSettings("p")).idempotency_key for _ in range(50)}
    journal.close()
    assert len(keys) == 50


def test_migrates_a_version_1_database_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    from runway_desktop.engine import journal as module

    for statement in module._split_sql(module._MIGRATIONS[1]):
        db.execute(statement)
    db.execute(
        "INSERT INTO generations (prompt, duration, aspect_ratio, seed, idempotency_key, stage,"
        " created_at, updated_at) VALUES ('old', 5, '16:9', 1, 'k', 'done', 1, 1)"
    )
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    journal = Journal(path)
    (old,) = journal.all()
    version = journal._db.execute("PRAGMA user_version").fetchone()[0]
    journal.close()
    assert version == SCHEMA_VERSION
    assert old.settings.prompt == "old"
    assert old.favourite is False
    assert old.attempts == 0


def test_refuses_a_newer_schema_with_words(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="newer Runway Desktop"):
        Journal(path)


def test_move_before_reorders_pending(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    a, _b, c = (journal.add(GenerationSettings(name)) for name in "abc")
    journal.move_before(c.id, a.id)
    order = [g.settings.prompt for g in journal.with_stages([Stage.PENDING])]
    journal.move_before(c.id, None)
    order_after = [g.settings.prompt for g in journal.with_stages([Stage.PENDING])]
    journal.close()
    assert order == ["c", "a", "b"]
    assert order_after == ["a", "b", "c"]


def test_update_rejects_unknown_fields(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    g = journal.add(GenerationSettings("p"))
    with pytest.raises(ValueError, match="unknown journal fields"):
        journal.update(g.id, nonsense=1)
    journal.close()
