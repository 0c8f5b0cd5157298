"""The preview player: a finished generation's thumbnail, then its video, with simple controls.

QtMultimedia loads when the first video is shown (`player` is made on first use): the window's
first paint does not wait for the media backend.

The picture is fitted to the player's area, aspect kept, for every ratio (`picture_rect` says
where it is painted). The player only asks for full screen (button, double-click, F11 while
full screen, Esc to leave) and for the previous or next result (Left/Right, K/J): the stage
(ui/stage.py) decides what that means.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHideEvent,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStackedLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.ui import icons
from runway_desktop.ui.palette_colours import error_text_color, shade_color
from runway_desktop.ui.sharp_poster import SharpPoster

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
    from PySide6.QtMultimediaWidgets import QVideoWidget


def fitted(box: QRect, size: QSize) -> QRect:
    """The largest rectangle of `size`'s aspect centred in `box` (`box` if `size` is empty)."""
    if size.isEmpty() or box.isEmpty():
        return QRect(box)
    scaled = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    x = box.x() + (box.width() - scaled.width()) // 2
    y = box.y() + (box.height() - scaled.height()) // 2
    return QRect(x, y, scaled.width(), scaled.height())


def format_time(ms: int) -> str:
    """0:07, 1:05, 1:02:03."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _PosterView(QWidget):
    """The thumbnail scaled to fit (letterboxed), or a short message when there is none."""

    clicked = Signal()
    double_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixmap: QPixmap | None = None
        self.text = ""
        self.heading = ""  # set: the inviting empty state (an icon, a heading, `text`)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_content(self, pixmap: QPixmap | None, text: str, heading: str = "") -> None:
        self.pixmap = pixmap if pixmap is not None and not pixmap.isNull() else None
        self.text = text
        self.heading = heading
        self.update()

    def picture_rect(self) -> QRect:
        """Where the thumbnail is painted (letterboxed like the video); empty without one."""
        if self.pixmap is None:
            return QRect()
        return fitted(self.rect(), self.pixmap.deviceIndependentSize().toSize())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit()
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.double_clicked.emit()
        event.accept()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        if self.pixmap is not None:
            # Letterbox like the video surface will, so the switch to video does not jump.
            painter.fillRect(self.rect(), shade_color(palette))
            painter.drawPixmap(self.picture_rect(), self.pixmap)
            self._paint_play_glyph(painter, palette)
        elif self.heading:
            self._paint_empty_state(painter, palette)
        else:
            painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.AlternateBase))
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.rect().adjusted(24, 24, -24, -24),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.text,
            )
        painter.end()

    def _paint_empty_state(self, painter: QPainter, palette: QPalette) -> None:
        """Nothing to show yet: a quiet stage that says what will appear here and how."""
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Window))
        border = QColor(palette.color(QPalette.ColorRole.Mid))
        border.setAlphaF(0.6)
        painter.setPen(border)
        painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 12, 12)
        size = max(24, min(64, self.height() // 5))
        heading_font = QFont(self.font())
        heading_font.setPointSizeF(max(heading_font.pointSizeF(), 9) * 1.35)
        heading_font.setBold(True)
        heading_height = QFontMetrics(heading_font).height()
        width = min(self.width() - 48, 420)
        text_box = QRect(0, 0, width, self.height())
        text_height = self.fontMetrics().boundingRect(
            text_box, int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap),
            self.text).height()
        top = (self.height() - (size + 16 + heading_height + 8 + text_height)) // 2
        left = (self.width() - width) // 2
        accent = palette.color(QPalette.ColorRole.Accent)
        painter.drawPixmap((self.width() - size) // 2, top, icons.pixmap(
            "clapperboard", accent, size, self.devicePixelRatioF()))
        top += size + 16
        painter.setFont(heading_font)
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        painter.drawText(QRect(left, top, width, heading_height),
                         Qt.AlignmentFlag.AlignCenter, self.heading)
        top += heading_height + 8
        painter.setFont(self.font())
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(QRect(left, top, width, text_height),
                         Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap, self.text)

    def _paint_play_glyph(self, painter: QPainter, palette: QPalette) -> None:
        # A round "play" mark over the thumbnail: says "this is a video, press play".
        radius = min(28.0, min(self.width(), self.height()) / 6)
        centre = QRectF(self.rect()).center()
        disc = shade_color(palette)
        disc.setAlphaF(0.55)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(disc)
        painter.drawEllipse(centre, radius, radius)
        mark = QColor(palette.color(QPalette.ColorRole.Light))
        painter.setBrush(mark)
        r = radius * 0.45
        painter.drawPolygon(
            [
                QPointF(centre.x() - r * 0.6, centre.y() - r),
                QPointF(centre.x() - r * 0.6, centre.y() + r),
                QPointF(centre.x() + r, centre.y()),
            ]
        )


class PreviewPlayer(QWidget):
    """Shows a finished generation: thumbnail first, the video once playback starts."""

    _PAGE_POSTER = 0
    _PAGE_VIDEO = 1

    full_screen_requested = Signal()  # toggle: the stage enters or leaves full screen
    step_requested = Signal(int)  # -1: the previous result, +1: the next one

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Preview"))
        # Focusable, so its keys (Space, Left/Right, J/K) work once it is clicked.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # The style sheet draws its focus ring (a plain QWidget draws none without this).
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._video_path: str | None = None
        self._thumbnail: QPixmap | None = None
        self._released = True
        self._full_screen = False
        self._moving = False  # between two parents (full screen): keep the media loaded

        # Made on first use (the `player` property), with the video widget.
        self._player: QMediaPlayer | None = None
        self.video_widget: QVideoWidget | None = None
        # Made on first play: creating it connects to the sound server, which costs time
        # and logs a warning on machines without one (CI) even if nothing is ever played.
        self.audio_output: QAudioOutput | None = None
        self._muted = False

        self.poster = _PosterView(self)
        self.poster.setAccessibleName(self.tr("Thumbnail"))
        self._sharp_poster = SharpPoster(self)  # the thumbnail, then the first frame
        self._sharp_poster.ready.connect(self._on_first_frame)
        self.stage = QWidget(self)
        self.stage.setMinimumSize(QSize(240, 135))
        self._stack = QStackedLayout(self.stage)
        self._stack.addWidget(self.poster)

        self.caption_label = QLabel(self)
        self.caption_label.setWordWrap(True)
        self.caption_label.setTextFormat(Qt.TextFormat.PlainText)
        self.caption_label.setAccessibleDescription(self.tr("Caption"))  # read: its words
        self.caption_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setAccessibleDescription(self.tr("Playback problem"))
        self.error_label.hide()

        self.play_button = QToolButton(self)
        self.play_button.setAccessibleName(self.tr("Play"))
        self.play_button.setToolTip(self.tr("Play (Space)"))
        self.play_button.clicked.connect(self.toggle_playback)

        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, 0)
        self.slider.setAccessibleName(self.tr("Position"))
        self.slider.setToolTip(self.tr("Drag to move through the video"))
        self.slider.sliderMoved.connect(self._on_slider_moved)
        self.slider.actionTriggered.connect(self._on_slider_action)

        self.time_label = QLabel(self)
        self.time_label.setAccessibleDescription(self.tr("Elapsed and total time"))
        self.time_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # Fixed width for "0:00 / 0:00" so the slider does not jitter as digits change.
        self.time_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("00:00 / 00:00") + 4)

        self.loop_button = QToolButton(self)
        self.loop_button.setCheckable(True)
        self.loop_button.setChecked(True)
        self.loop_button.setText(self.tr("Loop"))
        self.loop_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.loop_button.setAccessibleName(self.tr("Loop"))
        self.loop_button.setToolTip(self.tr("Play the video over and over (L)"))
        self.loop_button.toggled.connect(self._on_loop_toggled)

        self.mute_button = QToolButton(self)
        self.mute_button.setCheckable(True)
        self.mute_button.setAccessibleName(self.tr("Mute"))
        self.mute_button.setToolTip(self.tr("Mute the sound (M)"))
        self.mute_button.toggled.connect(self._on_mute_toggled)
        self._on_mute_toggled(False)

        self.full_screen_button = QToolButton(self)
        self.full_screen_button.setCheckable(True)
        self.full_screen_button.setAccessibleName(self.tr("Full screen"))
        self.full_screen_button.clicked.connect(lambda _on: self.full_screen_requested.emit())

        # The position bar runs the stage's whole width (buttons other parts add never
        # squeeze it); the buttons sit under it: play and time left, the rest right.
        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(self.play_button)
        controls.addWidget(self.time_label)
        controls.addStretch(1)
        controls.addWidget(self.loop_button)
        controls.addWidget(self.mute_button)
        controls.addWidget(self.full_screen_button)
        self._controls = controls

        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(6)
        layout.addWidget(self.stage, 1)
        layout.addWidget(self.slider)
        layout.addLayout(controls)
        layout.addWidget(self.caption_label)
        layout.addWidget(self.error_label)

        self._space = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self._space.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._space.activated.connect(self.toggle_playback)
        self._space.setWhatsThis(self.tr("Play or pause"))  # Help ▸ Keyboard Shortcuts
        # The buttons' keys: L loops, M mutes (the toggles' own state says which is on).
        for key, button, text in ((Qt.Key.Key_L, self.loop_button, self.tr("Loop on or off")),
                                  (Qt.Key.Key_M, self.mute_button, self.tr("Sound on or off"))):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setWhatsThis(text)
            shortcut.activated.connect(button.toggle)
        # Previous / next result. (The slider's own arrow keys give way: PageUp/PageDown and
        # dragging still move through the video.) K and J only while full screen: in the window
        # its View menu has them, and two shortcuts on one key would both go dead (ambiguous).
        self._full_screen_keys: list[QShortcut] = []
        for keys, step in (((Qt.Key.Key_Left, Qt.Key.Key_K), -1),
                           ((Qt.Key.Key_Right, Qt.Key.Key_J), 1)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.setWhatsThis(self.tr("Previous result") if step < 0
                                      else self.tr("Next result"))
                shortcut.activated.connect(lambda s=step: self.step_requested.emit(s))
                if key in (Qt.Key.Key_K, Qt.Key.Key_J):
                    self._full_screen_keys.append(shortcut)
        # Only while full screen (the window has its own F11 otherwise: two would clash).
        self._leave_keys = []
        for key in (Qt.Key.Key_Escape, Qt.Key.Key_F11):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setEnabled(False)
            shortcut.setWhatsThis(self.tr("Leave full screen"))
            shortcut.activated.connect(self.full_screen_requested)
            self._leave_keys.append(shortcut)
        self.poster.clicked.connect(self._on_picture_clicked)
        self.poster.double_clicked.connect(self.full_screen_requested)
        self._apply_error_palette()
        self.set_full_screen(False)  # its look and icons
        self.clear()

    @property
    def player(self) -> QMediaPlayer:
        """The media player, with its video surface; QtMultimedia loads on the first call."""
        if self._player is None:
            from PySide6.QtMultimedia import QMediaPlayer
            from PySide6.QtMultimediaWidgets import QVideoWidget

            player = QMediaPlayer(self)
            video = QVideoWidget(self)
            video.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the player keeps the keys
            video.setAccessibleName(self.tr("Video"))
            video.setToolTip(self.tr("Click or press Space to play or pause"))
            player.setVideoOutput(video)
            player.setLoops(
                QMediaPlayer.Loops.Infinite
                if self.loop_button.isChecked()
                else QMediaPlayer.Loops.Once
            )
            self._stack.addWidget(video)  # page 1 (_PAGE_VIDEO), after the poster
            video.installEventFilter(self)
            player.playbackStateChanged.connect(self._on_state_changed)
            player.positionChanged.connect(self._on_position_changed)
            player.durationChanged.connect(self._on_duration_changed)
            player.errorOccurred.connect(self._on_error)
            self._player, self.video_widget = player, video
        return self._player

    # -- public API -----------------------------------------------------------------------------
    def show_item(self, video_path: str | None, thumbnail_path: str | None, caption: str) -> None:
        """Load an item without playing it: the thumbnail shows until playback starts."""
        if self._player is not None:
            self._player.stop()
        self._hide_error()
        self._sharp_poster.load(None)  # the last row's decode, if still going, is not wanted
        self.caption_label.setText(caption)
        self.caption_label.setVisible(bool(caption) and not self._full_screen)
        self._thumbnail = QPixmap(thumbnail_path) if thumbnail_path else None
        if self._thumbnail is not None and self._thumbnail.isNull():
            self._thumbnail = None
        self._video_path = video_path
        if not video_path:
            self._release()
            self._show_poster()
            self._set_controls_enabled(False)
            return
        if not Path(video_path).is_file():
            self._release()
            self._video_path = None
            self._show_poster()
            self._set_controls_enabled(False)
            self._show_error(self.tr("The video file is missing: {path}").format(path=video_path))
            return
        self._load()
        self._show_poster()
        self._sharp_poster.load(video_path)
        self._set_controls_enabled(True)

    def clear(self) -> None:
        self.show_item(None, None, "")

    def add_control(self, widget: QWidget) -> None:
        """Another part's button (Extend, Export) in the controls row, before full screen;
        in the tab order there too (made later, it came last in the window's chain)."""
        at = self._controls.indexOf(self.full_screen_button)
        self._controls.insertWidget(at, widget)
        before = next((item.widget() for i in range(at - 1, -1, -1)
                       if (item := self._controls.itemAt(i)) is not None and item.widget()),
                      None)
        if before is not None:
            QWidget.setTabOrder(before, widget)
        QWidget.setTabOrder(widget, self.full_screen_button)

    def position_ms(self) -> int:
        """Where the shown video is now, in milliseconds (0 before it is loaded)."""
        return self.slider.value()

    def video_path(self) -> str | None:
        return self._video_path

    def play(self) -> None:
        if not self._video_path:
            return
        if self._released:
            self._load()
        if self._unplayable() or (
                self.player.mediaStatus() == self.player.MediaStatus.InvalidMedia):
            return  # the error is already on screen
        self._ensure_audio()
        self.player.play()

    def pause(self) -> None:
        if self._player is not None:
            self._player.pause()

    def toggle_playback(self) -> None:
        player = self._player
        if player is not None and player.playbackState() == player.PlaybackState.PlayingState:
            self.pause()
        else:
            self.play()

    def is_muted(self) -> bool:
        return self._muted

    def error_text(self) -> str:
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def showing_video(self) -> bool:
        return self._stack.currentIndex() == self._PAGE_VIDEO

    def is_playing(self) -> bool:
        player = self._player
        return player is not None and player.playbackState() == player.PlaybackState.PlayingState

    def picture_rect(self) -> QRect:
        """Where the picture (video frame or thumbnail) is painted, in this widget's
        coordinates; empty when there is none."""
        if self.showing_video() and self.video_widget is not None:
            video = self.video_widget
            size = video.videoSink().videoSize() if video.videoSink() is not None else QSize()
            box = QRect(video.mapTo(self, video.rect().topLeft()), video.size())
            return fitted(box, size) if size.isValid() else box
        rect = self.poster.picture_rect()
        return rect.translated(self.poster.mapTo(self, rect.topLeft()) - rect.topLeft())

    def is_full_screen(self) -> bool:
        return self._full_screen

    def set_full_screen(self, on: bool) -> None:
        """Full-screen look (no margins, no caption) and keys (Esc, F11 leave; K, J step); the
        stage moves the player itself."""
        self._full_screen = on
        margin = 0 if on else 12
        self._layout.setContentsMargins(margin, margin, margin, 0 if on else margin)
        self.caption_label.setVisible(bool(self.caption_label.text()) and not on)
        for shortcut in (*self._leave_keys, *self._full_screen_keys):
            shortcut.setEnabled(on)
        self.full_screen_button.setChecked(on)
        self.full_screen_button.setToolTip(
            self.tr("Leave full screen (Esc)") if on
            else self.tr("Full screen (F11 or double-click); Left/Right: previous/next result")
        )
        self._apply_cinema_look(on)
        self._refresh_icons()

    def _apply_cinema_look(self, on: bool) -> None:
        """Full screen is a cinema whatever the window's scheme: black around the picture and
        under the controls, light text and icons (the palette here; the style sheet's
        `PreviewPlayer[cinema="true"]` rules for the buttons)."""
        if on == bool(self.property("cinema")):
            return  # as it is (the window's look at the start costs nothing)
        self.setProperty("cinema", on)
        style = self.style()
        for widget in (self, *self.findChildren(QWidget)):  # the style sheet's rules
            style.unpolish(widget)
            style.polish(widget)
        # Black and light while full screen; the window's own colours otherwise.
        if not on:
            self.setPalette(QPalette())  # the window's colours again
        else:
            palette = QPalette(self.palette())
            for role, colour in ((QPalette.ColorRole.Window, "#000000"),
                                 (QPalette.ColorRole.WindowText, "#e8e8ec"),
                                 (QPalette.ColorRole.ButtonText, "#e8e8ec"),
                                 (QPalette.ColorRole.PlaceholderText, "#a2a6b2"),
                                 (QPalette.ColorRole.Button, "#2a2c33")):
                palette.setColor(role, QColor(colour))
            self.setPalette(palette)
        self.setAutoFillBackground(on)

    @contextlib.contextmanager
    def moving(self) -> Iterator[None]:
        """Hide and show the player (a new parent) without dropping the video or its place."""
        self._moving = True
        try:
            yield
        finally:
            self._moving = False

    # -- internals ------------------------------------------------------------------------------
    def _ensure_audio(self) -> None:
        if self.audio_output is None:
            from PySide6.QtMultimedia import QAudioOutput

            self.audio_output = QAudioOutput(self)
            self.audio_output.setMuted(self._muted)
            self.player.setAudioOutput(self.audio_output)

    def _load(self) -> None:
        assert self._video_path is not None
        self._released = False
        if self._unplayable():
            return
        self.player.setSource(QUrl.fromLocalFile(self._video_path))

    def _unplayable(self) -> bool:
        """QtMultimedia has no backend here: say so, instead of a preview that stays blank."""
        from runway_desktop.engine.video.backend import unavailable_reason

        reason = unavailable_reason(self.player)
        if reason is not None:
            self._show_error(self.tr(
                "Videos can't be played here: {0}. The video itself is saved: Open File "
                "plays it in another player.").format(reason))
        return reason is not None

    def _release(self) -> None:
        """Stop and drop the media so the file and decoder are freed."""
        self._released = True
        if self._player is None:
            return  # nothing was ever loaded
        self._player.stop()
        if not self._player.source().isEmpty():
            self._player.setSource(QUrl())
        self._on_duration_changed(0)

    def _on_first_frame(self, video: str, image: QImage) -> None:
        """The video's first frame, sharp where the thumbnail was stretched."""
        if video != self._video_path or image.isNull():
            return  # another row's by now
        self._thumbnail = QPixmap.fromImage(image)
        if self._stack.currentIndex() == self._PAGE_POSTER:
            self._show_poster()

    def _show_poster(self) -> None:
        if self._video_path:
            self.poster.set_content(self._thumbnail, self.tr("Press Space or click to play"))
        else:
            self.poster.set_content(None, self.tr(
                "Drop a start image, describe the motion and press Generate (Ctrl+Enter). "
                "Select a finished video in the queue or the gallery to watch it here."),
                heading=self.tr("Your videos play here"))
        self._stack.setCurrentIndex(self._PAGE_POSTER)

    def _set_controls_enabled(self, enabled: bool) -> None:
        for widget in (self.play_button, self.slider):
            widget.setEnabled(enabled)

    def _on_state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == self.player.PlaybackState.PlayingState
        self.play_button.setIcon(icons.icon("pause" if playing else "play", self.palette()))
        self.play_button.setAccessibleName(self.tr("Pause") if playing else self.tr("Play"))
        self.play_button.setToolTip(
            self.tr("Pause (Space)") if playing else self.tr("Play (Space)")
        )
        if playing:
            self._stack.setCurrentIndex(self._PAGE_VIDEO)
        elif state == self.player.PlaybackState.StoppedState:
            self._show_poster()

    def _on_position_changed(self, position: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(position)
        self._update_time(position)

    def _on_duration_changed(self, duration: int) -> None:
        self.slider.setRange(0, max(0, duration))
        self.slider.setPageStep(max(1000, duration // 10))
        self._update_time(self._player.position() if duration and self._player else 0)

    def _update_time(self, position: int) -> None:
        total = self._player.duration() if self._player is not None else 0
        self.time_label.setText(
            self.tr("{elapsed} / {total}").format(
                elapsed=format_time(position), total=format_time(total)
            )
        )

    def _on_slider_moved(self, position: int) -> None:
        if self._player is not None:
            self._player.setPosition(position)

    def _on_slider_action(self, _action: int) -> None:
        # Clicks on the groove and arrow keys: follow the slider's new position.
        self._on_slider_moved(self.slider.sliderPosition())

    def _on_loop_toggled(self, on: bool) -> None:
        if self._player is not None:
            loops = self._player.Loops
            self._player.setLoops(loops.Infinite if on else loops.Once)

    def _on_mute_toggled(self, muted: bool) -> None:
        self._muted = muted
        if self.audio_output is not None:
            self.audio_output.setMuted(muted)
        self.mute_button.setIcon(icons.icon("volume-x" if muted else "volume-2", self.palette()))
        self.mute_button.setToolTip(
            self.tr("Turn the sound on (M)") if muted else self.tr("Mute the sound (M)")
        )

    def _on_error(self, error: QMediaPlayer.Error, text: str) -> None:
        if error == self.player.Error.NoError:
            return
        self._show_poster()
        self._set_controls_enabled(False)
        self._show_error(
            self.tr("This video can't be played: {reason}").format(
                reason=text or self.tr("unknown error")
            )
        )

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _hide_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def _apply_error_palette(self) -> None:
        palette = self.error_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, error_text_color(self.palette()))
        self.error_label.setPalette(palette)

    # -- Qt events ------------------------------------------------------------------------------
    def _on_picture_clicked(self) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.toggle_playback()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.video_widget is not None and watched is self.video_widget:
            if event.type() == QEvent.Type.MouseButtonRelease:
                self._on_picture_clicked()
                return True
            if event.type() == QEvent.Type.MouseButtonDblClick:
                self.full_screen_requested.emit()
                return True
        return super().eventFilter(watched, event)

    def hideEvent(self, event: QHideEvent) -> None:
        # Hidden (tab switched, window closed): free the decoder and the file handle.
        if self._video_path and not self._released and not self._moving:
            self._release()
            self._show_poster()
        super().hideEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        if self._video_path and self._released and not self._moving:
            self._load()
        super().showEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_error_palette()
            self._refresh_icons()
        super().changeEvent(event)

    def _refresh_icons(self) -> None:
        """The controls' icons in this palette's colours (light or dark)."""
        palette = self.palette()
        self.play_button.setIcon(icons.icon("pause" if self.is_playing() else "play", palette))
        self.loop_button.setIcon(icons.icon("repeat", palette))
        self.mute_button.setIcon(icons.icon("volume-x" if self._muted else "volume-2", palette))
        self.full_screen_button.setIcon(
            icons.icon("minimize" if self._full_screen else "maximize", palette))
