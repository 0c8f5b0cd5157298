"""Export one clip: an animation (GIF, animated WebP, WebM where the engine offers it) at a
size preset and an in/out range, or the preview's current frame as a PNG.

A small non-modal window: the main window's preview stays usable to find the in and out points
("Set from preview" reads its position). The work runs on the app's loop (engine/video/exports
decodes through QtMultimedia and encodes in a worker thread), shows its progress, can be
cancelled (nothing is left behind: the engine writes beside the file and renames it when whole),
says in words what went wrong, and offers "Reveal" when the file is there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.engine.video import exports
from runway_desktop.engine.video.exports import SIZE_PRESETS, ExportError, SizePreset, Trim
from runway_desktop.ui.folder_checks import can_write_in, lacks_room

log = logging.getLogger(__name__)

Progress = Callable[[float], None]
# (video, file, size, range, the clip's length when known, progress) → the file
Runner = Callable[[Path, Path, SizePreset, Trim, int | None, Progress],
                  Coroutine[Any, Any, Path]]


@dataclass(frozen=True)
class ClipFormat:
    key: str
    label: str
    suffix: str
    run: Runner


def _animation(fmt: exports.AnimationFormat) -> Runner:
    async def run(video: Path, dest: Path, preset: SizePreset, trim: Trim,
                  duration_ms: int | None, progress: Progress) -> Path:
        return await exports.export_animation(video, dest, preset=preset, fmt=fmt, trim=trim,
                                              duration_ms=duration_ms, progress=progress)
    return run


def clip_formats() -> list[ClipFormat]:
    """What the engine can write: GIF and animated WebP, and every further animation format
    it names (e.g. WebM) with the file suffix of its value."""
    labels = {"gif": "GIF", "webp": "Animated WebP", "webm": "WebM video"}
    return [ClipFormat(fmt.value, labels.get(fmt.value, fmt.value.upper()), "." + fmt.value,
                       _animation(fmt)) for fmt in exports.AnimationFormat]



def _size_of(video: Path) -> int:
    try:
        return video.stat().st_size
    except OSError:
        return 0


def free_path(path: Path) -> Path:
    """`path`, or `name-2.ext`, `name-3.ext` … : the first that doesn't exist yet."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


class ExportDialog(QDialog):
    """Export `video`. `position_ms()` is the preview's position in this clip (None when the
    preview shows something else)."""

    exported = Signal(str)  # a file was written (its path)

    def __init__(self, video: Path, *, name: str, position_ms: Callable[[], int | None],
                 duration_ms: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("export_dialog")
        self.setWindowTitle(self.tr("Export “{0}”").format(name))
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.video = Path(video)
        self._position_ms = position_ms
        self._task: asyncio.Task[Path] | None = None
        self._dest: Path | None = None  # the file the running export writes
        self._closed = False  # Qt has deleted the widgets: late outcomes are dropped
        self._duration_ms: int | None = None  # the clip's length, once read
        # Work under way stops when the dialog goes, closed or deleted with the window (the
        # engine removes a partial file).
        self._work: set[asyncio.Task[Any]] = set()
        work = self._work
        self.destroyed.connect(lambda _o=None: [t.cancel() for t in list(work)])
        self.last_written: Path | None = None
        self.formats = clip_formats()

        self.format_box = QComboBox(self)
        self.format_box.setAccessibleName(self.tr("Format"))
        for fmt in self.formats:
            self.format_box.addItem(self.tr(fmt.label), fmt.key)
        self.size_box = QComboBox(self)
        self.size_box.setAccessibleName(self.tr("Size"))
        for key, preset in SIZE_PRESETS.items():
            self.size_box.addItem(self.tr("{0} — {1} px wide, {2} frames a second").format(
                key.capitalize(), preset.width, preset.fps), key)
        self.size_box.setCurrentIndex(self.size_box.findData("medium"))
        self.in_spin, in_button = self._point(self.tr("In point"), self.tr("Set in"))
        self.out_spin, out_button = self._point(self.tr("Out point"), self.tr("Set out"))
        in_button.clicked.connect(lambda: self._set_from_preview(self.in_spin))
        out_button.clicked.connect(lambda: self._set_from_preview(self.out_spin))
        self.in_button, self.out_button = in_button, out_button
        self.path_edit = QLineEdit(self)
        self.path_edit.setAccessibleName(self.tr("Save as"))
        browse = QPushButton(self.tr("Browse…"), self)
        browse.clicked.connect(self._browse)
        self.browse_button = browse

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setAccessibleName(self.tr("Export progress"))
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleDescription(self.tr("Export status"))  # read: its words
        self.export_button = QPushButton(self.tr("&Export"), self)
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.still_button = QPushButton(self.tr("Save Fra&me as PNG"), self)
        self.still_button.setToolTip(self.tr("The frame the preview shows now, full size"))
        self.still_button.clicked.connect(self.save_still)
        self.reveal_button = QPushButton(self.tr("&Reveal"), self)
        self.reveal_button.setToolTip(self.tr("Show the exported file in its folder"))
        self.reveal_button.clicked.connect(self._reveal)
        self.reveal_button.setEnabled(False)
        self.cancel_button = QPushButton(self.tr("Close"), self)
        self.cancel_button.clicked.connect(self._cancel_or_close)

        form = QFormLayout()
        form.addRow(self.tr("&Format"), self.format_box)
        form.addRow(self.tr("&Size"), self.size_box)
        form.addRow(self.tr("&In"), self._row(self.in_spin, in_button))
        form.addRow(self.tr("&Out"), self._row(self.out_spin, out_button))
        form.addRow(self.tr("Save &as"), self._row(self.path_edit, browse))
        buttons = QHBoxLayout()
        buttons.addWidget(self.still_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reveal_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        self.format_box.currentIndexChanged.connect(self._on_format_changed)
        self.path_edit.setText(str(free_path(self.video.with_suffix(self.format().suffix))))
        self.out_spin.setValue(self.out_spin.maximum())  # the end, until the length is known
        self.set_duration(duration_ms)
        if duration_ms is None:
            self._spawn(self._read_duration())

    # -- public API -----------------------------------------------------------------------------

    def format(self) -> ClipFormat:
        return self.formats[max(0, self.format_box.currentIndex())]

    def select_format(self, key: str) -> None:
        self.format_box.setCurrentIndex(self.format_box.findData(key))

    def set_duration(self, duration_ms: int | None) -> None:
        """The clip's length: the out point's limit (and its value while it was at the end)."""
        if not duration_ms:
            return
        self._duration_ms = duration_ms
        at_end = self.out_spin.value() >= self.out_spin.maximum()
        seconds = duration_ms / 1000
        for spin in (self.in_spin, self.out_spin):
            spin.setMaximum(seconds)
        if at_end or not self.out_spin.value():
            self.out_spin.setValue(seconds)

    def trim(self) -> Trim:
        start = round(self.in_spin.value() * 1000)
        end = round(self.out_spin.value() * 1000)
        return Trim(start, None if self.out_spin.value() >= self.out_spin.maximum() else end)

    def busy(self) -> bool:
        # Until `_finished` has shown the outcome (a task is done a loop turn before it runs).
        return self._task is not None

    def writing(self) -> Path | None:
        """The file an export under way is writing (None when none runs)."""
        return self._dest if self.busy() else None

    def start_export(self) -> None:
        """Export with the chosen format, size and range into the chosen file."""
        if self.busy():
            return
        dest = Path(self.path_edit.text().strip()).expanduser()
        if not self.path_edit.text().strip():
            self._say(self.tr("Choose where to save the export first."))
            return
        if dest.resolve() == self.video.resolve():
            self._say(self.tr("That is the clip itself. Choose another file name."))
            return
        fmt = self.format()
        if not dest.suffix:  # a name typed without one: the format's
            dest = dest.with_name(dest.name + fmt.suffix)
            self.path_edit.setText(str(dest))
        if dest.suffix.lower() != fmt.suffix:
            # Else a GIF could go, after "Replace", under a video's name (another clip's).
            self._say(self.tr("“{0}” doesn't end in {1}: {2} is saved as {1}. Change the "
                              "name (or the format).").format(dest.name, fmt.suffix,
                                                              self.tr(fmt.label)))
            return
        preset = SIZE_PRESETS[str(self.size_box.currentData())]
        trim = self.trim()
        length = self._duration_ms

        def run() -> None:
            self._run(fmt.run(self.video, dest, preset, trim, length, self._on_progress), dest)

        if dest.exists():
            self._ask_overwrite(dest, run)
            return
        run()

    def save_still(self) -> None:
        """The preview's current frame as a PNG beside the export's file."""
        if self.busy():
            return
        position = self._position_ms()
        if position is None:
            self._say(self.tr("Show this clip in the preview and move it to the frame you want."))
            return
        folder = Path(self.path_edit.text().strip() or self.video).expanduser().parent
        dest = free_path(folder / f"{self.video.stem}-{position}ms.png")
        self._run(exports.export_still(self.video, dest, position), dest)

    # -- running --------------------------------------------------------------------------------

    def _run(self, work: Coroutine[Any, Any, Path], dest: Path) -> None:
        self._set_running(True)
        self.progress.setValue(0)
        self._say(self.tr("Exporting “{0}”…").format(dest.name))
        self._dest = dest
        self._task = self._spawn(work)
        self._task.add_done_callback(lambda task: self._finished(task, dest))

    def _finished(self, task: asyncio.Task[Path], dest: Path) -> None:
        self._task = None
        if self._closed or not shiboken6.isValid(self):  # closed, or gone with the window
            if not task.cancelled() and task.exception() is None:
                log.info("Exported %s after its dialog closed", dest)
            return
        self._set_running(False)
        if task.cancelled():
            self.progress.setValue(0)
            self._say(self.tr("Cancelled. Nothing was written."))
            return
        error = task.exception()
        if isinstance(error, ExportError):
            self.progress.setValue(0)
            text = error.message
            if not self.video.is_file():  # moved or deleted since: what to do
                text += " " + self.tr("Right-click the clip in the history: Download Again "
                                      "fetches it, then export it.")
            elif not can_write_in(dest.parent):  # what to do, not only what happened
                text += " " + self.tr("Choose another folder with Browse… (or type another "
                                      "path under Save as).")
            elif lacks_room(dest.parent, _size_of(self.video)):  # about what an export takes
                text += " " + self.tr("Free some space in {0}, or choose another folder with "
                                      "Browse….").format(dest.parent)
            self._say(text)
            return
        if error is not None:
            log.error("An export failed", exc_info=error)
            self.progress.setValue(0)
            self._say(self.tr("The export failed unexpectedly; nothing was written. "
                              "The log has the details."))
            return
        self.progress.setValue(100)
        self.last_written = dest
        self.reveal_button.setEnabled(True)
        if self.export_button.hasFocus():  # done: Return shows it in its folder
            self.reveal_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self._say(self.tr("Saved “{0}” in {1}.").format(dest.name, dest.parent))
        self.exported.emit(str(dest))

    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))

    def _set_running(self, running: bool) -> None:
        """While an export runs its settings can't change (the range buttons too: the dialog
        showed a range that wasn't being exported). The keys go to Cancel meanwhile, then to
        Reveal (or Export again): left to Qt, the focus fell from the disabled widget to
        "Set in", and the next Return moved the in point."""
        focus = QApplication.focusWidget()
        had_focus = focus is not None and self.isAncestorOf(focus)
        if running and had_focus:
            self.cancel_button.setFocus(Qt.FocusReason.OtherFocusReason)
        for widget in (self.export_button, self.still_button, self.format_box, self.size_box,
                       self.in_spin, self.out_spin, self.path_edit, self.in_button,
                       self.out_button, self.browse_button):
            widget.setEnabled(not running)
        self.cancel_button.setText(self.tr("Cancel") if running else self.tr("Close"))
        if not running and had_focus:
            self.export_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _cancel_or_close(self) -> None:
        if self.busy():
            assert self._task is not None
            self._task.cancel()
        else:
            self.close()

    def reject(self) -> None:
        """Esc: while an export runs it stops that export, as Cancel does, and the dialog stays
        to say so (Esc closed it, the export and its settings gone without a word); else it
        closes the dialog."""
        if self.busy():
            self._cancel_or_close()
            return
        super().reject()

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)
        return task

    async def _read_duration(self) -> None:
        from runway_desktop.engine.video.frames import FrameError, duration_ms

        try:
            duration = await duration_ms(self.video)
        except FrameError as error:
            if not self._closed and shiboken6.isValid(self):
                self._say(error.message)
            return
        if not self._closed and shiboken6.isValid(self):
            self.set_duration(duration)

    # -- helpers --------------------------------------------------------------------------------

    def _point(self, name: str, button_text: str) -> tuple[QDoubleSpinBox, QPushButton]:
        spin = QDoubleSpinBox(self)
        spin.setAccessibleName(name)
        spin.setDecimals(2)
        spin.setSingleStep(0.1)
        spin.setSuffix(self.tr(" s"))
        spin.setRange(0.0, 3600.0)
        button = QPushButton(button_text, self)
        button.setToolTip(self.tr("Take the preview's position"))
        return spin, button

    def _row(self, *widgets: QWidget) -> QWidget:
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            layout.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
        return row

    def _set_from_preview(self, spin: QDoubleSpinBox) -> None:
        position = self._position_ms()
        if position is None:
            self._say(self.tr("Show this clip in the preview to pick a point from it."))
            return
        spin.setValue(position / 1000)

    def _on_format_changed(self, _index: int) -> None:
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix(self.format().suffix)))

    def _browse(self) -> None:
        fmt = self.format()
        dialog = QFileDialog(self, self.tr("Save the export as"), self.path_edit.text())
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(fmt.suffix.lstrip("."))
        dialog.setNameFilter(f"{self.tr(fmt.label)} (*{fmt.suffix})")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.path_edit.setText)
        dialog.open()

    def _ask_overwrite(self, dest: Path, then: Callable[[], None]) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Replace “{0}”?").format(dest.name),
                          self.tr("“{0}” already exists in {1}.").format(dest.name, dest.parent),
                          parent=self)
        box.setObjectName("replace_box")
        box.setInformativeText(self.tr("Replacing it overwrites its contents."))
        keep = box.addButton(QMessageBox.StandardButton.Cancel)
        replace = box.addButton(self.tr("Replace"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished(_result: int) -> None:
            if box.clickedButton() is replace:
                then()

        box.finished.connect(finished)
        box.open()

    def _reveal(self) -> None:
        from runway_desktop.ui import links

        if self.last_written is not None:
            links.open_path_or_offer_copy(str(self.last_written.parent), self,
                                          what=self.tr("the folder"))

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()  # the engine removes its partial file
        super().closeEvent(event)
