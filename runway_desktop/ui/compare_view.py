"""Two finished results side by side, played, paused and moved through together.

`CompareView` is a window of its own with one player per result and one set of controls. The
longer video leads: the slider follows it, the other is pulled back into step whenever it
drifts, and looping restarts both at once (so two clips of different lengths stay aligned from
their first frame). No sound: two soundtracks at once help nobody judge a picture.

It loads QtMultimedia: `compare_command` (what the window imports) loads this module only when
a comparison opens.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, QUrl
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.engine.records import Generation
from runway_desktop.engine.video.backend import unavailable_reason
from runway_desktop.ui import icons
from runway_desktop.ui.compare_command import COMPARE_WINDOW_KEYS
from runway_desktop.ui.preview import format_time
from runway_desktop.ui.screen_room import resize_to_fit

_DRIFT_MS = 200  # pulled back into step beyond this


class _Pane(QWidget):
    """One result: its video and what it was made with."""

    def __init__(self, generation: Generation, parent: QWidget) -> None:
        super().__init__(parent)
        self.generation = generation
        self.player = QMediaPlayer(self)
        self.video = QVideoWidget(self)
        self.video.setMinimumSize(160, 120)
        self.video.setAccessibleName(self.tr("Video: {0}").format(generation.settings.prompt))
        self.player.setVideoOutput(self.video)
        self.player.setLoops(QMediaPlayer.Loops.Once)  # the view loops both together
        settings = generation.settings
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setText(self.tr("{prompt}\n{ratio} · {seconds} s · seed {seed}").format(
            prompt=settings.prompt, ratio=settings.aspect_ratio, seconds=settings.duration,
            seed=settings.seed))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.video, 1)
        layout.addWidget(self.caption)
        reason = unavailable_reason(self.player)
        if reason is not None:  # the pane would stay black without a word
            self.caption.setText(self.tr("Can't play videos here: {0}.").format(reason)
                                 + "\n" + self.caption.text())
        else:
            self.player.errorOccurred.connect(self._on_error)
            self.player.setSource(QUrl.fromLocalFile(generation.video_path or ""))

    def _on_error(self, _error: QMediaPlayer.Error, text: str) -> None:
        """The video can't be played (its file moved or deleted since, or damaged): the pane
        says so, not a black picture without a word."""
        from pathlib import Path

        if not Path(self.generation.video_path or "").is_file():
            reason = self.tr("Its video isn't on disk any more (moved or deleted?). Right-click "
                             "it in the history: Download Again, then compare.")
        else:
            reason = self.tr("Can't play its video: {0}.").format(text or self.tr("unreadable"))
        settings = self.generation.settings
        self.caption.setText(reason + "\n" + self.tr("{prompt}\n{ratio} · {seconds} s · seed "
                                                      "{seed}").format(
            prompt=settings.prompt, ratio=settings.aspect_ratio, seconds=settings.duration,
            seed=settings.seed))


class CompareView(QWidget):
    def __init__(self, left: Generation, right: Generation, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("compareView")
        self.setWindowTitle(self.tr("Compare — {0} and {1}").format(
            _short(left.settings.prompt), _short(right.settings.prompt)))
        self.panes = (_Pane(left, self), _Pane(right, self))
        self._playing = False

        self.play_button = QToolButton(self)
        self.play_button.setIcon(icons.icon("play", self.palette()))
        self.play_button.setAccessibleName(self.tr("Play both"))
        self.play_button.setToolTip(self.tr("Play or pause both (Space)"))
        self.play_button.clicked.connect(self.toggle_playback)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setAccessibleName(self.tr("Position of both"))
        self.slider.setToolTip(self.tr("Drag to move both videos to the same moment"))
        self.slider.setRange(0, 0)
        self.slider.sliderMoved.connect(self.seek)
        self.slider.actionTriggered.connect(lambda _a: self.seek(self.slider.sliderPosition()))
        self.time_label = QLabel(self)
        self.loop_button = QToolButton(self)
        self.loop_button.setCheckable(True)
        self.loop_button.setChecked(True)
        self.loop_button.setText(self.tr("Loop"))
        self.loop_button.setIcon(icons.icon("repeat", self.palette()))
        self.loop_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.loop_button.setToolTip(self.tr("Start both again together at the end (L)"))

        panes = QHBoxLayout()
        panes.setSpacing(12)
        for pane in self.panes:
            panes.addWidget(pane, 1)
            pane.player.durationChanged.connect(self._on_duration)
            pane.player.positionChanged.connect(self._on_position)
            pane.player.mediaStatusChanged.connect(self._on_status)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.time_label)
        controls.addWidget(self.loop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(panes, 1)
        layout.addLayout(controls)
        slots = {"Space": self.toggle_playback, "Esc": self.close, "L": self.loop_button.toggle,
                 "Left": lambda: self.seek(self.position() - 1000),
                 "Right": lambda: self.seek(self.position() + 1000)}
        for key, text in COMPARE_WINDOW_KEYS:  # Help ▸ Keyboard Shortcuts lists the same table
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setWhatsThis(self.tr(text))
            shortcut.activated.connect(slots[key])
        self._update_time()
        resize_to_fit(self, QSize(1100, 640))

    # -- together ------------------------------------------------------------------------------

    def leader(self) -> QMediaPlayer:
        """The longer video: the slider and the loop follow it."""
        a, b = (pane.player for pane in self.panes)
        return a if a.duration() >= b.duration() else b

    def position(self) -> int:
        return self.leader().position()

    def is_playing(self) -> bool:
        return self._playing

    def play(self) -> None:
        self._playing = True
        at = self.position()
        for pane in self.panes:
            player = pane.player
            if player.duration() and at < player.duration():
                if abs(player.position() - at) > _DRIFT_MS:
                    player.setPosition(at)
                player.play()
        self._update_button()

    def pause(self) -> None:
        self._playing = False
        for pane in self.panes:
            pane.player.pause()
        self._update_button()

    def toggle_playback(self) -> None:
        self.pause() if self._playing else self.play()

    def seek(self, position: int) -> None:
        """Both to `position` (the shorter one to its end if it is shorter)."""
        position = max(0, min(position, self.leader().duration()))
        for pane in self.panes:
            player = pane.player
            duration = player.duration()
            player.setPosition(min(position, duration) if duration else position)
            if self._playing and duration and position < duration:
                player.play()
        if not self.slider.isSliderDown():
            self.slider.setValue(position)
        self._update_time(position)

    # -- reactions -----------------------------------------------------------------------------

    def _on_duration(self, _duration: int) -> None:
        self.slider.setRange(0, self.leader().duration())
        self.slider.setPageStep(max(1000, self.leader().duration() // 10))
        self._update_time()

    def _on_position(self, _position: int) -> None:
        leader = self.leader()
        if self.sender() is not leader:
            return
        at = leader.position()
        if not self.slider.isSliderDown():
            self.slider.setValue(at)
        self._update_time(at)
        if not self._playing:
            return
        for pane in self.panes:  # keep the other in step
            player = pane.player
            if player is leader or not player.duration() or at >= player.duration():
                continue
            if abs(player.position() - at) > _DRIFT_MS:
                player.setPosition(at)
            if player.playbackState() != QMediaPlayer.PlaybackState.PlayingState:
                player.play()

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status != QMediaPlayer.MediaStatus.EndOfMedia or self.sender() is not self.leader():
            return
        if self._playing and self.loop_button.isChecked():
            for pane in self.panes:
                pane.player.setPosition(0)
                pane.player.play()
        else:
            self._playing = False
            self._update_button()

    def _update_button(self) -> None:
        self.play_button.setIcon(icons.icon("pause" if self._playing else "play", self.palette()))
        self.play_button.setAccessibleName(
            self.tr("Pause both") if self._playing else self.tr("Play both"))

    def changeEvent(self, event: QEvent) -> None:
        """Light or dark changed: the icons are drawn again in the new palette's colours
        (they kept the old ones: dark icons on the dark window)."""
        if event.type() == QEvent.Type.PaletteChange:
            self._update_button()
            self.loop_button.setIcon(icons.icon("repeat", self.palette()))
        super().changeEvent(event)

    def _update_time(self, position: int | None = None) -> None:
        at = self.position() if position is None else position
        self.time_label.setText(f"{format_time(at)} / {format_time(self.leader().duration())}")

    def closeEvent(self, event: QCloseEvent) -> None:
        for pane in self.panes:  # free the decoders and the files now, not at deletion
            pane.player.stop()
            pane.player.setSource(QUrl())
        super().closeEvent(event)


def _short(text: str, limit: int = 32) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
