"""What a screen reader reads of the window's messages and status lines: their words.

Qt gives assistive technology a label's accessible name in place of its text, so a label
named for its purpose ("Notice", "Status", "Account and credits") hid what it said: the
banner's problem, the keyring's or a refused key's words in Settings, the balance, the queue's
counts. Such labels now say their purpose in the accessible description instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action
from runway_desktop.settings import Settings
from runway_desktop.ui.settings_dialog import SettingsDialog


def heard(label: QLabel) -> str:
    """The label's name as assistive technology gets it."""
    interface = QAccessible.queryAccessibleInterface(label)
    assert interface is not None
    return interface.text(QAccessible.Text.Name)


def test_the_windows_messages_and_status_lines_are_heard(
        qtbot: QtBot, app_controller: Any) -> None:
    window = app_controller.window
    qtbot.waitUntil(lambda: "credits" in window.account_label.text(), timeout=10_000)
    window.banner.show_message("Your API key was rejected.", Action.OPEN_SETTINGS)
    window.compose.prompt_edit.setPlainText("")  # Generate waits: says why under it
    summary = window.status_summary
    for label, purpose in (
            (window.banner.message, "Notice"),
            (window.account_label, "Account and credits"),
            (window.mode_label, "Mode"),
            (summary.queue_label, "Queue"),
            (window.compose.status_label, "Generate status"),
            (window.compose.counter_label, "Prompt length")):
        assert label.text()
        assert heard(label) == label.text(), purpose
        assert label.accessibleDescription() == purpose
    assert heard(summary.folder_label).startswith("Saving to ")  # its words, not "Output folder"
    assert "<a" not in heard(summary.folder_label)


def test_settings_messages_are_heard(qtbot: QtBot, qasync_loop: Any, tmp_path: Path,
                                     keyring_backend: Any) -> None:
    dialog = SettingsDialog(Settings(output_dir=str(tmp_path)))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.key_read, timeout=10_000)
    dialog.status.setText("apiframe didn’t accept this key.")
    dialog.proxy_edit.setText("socks5://proxy.example:1080")
    for label in (dialog.status, dialog.proxy_error):
        assert heard(label) == label.text()
    assert dialog.proxy_error.accessibleDescription() == "Proxy problem"


@pytest.mark.parametrize("name", ["folder_error", "address_error"])
def test_settings_field_problems_are_heard(qtbot: QtBot, qasync_loop: Any, tmp_path: Path,
                                           keyring_backend: Any, name: str) -> None:
    dialog = SettingsDialog(Settings(output_dir=str(tmp_path)))
    qtbot.addWidget(dialog)
    label: QLabel = getattr(dialog, name)
    label.setText("Can't use this.")
    assert heard(label) == "Can't use this."


def test_the_start_images_problem_and_size_are_heard(qtbot: QtBot, tmp_path: Path) -> None:
    """'Image problem' and 'Image size' were heard in place of what the drop zone said
    (a refused picture's reason, its size)."""
    from runway_desktop.ui.drop_zone import DropZone

    zone = DropZone(tmp_path / "cache")
    qtbot.addWidget(zone)
    for label, purpose in ((zone.message_label, "Image problem"),
                           (zone.size_label, "Image size")):
        label.setText("That file is not a picture Runway can use.")
        assert heard(label) == label.text()
        assert label.accessibleDescription() == purpose


def test_the_preview_queue_and_sequence_lines_are_heard(
        qtbot: QtBot, app_controller: Any) -> None:
    """'Caption', 'Playback problem', 'Elapsed and total time', 'Queue progress', 'Cost of
    the run', 'Sequence status' and 'Film export status' were heard in place of what these
    lines said (the prompt under the video, why it can't play, the time, the queue's
    progress, a run's price, what a run or a film export did)."""
    window = app_controller.window
    command = window.sequence_command
    qtbot.waitUntil(command.action.isEnabled, timeout=10_000)
    view = command.open_view()
    assert view is not None
    preview = window.preview
    for label, purpose in (
            (preview.caption_label, "Caption"),
            (preview.error_label, "Playback problem"),
            (preview.time_label, "Elapsed and total time"),
            (window.queue.summary_label, "Queue progress"),
            (view.cost_label, "Cost of the run"),
            (view.status, "Sequence status"),
            (view.film.status, "Film export status")):
        label.setText("3 shots, 30 credits")
        assert heard(label) == label.text(), purpose
        assert label.accessibleDescription() == purpose


def test_the_export_dialogs_status_is_heard(qtbot: QtBot, qasync_loop: Any) -> None:
    """'Export status' was heard in place of what the export did or why it failed."""
    from runway_desktop.ui.export_dialog import ExportDialog
    from tests.helpers.video import CLIP

    dialog = ExportDialog(CLIP, name="shot", position_ms=lambda: None, duration_ms=2000)
    qtbot.addWidget(dialog)
    dialog.status.setText("Saved shot.gif")
    assert heard(dialog.status) == "Saved shot.gif"
    assert dialog.status.accessibleDescription() == "Export status"


def test_the_extend_strips_picture_says_what_it_shows(qtbot: QtBot) -> None:
    """The picture beside "Extending #n" was heard as 'Last frame of the clip' while it said
    "Last frame…" or "No video"; with the frame shown, that is still its name."""
    from PySide6.QtGui import QPixmap

    from runway_desktop.ui.extend_mode import ExtendStrip

    strip = ExtendStrip()
    qtbot.addWidget(strip)
    picture = strip.picture
    assert picture.accessibleDescription() == "Last frame of the clip"
    strip.show_words("No video")
    assert heard(picture) == "No video"
    frame = QPixmap(32, 18)
    frame.fill()
    strip.set_picture(frame)
    assert heard(picture) == "Last frame of the clip"
    strip.show_words("Last frame…")
    assert heard(picture) == "Last frame…"
