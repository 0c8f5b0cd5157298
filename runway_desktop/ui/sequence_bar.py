"""The sequence view's top row: the sequence picker, Rename (F2: the name becomes editable in
place) and Delete (undoable from a notice, Ctrl+Z).

Deleting removes the plan only: its takes stay generations in the history and their videos on
disk, and the notice says exactly that. The engine refuses to delete a running sequence (a
removal must never stop paid work unseen); the status line then says where to stop it. Undo
puts the sequence back under its own id (`SequenceService.restore`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from runway_desktop.engine.sequence_records import KeptTakes, Sequence, SequenceRefused
from runway_desktop.ui.sequence_keys import RENAME, UNDO_DELETE
from runway_desktop.ui.undo_notice import UndoNotice

if TYPE_CHECKING:
    from runway_desktop.engine.sequence_store import RemovedSequence
    from runway_desktop.engine.sequences import SequenceService

# Focus that leaves the name field only for a moment (another window, a menu): still editing.
_STILL_EDITING = (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason)


class SequenceBar(QWidget):
    """`picker`: the view's sequence box; `current()`: the sequence shown; `say(text)`: the
    view's status line; `show_sequence(id)`: show one (after Undo). `notice` floats over
    `host` (the view)."""

    def __init__(self, picker: QComboBox, sequences: SequenceService,
                 current: Callable[[], Sequence | None], say: Callable[[str], None],
                 show_sequence: Callable[[int], None], host: QWidget) -> None:
        super().__init__(host)
        self.picker = picker
        self._sequences = sequences
        self._current = current
        self._say = say
        self._show_sequence = show_sequence
        self._removed: RemovedSequence | None = None  # what Undo brings back
        self.just_deleted: int | None = None  # deleted here (not by another process)

        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("sequence_name_edit")
        self.name_edit.setAccessibleName(self.tr("Name of the sequence"))
        self.name_edit.setToolTip(self.tr("Enter: keep the new name; Esc: leave it as it was"))
        self.name_edit.hide()
        self.name_edit.installEventFilter(self)
        self.name_edit.returnPressed.connect(self.finish_rename)
        self.rename_button = QPushButton(self.tr("Rena&me…"), self)
        self.rename_button.setObjectName("rename_sequence")
        self.rename_button.setToolTip(self.tr("Give the sequence a new name (F2)"))
        self.rename_button.clicked.connect(self.start_rename)
        self.delete_button = QPushButton(self.tr("&Delete Sequence"), self)
        self.delete_button.setObjectName("delete_sequence")
        self.delete_button.setToolTip(self.tr(
            "Delete this sequence (the plan). Its videos stay in your history and on disk; "
            "Undo brings it back"))
        self.delete_button.clicked.connect(self.delete)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(picker, 1)
        layout.addWidget(self.name_edit, 1)
        layout.addWidget(self.rename_button)
        layout.addWidget(self.delete_button)

        self.notice = UndoNotice(host)
        self.notice.setObjectName("sequence_undo_notice")
        self.notice.undo_requested.connect(self.undo)
        self.notice.expired.connect(self._forget_removed)
        # Keys of this window only (it is a window of its own, a child of the main window's):
        # the main window's Edit ▸ Undo keeps Ctrl+Z there. A text field's own Ctrl+Z comes
        # first.
        for key, slot in ((RENAME, self.start_rename), (UNDO_DELETE, self.notice.undo)):
            shortcut = QShortcut(QKeySequence(key.key), host)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setWhatsThis(self.tr(key.text))  # as Help ▸ Keyboard Shortcuts lists it
            shortcut.activated.connect(slot)

    # -- rename ---------------------------------------------------------------------------------

    def renaming(self) -> bool:
        return self.name_edit.isVisible()

    def start_rename(self) -> None:
        """The name becomes editable where the picker was, all of it selected."""
        sequence = self._current()
        if sequence is None or self.renaming():
            return
        self.name_edit.setText(sequence.name)
        self.picker.hide()
        self.name_edit.show()
        self.name_edit.selectAll()
        self.name_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def finish_rename(self) -> None:
        """Enter: keep the typed name. One that can't be a name (empty, too long) is refused
        in the status line and the field stays open, the typed text in it."""
        refused = self._rename()
        if refused:
            self._say(refused)

    def cancel_rename(self) -> None:
        if not self.renaming():
            return
        self.name_edit.hide()
        self.picker.show()

    def _rename(self) -> str | None:
        """Rename to the typed name and close the field; why not, when it can't (the field
        stays open then)."""
        sequence = self._current()
        if not self.renaming() or sequence is None or self.name_edit.text() == sequence.name:
            self.cancel_rename()
            return None
        try:
            renamed = self._sequences.rename(sequence.id, self.name_edit.text())
        except SequenceRefused as error:
            return error.message
        except KeyError:
            self.cancel_rename()
            return self.tr("That sequence is gone (deleted elsewhere); nothing was renamed.")
        except Exception as error:  # the journal can't be written: the name is as it was
            self.cancel_rename()
            return str(getattr(error, "message", "") or error)
        self.cancel_rename()
        self._say(self.tr("Renamed to “{0}”.").format(renamed.name))
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.name_edit:
            if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                    and event.key() == Qt.Key.Key_Escape):
                self.cancel_rename()
                self.picker.setFocus()
                return True
            if (event.type() == QEvent.Type.FocusOut and isinstance(event, QFocusEvent)
                    and self.renaming() and event.reason() not in _STILL_EDITING):
                # Clicked elsewhere in the view: the name typed is kept, as in a file manager;
                # one that can't be a name leaves the old one, saying so.
                sequence = self._current()
                refused = self._rename()
                if refused and sequence is not None:
                    self.cancel_rename()
                    self._say(self.tr("{0} The name stays “{1}”.").format(refused,
                                                                            sequence.name))
        return super().eventFilter(watched, event)

    # -- delete and undo ------------------------------------------------------------------------

    def delete(self) -> None:
        """Delete the shown sequence (the plan) at once, undoable from the notice; refused,
        in words, while it runs."""
        from runway_desktop.engine.sequence_records import SequenceRunning

        sequence = self._current()
        if sequence is None:
            return
        self.cancel_rename()
        index = self.picker.currentIndex()
        self.just_deleted = sequence.id
        try:
            removed = self._sequences.remove(sequence.id)
        except SequenceRunning:
            self._say(self._running_text(sequence))
            return
        except KeyError:
            self._say(self.tr("That sequence is gone already (deleted elsewhere)."))
            return
        except Exception as error:  # the journal can't be written: nothing was deleted
            self._say(str(getattr(error, "message", "") or error))
            return
        finally:
            self.just_deleted = None
        self._removed = removed
        if self.picker.count():  # the neighbour, not the last one
            self.picker.setCurrentIndex(min(index, self.picker.count() - 1))
        gone = removed.sequence  # as the journal had it, not as last shown
        shots = len(gone.shots)
        self.notice.show_undoable(self.tr("Deleted the sequence “{0}” ({1}). {2}").format(
            gone.name, self.tr("1 shot") if shots == 1 else self.tr("{0} shots").format(shots),
            self.kept_text(self._sequences.kept_takes(gone))))

    def undo(self) -> None:
        removed, self._removed = self._removed, None
        if removed is None:
            return
        try:
            restored = self._sequences.restore(removed)
        except Exception as error:  # the journal can't be written
            self._say(str(getattr(error, "message", "") or error))
            return
        self._show_sequence(restored.id)
        self.notice.show_info(self.tr("Restored the sequence “{0}”.").format(restored.name))

    def _forget_removed(self) -> None:
        self._removed = None

    def undoable_images(self) -> list[str]:
        """The start images of the deleted sequence Undo can still bring back (kept till then:
        ui/pasted_sweeper.py)."""
        removed = self._removed
        shots = removed.sequence.shots if removed is not None else ()
        return [shot.changes.image_path for shot in shots if shot.changes.image_path]

    def kept_text(self, kept: KeptTakes) -> str:
        """"Its 5 videos stay in your history and on disk." (or what is true instead)."""
        if not kept.takes:
            return self.tr("No video was made for it.")
        if kept.videos == kept.takes:
            return (self.tr("Its video stays in your history and on disk.") if kept.takes == 1
                    else self.tr("Its {0} videos stay in your history and on disk.").format(
                        kept.takes))
        parts = [self.tr("{0} on disk").format(kept.videos)] if kept.videos else []
        if kept.making:
            parts.append(self.tr("{0} still being made").format(kept.making))
        more = f" ({', '.join(parts)})" if parts else ""
        return (self.tr("Its take stays in your history{0}.") if kept.takes == 1
                else self.tr("Its {1} takes stay in your history{0}.")).format(more, kept.takes)

    def _running_text(self, sequence: Sequence) -> str:
        if self._sequences.is_running_here(sequence.id):
            return self.tr("“{0}” is running: its shots are being made (and paid for). Press "
                           "Stop first, then delete it.").format(sequence.name)
        return self.tr("“{0}” is being run by another Runway Desktop process (a `sequence "
                       "run` in a terminal): stop it there first (Ctrl+C), then delete it."
                       ).format(sequence.name)
