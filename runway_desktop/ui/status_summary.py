"""The status bar worth reading: the queue's counts, where videos go, demo or live.

The window keeps its account label (team and balance) and its mode label; this adds the queue's
counts (running, waiting, done) as they change and the output folder (a link that opens it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from runway_desktop.engine.records import Stage
from runway_desktop.ui.queue_model import QueueModel


def queue_counts_text(running: int, pending: int, done: int, tr: QObject) -> str:
    """"2 running · 1 waiting · 14 done"; "Nothing running · 14 done"."""
    parts = []
    if running:
        parts.append(tr.tr("{0} running").format(running))
    if pending:
        parts.append(tr.tr("{0} waiting").format(pending))
    if not parts:
        parts.append(tr.tr("Nothing running"))
    parts.append(tr.tr("{0} done").format(done))
    return " · ".join(parts)


class StatusSummary(QObject):
    """Labels in the window's status bar, kept in step with the queue model."""

    open_folder_requested = Signal()

    def __init__(self, bar: QStatusBar, model: QueueModel, parent: QWidget) -> None:
        super().__init__(parent)
        self._model = model
        self.queue_label = QLabel(parent)
        self.queue_label.setObjectName("status_queue")
        # A label's purpose goes in its description: an accessible name would be read in
        # place of its words.
        self.queue_label.setAccessibleDescription(self.tr("Queue"))
        self.folder_label = QLabel(parent)
        self.folder_label.setObjectName("status_folder")
        self.folder_label.setAccessibleDescription(self.tr("Output folder"))
        self.folder_label.setTextFormat(Qt.TextFormat.RichText)
        self.folder_label.linkActivated.connect(lambda _link: self.open_folder_requested.emit())
        self.folder_label.hide()
        bar.addWidget(self.queue_label)
        bar.addWidget(self.folder_label, 1)
        model.summary_changed.connect(self.refresh)
        model.modelReset.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        running, pending, _progress = self._model.totals()
        self.queue_label.setText(
            queue_counts_text(running, pending, self._model.count(Stage.DONE), self))

    def set_folder(self, folder: Path) -> None:
        """Show where new videos are saved; the name is a link that opens the folder."""
        from html import escape

        shown = folder.name or str(folder)
        self.folder_label.setText(self.tr("Saving to {0}").format(
            f'<a href="open-folder">{escape(shown)}</a>'))
        self.folder_label.setToolTip(
            self.tr("New videos are saved in {0}. Click to open it (Ctrl+Shift+O).")
            .format(folder))
        self.folder_label.show()
