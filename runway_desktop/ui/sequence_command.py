"""Sequences in the window: View ▸ Sequences (Ctrl+3) opens the sequence view
(ui/sequence_view.py, loaded on first use), and "New Sequence from Clip" on a finished clip
starts one with that clip as its first shot.

The controller hands over the engine's `SequenceService` with each engine (`attach`) and takes
it back when the engine stops (`detach`): sequences journaled as running carry on when the
window starts (`resume`), exactly where they were.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from runway_desktop.engine.records import Generation

if TYPE_CHECKING:
    from runway_desktop.engine.sequences import SequenceService
    from runway_desktop.engine.settings_changes import SettingsChanges
    from runway_desktop.ui.compose_panel import ComposePanel
    from runway_desktop.ui.sequence_view import FolderProblem, SequenceView

log = logging.getLogger(__name__)


class SequenceCommand(QObject):
    """`first_shot()` gives the settings a new sequence's first shot is made with (the compose
    panel's choices and start image); `say(text)` shows a refusal (the window's banner);
    `play_requested(generation id)`: the person wants to watch a shot in the main preview."""

    play_requested = Signal(int)

    def __init__(self, window: QWidget, first_shot: Callable[[], SettingsChanges],
                 say: Callable[[str], None]) -> None:
        super().__init__(window)
        self._window = window
        self._first_shot = first_shot
        self._say = say
        self.sequences: SequenceService | None = None
        self.view: SequenceView | None = None
        # Why a run saving into a folder (None: the output folder) can't be sent: the window's.
        self.folder_problem: FolderProblem | None = None
        self._resuming: asyncio.Task[object] | None = None
        # The view open when the engine was replaced (Settings): reopened on the new one, on
        # the same sequence; True when a film export was stopped by it.
        self._reopen: tuple[int | None, bool] | None = None
        self.action = QAction(self.tr("&Sequences"), window)
        self.action.setObjectName("show_sequences")
        self.action.setShortcut(QKeySequence("Ctrl+3"))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setToolTip(self.tr("Shots that extend each other, run and joined into a "
                                       "film"))
        self.action.setEnabled(False)
        self.action.triggered.connect(lambda _=False: self.open_view())
        window.addAction(self.action)

    def add_to_menu(self, menu: QMenu) -> None:
        menu.addSeparator()
        menu.addAction(self.action)

    # -- the engine's service -------------------------------------------------------------------

    def attach(self, sequences: SequenceService) -> None:
        self.sequences = sequences
        self.action.setEnabled(True)
        reopen, self._reopen = self._reopen, None
        if reopen is not None:  # the view the new engine replaced the old one under
            sequence_id, stopped_film = reopen
            view = self.open_view(sequence_id)
            if view is not None and stopped_film:
                view.status.setText(self.tr(
                    "The settings changed while the film was exported: that export stopped "
                    "and left nothing behind. Export the film again."))

    def resume(self) -> None:
        """Carry on the sequences journaled as running (after a crash, a quit mid-run)."""
        if self.sequences is not None:
            self._resuming = asyncio.ensure_future(self._resume(self.sequences))

    async def detach(self) -> None:
        """Before the engine stops: the view closes and this process's runs stop (they stay
        journaled as running and carry on at the next start)."""
        sequences, self.sequences = self.sequences, None
        self.action.setEnabled(False)
        if self.view is not None:
            if self.view.isVisible():  # the next engine (Settings changed) shows it again
                self._reopen = (self.view.sequence.id if self.view.sequence else None,
                                self.view.film.busy())
            self.view.close()
            self.view = None
        if self._resuming is not None:
            self._resuming.cancel()
            self._resuming = None
        if sequences is not None:
            await sequences.stop()

    # -- what the person does -------------------------------------------------------------------

    def open_view(self, sequence_id: int | None = None) -> SequenceView | None:
        if self.sequences is None:
            return None
        if self.view is None:
            from runway_desktop.ui.sequence_view import SequenceView

            self.view = SequenceView(self.sequences, self._first_shot, self._window)
            self.view.folder_problem = self.folder_problem
            self.view.destroyed.connect(lambda _o=None: self._forget())
            self.view.play_requested.connect(self.play_requested)
        if sequence_id is not None:
            self.view.show_sequence(sequence_id)
        self.view.show()
        self.view.raise_()
        self.view.activateWindow()
        return self.view

    def start_from_clip(self, generation: Generation) -> SequenceView | None:
        """A new sequence whose first shot is this finished clip; the view shows it (or the
        sequence the clip is a take of already)."""
        if self.sequences is None:
            return None
        owner = self.sequences.sequence_of_take(generation.id)
        if owner is not None:  # a take belongs to one sequence: show that one
            view = self.open_view(owner.id)
            if view is not None:
                view.status.setText(self.tr(
                    "#{0} is a take of this sequence already (a clip is a take of one "
                    "sequence only).").format(generation.id))
            return view
        try:
            sequence = self.sequences.create_from_clip(generation.id)
        except Exception as error:  # the journal can't be written, the clip is gone
            self._say(str(getattr(error, "message", "") or error))
            return None
        return self.open_view(sequence.id)

    def exports_running(self) -> list[Path]:
        """The film an export under way is writing, if any (what quitting would stop)."""
        film = self.view.film.writing() if self.view is not None else None
        return [film] if film is not None else []

    def stop_exports(self) -> None:
        """The window quits: a film export stops (its partial file is removed)."""
        if self.view is not None:
            self.view.film.cancel()

    def _forget(self) -> None:
        self.view = None

    async def _resume(self, sequences: SequenceService) -> None:
        try:
            await sequences.resume_running()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("Running sequences couldn't carry on: %s", error)


def first_shot_from(compose: ComposePanel) -> SettingsChanges:
    """A new sequence's first shot: the compose panel's model, ratio, duration, start image
    and (when locked) seed."""
    from runway_desktop.engine.settings_changes import SettingsChanges

    chosen = compose.settings()
    return SettingsChanges(duration=chosen.duration, aspect_ratio=chosen.aspect_ratio,
                           seed=chosen.seed if compose.seed_locked() else None,
                           model=chosen.model, image_path=chosen.image_path,
                           image_url=chosen.image_url)
