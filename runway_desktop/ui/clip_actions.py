"""What a person does with one clip beyond playing it: "Export Clip…" (ui/export_dialog.py),
"Extend…" (ui/extend_mode.py) and "New Sequence from Clip" (ui/sequence_command.py).

Each is in the queue's context menu (and so the gallery's, which is the queue's: Extend is one
of the queue's own actions); Export and Extend also on a key in both lists and as a button by
the preview (acting on the clip the preview shows). Whether it applies
is the lifecycle table's answer for that generation (`allows`), like every other row action.
The dialogs (and QtMultimedia, Pillow under them) load when first opened, not at start.

An Export dialog closes when its clip leaves the history (removed, or another history shown)
while it isn't writing: it stayed, offering to export a clip that was gone, and said only
"doesn't exist any more" when asked. One writing goes on, and says how it ended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QListView, QMenu, QToolButton, QWidget

from runway_desktop.engine.lifecycle_table import Command, allows
from runway_desktop.engine.records import Generation
from runway_desktop.ui.preview import PreviewPlayer

if TYPE_CHECKING:  # loaded with the dialog: QtMultimedia and Pillow wait until an export opens
    from runway_desktop.ui.export_dialog import ExportDialog
    from runway_desktop.ui.queue_model import QueueModel


@dataclass(frozen=True)
class ClipAction:
    name: str
    text: str
    key: str
    tip: str
    command: Command  # what the lifecycle table must allow


class ClipActions(QObject):
    """Export and Extend for the window. `lists`: each list view with how to read its current
    item; `selection_signals`: the signals that say which generation the preview now shows."""

    extend_requested = Signal(object)  # Generation
    sequence_requested = Signal(object)  # Generation: a new sequence starting with it

    def __init__(self, window: QWidget, queue: QObject, preview: PreviewPlayer,
                 lists: Sequence[tuple[QListView, Callable[[], Generation | None]]]) -> None:
        super().__init__(window)
        self._window = window
        self._preview = preview
        self.shown: Generation | None = None
        self.last_export: ExportDialog | None = None
        self._exports: dict[str, ExportDialog] = {}  # the open dialog of each clip
        self.specs = (
            ClipAction("extend", self.tr("Extend…"), "",
                       self.tr("A next shot from this clip's last frame (X)"), Command.EXTEND),
            ClipAction("export_clip", self.tr("Export Clip…"), "Ctrl+Shift+S",
                       self.tr("GIF, WebP, WebM or a still frame (Ctrl+Shift+S)"), Command.OPEN),
            ClipAction("new_sequence", self.tr("New Sequence from Clip"), "",
                       self.tr("A sequence whose first shot is this clip"), Command.EXTEND),
        )
        self._run: dict[str, Callable[[Generation], object]] = {
            "extend": self.extend_requested.emit, "export_clip": self.open_export,
            "new_sequence": self.sequence_requested.emit}
        on_preview = ("extend", "export_clip")  # the buttons by the preview
        # Extend's menu entry and X key are the queue's own (queue_view.ACTIONS); here only
        # its button by the preview.
        self._in_menu = ("export_clip", "new_sequence")
        extensions = getattr(queue, "menu_extensions", None)
        if extensions is not None:
            extensions.append(self._extend_menu)
        self._model: QueueModel | None = getattr(queue, "model", None)
        if self._model is not None:
            self._model.rowsAboutToBeRemoved.connect(self._on_rows_leaving)
            self._model.modelReset.connect(self._on_reset)
        self.shortcut_actions: list[QAction] = []
        for view, current in lists:
            for spec in self.specs:
                if not spec.key:
                    continue
                action = QAction(spec.text, view)
                action.setObjectName(spec.name)
                action.setShortcut(QKeySequence(spec.key))
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                action.triggered.connect(lambda _=False, s=spec, c=current: self._act(s, c()))
                view.addAction(action)
                self.shortcut_actions.append(action)
        self.buttons: dict[str, QToolButton] = {}
        for spec in self.specs:
            if spec.name not in on_preview:
                continue
            button = QToolButton(preview)
            button.setObjectName(f"{spec.name}_button")
            button.setText(spec.text)
            button.setToolTip(spec.tip)
            button.setAccessibleName(spec.text.rstrip("…"))
            button.clicked.connect(lambda _=False, s=spec: self._act(s, self.shown))
            preview.add_control(button)
            self.buttons[spec.name] = button
        self.show_generation(None)

    def show_generation(self, generation: Generation | None) -> None:
        """The preview now shows `generation` (its buttons act on it)."""
        self.shown = generation
        # A finished clip whose video was moved or deleted on disk: the buttons say why they
        # are off and what to do (their own words told nothing then).
        gone = generation is not None and allows(generation, Command.REDOWNLOAD)
        for spec in self.specs:
            if spec.name in self.buttons:
                button = self.buttons[spec.name]
                button.setEnabled(generation is not None and allows(generation, spec.command))
                button.setToolTip(self.tr("Its video isn't on disk any more (moved or "
                                          "deleted?): right-click it in the history, Download "
                                          "Again, then {0}").format(spec.text.rstrip("…"))
                                  if gone else spec.tip)

    def open_export(self, generation: Generation) -> ExportDialog | None:
        if not generation.video_path or not allows(generation, Command.OPEN):
            return None
        from runway_desktop.ui.export_dialog import ExportDialog

        video = generation.video_path
        if (open_one := self._exports.get(video)) is not None and open_one.isVisible():
            open_one.raise_()  # pressed again: the clip's dialog, not a second one
            open_one.activateWindow()
            self.last_export = open_one
            return open_one

        def position() -> int | None:
            shows_it = self._preview.video_path() == video
            return self._preview.position_ms() if shows_it else None

        # Named as the person knows it: the grid and the list show prompts, not numbers.
        name = f"#{generation.id} {_short(generation.settings.prompt)}".rstrip()
        dialog = ExportDialog(Path(video), name=name, position_ms=position,
                              duration_ms=None, parent=self._window)
        dialog.setWindowFlag(Qt.WindowType.Window)
        dialog.destroyed.connect(lambda _o=None: self._forget(dialog, video))
        dialog.show()
        dialog.raise_()
        self.last_export = dialog
        self._exports[video] = dialog
        return dialog

    def exports_running(self) -> list[Path]:
        """The files the open Export dialogs are writing now (what quitting would stop)."""
        return [path for dialog in self._exports.values()
                if shiboken6.isValid(dialog) and (path := dialog.writing()) is not None]

    def stop_exports(self) -> None:
        """The window quits: the Export dialogs close, their exports stop (the engine removes
        a partial file)."""
        for dialog in list(self._exports.values()):
            if shiboken6.isValid(dialog):
                dialog.close()

    def _close_idle_exports(self, gone: Callable[[str], bool]) -> None:
        for video, dialog in list(self._exports.items()):
            if gone(video) and shiboken6.isValid(dialog) and not dialog.busy():
                dialog.close()

    def _on_rows_leaving(self, _parent: QModelIndex, first: int, last: int) -> None:
        model = self._model
        assert model is not None
        videos = {model.generation_at(row).video_path for row in range(first, last + 1)}
        self._close_idle_exports(videos.__contains__)

    def _on_reset(self) -> None:
        model = self._model
        assert model is not None
        videos = {g.video_path for g in model.generations()}
        self._close_idle_exports(lambda video: video not in videos)

    def _forget(self, dialog: ExportDialog, video: str) -> None:
        if self.last_export is dialog:
            self.last_export = None
        if self._exports.get(video) is dialog:
            del self._exports[video]

    def _act(self, spec: ClipAction, generation: Generation | None) -> None:
        if generation is not None and allows(generation, spec.command):
            self._run[spec.name](generation)

    def _extend_menu(self, menu: QMenu, primary: Generation,
                     _targets: list[Generation]) -> None:
        menu.addSeparator()
        for spec in self.specs:
            if spec.name not in self._in_menu:
                continue
            action = menu.addAction(spec.text)
            action.setObjectName(spec.name)
            action.setEnabled(allows(primary, spec.command))
            if spec.key:
                action.setShortcut(QKeySequence(spec.key))
                action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
                action.setShortcutVisibleInContextMenu(True)
            action.triggered.connect(lambda _=False, s=spec, g=primary: self._act(s, g))


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
