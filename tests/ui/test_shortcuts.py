"""Keyboard first (issue 12, Deliver 7): every action has a key, Help ▸ Keyboard Shortcuts lists
them all (read from the actions themselves), and no two actions answer the same key where both
can fire."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from runway_desktop.ui.main_window import MainWindow, preferences_shortcuts
from runway_desktop.ui.queue_view import ACTIONS
from runway_desktop.ui.shortcuts import (
    COMPARE_AREA,
    ShortcutEntry,
    ShortcutsDialog,
    conflicts,
    plain,
    shortcut_entries,
)

# Menu entries reachable by their mnemonic only (Alt+H, A): no shortcut of their own.
NO_SHORTCUT_ON_PURPOSE = {"&About Runway Desktop"}


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    widget = MainWindow(tmp_path / "cache")
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_every_menu_action_and_list_action_has_a_shortcut(window: MainWindow) -> None:
    missing = [action.text() for bar_action in window.menuBar().actions()
               if isinstance(menu := bar_action.menu(), QMenu)
               for action in menu.actions()
               if not action.isSeparator() and not action.menu()
               and not action.shortcuts() and action.text() not in NO_SHORTCUT_ON_PURPOSE]
    assert missing == []
    # One shown in another's place (Retry's 'Show #N') has that one's keys.
    assert [spec.name for spec in ACTIONS if not spec.shortcuts and not spec.replaces] == []
    for name in ("cancel_pending", "clear_finished", "find"):
        action = window.queue.findChild(QAction, name)
        assert action is not None
        assert not action.shortcut().isEmpty()


def test_the_dialog_lists_every_action_and_shortcut_of_the_window(
        qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.show_shortcuts()
    assert isinstance(dialog, ShortcutsDialog)
    qtbot.waitExposed(dialog)
    listed = dialog.listed()
    shown = {(text, keys) for _area, text, keys in listed}
    # Every QAction and QShortcut with a key is there, with what it does and its keys.
    sources: list[QAction | QShortcut] = [
        a for a in window.findChildren(QAction)
        if not a.shortcut().isEmpty() and not isinstance(a.parent(), QMenu)]
    sources += [s for s in window.findChildren(QShortcut) if not s.key().isEmpty()]
    assert len(sources) > 30
    for source in sources:
        keys = source.shortcuts() if isinstance(source, QAction) else [source.key()]
        said = (plain(source.text()) if isinstance(source, QAction) else source.whatsThis())
        for key in keys:
            native = key.toString(QKeySequence.SequenceFormat.NativeText)
            assert (said, native) in {(t, one) for t, k in shown for one in k.split(", ")}, (
                said, native)
    texts = [text for _a, text, _k in listed]
    assert "" not in texts, "every shortcut says what it does"
    for expected in ("Undo", "Settings", "Full Screen Preview", "Remove from History",
                     "Play or pause", "Generate", "Keyboard Shortcuts", "Compare Side by Side"):
        assert expected in texts, expected
    assert any(area == COMPARE_AREA for area, _t, _k in listed)
    areas = list(dict.fromkeys(area for area, _t, _k in listed))
    assert areas[:4] == ["File menu", "Edit menu", "View menu", "Help menu"]  # the bar's order
    dialog.filter_edit.setText("trash")
    visible = [dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())]
    assert any(item is not None and not item.isHidden() for item in visible)
    dialog.close()


def test_no_two_actions_answer_the_same_key_where_both_can_fire(window: MainWindow) -> None:
    found = conflicts(window)
    assert [(key, a.area, a.text, b.area, b.text) for key, a, b in found] == []


def test_the_conflict_check_finds_a_clash(window: MainWindow) -> None:
    """The check itself can fail: a second window-wide Ctrl+Z is a clash, a list's F next
    to the gallery's F is not."""
    clash = QAction("Another undo", window)
    clash.setShortcut(QKeySequence("Ctrl+Z"))
    window.addAction(clash)
    keys = [key for key, _a, _b in conflicts(window)]
    assert keys == ["Ctrl+Z"]
    window.removeAction(clash)
    clash.deleteLater()


def test_entries_merge_keys_of_one_action() -> None:
    from runway_desktop.ui.shortcuts import merged

    rows = merged([ShortcutEntry("Preview", "Next result", (QKeySequence("J"),)),
                   ShortcutEntry("Preview", "Next result", (QKeySequence("Right"),))])
    assert [r.keys_text() for r in rows] == ["J, Right"]


def test_settings_has_the_platforms_key_and_ctrl_comma_where_it_has_none(
        window: MainWindow) -> None:
    action = window.findChild(QAction, "settings_action")
    assert action is not None
    standard = [k for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
                if not k.isEmpty()]
    assert action.shortcuts() == (standard or [QKeySequence("Ctrl+,")])
    assert preferences_shortcuts() == action.shortcuts()
    listed = {e.text: e.keys_text() for e in shortcut_entries(window)}
    assert listed["Settings"] == ", ".join(
        k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())


def test_ctrl_1_and_ctrl_2_give_the_keys_to_the_list_they_show(
        qtbot: QtBot, window: MainWindow) -> None:
    """So a list's own keys (Return, F, Delete…) work straight after, keyboard only."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.compose.prompt_edit.setFocus()
    window.studio.actions["show_gallery"].trigger()
    qtbot.waitUntil(window.gallery.list_view.hasFocus)
    window.studio.actions["show_queue"].trigger()
    qtbot.waitUntil(window.queue.list_view.hasFocus)


def test_the_players_toggles_have_keys_too(qtbot: QtBot) -> None:
    """Loop (L) and sound (M) in the preview: every button of the player has its key."""
    from runway_desktop.ui.preview import PreviewPlayer

    preview = PreviewPlayer()
    qtbot.addWidget(preview)
    preview.show()
    qtbot.waitExposed(preview)
    preview.activateWindow()
    qtbot.waitUntil(preview.isActiveWindow)
    preview.setFocus()
    assert preview.loop_button.isChecked()
    qtbot.keyClick(preview, Qt.Key.Key_L)
    assert not preview.loop_button.isChecked()
    qtbot.keyClick(preview, Qt.Key.Key_M)
    assert preview.is_muted()
    qtbot.keyClick(preview, Qt.Key.Key_M)
    assert not preview.is_muted()


@pytest.mark.qt_log_ignore("PulseAudioService", "Couldn't resolve pipewire")
def test_the_compare_windows_loop_has_its_key(qtbot: QtBot, window: MainWindow) -> None:
    from tests.ui.test_compare_view import finished

    window.queue.model.reset([finished(1, "16x9.mp4"), finished(2, "9x16.mp4")])
    view = window.compare.compare(window.queue.model.generations())
    assert view is not None
    qtbot.waitExposed(view)
    qtbot.waitUntil(view.isActiveWindow)
    assert view.loop_button.isChecked()
    qtbot.keyClick(view, Qt.Key.Key_L)
    assert not view.loop_button.isChecked()
    view.close()


def test_ctrl_l_goes_back_to_the_prompt_from_the_list(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.queue.list_view.setFocus()
    qtbot.waitUntil(window.queue.list_view.hasFocus)
    qtbot.keyClick(window.queue.list_view, "l", Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.compose.prompt_edit.hasFocus)
    choose = window.findChild(QAction, "choose_image")
    assert choose is not None
    assert choose.shortcut() == QKeySequence("Ctrl+Shift+I")


def test_the_sequences_windows_keys_are_listed_before_it_ever_opened(
        qtbot: QtBot, window: MainWindow) -> None:
    """Help ▸ Keyboard Shortcuts listed F2, Ctrl+Up/Down and the Sequences window's Ctrl+Z
    only once that window had been opened (they were read from its live shortcuts only)."""
    from runway_desktop.ui.sequence_keys import SEQUENCES_AREA

    assert window.sequence_command.view is None  # never opened
    dialog = window.show_shortcuts()
    assert isinstance(dialog, ShortcutsDialog)
    listed = [(text, keys) for area, text, keys in dialog.listed() if area == SEQUENCES_AREA]
    dialog.close()
    assert listed == [("Move the selected shot down", "Ctrl+Down"),
                      ("Move the selected shot up", "Ctrl+Up"),
                      ("Rename the sequence", "F2"),
                      ("Undo deleting a sequence", "Ctrl+Z")]


def test_the_start_image_frame_keys_are_listed(qtbot: QtBot, window: MainWindow) -> None:
    """The frame over the start image pans and zooms by keys (the drop zone answers them in
    keyPressEvent, with no QShortcut), so Help ▸ Keyboard Shortcuts never listed them."""
    from runway_desktop.ui.frame_editing import FRAME_AREA

    dialog = window.show_shortcuts()
    assert isinstance(dialog, ShortcutsDialog)
    listed = {text: keys for area, text, keys in dialog.listed() if area == FRAME_AREA}
    dialog.close()
    assert listed["Move the frame over the picture"] == "Left, Right, Up, Down"
    assert listed["Zoom in on the picture"] == "+, ="
    assert listed["Zoom out"] == "-"
    assert listed["Recentre the frame (or double-click)"] == "0"


def test_the_list_stays_open_beside_the_window_and_opens_once(
        qtbot: QtBot, window: MainWindow) -> None:
    """A list to learn keys by trying them: it was window-modal (open()), so nothing in the
    window could be clicked or typed while it was shown; asked again, it comes forward."""
    from PySide6.QtWidgets import QApplication

    window.show()
    qtbot.waitExposed(window)
    action = window.findChild(QAction, "shortcuts_action")
    assert action is not None
    action.trigger()
    dialogs = [d for d in window.findChildren(ShortcutsDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialog = dialogs[0]
    assert not dialog.isModal()
    assert QApplication.activeModalWidget() is None  # the window still takes clicks and keys
    action.trigger()  # F1 again: the same list, brought forward
    assert [d for d in window.findChildren(ShortcutsDialog) if d.isVisible()] == [dialog]
    dialog.close()
    qtbot.waitUntil(lambda: not window.findChildren(ShortcutsDialog), timeout=5_000)
    action.trigger()  # and once closed, it opens again
    assert len([d for d in window.findChildren(ShortcutsDialog) if d.isVisible()]) == 1


# Keys a person might press on the start image, as they are (the frame's Shift+arrows are
# FRAME_KEYS'; Paste's Ctrl+V and Shift+Ins are pressed too).
_PLAIN_KEYS = [*(Qt.Key(k) for first, last in ((Qt.Key.Key_A, Qt.Key.Key_Z),
                                               (Qt.Key.Key_0, Qt.Key.Key_9),
                                               (Qt.Key.Key_F1, Qt.Key.Key_F12))
                 for k in range(first.value, last.value + 1)),
               Qt.Key.Key_Space, Qt.Key.Key_Return,
               Qt.Key.Key_Enter, Qt.Key.Key_Delete, Qt.Key.Key_Backspace, Qt.Key.Key_Escape,
               Qt.Key.Key_Insert, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_PageUp,
               Qt.Key.Key_PageDown, Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up,
               Qt.Key.Key_Down, Qt.Key.Key_Plus, Qt.Key.Key_Minus, Qt.Key.Key_Equal,
               Qt.Key.Key_Paste]


def test_every_key_the_start_image_answers_is_listed(
        qtbot: QtBot, window: MainWindow, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The start image answers keys in keyPressEvent, with no QAction or QShortcut the list
    could read: Ctrl+V (paste a picture), Del and Space were nowhere in Help ▸ Keyboard
    Shortcuts. Every key it answers, pressed on the real widget, must be in the list under
    'Start image' — a key added there later too."""
    from PySide6.QtCore import QEvent, QKeyCombination
    from PySide6.QtGui import QKeyEvent

    from runway_desktop.ui.frame_editing import FRAME_AREA
    from tests.helpers.images import make_png

    zone = window.compose.drop_zone
    zone.set_images([make_png(tmp_path, "start.png")])
    qtbot.waitUntil(lambda: bool(zone.images()), timeout=5_000)
    did: list[str] = []  # what they do is tested elsewhere: here only that they do something
    for name in ("paste", "browse", "clear"):
        monkeypatch.setattr(zone, name, lambda n=name: did.append(n))
    dialog = window.show_shortcuts()
    assert isinstance(dialog, ShortcutsDialog)
    listed = {key: text for area, text, keys in dialog.listed() if area == FRAME_AREA
              for key in keys.split(", ")}
    dialog.close()

    def answered(key: Qt.Key, modifiers: Qt.KeyboardModifier) -> bool:
        event = QKeyEvent(QEvent.Type.KeyPress, key, modifiers)
        zone.keyPressEvent(event)  # its own answer (sent, one it ignores goes to its parents)
        return event.isAccepted()

    presses = [(key, Qt.KeyboardModifier.NoModifier) for key in _PLAIN_KEYS]
    presses += [(Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier),  # Paste here
                (Qt.Key.Key_Insert, Qt.KeyboardModifier.ShiftModifier),
                (Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)]  # a key it leaves alone
    answering = {QKeySequence(QKeyCombination(modifiers, key)).toString(
                     QKeySequence.SequenceFormat.NativeText)
                 for key, modifiers in presses if answered(key, modifiers)}
    assert answering - listed.keys() == set()
    assert {"Ctrl+V", "Del", "Backspace", "Space", "Return"} <= answering  # it does answer
    assert listed["Ctrl+V"] == "Paste a copied picture (also while typing the prompt)"
    assert set(did) == {"paste", "browse", "clear"}
    # The one widget answering keys itself: another one's keys need listing (and pressing here).
    from PySide6.QtWidgets import QWidget

    answering_itself = {type(w).__name__ for w in window.findChildren(QWidget)
                        if any("keyPressEvent" in vars(c) for c in type(w).__mro__
                               if c.__module__.startswith("runway_desktop"))}
    assert answering_itself == {"DropZone"}


def test_every_key_the_search_fields_answer_is_listed(window: MainWindow) -> None:
    """The queue's and the gallery's search fields answer Down, Return and Esc in an event
    filter (no QShortcut the list could read): they were nowhere in the list. Every plain key
    their filter takes, with words typed or none, must be listed."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    from runway_desktop.ui.search_keys import SEARCH_AREA, SearchFieldKeys

    dialog = window.show_shortcuts()
    assert isinstance(dialog, ShortcutsDialog)
    listed = {key for area, _text, keys in dialog.listed() if area == SEARCH_AREA
              for key in keys.split(", ")}
    dialog.close()
    fields = [window.queue.search_edit, window.gallery.search_edit]
    taken: set[str] = set()
    for field in fields:
        [keys] = field.findChildren(SearchFieldKeys)
        for typed in ("kite", ""):
            for key in _PLAIN_KEYS:
                field.setText(typed)
                event = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)
                if keys.eventFilter(field, event):
                    taken.add(QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText))
    assert taken == {"Down", "Return", "Enter", "Esc"}
    assert taken <= listed
