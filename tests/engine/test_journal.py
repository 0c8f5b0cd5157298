from __future__ import annotations

import json
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
        row = other.execute(
            "SELECT settings_json, stage, idempotency_key FROM generations").fetchone()
    finally:
        other.close()
        journal.close()
    assert (json.loads(row[0]), *row[1:]) == (
        {"model": "runway-gen4-turbo", "images": {},
         "params": {"prompt": "a kite", "duration": 10, "aspect_ratio": "16:9", "seed": 7}},
        "pending", generation.idempotency_key)


def test_settings_are_kept_as_model_params_and_images(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    settings = GenerationSettings("ünïcode 🎬", duration=10, aspect_ratio="21:9", seed=2**32 - 1,
                                  image_path="/tmp/a b.png", model="runway-gen4.5")
    added = journal.add(settings)
    journal.close()
    again = Journal(tmp_path / "j.sqlite3")
    loaded = again.require(added.id)
    again.close()
    assert loaded.settings == settings
    assert settings.to_json()["images"] == {"image": {"path": "/tmp/a b.png"}}


def _version_3_journal(path: Path, rows: list[tuple[object, ...]]) -> None:
    """A journal exactly as versions up to schema 3 wrote it (settings in six columns)."""
    from runway_desktop.engine import journal as module

    db = sqlite3.connect(path)
    for version in (1, 2, 3):
        step = module._MIGRATIONS[version]
        assert isinstance(step, str)
        for statement in module._split_sql(step):
            db.execute(statement)
    db.executemany(
        "INSERT INTO generations (prompt, duration, aspect_ratio, seed, image_path, image_url,"
        " idempotency_key, stage, created_at, updated_at, position, job_id, credit_cost,"
        " video_path, favourite, attempts, output_dir, error, action)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()


def test_a_version_3_journal_keeps_every_rows_settings(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    rows: list[tuple[object, ...]] = [
        ("a kite over the sea", 10, "21:9", 4294967295, "/home/me/kite.png", None, "k1", "done",
         1.0, 2.0, 1.0, "job-1", 15, "/home/me/Videos/kite.mp4", 1, 0, "/home/me/out", None, None),
        ("  ünïcode 🎬 prompt\nwith a newline", 5, "9:16", 0, None, "https://cdn.test/a.png",
         "k2", "attention", 3.0, 4.0, 2.0, None, None, None, 0, 2, None, "No credits",
         "buy_credits"),
        ("pending one", 5, "1:1", 42, None, None, "k3", "pending", 5.0, 5.0, 3.0, None, None,
         None, 0, 0, None, None, None),
    ]
    _version_3_journal(path, rows)

    journal = Journal(path)
    loaded = journal.all()
    version = journal._db.execute("PRAGMA user_version").fetchone()[0]
    columns = {row[1] for row in journal._db.execute("PRAGMA table_info(generations)")}
    journal.close()

    assert version == SCHEMA_VERSION
    assert "prompt" not in columns  # one place for settings: the JSON
    assert {g.settings.model for g in loaded} == {"runway-gen4-turbo"}  # the only model then
    assert [g.settings for g in loaded] == [
        GenerationSettings(*r[:6])  # type: ignore[arg-type]
        for r in rows]
    assert [(g.idempotency_key, g.stage.value, g.job_id, g.credit_cost, g.video_path,
             g.favourite, g.attempts, g.output_dir, g.error) for g in loaded] == [
        (r[6], r[7], r[11], r[12], r[13], bool(r[14]), r[15], r[16], r[17]) for r in rows]
    assert loaded[1].action is Action.BUY_CREDITS
    # New rows go on after the old ones (ids and positions intact).
    again = Journal(path)
    added = again.add(GenerationSettings("new", model="runway-gen4.5"))
    again.close()
    assert added.id == 4
    assert added.position > loaded[-1].position


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

    first = module._MIGRATIONS[1]
    assert isinstance(first, str)
    for statement in module._split_sql(first):
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


def test_a_batch_reads_the_last_position_once_and_keeps_the_order(tmp_path: Path) -> None:
    """Each row of a batch used to scan every row for MAX(position) (no index on it): a drop
    of 200 beside 10,000 items held the window ~0.3 s (responsiveness benchmark)."""
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.add_many([GenerationSettings(prompt=f"before {i}") for i in range(3)])
    scans: list[str] = []
    journal._db.set_trace_callback(
        lambda sql: scans.append(sql) if "MAX(position)" in sql else None)
    added = journal.add_many([GenerationSettings(prompt=f"batch {i}") for i in range(20)])
    journal._db.set_trace_callback(None)
    assert len(scans) == 1
    assert [g.settings.prompt for g in added] == [f"batch {i}" for i in range(20)]
    pending = journal.with_stages([Stage.PENDING])
    assert [g.settings.prompt for g in pending] == (
        [f"before {i}" for i in range(3)] + [f"batch {i}" for i in range(20)])
    assert len({g.id for g in pending}) == 23
    journal.close()
