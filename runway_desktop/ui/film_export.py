""""Export Film…": a sequence's chosen takes joined into one MP4, from the sequence view.

The person picks the file (a non-blocking save dialog) and whether shots cross-fade; the join
runs on the app's loop (engine/video/film.py: remuxed in a worker thread where the clips allow
it, re-encoded otherwise), shows its progress, can be cancelled (nothing is left under the final
name), says what went wrong in words, and offers "Reveal" when the film is there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)


class FilmExportBar(QWidget):
    """`clips()` gives the chosen takes' videos in order (empty: nothing to export yet, with
    the reason from `why_not()`); `suggested()` the file name to offer."""

    exported = Signal(str)  # the film's path

    def __init__(self, clips: Callable[[], list[Path]], why_not: Callable[[], str],
                 suggested: Callable[[], Path], parent: QWidget | None = None, *,
                 sidecar: Callable[[], bool] = lambda: True) -> None:
        """`sidecar()`: the `settings_sidecar` setting (the film's `<name>.json`)."""
        super().__init__(parent)
        self._sidecar = sidecar
        self._clips = clips
        self._why_not = why_not
        self._suggested = suggested
        self._task: asyncio.Task[object] | None = None
        self._dest: Path | None = None  # the film the running export writes
        self._size = 0  # about what the running export writes: its clips' bytes
        self.last_written: Path | None = None
        self._closed = False
        self.crossfade_box = QCheckBox(self.tr("Cross-fade between shots"), self)
        self.crossfade_box.setToolTip(self.tr(
            "Half a second of each shot fades into the next (the film is re-encoded)"))
        self.export_button = QPushButton(self.tr("Export &Film…"), self)
        self.export_button.setToolTip(self.tr("Join the chosen takes into one MP4"))
        self.export_button.clicked.connect(self.choose_file)
        self.cancel_button = QPushButton(self.tr("Cancel Export"), self)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.reveal_button = QPushButton(self.tr("Reveal Film"), self)
        self.reveal_button.clicked.connect(self._reveal)
        self.reveal_button.hide()
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setAccessibleName(self.tr("Film export progress"))
        self.progress.hide()
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleDescription(self.tr("Film export status"))  # read: its words
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.crossfade_box)
        row.addStretch(1)
        row.addWidget(self.reveal_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    def busy(self) -> bool:
        # Until `_finished` has shown the outcome: a task is done a loop turn before its
        # done-callback runs, and the status still said "Joining…" then.
        return self._task is not None

    def writing(self) -> Path | None:
        """The film an export under way is writing (None when none runs)."""
        return self._dest if self.busy() else None

    def refresh(self) -> None:
        """Export is possible once every shot has a finished chosen take."""
        reason = self._why_not()
        self.export_button.setEnabled(not reason and not self.busy())
        self.export_button.setToolTip(reason or self.tr("Join the chosen takes into one MP4"))

    def choose_file(self) -> None:
        if self.busy() or self._why_not():
            return
        dialog = QFileDialog(self, self.tr("Export the film as"), str(self._suggested()))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("mp4")
        dialog.setNameFilter(self.tr("MP4 video (*.mp4)"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.export_to(Path(path)))
        dialog.open()  # never exec(): the loop keeps running

    def export_to(self, dest: Path) -> None:
        """Join the chosen takes into `dest` (replaced only once the film is whole)."""
        if self.busy():
            return
        clips = self._clips()
        if not clips:
            self.status.setText(self._why_not())
            return
        for number, clip in enumerate(clips, 1):
            if _same_file(clip, dest):  # the save dialog only asked "Replace?"
                self.status.setText(self.tr(
                    "“{0}” is the video of shot {1}: the film would take its place. Choose "
                    "another name.").format(dest.name, number))
                return
        from runway_desktop.engine.video.film import CROSSFADE_MS, join_film

        crossfade = CROSSFADE_MS if self.crossfade_box.isChecked() else 0
        self.last_written = None
        self.reveal_button.hide()
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.status.setText(self.tr("Joining {0} shots into “{1}”…").format(len(clips),
                                                                          dest.name))
        task = asyncio.ensure_future(join_film(clips, dest, crossfade_ms=crossfade,
                                               progress=self._on_progress,
                                               sidecar=self._sidecar()))
        self._task, self._dest, self._size = task, dest, _bytes_in(clips)
        task.add_done_callback(lambda t: self._finished(t, dest))
        self.refresh()

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def shutdown(self) -> None:
        """The view closes: a join under way stops (its partial file is removed)."""
        self._closed = True
        self.cancel()

    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))

    def _finished(self, task: asyncio.Task[object], dest: Path) -> None:
        from runway_desktop.engine.video.mp4_join import JoinError

        self._task = None
        if self._closed or not shiboken6.isValid(self):  # the view is gone
            return
        self.cancel_button.hide()
        self.refresh()
        if task.cancelled():
            self.progress.hide()
            self.status.setText(self.tr("Export cancelled. Nothing was written."))
            return
        error = task.exception()
        if error is not None:
            self.progress.hide()
            if isinstance(error, JoinError):
                from runway_desktop.ui.folder_checks import can_write_in, lacks_room

                text = error.message
                if not can_write_in(dest.parent):  # what to do, not only what happened
                    text += " " + self.tr("Export the film again into another folder.")
                elif lacks_room(dest.parent, self._size):  # the film (removed) didn't fit
                    text += " " + self.tr("Free some space in {0}, or export the film into "
                                          "another folder.").format(dest.parent)
                self.status.setText(text)
            else:
                log.error("A film export failed", exc_info=error)
                self.status.setText(self.tr("The export failed unexpectedly; nothing was "
                                            "written. The log has the details."))
            return
        self.progress.setValue(100)
        self.last_written = dest
        self.reveal_button.show()
        self.status.setText(self.tr("Saved the film “{0}” in {1}.").format(dest.name,
                                                                         dest.parent))
        self.exported.emit(str(dest))

    def _reveal(self) -> None:
        from runway_desktop.ui import links

        if self.last_written is not None:
            links.open_path_or_offer_copy(str(self.last_written.parent), self,
                                          what=self.tr("the folder"))


def _bytes_in(clips: list[Path]) -> int:
    try:
        return sum(clip.stat().st_size for clip in clips)
    except OSError:  # a clip gone meanwhile: the join says so
        return 0


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False
