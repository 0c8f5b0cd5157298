"""A video dropped on the window: offer its settings ("Use these settings", "Extend").

Every video the app saves carries the settings that made it (engine/video/metadata.py). Dropped
on the window — anywhere, the start-image zone included — such a video brings up a non-modal
offer over the top of the compose panel: "Use these settings" fills prompt, model, ratio,
duration, seed and the start image (when that file is still there; else it says so), and
"Extend" puts the compose panel in extend mode on a video of this history (the prompt box asks
what happens next; the new clip records its parent; for a joined film, on its last shot), or,
for one from elsewhere, makes its last frame the start image with its settings (unlinked: it
has no row here). A video without our settings gets a plain message instead, never silence. One
offer at a time: a new drop replaces it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QDragMoveEvent, QDropEvent, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from runway_desktop.engine.pasted_pictures import DROPPED_FRAMES, PASTED, key_of
from runway_desktop.engine.records import Generation, Stage
from runway_desktop.engine.video.metadata import VideoSettings, read_video_settings
from runway_desktop.ui.notice_close import close_button

if TYPE_CHECKING:
    from runway_desktop.engine.commands import GenerationService
    from runway_desktop.ui.compose_panel import ComposePanel

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov"})
OFFER_SECONDS = 30


def video_files(mime: QMimeData) -> list[Path]:
    """The local video files a drag carries (by name: reading them waits for the drop)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls()
            if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in VIDEO_SUFFIXES]


class SettingsOffer(QFrame):
    """The offer, floating over the top of the compose panel, where videos are dropped (it
    moves no control and never covers Generate)."""

    use_requested = Signal()
    extend_requested = Signal()

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.setObjectName("settingsOffer")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setAccessibleName(self.tr("Video settings"))
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.use_button = QPushButton(self.tr("Use these settings"), self)
        self.use_button.setToolTip(
            self.tr("Fill the prompt, model, ratio, duration, seed and start image from it"))
        self.use_button.clicked.connect(self.use_requested)
        self.extend_button = QPushButton(self.tr("Extend"), self)
        self.extend_button.setToolTip(
            self.tr("Start a new clip from its last frame; the prompt box asks what happens next"))
        self.extend_button.clicked.connect(self.extend_requested)
        close = close_button(self, self.hide)
        # The words above, the buttons under them: side by side, a compose panel's width cut
        # the buttons' own words ("e these settin").
        top = QHBoxLayout()
        top.addWidget(self.message, 1)
        top.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.extend_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 8)
        layout.addLayout(top)
        layout.addLayout(buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self._tint()
        host.installEventFilter(self)
        self.hide()

    def _tint(self) -> None:
        palette = self.palette()  # the tool-tip colours, as the undo notice has them
        palette.setColor(QPalette.ColorRole.Window, palette.color(QPalette.ColorRole.ToolTipBase))
        palette.setColor(QPalette.ColorRole.WindowText,
                         palette.color(QPalette.ColorRole.ToolTipText))
        self.setPalette(palette)  # the same colours again: no new change event

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._tint()  # the scheme changed: this scheme's tool-tip colours
        super().changeEvent(event)

    def offer(self, text: str, *, use: bool, extend: bool) -> None:
        self.message.setText(text)
        self.use_button.setVisible(use)
        self.extend_button.setVisible(extend)
        self._timer.start(OFFER_SECONDS * 1000)
        self.show()
        self._place()
        self.raise_()

    def _place(self) -> None:
        host = self.parentWidget()
        if host is None:
            return
        width = max(120, host.width() - 16)
        height = max(self.heightForWidth(width) if self.hasHeightForWidth() else 0,
                     self.sizeHint().height())
        self.setGeometry(8, 8, width, height)  # over the image zone, never over Generate

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._place()
        return super().eventFilter(watched, event)


class VideoDrop(QObject):
    """What the window does with a dropped video."""

    def __init__(self, compose: ComposePanel, service: Callable[[], GenerationService | None],
                 extend: Callable[[Generation], None], frames_dir: Path, *,
                 leave_extend: Callable[[], None] = lambda: None) -> None:
        """`leave_extend()`: out of extend mode (if in it) before the compose panel is filled
        from a dropped video: its Generate would extend the clip extend mode was on."""
        super().__init__(compose)
        self._leave_extend = leave_extend
        self._compose = compose
        self._service = service
        self._extend = extend
        self._frames_dir = frames_dir  # last frames of videos from elsewhere, kept for uploads
        self.offer = SettingsOffer(compose)
        self.offer.use_requested.connect(self.use)
        self.offer.extend_requested.connect(self.extend)
        self.video: Path | None = None
        self.found: VideoSettings | None = None
        self._task: asyncio.Task[None] | None = None
        # Text boxes take dropped files as text (a file:// line in the prompt): not a video.
        for box in (compose.prompt_edit.viewport(), compose.seed_edit):
            box.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # By type, not class: a drag entering or moving is a QDropEvent too, and a video only
        # carried over the prompt box on its way elsewhere was read and offered.
        if (event.type() == QEvent.Type.Drop and isinstance(event, QDropEvent)
                and (videos := video_files(event.mimeData()))):
            event.acceptProposedAction()
            self.take(videos)
            return True
        if isinstance(event, QDragMoveEvent) and video_files(event.mimeData()):
            event.acceptProposedAction()  # QDragEnterEvent is a QDragMoveEvent
            return True
        return super().eventFilter(watched, event)

    def take(self, videos: list[Path]) -> None:
        """Read the first dropped video's settings (off the UI thread), then offer them."""
        if not videos:
            return
        if self._task is not None:
            self._task.cancel()  # the newest drop wins
        self._task = asyncio.ensure_future(self._read(videos[0], len(videos) - 1))

    async def _read(self, video: Path, more: int) -> None:
        found = await asyncio.to_thread(read_video_settings, video)
        self.video, self.found = video, found
        extra = (" " + self.tr("(Only the first of the videos dropped is read.)")) if more else ""
        if found is None:
            self.offer.offer(self.tr(
                "“{name}” carries no Runway Desktop settings (it was made elsewhere, or saved "
                "again by another program), so there is nothing to reuse here. Drop a video "
                "Runway Desktop saved to reuse its settings.").format(name=video.name) + extra,
                use=False, extend=False)
            return
        settings = found.settings
        shots = (" " + self.tr("A film of {n} shots: these are its last shot's.").format(
            n=len(found.shots))) if found.shots else ""
        self.offer.offer(self.tr("“{name}”: “{prompt}”, seed {seed}, {ratio}, {duration} s."
                                 ).format(name=video.name, prompt=_short(settings.prompt),
                                          seed=settings.seed, ratio=settings.aspect_ratio,
                                          duration=settings.duration) + shots + extra,
                         use=True, extend=True)

    def use(self) -> None:
        """Fill the compose panel from the offered settings."""
        if self.found is None or self.video is None:
            return
        settings = self.found.settings
        image = settings.image_path
        missing = bool(image) and not os.path.isfile(image or "")
        if missing:
            settings = dataclasses.replace(settings, image_path=None, frame=None,
                                           image_sha256=None)  # the rest, without the image
        compose = self._compose
        self._leave_extend()
        compose.apply_settings(settings, made_by=f"“{self.video.name}”")
        if missing:
            text = self._missing_image(self.video.name, Path(image or ""))
        else:
            text = self.tr("Filled in from “{name}”: change what you like, then "
                           "Generate.").format(name=self.video.name)
        # What this app offers no longer (a model, or its ratio or length) stays as it was.
        kept: list[str] = []
        if compose.model().id != settings.model:
            kept.append(self.tr("model {0}").format(settings.model))
        if compose.aspect_picker.value() != settings.aspect_ratio:
            kept.append(self.tr("ratio {0}").format(settings.aspect_ratio))
        if compose.duration() != settings.duration:
            kept.append(self.tr("{0} s").format(settings.duration))
        if kept:
            text += " " + self.tr("Not offered here, so left as it was: {0}.").format(
                ", ".join(kept))
        self.offer.offer(text, use=False, extend=False)

    def _missing_image(self, video: str, image: Path) -> str:
        """What to do about a start image that is gone: a picture the app kept for the person
        (pasted, or a dropped video's last frame) was never a file of theirs to choose again."""
        kind = key_of(image) if image.parent.name in (PASTED, DROPPED_FRAMES) else None
        if kind is not None and kind.startswith("pasted-"):
            return self.tr("Filled in from “{name}”, except its start image: it was a picture "
                           "pasted into the window, deleted once no generation used it. Paste "
                           "it again (or choose another picture).").format(name=video)
        if kind is not None:
            return self.tr("Filled in from “{name}”, except its start image: it was the last "
                           "frame of a video dropped here to extend, deleted once no generation "
                           "used it. Choose another picture, or drop that video again and "
                           "choose Extend.").format(name=video)
        return self.tr("Filled in from “{name}”, except its start image: {image} is no "
                       "longer there. Choose it (or another) again.").format(
            name=video, image=image)

    def extend(self) -> None:
        """A video of this history: extend mode on it (the new clip records its parent). One
        from elsewhere: its last frame becomes the start image, with its settings."""
        generation = self.extendable()
        if generation is not None:
            self.offer.hide()
            self._extend(generation)
        elif self.found is not None and self.video is not None:
            if self._task is not None:
                self._task.cancel()
            self._task = asyncio.ensure_future(self._continue(self.video, self.found))

    async def _continue(self, video: Path, found: VideoSettings) -> None:
        from runway_desktop.engine.video.exports import ExportError, export_last_frame

        self.offer.offer(self.tr("Taking the last frame of “{name}”…").format(name=video.name),
                         use=False, extend=False)
        dest = self._frames_dir / f"{video.stem[:40]}-last-{uuid.uuid4().hex[:8]}.png"
        try:
            await asyncio.to_thread(self._frames_dir.mkdir, parents=True, exist_ok=True)
            await export_last_frame(video, dest)
        except (ExportError, OSError) as error:
            reason = error.message if isinstance(error, ExportError) else (
                error.strerror or str(error))
            self.offer.offer(self.tr("Can't extend “{name}”: {reason}").format(
                name=video.name, reason=reason), use=False, extend=False)
            return
        compose = self._compose
        self._leave_extend()
        compose.apply_settings(dataclasses.replace(
            found.settings, prompt="", image_path=str(dest), image_url=None, frame=None,
            image_sha256=None))
        compose.prompt_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.offer.offer(self.tr(
            "The last frame of “{name}” is the start image, with its settings: write what "
            "happens next, then Generate. It isn't a video of this history, so the new clip "
            "won't be linked to it.").format(name=video.name), use=False, extend=False)

    def extendable(self) -> Generation | None:
        """The finished generation of this history the dropped video is, if any; for a film,
        its last shot's (extending a film goes on from its last shot)."""
        service = self._service()
        if service is None or self.found is None or self.video is None:
            return None
        finished = [g for g in service.generations()
                    if g.stage == Stage.DONE and g.video_path]
        if self.found.shots:
            job_id = self.found.shots[-1].job_id
            return next((g for g in finished if job_id and g.job_id == job_id
                         and os.path.isfile(g.video_path or "")), None)
        job_id = self.found.job_id
        dropped = os.path.abspath(self.video)
        for generation in finished:  # its job, else its file (a row may be a re-download)
            if job_id and generation.job_id == job_id and os.path.isfile(
                    generation.video_path or ""):
                return generation
        for generation in finished:
            if os.path.abspath(generation.video_path or "") == dropped:
                return generation
        return None


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
