"""What the window says when its files are odd at start: a settings file kept aside, a damaged,
newer or empty history (issue 11 §6). Non-modal, once, and never a dead end."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from runway_desktop import paths
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.records import GenerationSettings

Prepare = Callable[[Path], None]


def odd_settings(data_dir: Path) -> None:
    paths.settings_path(data_dir).write_text('{"version": "abc", "demo_mode": true}')


def damaged_journal(data_dir: Path) -> None:
    paths.journal_path(data_dir).parent.mkdir(parents=True, exist_ok=True)
    paths.journal_path(data_dir).write_bytes(b"not a database, a page of noise " * 200)


def newer_journal(data_dir: Path) -> None:
    journal = Journal(paths.journal_path(data_dir))
    journal.add(GenerationSettings("made by a later version", seed=5))
    journal.close()
    db = sqlite3.connect(paths.journal_path(data_dir))
    db.execute("PRAGMA user_version=99")
    db.close()


def empty_journal(data_dir: Path) -> None:
    paths.journal_path(data_dir).parent.mkdir(parents=True, exist_ok=True)
    paths.journal_path(data_dir).write_bytes(b"")


def no_dialogs() -> bool:
    return not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.isVisible()]


@pytest.mark.expect_log_warnings(r"Settings file .* unusable")
@pytest.mark.parametrize("before_app_start", [odd_settings])
def test_an_odd_settings_file_is_shown_once_and_the_app_carries_on(
    qtbot: QtBot, app_controller: Any, data_dir: Path, qapp: Any
) -> None:
    window = app_controller.window
    assert app_controller.engine is not None  # carried on, with the defaults
    assert window.notice_banner.isVisible()
    text = window.notice_banner.message.text()
    assert "couldn't be used" in text
    assert "settings.json.bad-" in text
    assert list(data_dir.glob("settings.json.bad-*"))
    assert not window.banner.isVisible() or "unexpected" not in window.banner.message.text()
    assert no_dialogs()  # non-modal
    window.notice_banner.hide()  # the person closes it
    # Once: the next start reads the settings rewritten with the defaults, and says nothing.
    from runway_desktop.ui.controller import AppController

    again = AppController(qapp, data_dir)
    try:
        assert not again.window.notice_banner.isVisibleTo(again.window)
    finally:
        again.window.deleteLater()


@pytest.mark.expect_log_warnings(r"moved aside")
@pytest.mark.parametrize("before_app_start", [damaged_journal, newer_journal])
def test_an_unusable_history_offers_a_fresh_start_that_keeps_the_old_file(
    qtbot: QtBot, app_controller: Any, data_dir: Path, before_app_start: Prepare
) -> None:
    window = app_controller.window
    journal = paths.journal_path(data_dir)
    original = journal.read_bytes()
    assert app_controller.engine is None
    assert window.banner.isVisible()
    text = window.banner.message.text()
    assert str(journal) in text
    assert ("newer Runway Desktop" if before_app_start is newer_journal else "damaged") in text
    assert "unexpected" not in text
    assert window.banner.button.isVisible()
    assert window.banner.button.text() == "Start a fresh history"  # not "Open Settings"
    assert no_dialogs()

    window.banner.button.click()
    qtbot.waitUntil(lambda: app_controller.engine is not None, timeout=10_000)
    kept = [p for p in data_dir.glob(f"{journal.name}.bad-*") if not p.name.endswith(("-wal",
                                                                                     "-shm"))]
    assert len(kept) == 1
    if before_app_start is damaged_journal:
        assert kept[0].read_bytes() == original  # moved, not changed or deleted
    assert window.notice_banner.isVisible()
    notice = window.notice_banner.message.text()
    assert kept[0].name in notice
    assert f"back to {journal.name}" in notice
    assert not window.banner.isVisible() or "unexpected" not in window.banner.message.text()
    assert window.queue.model.rowCount() == 0  # a fresh, empty history


@pytest.mark.parametrize("before_app_start", [empty_journal])
def test_an_empty_history_file_is_started_afresh_and_said_so_once(
    app_controller: Any, data_dir: Path
) -> None:
    window = app_controller.window
    assert app_controller.engine is not None
    assert window.notice_banner.isVisible()
    assert "was empty (0 bytes)" in window.notice_banner.message.text()
    assert str(paths.journal_path(data_dir)) in window.notice_banner.message.text()
