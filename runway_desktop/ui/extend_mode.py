"""Extend a finished clip from the window: the compose panel becomes "what happens next".

"Extend…" (ui/clip_actions.py) puts the compose panel into extend mode: a strip takes the
drop zone's place and shows the clip's last frame (where the next shot starts), the model,
ratio, duration and seed become the clip's own (the person may change them), and the prompt box
asks what happens next. Generate then calls the engine's typed `extend` command
(GenerationService.extend), which waits for the clip if need be, takes its exact last frame and
journals the new generation with its parent; the new row is selected. Cancel (or Esc) puts the
compose panel back as it was: its images, prompt and choices.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.engine.records import Generation, GenerationSettings, Stage

if TYPE_CHECKING:
    from runway_desktop.engine.commands import GenerationService
    from runway_desktop.engine.settings_changes import SettingsChanges
    from runway_desktop.ui.compose_panel import ComposePanel
    from runway_desktop.ui.queue_model import QueueModel

log = logging.getLogger(__name__)
PICTURE = QSize(160, 90)
# The strip's wait for the last frame (a damaged or cut-short file may never give one).
FRAME_WAIT_S = 10.0
# The title's excerpt of the clip's prompt (the preview's caption has all of it): longer, the
# title took four lines of the strip's narrow column and pushed its note out of sight.
TITLE_CHARS = 28


def excerpt(prompt: str, most: int = TITLE_CHARS) -> str:
    """The prompt's first words, up to `most` characters (an ellipsis when cut): enough to
    recognise the clip beside its number, in two lines of the strip's narrow column."""
    if len(prompt) <= most:
        return prompt
    cut = prompt[:most + 1]  # one more: does the cut fall at the end of a word?
    if cut[-1].isspace():
        kept = cut
    elif " " in cut.strip():
        kept = cut.rsplit(maxsplit=1)[0]  # the word cut in half goes
    else:
        kept = prompt[:most]  # one long word
    return kept.rstrip(" ,;:.") + "…"


class ExtendStrip(QFrame):
    """What the compose panel shows in extend mode, where the drop zone was."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("extend_strip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.picture = QLabel(self)
        self.picture.setFixedSize(PICTURE)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Its words ("Last frame…", "No video") are what a screen reader reads; the frame,
        # once shown, is named (set_picture).
        self.picture.setAccessibleDescription(self.tr("Last frame of the clip"))
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        # Said when another ratio than the clip's is chosen: the frame won't fit as it is.
        self.ratio_note = QLabel(self)
        self.ratio_note.setObjectName("extend_ratio_note")
        self.ratio_note.setWordWrap(True)
        self.ratio_note.setTextFormat(Qt.TextFormat.PlainText)
        self.ratio_note.hide()
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setToolTip(self.tr("Back to a new generation (Esc)"))
        self.cancel_button.setAccessibleName(self.tr("Cancel extending"))
        self.cancel_button.clicked.connect(self.cancel_requested)
        # The words scroll when the panel is short of room (a laptop's window with the ratio
        # note, any small one): squeezed, they were cut off mid-line and the note's advice
        # lost. The note, when there is one, comes before the usual words; Cancel stays put.
        self.words = QWidget()
        words = QVBoxLayout(self.words)
        words.setContentsMargins(0, 0, 0, 0)
        words.addWidget(self.title)
        words.addWidget(self.ratio_note)
        words.addWidget(self.text)
        words.addStretch(1)
        self.words_area = QScrollArea(self)
        self.words_area.setObjectName("extend_words")
        self.words_area.setWidget(self.words)
        self.words_area.setWidgetResizable(True)
        self.words_area.setFrameShape(QFrame.Shape.NoFrame)
        self.words_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.words_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no Tab stop without a ring
        self.words_area.viewport().setAutoFillBackground(False)
        self.words.setAutoFillBackground(False)
        column = QVBoxLayout()
        column.addWidget(self.words_area, 1)
        column.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout = QHBoxLayout(self)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(column, 1)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.parentWidget() or self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.setWhatsThis(self.tr("Leave extend mode"))  # Help ▸ Keyboard Shortcuts
        escape.activated.connect(self._on_escape)

    def _on_escape(self) -> None:
        if self.isVisible():
            self.cancel_requested.emit()

    def show_parent(self, generation: Generation) -> None:
        short = excerpt(generation.settings.prompt)
        self.title.setText(self.tr("Extending #{0} “{1}”").format(generation.id, short))
        text = self.tr("The next shot starts from this clip's last frame. Describe what happens "
                       "next in the prompt and press Generate.")
        if generation.stage is not Stage.DONE:
            text += " " + self.tr("The clip is still downloading: the next shot waits for it.")
        self.text.setText(text)
        self.show_words(self.tr("Last frame…"))

    def show_ratio(self, clip_ratio: str, chosen: str) -> None:
        """A note when the next shot's ratio isn't the clip's."""
        self.ratio_note.setVisible(chosen != clip_ratio)
        self.ratio_note.setText(self.tr(
            "The clip is {0}; its last frame doesn't fit {1} as it is, so the next shot won't "
            "follow on seamlessly. Choose {0} for a seamless continuation.").format(
                clip_ratio, chosen))

    def show_problem(self, text: str) -> None:
        """Why the next shot can't start from this clip, and what to do (in place of how
        extending works)."""
        self.text.setText(text)

    def show_words(self, text: str) -> None:
        """Words in place of the picture (a label's name would be read instead of them)."""
        self.picture.setAccessibleName("")
        self.picture.setText(text)

    def set_picture(self, pixmap: QPixmap) -> None:
        """The last frame, with the screen's pixels (made at PICTURE's own, it was stretched
        to twice that on a 2× screen, blurry)."""
        self.picture.setAccessibleName(self.tr("Last frame of the clip"))
        ratio = self.devicePixelRatioF()
        pixels = QSize(round(PICTURE.width() * ratio), round(PICTURE.height() * ratio))
        scaled = pixmap.scaled(pixels, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
        scaled.setDevicePixelRatio(ratio)
        self.picture.setPixmap(scaled)


class ExtendMode(QObject):
    """Extend mode of the compose panel; `take` (from the window's Generate) extends."""

    extended = Signal(object)  # the new Generation
    failed = Signal(str)  # what went wrong, in words
    locked_out = Signal(object)  # the JournalError of another process's lock: goes by itself
    active_changed = Signal(bool)

    def __init__(self, compose: ComposePanel,
                 service: Callable[[], GenerationService | None]) -> None:
        super().__init__(compose)
        self._compose = compose
        self._service = service
        self.parent_generation: Generation | None = None
        self._saved: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._picture_task: asyncio.Task[Any] | None = None
        self._extending: asyncio.Task[Any] | None = None  # Generate pressed: waiting, taking
        tasks = self._tasks  # stopped when the window goes (a last frame still decoding)
        compose.destroyed.connect(lambda _o=None: [t.cancel() for t in list(tasks)])
        self.strip = ExtendStrip(compose)
        self.strip.hide()
        self.strip.cancel_requested.connect(self.cancel)
        layout = compose.form.layout()  # the drop zone's: the strip takes its place
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(compose.drop_zone), self.strip, 3)
        compose.drop_zone.images_changed.connect(self._on_pictures_given)
        compose.aspect_picker.changed.connect(self._on_ratio)

    @property
    def active(self) -> bool:
        return self.parent_generation is not None

    def start(self, parent: Generation) -> None:
        """Ask what happens after `parent` (a finished clip) in the compose panel."""
        compose = self._compose
        if not self.active:
            self._saved = {"state": compose.state(), "prompt": compose.prompt_edit.toPlainText(),
                           "images": compose.drop_zone.images(),
                           "placeholder": compose.prompt_edit.placeholderText()}
        if self.parent_generation is not parent:
            self._extending = None  # a Generate for another clip carries on by itself
        self.parent_generation = parent
        settings = parent.settings
        compose.drop_zone.clear()  # one shot: the price is one clip's
        compose.drop_zone.hide()
        compose.image_hint.hide()
        compose.restore_state({"model": settings.model, "aspect_ratio": settings.aspect_ratio,
                               "duration": settings.duration, "seed": settings.seed,
                               "seed_locked": True})
        compose.prompt_edit.clear()
        compose.prompt_edit.setPlaceholderText(self.tr("What happens next?"))
        self.strip.show_parent(parent)
        self.strip.show_ratio(settings.aspect_ratio, compose.aspect_picker.value())
        self.strip.show()
        compose.set_busy_hint(self.tr("Generate makes the next shot of #{0}, from its last "
                                      "frame.").format(parent.id))
        compose.prompt_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        if self._picture_task is not None:
            self._picture_task.cancel()
        self._picture_task = self._spawn(self._load_last_frame(parent))
        self.active_changed.emit(True)

    def cancel(self) -> None:
        """Leave extend mode; the compose panel is as it was before."""
        if not self.active:
            return
        self._leave(restore_prompt=True)

    def follow_history(self) -> None:
        """The window shows another history now (demo ↔ live): a clip that isn't in it can't
        be extended here. Left on, Generate extended the clip of the same number in the new
        history, a different one, and paid for it."""
        parent = self.parent_generation
        service = self._service()
        if parent is None or service is None or _is_in(service, parent):
            return
        self.cancel()
        self.failed.emit(self.tr("Extend mode ended: #{0} “{1}” is in the other history "
                                 "(demo and live keep their own). Nothing was sent.").format(
                                     parent.id, parent.settings.prompt))

    def watch(self, model: QueueModel) -> None:
        """Follow the window's list (the queue model): when the clip being extended leaves
        it (removed, even with Undo still possible), extend mode ends and says so. Left on,
        Generate paid for the next shot of a clip the person had just removed (or failed with
        'no generation #N' once the removal was final)."""
        def leaving(_parent: QModelIndex, first: int, last: int) -> None:
            parent = self.parent_generation
            if parent is not None and any(model.generation_at(row).id == parent.id
                                          for row in range(first, last + 1)):
                self._source_removed(parent)

        model.rowsAboutToBeRemoved.connect(leaving)

    def _source_removed(self, parent: Generation) -> None:
        # As Cancel: a next shot still waiting for the clip is dropped (nothing is journaled
        # or sent before that wait ends) and the compose panel is as it was before Extend.
        self._leave(restore_prompt=True)
        self.failed.emit(self.tr("Extend mode ended: #{0} “{1}” was removed. Nothing was sent. "
                                 "Undo brings it back; extend it again then.").format(
                                     parent.id, parent.settings.prompt))

    def _on_ratio(self, ratio: str) -> None:
        if self.parent_generation is not None:
            self.strip.show_ratio(self.parent_generation.settings.aspect_ratio, ratio)

    def _on_pictures_given(self, images: list[str]) -> None:
        """Pictures pasted into the prompt box or chosen (Edit ▸ Choose Start Image) while
        extending: the person starts from them instead. Extend mode ends, the pictures show
        and the prompt typed stays (they went to the hidden drop zone: Generate priced them
        all, made one shot of the clip, and Cancel dropped them)."""
        if not self.active or not images:
            return
        prompt = self._compose.prompt_edit.toPlainText()
        state = dict(self._saved.get("state", {}))
        state.update(images=list(images), frame="", frame_picture="")
        self._saved.update(state=state, images=list(images))
        self._leave(restore_prompt=False)
        self._compose.prompt_edit.setPlainText(prompt)

    def composition_state(self) -> dict[str, Any]:
        """What the person is composing, to keep over a restart: while extending, the
        composition extend mode put aside (its images, prompt and choices), which Cancel would
        bring back; the extend strip itself is not kept."""
        if self.active and "state" in self._saved:
            return dict(self._saved["state"])
        return self._compose.state()

    def take(self, batch: list[GenerationSettings]) -> bool:
        """The window's Generate while extending: extend instead (True), else False."""
        parent = self.parent_generation
        if parent is None or not batch:
            return False
        if self._extending is not None and not self._extending.done():
            return True  # pressed again while it waits for the clip: one next shot, not two
        self._extending = self._spawn(self._extend(parent, batch[0]))
        return True

    # -- internals ------------------------------------------------------------------------------

    async def _extend(self, parent: Generation, chosen: GenerationSettings) -> None:
        from runway_desktop import api
        from runway_desktop.engine.extension import ExtendError
        from runway_desktop.engine.journal import JournalError

        service = self._service()
        if service is None:
            return
        if not _is_in(service, parent):  # another history's clip (see follow_history)
            if self.parent_generation is parent:
                self._leave(restore_prompt=False)
            self.failed.emit(self.tr("#{0} “{1}” isn't in this history, so it can't be "
                                     "extended here. Nothing was sent.").format(
                                         parent.id, parent.settings.prompt))
            return
        self._compose.set_busy_hint(self.tr("Taking the last frame of #{0}…").format(parent.id))
        try:
            added = await service.extend(parent.id, chosen.prompt,
                                         changes=changes_from(parent.settings, chosen))
        except (ExtendError, api.InvalidRequestError, JournalError) as error:
            self._compose.set_busy_hint("")
            if isinstance(error, JournalError) and error.locked:
                self.locked_out.emit(error)  # the window says it wasn't done, until it goes
            else:
                self.failed.emit(str(getattr(error, "message", "") or error))
            return
        if self.parent_generation is parent:
            self._leave(restore_prompt=False)
        self.extended.emit(added)

    async def _load_last_frame(self, parent: Generation) -> None:
        """The clip's last frame in the strip, or (every wait bounded) words saying why it
        can't be shown and what to do: never "Last frame…" for good."""
        from pathlib import Path

        from runway_desktop.engine.journal import JournalError
        from runway_desktop.engine.video.frames import FrameError, last_frame

        shown = parent
        service = self._service()
        if parent.stage is not Stage.DONE and service is not None:
            # Still downloading: its last frame exists once the file is whole.
            self.strip.show_words(self.tr("Waiting for the clip…"))
            try:
                settled = await service.wait_settled([parent.id])
            except JournalError as error:
                settled = []
                log.info("No last frame to show: %s", error)
            if self.parent_generation is not shown:
                return
            if not settled:
                self.strip.show_words(self.tr("No video"))
                self.strip.show_problem(self.tr(
                    "#{0} is no longer in the history, so there is nothing to extend. Press "
                    "Cancel; extend another clip.").format(shown.id))
                return
            (parent,) = settled
            if parent.stage is not Stage.DONE:
                self.strip.show_words(self.tr("No video"))
                self.strip.show_problem(self.tr(
                    "#{0} didn't finish, so it has no last frame. Retry it or make a new take, "
                    "then extend that.").format(parent.id))
                return
            self.strip.show_parent(parent)
        if not parent.video_path:
            self.strip.show_words(self.tr("No video"))
            self.strip.show_problem(self.tr("#{0} has no video file. Download it again "
                                            "(right-click it), then extend it.").format(parent.id))
            return
        try:
            frame = await last_frame(Path(parent.video_path), wait_s=FRAME_WAIT_S)
        except FrameError as error:
            log.info("No last frame to show: %s", error.message)
            if self.parent_generation is shown:
                self.strip.show_words(self.tr("No last frame"))
                self.strip.show_problem(self.tr(
                    "Its last frame can't be read: {0} Generate would fail the same way. If "
                    "the file was moved or deleted, right-click the clip: Download Again; if it "
                    "is damaged, play it to check, then remove it and make it again.").format(
                        error.message))
            return
        if self.parent_generation is shown:
            self.strip.set_picture(QPixmap.fromImage(frame.image))

    def _leave(self, *, restore_prompt: bool) -> None:
        compose = self._compose
        compose.set_busy_hint("")
        self.parent_generation = None
        if self._picture_task is not None:
            self._picture_task.cancel()  # the decoder stops; nothing is left running
            self._picture_task = None
        if restore_prompt and self._extending is not None:
            # Cancel while the next shot waits for the clip (or its last frame): nothing is
            # journaled or sent until that wait is over, so nothing is made or paid.
            self._extending.cancel()
        self._extending = None
        self.strip.hide()
        compose.drop_zone.show()
        compose.prompt_edit.setPlaceholderText(str(self._saved.get("placeholder", "")))
        compose.restore_state(self._saved.get("state", {}))
        if restore_prompt:
            compose.prompt_edit.setPlainText(str(self._saved.get("prompt", "")))
        compose.drop_zone.set_images(list(self._saved.get("images", [])))
        compose.image_hint.setVisible(not compose.drop_zone.images())
        self._saved = {}
        self.active_changed.emit(False)

    def _spawn(self, work: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _is_in(service: GenerationService, generation: Generation) -> bool:
    """Whether the service's history holds this very generation (not just its number)."""
    here = service.get(generation.id)
    return here is not None and here.idempotency_key == generation.idempotency_key


def changes_from(parent: GenerationSettings, chosen: GenerationSettings) -> SettingsChanges:
    """What the person changed from the clip's own settings (None where it is the same)."""
    from runway_desktop.engine.settings_changes import SettingsChanges

    def differs(name: str) -> Any:
        value = getattr(chosen, name)
        return None if value == getattr(parent, name) else value

    return SettingsChanges(duration=differs("duration"), aspect_ratio=differs("aspect_ratio"),
                           seed=differs("seed"), model=differs("model"))
