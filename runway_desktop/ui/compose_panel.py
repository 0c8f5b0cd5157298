"""The compose side of the main window: start image, prompt, ratio, duration, seed, Generate."""

from __future__ import annotations

import itertools
import json
import os
import random
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QColor,
    QDropEvent,
    QFocusEvent,
    QFont,
    QGuiApplication,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QShortcut,
    QTextCursor,
    QValidator,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.api.catalog import (
    BUILT_IN_CATALOG,
    ModelCatalog,
    ModelSpec,
    has_visible_text,
    prompt_length,
)
from runway_desktop.engine import framing
from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.records import Generation, GenerationSettings
from runway_desktop.engine.spoken_for import SpokenFor
from runway_desktop.ui import icons
from runway_desktop.ui.aspect_buttons import AspectRatioPicker, ChoiceStrip
from runway_desktop.ui.drop_zone import DropZone, is_web_url
from runway_desktop.ui.message_line import MessageLine
from runway_desktop.ui.palette_colours import error_text_color
from runway_desktop.ui.picture_check import SamePictureCheck
from runway_desktop.ui.screen_room import ShortScroll

_DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def carries_pictures(mime: QMimeData) -> bool:
    """Pixels, or files of this computer (the drop zone says what it can't take): never
    prompt text. Links and plain text still go in the prompt box."""
    if mime.hasImage():
        return True
    urls = mime.urls() if mime.hasUrls() else []
    return bool(urls) and all(url.isLocalFile() for url in urls)


class SeedValidator(QValidator):
    """Digits only, up to the model's highest seed (QSpinBox stops at 2**31 - 1, Runway's seeds
    go to 2**32 - 1).

    Spaces and line breaks go (a seed copied from a page or a terminal comes with them: it was
    refused whole, without a word); full-width digits (a CJK input method's) become ASCII. A
    number over the range stays as typed, Intermediate: Generate then says which seeds it
    takes, where a refused keystroke said nothing.
    """

    MAX_DIGITS = 20  # far past any seed: a paste of a long number is shown, not a novel

    def __init__(self, parent: QObject | None = None,
                 maximum: int = BUILT_IN_CATALOG.default.max_seed) -> None:
        super().__init__(parent)
        self.maximum = maximum

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        if any(char.isspace() for char in text):
            pos -= sum(char.isspace() for char in text[:pos])
            text = "".join(text.split())
        if not text.isascii() and text.isdecimal():  # full-width digits of an input method
            text = "".join(str(unicodedata.digit(char)) for char in text)
        if text == "":
            return QValidator.State.Intermediate, text, pos
        if not text.isdigit() or not text.isascii() or len(text) > self.MAX_DIGITS:
            return QValidator.State.Invalid, text, pos
        if int(text) > self.maximum:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos


def _icon_canvas(dpr: float, size: int = 16) -> tuple[QPixmap, QPainter]:
    pixmap = QPixmap(round(size * dpr), round(size * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pixmap, painter


def lock_icon(palette: QPalette, dpr: float = 1.0) -> QIcon:
    """A padlock: closed when the button is checked, open when not."""
    icon = QIcon()
    for state, closed in ((QIcon.State.On, True), (QIcon.State.Off, False)):
        for mode, group in (
            (QIcon.Mode.Normal, QPalette.ColorGroup.Active),
            (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled),
        ):
            pixmap, painter = _icon_canvas(dpr)
            color = palette.color(group, QPalette.ColorRole.ButtonText)
            painter.setPen(QPen(color, 1.6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            shackle = QPainterPath()
            shackle.moveTo(4.5, 8)
            shackle.lineTo(4.5, 5.5)
            shackle.arcTo(QRectF(4.5, 1.5, 7, 7), 180, -180)
            shackle.lineTo(11.5, 8 if closed else 5.5)
            if not closed:  # open: the shackle is lifted on one side
                shackle.translate(0, -1.5)
            painter.drawPath(shackle)
            painter.setBrush(color)
            painter.drawRoundedRect(QRectF(3, 8, 10, 7), 1.5, 1.5)
            painter.end()
            icon.addPixmap(pixmap, mode, state)
    return icon


def dice_icon(palette: QPalette, dpr: float = 1.0) -> QIcon:
    icon = QIcon()
    for mode, group in (
        (QIcon.Mode.Normal, QPalette.ColorGroup.Active),
        (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled),
    ):
        pixmap, painter = _icon_canvas(dpr)
        color = palette.color(group, QPalette.ColorRole.ButtonText)
        painter.setPen(QPen(color, 1.4))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(1.5, 1.5, 13, 13), 3, 3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        for x, y in ((5, 5), (8, 8), (11, 11), (11, 5), (5, 11)):
            painter.drawEllipse(QPointF(x, y), 1.3, 1.3)
        painter.end()
        icon.addPixmap(pixmap, mode)
    return icon


class ComposePanel(QWidget):
    """Everything the person chooses before pressing Generate.

    Emits ``generate_requested(list[GenerationSettings])``: one item per start image (or one
    text-only item). Prompt and images stay after Generate so the person can iterate.
    """

    generate_requested = Signal(list)

    def __init__(self, cache_dir: str | os.PathLike[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rng = random.SystemRandom()
        self._balance: int | None = None
        # Generations waiting on this computer, not charged yet: the balance must cover them.
        self._spoken = SpokenFor()
        self._external_enabled = True
        self._external_reason = ""
        self._busy_hint = ""
        self._catalog = BUILT_IN_CATALOG  # the engine's, once it runs (set_catalog)
        self._ratio_picked = False  # until the person picks a ratio, it follows the image
        # Re-used settings' frame, waiting until its picture is known to be at its path still
        # (with who made it, for the note), and the note when it wasn't.
        self._reused_frame: tuple[ImageFrame, str] | None = None
        self._frame_note = ""
        self._settings_note = ""  # what re-used settings asked for that isn't offered here
        self._picture_check = SamePictureCheck(self)
        self._picture_check.checked.connect(self._on_picture_checked)
        self.setAccessibleName(self.tr("Compose"))

        # -- start image ------------------------------------------------------------------------
        self.drop_zone = DropZone(cache_dir, self)
        self.image_hint = QLabel(self.tr("Runway works best with a start image."), self)
        self.image_hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.image_hint.setWordWrap(True)
        hint_policy = self.image_hint.sizePolicy()
        hint_policy.setRetainSizeWhenHidden(True)  # its room is kept: the prompt box stays put
        self.image_hint.setSizePolicy(hint_policy)

        # -- prompt -----------------------------------------------------------------------------
        self.prompt_label = QLabel(self.tr("&Prompt"), self)
        self.prompt_edit = QPlainTextEdit(self)
        self.prompt_edit.setPlaceholderText(
            self.tr("Describe the motion: what moves, how, and what the camera does…")
        )
        self.prompt_edit.setTabChangesFocus(True)  # Tab leaves the box: keyboard users can move on
        self.prompt_edit.setAccessibleName(self.tr("Prompt"))
        self.prompt_edit.setMinimumHeight(70)  # three lines: a 1024 × 640 window fits
        self.prompt_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.prompt_label.setBuddy(self.prompt_edit)
        self.counter_label = QLabel(self)
        self.counter_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # A label's purpose goes in its description: an accessible name would be read in
        # place of its words.
        self.counter_label.setAccessibleDescription(self.tr("Prompt length"))

        # -- model ------------------------------------------------------------------------------
        self.model_label = QLabel(self.tr("&Model"), self)
        self.model_picker = QComboBox(self)
        self.model_picker.setAccessibleName(self.tr("Model"))
        self.model_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_label.setBuddy(self.model_picker)
        self._fill_models()

        # -- aspect ratio -------------------------------------------------------------------------
        self.ratio_label = QLabel(self.tr("&Aspect ratio"), self)
        every_ratio = dict.fromkeys(r for m in self._catalog.models for r in m.aspect_ratios)
        self.aspect_picker = AspectRatioPicker(self, list(every_ratio))
        self.ratio_label.setBuddy(self.aspect_picker)

        # -- duration -----------------------------------------------------------------------------
        self.duration_label = QLabel(self.tr("&Duration"), self)
        self.duration_picker = ChoiceStrip(self)
        self.duration_picker.setAccessibleName(self.tr("Duration"))
        self.duration_picker.setToolTip(self.tr("Length of the video"))
        for seconds in sorted({d for m in self._catalog.models for d in m.durations}):
            self._add_duration(seconds)
        self.duration_label.setBuddy(self.duration_picker)

        # -- seed -------------------------------------------------------------------------------
        self.seed_label = QLabel(self.tr("&Seed"), self)
        self.seed_edit = QLineEdit(self)
        self.seed_validator = SeedValidator(self.seed_edit)
        self.seed_edit.setValidator(self.seed_validator)
        self.seed_edit.setAccessibleName(self.tr("Seed"))
        self.seed_edit.setPlaceholderText(self.tr("random"))
        digits_width = self.seed_edit.fontMetrics().horizontalAdvance("8" * 11)
        self.seed_edit.setMinimumWidth(digits_width + 12)
        self.seed_label.setBuddy(self.seed_edit)
        self.lock_button = QToolButton(self)
        self.lock_button.setCheckable(True)
        self.lock_button.setText(self.tr("Lock"))
        self.lock_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.lock_button.setAccessibleName(self.tr("Lock seed"))
        self.dice_button = QToolButton(self)
        self.dice_button.setAccessibleName(self.tr("New seed"))
        self.dice_button.setToolTip(self.tr("Draw a new random seed"))

        # -- generate ---------------------------------------------------------------------------
        self.generate_button = QPushButton(self)
        self.generate_button.setObjectName("generate_button")  # the accent button (app.qss)
        self.generate_button.setAccessibleName(self.tr("Generate"))
        self.generate_button.setMinimumHeight(40)
        self.generate_button.setAutoDefault(False)
        font = QFont(self.generate_button.font())
        font.setBold(True)
        self.generate_button.setFont(font)
        self.status_label = MessageLine(self, lines=2)  # its room is kept: Generate stays put
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.status_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.status_label.setAccessibleDescription(self.tr("Generate status"))
        # A Tab stop while Generate waits (_refresh): a disabled button is skipped by Tab and
        # its tooltip never shows without a mouse, so the reason is reached here, and read.
        self.status_label.setObjectName("generate_status")  # its focus ring (app.qss)

        self._build_layout()
        # Focusing the panel means "start typing a prompt" (focusInEvent). Not a focus proxy:
        # Tab reaching the panel in the chain then jumped to the prompt, past the start image.
        self._apply_model()
        self._set_seed(self._draw_seed())
        self._refresh_icons()
        self._apply_primary_palette()

        # -- wiring -----------------------------------------------------------------------------
        self.drop_zone.images_changed.connect(self._on_images_changed)
        self.drop_zone.image_size_known.connect(self._follow_image_ratio)
        self.aspect_picker.picked.connect(self._on_ratio_picked)
        self.prompt_edit.textChanged.connect(self._refresh)
        self.aspect_picker.changed.connect(self.drop_zone.set_aspect_ratio)
        self.model_picker.currentIndexChanged.connect(self._on_model_changed)
        self.duration_picker.changed.connect(self._refresh)
        self.duration_picker.picked.connect(self._on_choice_picked)
        self.seed_edit.textChanged.connect(self._refresh)
        self.seed_edit.editingFinished.connect(self._on_seed_edited)
        self.lock_button.toggled.connect(self._on_lock_toggled)
        self.dice_button.clicked.connect(self.new_seed)
        self.generate_button.clicked.connect(self.generate)
        self._shortcuts = []
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            # The whole window's (the empty preview says "press Generate (Ctrl+Enter)"): with
            # the keys in the list after Re-use Settings (Ctrl+E), it did nothing.
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.setWhatsThis(self.tr("Generate"))  # Help ▸ Keyboard Shortcuts
            shortcut.activated.connect(self._on_generate_keys)
            self._shortcuts.append(shortcut)

        # Ctrl+V of a picture while typing the prompt: the picture is meant for the drop zone.
        # Ctrl+Z with nothing typed to undo: the window's Undo (eventFilter).
        self.prompt_edit.installEventFilter(self)
        self.seed_edit.installEventFilter(self)
        # A picture dropped on the prompt box is meant for the drop zone (the box typed its
        # file:// address into the prompt); videos are the window's (ui/video_drop.py).
        self.prompt_edit.viewport().installEventFilter(self)

        self.drop_zone.set_aspect_ratio(self.aspect_picker.value())
        self._on_lock_toggled(False)
        self._on_images_changed(self.drop_zone.images())
        self.form_area.measure_again()  # its fields changed since it was put in

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Undo)
            and (
                (watched is self.prompt_edit
                 and not self.prompt_edit.document().isUndoAvailable())
                or (watched is self.seed_edit and not self.seed_edit.isUndoAvailable())
            )
        ):
            # Nothing typed to undo: Ctrl+Z is the window's Edit ▸ Undo (a removal), which the
            # prompt box and the seed field took for themselves and did nothing with.
            return True
        if (
            watched is self.prompt_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Paste)
            and clipboard_holds_image()
        ):
            self.drop_zone.paste()
            return True
        if (
            watched is self.prompt_edit.viewport()
            and event.type() in _DRAG_EVENTS
            and isinstance(event, QDropEvent)
            and carries_pictures(event.mimeData())
        ):
            if event.type() == QEvent.Type.Drop:
                self.drop_zone.dropEvent(event)  # taken, or said why not
            else:
                event.acceptProposedAction()
            return True
        return super().eventFilter(watched, event)

    def _build_layout(self) -> None:
        for label in (self.prompt_label, self.model_label, self.ratio_label, self.duration_label,
                      self.seed_label):
            font = QFont(label.font())
            font.setBold(True)
            label.setFont(font)

        prompt_head = QHBoxLayout()
        prompt_head.addWidget(self.prompt_label)
        prompt_head.addStretch(1)
        prompt_head.addWidget(self.counter_label)

        seed_row = QHBoxLayout()
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed_edit, 1)
        seed_row.addWidget(self.lock_button)
        seed_row.addWidget(self.dice_button)

        options = QGridLayout()
        options.setHorizontalSpacing(16)
        options.setVerticalSpacing(4)
        options.addWidget(self.duration_label, 0, 0)
        options.addWidget(self.seed_label, 0, 1)
        options.addWidget(self.duration_picker, 1, 0)
        options.addLayout(seed_row, 1, 1)
        options.setColumnStretch(1, 1)

        # Everything above Generate scrolls when the window is shorter than it (ShortScroll):
        # the window then fits a small screen, Generate and its status line always in sight.
        self.form = QWidget(self)
        self.form.setObjectName("compose_form")
        layout = QVBoxLayout(self.form)
        layout.setContentsMargins(12, 12, 12, 0)
        layout.setSpacing(6)
        layout.addWidget(self.drop_zone, 3)
        layout.addWidget(self.image_hint)
        layout.addSpacing(6)
        layout.addLayout(prompt_head)
        layout.addWidget(self.prompt_edit, 2)
        layout.addSpacing(6)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_label)
        model_row.addWidget(self.model_picker, 1)
        layout.addLayout(model_row)
        layout.addSpacing(6)
        layout.addWidget(self.ratio_label)
        layout.addWidget(self.aspect_picker)
        layout.addSpacing(6)
        layout.addLayout(options)
        self.form_area = ShortScroll(self.form, self)
        self.form_area.setObjectName("compose_scroll")

        panel = QVBoxLayout(self)
        panel.setContentsMargins(0, 0, 0, 12)
        panel.setSpacing(0)
        panel.addWidget(self.form_area, 1)
        actions = QVBoxLayout()
        actions.setContentsMargins(12, 16, 12, 0)  # as the 6 + 10 px between them were
        actions.setSpacing(6)
        actions.addWidget(self.generate_button)
        actions.addWidget(self.status_label)
        panel.addLayout(actions)

        # Logical keyboard order, top to bottom.
        chain = [
            self.drop_zone,
            self.drop_zone.browse_button,
            self.drop_zone.clear_button,
            self.prompt_edit,
            self.model_picker,
            *self.aspect_picker.buttons(),
            *self.duration_picker.buttons(),
            self.seed_edit,
            self.lock_button,
            self.dice_button,
            self.generate_button,
            self.status_label,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    # -- public API -----------------------------------------------------------------------------
    def settings(self) -> GenerationSettings:
        """The current choices, with the first start image (if any)."""
        images = self.drop_zone.images()
        return self._settings_for(images[0] if images else None, self.seed())

    def apply_settings(self, settings: GenerationSettings, *, made_by: str = "") -> None:
        """Fill everything from an earlier generation, seed locked, to re-run or tweak it.

        Its frame goes back on its start image only if the file at that path is still the
        picture it was made from (when it recorded which); else the frame is centred and the
        status line says why. `made_by` names the generation there ("#12", "“clip.mp4”").
        """
        self._picture_check.cancel()
        self._reused_frame = None
        self._frame_note = ""
        self.set_model(settings.model)
        self._replace_prompt(settings.prompt)
        self._ratio_picked = True  # the earlier generation's ratio, not the image's shape
        spec = self.model()
        if settings.aspect_ratio in spec.aspect_ratios:  # else kept, and said (a hidden
            self.aspect_picker.set_value(settings.aspect_ratio)  # choice was chosen unseen)
        if settings.duration in spec.durations:
            self.duration_picker.set_value(str(settings.duration))
        self._settings_note = self._not_offered(settings, made_by)
        self._set_seed(settings.seed)
        self.lock_button.setChecked(True)
        source = settings.image_path or settings.image_url
        self.drop_zone.set_images([source] if source else [])
        path, fingerprint = settings.image_path, settings.image_source_sha256
        if settings.frame and path and fingerprint and self.drop_zone.images() == [path]:
            self._reused_frame = (settings.frame, made_by or self.tr("that generation"))
            self.drop_zone.set_frame(None)  # centred until the picture is known to be the one
            self._picture_check.start(path, fingerprint)
        else:
            self.drop_zone.set_frame(settings.frame)  # none recorded (older rows): as it was
        self._refresh()

    def _not_offered(self, settings: GenerationSettings, made_by: str) -> str:
        """What `settings` ask for that isn't offered here (a row brought in from apiframe
        may be of a model this app can't make), and what is used instead; "" when all is."""
        theirs, ours = [], []
        if self.model().id != settings.model:
            theirs.append(settings.model)
            ours.append(self.model().label)
        if self.aspect_picker.value() != settings.aspect_ratio:
            theirs.append(settings.aspect_ratio)
            ours.append(self.aspect_picker.value())
        if self.duration() != settings.duration:
            theirs.append(self.tr("{seconds} s").format(seconds=settings.duration))
            ours.append(self.tr("{seconds} s").format(seconds=self.duration()))
        if not theirs:
            return ""
        return self.tr("{made_by} was made with {theirs}, not offered here: {ours} instead."
                       ).format(made_by=made_by or self.tr("That generation"),
                                theirs=", ".join(theirs), ours=", ".join(ours))

    def _replace_prompt(self, text: str) -> None:
        """Put `text` in the prompt box as one edit Ctrl+Z takes back: what the person was
        typing is not lost (setPlainText forgot it, and the box's Undo with it)."""
        if text == self.prompt_edit.toPlainText():
            return
        cursor = QTextCursor(self.prompt_edit.document())
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        self.prompt_edit.moveCursor(QTextCursor.MoveOperation.End)

    def set_catalog(self, catalog: ModelCatalog) -> None:
        """The engine's models and prices (built in at first, then apiframe's /v2/models).
        A price of the chosen model and length that changes is said, not only shown."""
        current, seconds = self.model().id, self.duration()
        was = self.model().price(seconds)
        self._catalog = catalog
        self.model_picker.blockSignals(True)
        try:
            self._fill_models()
            self._select_model(current)
        finally:
            self.model_picker.blockSignals(False)
        self._apply_model()
        spec = self.model()
        now = spec.price(seconds)
        if spec.id == current and was is not None and now is not None and now != was:
            self._settings_note = self.tr(
                "{model}'s price changed: {seconds} s costs {price} credits now (was {was})."
            ).format(model=spec.label, seconds=seconds, price=self._number(now),
                     was=self._number(was))
            self._refresh()

    def catalog(self) -> ModelCatalog:
        return self._catalog

    def model(self) -> ModelSpec:
        """The chosen model's catalog entry."""
        chosen = self._catalog.get(str(self.model_picker.currentData()))
        return chosen or self._catalog.default

    def set_model(self, model_id: str) -> None:
        """Choose a model by id; one this catalog doesn't offer leaves the choice as it is."""
        if self._catalog.get(model_id) is not None:
            self._select_model(model_id)

    def set_balance(self, credits: int | None) -> None:
        self._balance = credits
        self._spoken.balance_read()
        self._refresh()

    def follow_generations(self, generations: Iterable[Generation]) -> None:
        """The history as the window starts showing it: what waits here to be sent is spoken
        for (Generate's "… left" and "Not enough credits" count it)."""
        self._spoken.reset(generations)
        self._refresh()

    def generation_changed(self, generation: Generation) -> None:
        if self._spoken.update(generation):
            self._refresh()

    def generation_removed(self, generation_id: int) -> None:
        if self._spoken.remove(generation_id):
            self._refresh()

    def balance(self) -> int | None:
        return self._balance

    def set_busy_hint(self, text: str) -> None:
        self._busy_hint = text
        self._refresh()

    def set_generate_enabled(self, enabled: bool, reason: str = "") -> None:
        """Let the window block Generate (e.g. no API key yet), saying why."""
        self._external_enabled = enabled
        self._external_reason = reason
        self._refresh()

    def seed(self) -> int:
        text = self.seed_edit.text()
        return int(text) if text.isdigit() else 0

    def seed_locked(self) -> bool:
        return self.lock_button.isChecked()

    def set_seed_locked(self, locked: bool) -> None:
        self.lock_button.setChecked(locked)

    def new_seed(self) -> None:
        self._set_seed(self._draw_seed())

    def duration(self) -> int:
        return int(self.duration_picker.value())

    def total_price(self) -> int | None:
        """Credits for everything Generate would start now; None when the catalog has no
        price for this model (apiframe charges what it charges)."""
        price = self.model().price(self.duration())
        return None if price is None else price * self._item_count()

    def generate_block_reason(self) -> str:
        """Why Generate is disabled now ("" when it is enabled)."""
        return self._blocked()[0]

    def _blocked(self) -> tuple[str, QWidget | None]:
        """Why Generate is disabled now ("" when it is enabled), and the field to fix, if any."""
        if not self._external_enabled:
            return (self._external_reason
                    or self.tr("Generating is not available right now."), None)
        if self._reused_frame is not None:  # a moment: the frame must not crop another picture
            return self.tr("Checking the start image…"), None
        prompt = self.prompt_edit.toPlainText().strip()
        if not has_visible_text(prompt):  # empty, or only zero-width marks apiframe refuses
            return self.tr("Write a prompt first."), self.prompt_edit
        limit = self.model().prompt_limit
        if (length := prompt_length(prompt)) > limit:
            over = length - limit
            text = (self.tr("The prompt is 1 character too long (limit {limit}).") if over == 1
                    else self.tr("The prompt is {over} characters too long (limit {limit})."))
            return text.format(over=self._number(over), limit=self._number(limit)), \
                self.prompt_edit
        if self.seed_edit.text() and not self.seed_edit.hasAcceptableInput():  # "" is random
            return self.tr("Enter a seed from {min} to {max}.").format(
                min=self.model().seed_range[0], max=self.model().max_seed), self.seed_edit
        return self._short_of_credits(), None

    def _have(self) -> int | None:
        """The balance, less what apiframe took since it was read (None: unknown)."""
        return self._spoken.have(self._balance, self._catalog)

    def _free(self) -> int | None:
        """The balance not spoken for by generations waiting here (None: unknown)."""
        return self._spoken.free(self._balance, self._catalog)

    def _waiting_need(self, spoken: int, have: int) -> str:
        count = self._spoken.count()
        text = (self.tr("1 generation not sent yet needs {spoken} of your {have} credits")
                if count == 1 else
                self.tr("{count} generations not sent yet need {spoken} of your {have} credits"))
        return text.format(count=self._number(count), spoken=self._number(spoken),
                           have=self._number(have))

    def _spoken_note(self) -> str:
        """Said under Generate when some of the balance is already spoken for."""
        have, spoken = self._have(), self._spoken.credits(self._catalog)
        if have is None or not spoken:
            return ""
        return self._waiting_need(spoken, have) + "."

    def _short_of_credits(self) -> str:
        """Why Generate waits when the balance not spoken for doesn't cover it, and what to do
        ("" if it does, or if a price or the balance is unknown)."""
        total, have = self.total_price(), self._have()
        spoken = self._spoken.credits(self._catalog) or 0  # one unknown: as before, this alone
        if total is None or have is None or have - spoken >= total:
            return ""
        if not spoken:
            need = self.tr("Not enough credits: this needs {need}, you have {have}.").format(
                need=self._number(total), have=self._number(have))
        else:
            need = self.tr("Not enough credits: this needs {need}, and {waiting}.").format(
                need=self._number(total), waiting=self._waiting_need(spoken, have))
        return " ".join((need, self._what_the_balance_makes(max(have - spoken, 0))))

    def _what_the_balance_makes(self, balance: int) -> str:
        """What to do when the balance is short: the longest video this model still makes,
        else another model's (as long first), else where credits come from. Prices are for
        everything Generate would start, as the need said before them is."""
        count, spec, duration = self._item_count(), self.model(), self.duration()

        def fits(model: ModelSpec, seconds: int) -> bool:
            price = model.price(seconds)
            return price is not None and price * count <= balance

        shorter = [d for d in spec.durations if d < duration and fits(spec, d)]
        if shorter:
            return self.tr("{seconds} s costs {price}.").format(
                seconds=max(shorter), price=self._number((spec.price(max(shorter)) or 0) * count))
        for other in self._catalog.models:
            if other.id == spec.id:
                continue
            made = sorted((d for d in other.durations if fits(other, d)),
                          key=lambda d: (d != duration, -d))
            if made:
                return self.tr("{model} {seconds} s costs {price}.").format(
                    model=other.label, seconds=made[0],
                    price=self._number((other.price(made[0]) or 0) * count))
        return self.tr("Top up your apiframe balance.")

    def _on_generate_keys(self) -> None:
        """Ctrl+Enter: Generate, unless the keys are typing into a field elsewhere in the
        window (a search box): a keystroke meant for it must not start a paid run."""
        focus = QApplication.focusWidget()
        typing = isinstance(focus, QLineEdit | QPlainTextEdit | QTextEdit | QAbstractSpinBox)
        if typing and focus is not None and not self.isAncestorOf(focus):
            return
        reason, field = self._blocked()
        if reason:
            # Not a silent nothing: a screen reader says why (the line under Generate shows
            # it), and the keys go where the fix is typed.
            if field is not None and not field.hasFocus():
                field.setFocus(Qt.FocusReason.ShortcutFocusReason)
            announce(self.status_label, reason)
            return
        self.generate()

    def generate(self) -> None:
        """Emit one settings item per start image; prompt and images stay for iterating."""
        if self.generate_block_reason():
            return
        if not self.seed_edit.text():
            # Empty means "random" (the placeholder says so): draw one and show it, so the
            # generation records the seed it used and a re-run reproduces it.
            self.new_seed()
        images: list[str | None] = list(self.drop_zone.images()) or [None]
        first_seed = self.seed()
        if self.seed_locked():
            seeds = [first_seed] * len(images)
        else:
            # The first item uses the seed on screen; the others get distinct fresh seeds.
            seeds = [first_seed]
            while len(seeds) < len(images):
                seed = self._draw_seed()
                if seed not in seeds:
                    seeds.append(seed)
        items = [
            self._settings_for(source, seed) for source, seed in zip(images, seeds, strict=True)
        ]
        self._settings_note = ""
        self.generate_requested.emit(items)
        if not self.seed_locked():
            self.new_seed()

    def state(self) -> dict[str, Any]:
        """Plain values the window keeps in QSettings between runs: what the person was
        composing (prompt, images, frame) survives a restart."""
        frame = self.drop_zone.frame()
        return {
            "model": self.model().id,
            "aspect_ratio": self.aspect_picker.value(),
            "ratio_picked": self._ratio_picked,
            "duration": self.duration(),
            "seed_locked": self.seed_locked(),
            "seed": self.seed(),
            "prompt": self.prompt_edit.toPlainText(),
            "images": self.drop_zone.images(),
            "frame": json.dumps(frame.to_json()) if frame else "",
            # The frame belongs to this very picture, not to whatever is at its path next time.
            "frame_picture": json.dumps(self.drop_zone.picture_stamp()) if frame else "",
        }

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """Tolerant of missing keys and of QSettings' strings ("true", "10")."""
        self.set_model(str(state.get("model", "")))
        spec = self.model()
        ratio = str(state.get("aspect_ratio", ""))
        if ratio in spec.aspect_ratios:
            self.aspect_picker.set_value(ratio)
        duration = _to_int(state.get("duration"))
        if duration in spec.durations:
            self.duration_picker.set_value(str(duration))
        locked = _to_bool(state.get("seed_locked", False))
        seed = _to_int(state.get("seed"))
        low, high = spec.seed_range
        if locked and seed is not None and low <= seed <= high:
            self._set_seed(seed)
        self.lock_button.setChecked(locked)
        prompt = state.get("prompt")
        if isinstance(prompt, str) and prompt:
            self.prompt_edit.setPlainText(prompt)
        self._ratio_picked = _to_bool(state.get("ratio_picked", False))
        images = state.get("images")
        if isinstance(images, str):  # QSettings gives a one-item list back as a string
            images = [images]
        if isinstance(images, list) and images:
            # Checked again: a file may have gone since; the drop zone says so if it has.
            self.drop_zone.set_images([str(source) for source in images])
            if _stored_stamp(state.get("frame_picture")) == self.drop_zone.picture_stamp():
                self.drop_zone.set_frame(_stored_frame(state.get("frame")))
        self._settings_note = ""  # what moved on the way was no choice of the person's
        self._refresh()

    # -- internals ----------------------------------------------------------------------------
    def _settings_for(self, source: str | None, seed: int) -> GenerationSettings:
        url = source if source and is_web_url(source) else None
        images = self.drop_zone.images()
        # The frame belongs to the one picture shown; a batch goes with Runway's centre crop.
        frame = self.drop_zone.frame() if images == [source] else None
        # The picture the frame was chosen on: if another version is saved over it before the
        # upload, the engine stops rather than crop it blindly.
        shown = self.drop_zone.fingerprint(source) if frame is not None and source else None
        return GenerationSettings(
            prompt=self.prompt_edit.toPlainText().strip(),
            duration=self.duration(),
            aspect_ratio=self.aspect_picker.value(),
            seed=seed,
            image_path=None if url else source,
            image_url=url,
            model=self.model().id,
            frame=frame,
            image_source_sha256=shown,
        )

    def _draw_seed(self) -> int:
        low, high = self.model().seed_range
        return self._rng.randint(low, high)

    # -- the model and what it offers ---------------------------------------------------------
    def _fill_models(self) -> None:
        self.model_picker.clear()
        for spec in self._catalog.models:  # the catalog's order: Gen-4 Turbo first
            self.model_picker.addItem(spec.label, spec.id)
            if spec.description:
                index = self.model_picker.count() - 1
                self.model_picker.setItemData(index, spec.description,
                                              Qt.ItemDataRole.ToolTipRole)

    def _select_model(self, model_id: str) -> None:
        index = self.model_picker.findData(model_id)
        self.model_picker.setCurrentIndex(max(index, 0))

    def _add_duration(self, seconds: int) -> None:
        self.duration_picker.add_choice(
            str(seconds),
            self.tr("{seconds} s").format(seconds=seconds),
            "",
            self.tr("{seconds} seconds").format(seconds=seconds),
        )

    def _say_what_moved(self, spec: ModelSpec, ratio: str, duration: str) -> None:
        """A ratio the person picked or a length this model doesn't take moved to the nearest
        it does: said under Generate, not changed unseen."""
        theirs, ours = [], []
        if ratio and ratio not in spec.aspect_ratios:
            theirs.append(ratio)
            ours.append(self.aspect_picker.value())
        if duration and duration != self.duration_picker.value():
            theirs.append(self.tr("{seconds} s").format(seconds=duration))
            ours.append(self.tr("{seconds} s").format(seconds=self.duration_picker.value()))
        if theirs:
            self._settings_note = self.tr("{model} has no {theirs}: {ours} instead.").format(
                model=spec.label, theirs=", ".join(theirs), ours=", ".join(ours))

    def _on_choice_picked(self, _key: str) -> None:
        self._settings_note = ""  # the person chose: what moved before is past
        self._refresh()

    def _on_model_changed(self, _index: int) -> None:
        self._settings_note = ""  # the person chose: what re-used settings lacked is past
        self._apply_model()

    def _apply_model(self) -> None:
        """Offer what the chosen model takes: its ratios, durations (priced), seeds, prompt."""
        spec = self.model()
        offered = self.aspect_picker.keys()
        for ratio in spec.aspect_ratios:
            if ratio not in offered:
                self.aspect_picker.add_ratio(ratio)
        # A ratio this model hasn't: the nearest it has, not its first (a portrait must not
        # turn landscape); while the person hasn't picked one, the picture's nearest.
        shown = self.aspect_picker.value()
        chosen_before = (shown if self._ratio_picked else "", self.duration_picker.value())
        self.aspect_picker.set_available(spec.aspect_ratios, fallback=framing.nearest_ratio(
            ratio_shape(shown) if shown else (16, 9), spec.aspect_ratios))
        if self.drop_zone.canvas.image_size.isValid():
            self._follow_image_ratio(self.drop_zone.canvas.image_size)
        offered = self.duration_picker.keys()
        for seconds in spec.durations:
            if str(seconds) not in offered:
                self._add_duration(seconds)
        self.duration_picker.set_available([str(d) for d in spec.durations],
                                           fallback=str(spec.default_duration))
        self._say_what_moved(spec, *chosen_before)
        for seconds in spec.durations:
            price = spec.price(seconds)
            self.duration_picker.button(str(seconds)).setToolTip(
                self.tr("{seconds} seconds · {price} credits").format(
                    seconds=seconds, price=self._number(price))
                if price is not None
                else self.tr("{seconds} seconds · price unknown").format(seconds=seconds)
            )
        self.model_picker.setToolTip(spec.description or spec.label)
        self.prompt_edit.setToolTip(
            self.tr("What should happen in the video (up to {limit} characters)").format(
                limit=spec.prompt_limit
            )
        )
        low, high = spec.seed_range
        self.seed_validator.maximum = high
        self.seed_edit.setToolTip(
            self.tr(
                "The same seed with the same settings gives a similar video ({min} – {max})"
            ).format(min=low, max=high)
        )
        # A seed out of this model's range stays: Generate says which seeds the model takes.
        self._refresh()

    def _set_seed(self, seed: int) -> None:
        self.seed_edit.setText(str(seed))

    def _item_count(self) -> int:
        return max(1, len(self.drop_zone.images()))

    def _number(self, value: int) -> str:
        return self.locale().toString(value)

    def _on_seed_edited(self) -> None:
        if not self.seed_edit.text():
            self.new_seed()  # an emptied field means "any seed"

    def _on_lock_toggled(self, locked: bool) -> None:
        self.lock_button.setToolTip(
            self.tr("Seed locked: every Generate uses this seed. Click to unlock.")
            if locked
            else self.tr("Seed unlocked: a new random seed is drawn after each Generate.")
        )
        self._refresh()

    def _on_ratio_picked(self, ratio: str) -> None:
        self._ratio_picked = True
        self._on_choice_picked(ratio)

    def _follow_image_ratio(self, size: QSize) -> None:
        """Until the person picks a ratio, it follows the image: the nearest the model has."""
        if self._ratio_picked:
            return
        ratio = framing.nearest_ratio((size.width(), size.height()), self.model().aspect_ratios)
        if ratio is not None and ratio != self.aspect_picker.value():
            self.aspect_picker.set_value(ratio)

    def _on_images_changed(self, images: list[str]) -> None:
        self.image_hint.setVisible(not images)
        self._picture_check.cancel()  # another picture: no re-used frame (or note) for it
        self._reused_frame = None
        self._frame_note = ""
        self._refresh()

    def _on_picture_checked(self, path: str, same: bool | None) -> None:
        reused, self._reused_frame = self._reused_frame, None
        if reused is None or self.drop_zone.images() != [path]:
            self._refresh()
            return
        frame, made_by = reused
        if same:
            if not self.drop_zone.canvas.editor.is_moved():  # the person may have moved it
                self.drop_zone.set_frame(frame)
        elif same is None:
            self._frame_note = self.tr(
                "The start image at {path} can't be read to check it is the one {made_by} was "
                "made from: its framing was reset.").format(path=path, made_by=made_by)
        else:
            self._frame_note = self.tr(
                "The start image at {path} has changed since {made_by} was made: its framing "
                "was reset.").format(path=path, made_by=made_by)
        self._refresh()

    def _refresh(self) -> None:
        # Counted as Runway counts it (UTF-16 units: an emoji is 2), against this model's limit.
        length = prompt_length(self.prompt_edit.toPlainText().strip())
        limit = self.model().prompt_limit
        self.counter_label.setText(
            self.tr("{count} / {limit}").format(
                count=self._number(length), limit=self._number(limit)
            )
        )
        counter_palette = self.counter_label.palette()
        counter_palette.setColor(
            QPalette.ColorRole.WindowText,
            error_text_color(self.palette())
            if length > limit
            else self.palette().color(QPalette.ColorRole.PlaceholderText),
        )
        self.counter_label.setPalette(counter_palette)

        count = self._item_count()
        total = self.total_price()
        if total is None:
            price_text = self.tr("price unknown")
        else:
            price_text = self.tr("{price} credits").format(price=self._number(total))
        if count > 1:
            text = self.tr("Generate {count} · {price}").format(count=count, price=price_text)
        else:
            text = self.tr("Generate · {price}").format(price=price_text)
        free = self._free()
        if total is not None and free is not None and free >= total:
            text += " · " + self.tr("{left} left").format(left=self._number(free - total))
        self.generate_button.setText(text)

        reason = self.generate_block_reason()
        unpriced = "" if total is not None else self.tr(
            "Price from apiframe unavailable: apiframe charges its current price.")
        self.generate_button.setEnabled(not reason)
        self.status_label.setFocusPolicy(
            Qt.FocusPolicy.TabFocus if reason else Qt.FocusPolicy.NoFocus)
        if not reason and self.status_label.hasFocus():  # Generate takes its place
            self.generate_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.generate_button.setToolTip(
            reason or unpriced or self.tr("Start the generation (Ctrl+Enter)"))
        # Its accessible name is "Generate": a screen reader hears its words (how many, the
        # price, what is left) here, and why it waits.
        spoken = self._spoken_note()
        self.generate_button.setAccessibleDescription(
            " ".join(part for part in (text + ".", reason or unpriced or spoken) if part))
        told = " ".join(text for text in (reason, self._settings_note, self._frame_note) if text)
        self.status_label.set_message(told or self._busy_hint or unpriced or spoken)
        # The line is drawn in its placeholder role: an error colour set elsewhere never showed.
        # Red only for the credits (a prompt to write is a hint, short of credits or not).
        self.status_label.setForegroundRole(
            QPalette.ColorRole.WindowText if reason and reason == self._short_of_credits()
            else QPalette.ColorRole.PlaceholderText)
        status_palette = self.status_label.palette()
        status_palette.setColor(QPalette.ColorRole.WindowText, error_text_color(self.palette()))
        self.status_label.setPalette(status_palette)

    def _refresh_icons(self) -> None:
        dpr = self.devicePixelRatioF()
        self.lock_button.setIcon(lock_icon(self.palette(), dpr))
        self.dice_button.setIcon(dice_icon(self.palette(), dpr))
        self.generate_button.setIcon(
            icons.icon("sparkles", self.palette(), QPalette.ColorRole.HighlightedText))

    def _apply_primary_palette(self) -> None:
        # Generate is the one primary action: give it the theme's highlight colours.
        base = self.palette()
        palette = self.generate_button.palette()
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            palette.setColor(
                group, QPalette.ColorRole.Button, base.color(group, QPalette.ColorRole.Highlight)
            )
            palette.setColor(
                group,
                QPalette.ColorRole.ButtonText,
                base.color(group, QPalette.ColorRole.HighlightedText),
            )
        disabled = QColor(base.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, disabled)
        self.generate_button.setPalette(palette)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.prompt_edit.setFocus(event.reason())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._refresh_icons()
            self._apply_primary_palette()
            self._refresh()
        super().changeEvent(event)


def announce(widget: QWidget, text: str) -> None:
    """Say `text` to a screen reader now, wherever the focus is (Qt's announcement: AT-SPI on
    Linux, UI Automation's notification on Windows, NSAccessibility on macOS)."""
    event = QAccessibleAnnouncementEvent(widget, text)
    event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)


def _to_int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _stored_frame(value: object) -> ImageFrame | None:
    try:
        return ImageFrame.from_json(json.loads(value)) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _stored_stamp(value: object) -> list[int] | None:
    """The picture stamp `state` wrote (DropZone.picture_stamp), or None."""
    try:
        stamp = json.loads(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
    if isinstance(stamp, list) and all(isinstance(v, int) for v in stamp):
        return stamp
    return None


def _to_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def clipboard_holds_image() -> bool:
    """Image data, or image files, on the clipboard (plain text stays a prompt paste)."""
    mime = QGuiApplication.clipboard().mimeData()
    if mime is None:
        return False
    if mime.hasImage():
        return True
    return mime.hasUrls() and any(url.isLocalFile() for url in mime.urls())


def ratio_shape(ratio: str) -> tuple[int, int]:
    """'16:9' → (16, 9)."""
    width, height = (int(part) for part in ratio.split(":"))
    return width, height

