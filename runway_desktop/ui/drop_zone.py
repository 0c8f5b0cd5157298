"""The start-image drop zone: drag and drop, browse, paste; preview with the aspect-ratio frame."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QDateTime,
    QEvent,
    QMimeData,
    QObject,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QGuiApplication,
    QImage,
    QImageIOHandler,
    QImageReader,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.engine.framing import ImageFrame
from runway_desktop.ui import icons
from runway_desktop.ui.bounded_decode import engine_preview, fits_qt_image_limit
from runway_desktop.ui.frame_editing import FRAME_HINT
from runway_desktop.ui.image_canvas import ImageCanvas
from runway_desktop.ui.palette_colours import error_text_color
from runway_desktop.ui.video_drop import video_files

# Runway refuses start images outside these width/height ratios.
MIN_RATIO = 0.5
MAX_RATIO = 2.0
MESSAGE_TIMEOUT_MS = 6000
# Long edge of the decoded preview: enough for a sharp sidebar on a 2x screen, cheap to decode.
PREVIEW_EDGE = 1200
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def _tr(text: str) -> str:
    return QCoreApplication.translate("DropZone", text)


def sniff_format(head: bytes) -> str | None:
    """The image format from a file's first bytes (PNG, JPEG or WebP), else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def oriented_size(reader: QImageReader) -> QSize:
    """The size as it will be shown, after the EXIF orientation is applied."""
    size = reader.size()
    if (
        size.isValid()
        and reader.transformation() & QImageIOHandler.Transformation.TransformationRotate90
    ):
        return size.transposed()
    return size


@dataclass(frozen=True)
class ImageCheck:
    """The result of the cheap synchronous check of a local image file."""

    size: QSize | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def check_image_file(path: str | os.PathLike[str]) -> ImageCheck:
    """Cheap checks that run in the drop handler: headers only, the same as the CLI's.

    engine.images decides what is accepted (every format it converts, HEIC and AVIF too) and
    words the refusal; a FIFO or a device is refused before it is opened.
    """
    from runway_desktop.engine import images  # Pillow: not imported before the first paint

    try:
        width, height = images.check_image(Path(path))
    except images.ImageRejected as rejected:
        return ImageCheck(reason=rejected.message)
    return ImageCheck(size=QSize(width, height))


def image_patterns() -> str:
    """The file dialog's filter: every format engine.images accepts."""
    from runway_desktop.engine import images

    return images.file_dialog_patterns()


def orientation_qt_misses(path: str, reader: QImageReader) -> int | None:
    """The EXIF orientation (2–8) engine.images turns this picture by where Qt turns it by
    none (Qt reads no orientation in PNG or WebP files): the preview must be turned the same
    way, or the frame drawn over it lands elsewhere in what is uploaded."""
    if reader.transformation() != QImageIOHandler.Transformation.TransformationNone:
        return None  # Qt turns it itself (JPEG, TIFF)
    from runway_desktop.engine import images

    try:
        value = images.exif_orientation(Path(path))
    except images.ImageRejected:
        return None
    return value if value is not None and 2 <= value <= 8 else None


def _pillow_preview(path: str) -> QImage:
    """A preview through engine.images, for what Qt can't decode itself (HEIC, AVIF, a picture
    over Qt's image limit)."""
    return engine_preview(path, PREVIEW_EDGE)


def _image_of(data: object) -> QImage:
    """The clipboard's or a drag's image data as a QImage (null when unreadable)."""
    if isinstance(data, QImage):
        return data
    if isinstance(data, QPixmap):
        return data.toImage()
    if isinstance(data, bytes | bytearray | QByteArray):
        return QImage.fromData(data)
    return QImage()


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def classify_url(url: QUrl) -> tuple[str | None, str | None]:
    """(source, None) for a usable local file path or web image URL, else (None, reason)."""
    if url.isLocalFile():
        return url.toLocalFile(), None
    scheme = url.scheme().lower()
    shown = url.toDisplayString()
    if scheme in ("http", "https") and url.isValid() and url.host():
        if scheme == "https" or _is_loopback(url.host()):
            return url.toString(QUrl.ComponentFormattingOption.FullyEncoded), None
        return None, _tr("Only secure (https) image links are accepted, not “{url}”.").format(
            url=shown
        )
    return None, _tr("“{url}” is not an image file or an https link.").format(url=shown)


def is_web_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


class _PreviewSignals(QObject):
    loaded = Signal(int, object)  # token, QImage
    verified = Signal(int, object, object)  # token, [(source, why refused)], {source: SHA-256}
    saved = Signal(int, str, str)  # paste token, the written file ("" if none), OS error text


class _NameLabel(QLabel):
    """The start image's file name, cut in the middle with "…" when it doesn't fit (a long name
    was clipped mid-letter at the size beside it). The whole name is the label's text, for
    screen readers, and the tool tip has the path."""

    def shown_text(self) -> str:
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle,
                                             max(0, self.contentsRect().width()))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())
        painter.end()


# The keys keyPressEvent answers besides the frame's (no QShortcut: Help ▸ Keyboard Shortcuts
# lists them from here). Paste is the platform's (Ctrl+V, Shift+Ins…); the prompt box passes
# it on when a picture was copied.
START_IMAGE_KEYS: tuple[tuple[tuple[QKeySequence.StandardKey | str, ...], str], ...] = (
    ((QKeySequence.StandardKey.Paste,),
     "Paste a copied picture (also while typing the prompt)"),
    (("Del", "Backspace"), "Remove the start images"),
    (("Space", "Return", "Enter"), "Choose a start image (Browse)"),
)


class DropZone(QFrame):
    """Takes start images from drops, the file dialog and the clipboard.

    Holds a list of sources (local path or https URL strings); new input replaces the
    list. Invalid input is refused here, with the reason shown inline for a few seconds.
    """

    images_changed = Signal(list)
    video_dropped = Signal(list)  # local videos dropped here: their settings, not pictures
    image_size_known = Signal(QSize)  # the first local image's upright size, once known

    def __init__(self, cache_dir: str | os.PathLike[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache_dir = Path(cache_dir)
        self._sources: list[str] = []
        self._aspect_ratio = "16:9"
        self._load_token = 0
        self._dialog: QFileDialog | None = None
        self._last_dir = ""
        # No parent on purpose: a decode still running on a pool thread keeps it alive
        # through its closure even if the zone is destroyed first.
        self._preview_signals = _PreviewSignals()
        self._preview_signals.loaded.connect(self._on_preview_loaded)
        self._preview_signals.verified.connect(self._on_verified)
        self._preview_signals.saved.connect(self._on_pasted_saved)
        self._paste_token = 0  # the pasted picture being written; any change makes it moot
        # What the zone held before the last change, and its frame: a drop refused once read
        # through (a file cut short) gives it back.
        self._before: tuple[list[str], ImageFrame | None] = ([], None)
        # SHA-256 of each local picture as read when it was shown: the picture its frame is
        # chosen on, told from another version saved over it before Generate.
        self._fingerprints: dict[str, str] = {}
        self._refused: set[str] = set()  # read through and refused: never given back

        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName(self.tr("Start image"))
        self.setAccessibleDescription(
            self.tr("Drop, paste (Ctrl+V) or browse for a start image: PNG, JPEG, WebP, a "
                    "phone's HEIC and more.")
        )

        self.canvas = ImageCanvas(self)
        self.canvas.clicked.connect(self._on_canvas_clicked)
        self.badge_label = self.canvas.badge

        self.name_label = _NameLabel(self)
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        self.name_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.size_label = QLabel(self)
        self.size_label.setTextFormat(Qt.TextFormat.PlainText)
        self.size_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.size_label.setAccessibleDescription(self.tr("Image size"))

        self.browse_button = QToolButton(self)
        self.browse_button.setText(self.tr("Browse…"))
        self.browse_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.browse_button.setIcon(icons.icon("image-plus", self.palette()))
        self.browse_button.setAccessibleName(self.tr("Browse for images"))
        self.browse_button.setToolTip(self.tr("Choose one or more image files"))
        self.browse_button.clicked.connect(self.browse)

        self.clear_button = QToolButton(self)
        self.clear_button.setText("×")
        self.clear_button.setAccessibleName(self.tr("Remove images"))
        self.clear_button.setToolTip(self.tr("Remove the start image(s)"))
        self.clear_button.clicked.connect(self.clear)

        self.message_label = QLabel(self.canvas)  # over the canvas: the layout never jumps
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setAutoFillBackground(True)
        self.message_label.setContentsMargins(8, 4, 8, 4)
        self.message_label.setAccessibleDescription(self.tr("Image problem"))  # words: its name
        self.message_label.hide()
        self.canvas.footer = self.message_label
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.setInterval(MESSAGE_TIMEOUT_MS)
        self._message_timer.timeout.connect(self._hide_message)
        self._apply_message_palette()

        info = QHBoxLayout()
        info.setContentsMargins(2, 0, 0, 0)
        info.setSpacing(6)
        info.addWidget(self.name_label, 1)
        info.addWidget(self.size_label)
        info.addWidget(self.browse_button)
        info.addWidget(self.clear_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(info)
        self._update_view()

    # -- public API ---------------------------------------------------------------------------
    def images(self) -> list[str]:
        return list(self._sources)

    def set_images(self, sources: list[str]) -> None:
        """Replace the list; local files are checked again (they may have gone since)."""
        if not sources:
            self.clear()
            return
        self._take(list(sources), [], replace_on_refusal=True)

    def clear(self) -> None:
        self._hide_message()
        self._set_sources([])

    def set_aspect_ratio(self, ratio: str) -> None:
        self._aspect_ratio = ratio
        self.canvas.aspect_ratio = ratio
        self.canvas.editor.set_ratio(ratio)
        self.canvas.update()

    def frame(self) -> ImageFrame | None:
        """The frame the person chose over the one local image (None for several, or a link)."""
        if len(self._sources) != 1 or is_web_url(self._sources[0]):
            return None
        return self.canvas.editor.frame()

    def set_frame(self, frame: ImageFrame | None) -> None:
        self.canvas.editor.set_frame(frame)

    def fingerprint(self, source: str) -> str | None:
        """SHA-256 of the local picture `source` as read when it was shown (None until it
        has been read through, off the GUI thread, or for a link)."""
        return self._fingerprints.get(source)

    def picture_stamp(self) -> list[int] | None:
        """What tells the one local picture from another put at the same path since: its
        file's size and modification time, and its upright size (None without one such
        picture, or when it can't be read now). A frame is kept only with its picture."""
        size = self.canvas.image_size
        if self.frame() is None or not size.isValid():
            return None
        try:
            info = os.stat(self._sources[0])
        except OSError:
            return None
        return [info.st_size, info.st_mtime_ns, size.width(), size.height()]

    def aspect_ratio(self) -> str:
        return self._aspect_ratio

    def message(self) -> str:
        """The inline message shown now ("" when none)."""
        return self.message_label.text() if not self.message_label.isHidden() else ""

    def preview_ready(self) -> bool:
        """True once the first image's preview is decoded (or there is none to decode)."""
        first = self._sources[0] if self._sources else None
        return first is None or is_web_url(first) or self.canvas.image is not None

    def browse(self) -> None:
        """Open the file dialog without blocking the event loop (``open()``, not ``exec()``)."""
        if self._dialog is not None:
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        dialog = QFileDialog(self, self.tr("Choose start images"), self._last_dir)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(
            [self.tr("Images ({patterns})").format(patterns=image_patterns()),
             self.tr("All files (*)")]
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.filesSelected.connect(self._on_files_selected)
        dialog.finished.connect(self._on_dialog_finished)
        self._dialog = dialog
        dialog.open()

    def paste(self) -> None:
        """Take an image, file or https link from the clipboard."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            self._show_message(self.tr("The clipboard is empty."))
            return
        sources, reasons, writing = self._sources_from_mime(mime, allow_text=True)
        if writing:
            return  # the picture follows once written
        if not sources and not reasons:
            reasons = [self.tr("The clipboard holds no image, image file or https link.")]
        self._take(sources, reasons)

    # -- input handling -------------------------------------------------------------------------
    def _on_files_selected(self, files: list[str]) -> None:
        if files:
            self._last_dir = str(Path(files[0]).parent)
        self._take(list(files), [])

    def _on_dialog_finished(self, _result: int) -> None:
        self._dialog = None

    def _on_canvas_clicked(self) -> None:
        if not self._sources:
            self.browse()

    def _sources_from_mime(
        self, mime: QMimeData, *, allow_text: bool
    ) -> tuple[list[str], list[str], bool]:
        """Sources and refusals; True when the mime held pixels only, now being written to a
        file off the GUI thread (the picture is taken once written)."""
        sources: list[str] = []
        reasons: list[str] = []
        if mime.hasUrls():
            for url in mime.urls():
                source, reason = classify_url(url)
                if source is not None:
                    sources.append(source)
                elif reason:
                    reasons.append(reason)
        if not sources and mime.hasImage():
            # Browsers put the pixels beside a link we could not use: keep the pixels.
            image = _image_of(mime.imageData())
            if not image.isNull():
                self._write_pasted(image)
                return [], [], True
            reasons.append(self.tr("The image data could not be read."))
        if not sources and not reasons and allow_text and mime.hasText():
            for line in mime.text().splitlines():
                text = line.strip().strip('"')
                if not text:
                    continue
                if "://" in text:
                    source, reason = classify_url(QUrl(text))
                    if source is not None:
                        sources.append(source)
                    elif reason:
                        reasons.append(reason)
                elif os.path.isabs(os.path.expanduser(text)):
                    sources.append(os.path.expanduser(text))
                else:
                    reasons.append(
                        self.tr("The clipboard text is not an image file or https link.")
                    )
                    break
        return sources, reasons, False

    def _write_pasted(self, image: QImage) -> None:
        """Write pasted pixels to a PNG in the cache on a pool thread (a 5K screenshot takes
        ~0.5 s to encode); `_on_pasted_saved` takes it. A newer paste or any change of the
        pictures meanwhile makes it moot."""
        self._paste_token += 1
        token, signals, folder = self._paste_token, self._preview_signals, self._cache_dir
        stamp = QDateTime.currentDateTime().toString("yyyyMMdd-HHmmss")
        path = folder / f"pasted-{stamp}-{uuid.uuid4().hex[:6]}.png"

        def write() -> None:
            error = ""
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                error = str(exc.strerror or exc)
            # Quality 80 = light PNG compression: fast to write, still lossless.
            if not error and not image.save(str(path), "PNG", 80):  # type: ignore[call-overload]  # str works
                path.unlink(missing_ok=True)
                error = "-"
            with contextlib.suppress(RuntimeError):  # the zone's app has gone
                signals.saved.emit(token, "" if error else str(path), error)

        QThreadPool.globalInstance().start(write)

    def _on_pasted_saved(self, token: int, path: str, error: str) -> None:
        if token != self._paste_token:
            if path:
                Path(path).unlink(missing_ok=True)  # overtaken: nobody will use it
            return
        if path:
            self._take([path], [])
        elif error == "-":
            self._show_message(self.tr("Could not save the pasted image to {folder}.").format(
                folder=str(self._cache_dir)))
        else:
            self._show_message(self.tr("Could not save the pasted image: {error}").format(
                error=error))

    def _take(
        self, candidates: list[str], reasons: list[str], *, replace_on_refusal: bool = False
    ) -> bool:
        """Check candidates; accepted ones replace the list. Returns True if any were taken."""
        accepted: list[str] = []
        refusals = list(reasons)
        for source in candidates:
            if is_web_url(source):
                url_source, reason = classify_url(QUrl(source))
                if url_source is not None:
                    accepted.append(url_source)
                elif reason:
                    refusals.append(reason)
                continue
            check = check_image_file(source)
            if check.ok:
                accepted.append(source)
            elif check.reason:
                refusals.append(check.reason)
        if refusals:
            text = refusals[0]
            if len(refusals) > 1:
                text += " " + self.tr("({count} more refused)").format(count=len(refusals) - 1)
            self._show_message(text)
        else:
            self._hide_message()
        if accepted or replace_on_refusal:
            self._set_sources(accepted)
        return bool(accepted)

    def _set_sources(self, sources: list[str]) -> None:
        if sources == self._sources:
            return  # same images: keep the decoded preview, no flicker
        self._before = (self._sources, self.frame())
        self._fingerprints = {}
        self._paste_token += 1  # a pasted picture still being written is no longer wanted
        self._sources = sources
        self._update_view()
        self._start_verify()
        self.images_changed.emit(list(sources))

    # -- view -----------------------------------------------------------------------------------
    def _update_view(self) -> None:
        first = self._sources[0] if self._sources else None
        self._load_token += 1
        self.canvas.image = None
        self.canvas.image_size = QSize()
        self.canvas.url_text = ""
        if first is None:
            self.name_label.clear()
            self.size_label.clear()
        elif is_web_url(first):
            self.canvas.url_text = first
            self.name_label.setText(QUrl(first).fileName() or QUrl(first).host())
            self.name_label.setToolTip(first)
            self.size_label.setText(self.tr("Image link"))
        else:
            reader = QImageReader(first)
            reader.setAutoTransform(True)
            size = oriented_size(reader)
            turn = orientation_qt_misses(first, reader) if size.isValid() else None
            if turn is not None and turn >= 5:  # a quarter turn: upright, it is the other way
                size = size.transposed()
            if not size.isValid():  # HEIC, AVIF: Qt can't read them, engine.images can
                check = check_image_file(first)
                size = check.size or size
            self.canvas.image_size = size
            if size.isValid():
                self.image_size_known.emit(size)
            self.name_label.setText(Path(first).name)
            self.name_label.setToolTip(first)
            self.size_label.setText(
                self.tr("{w} × {h}").format(w=size.width(), h=size.height())
                if size.isValid()
                else ""
            )
            self._start_preview_load(first, size, turned_by_engine=turn is not None)
        more = len(self._sources) - 1
        self.canvas.set_badge(self.tr("+{count} more").format(count=more) if more > 0 else "")
        self.clear_button.setEnabled(bool(self._sources))
        # The frame is the one picture's: a batch goes with Runway's centre crop, so its first
        # picture shows that crop, fixed (a frame that moved there would move nothing).
        self.canvas.editor.set_image_size(self.canvas.image_size if more == 0 else QSize())
        self._show_what_the_pointer_does()
        self.canvas.update()

    def _show_what_the_pointer_does(self) -> None:
        """The cursor and tool tip: a click browses only when the zone is empty; over a framed
        picture they say how to frame it."""
        framed = self.canvas.editor.frame() is not None
        self.canvas.setCursor(
            Qt.CursorShape.OpenHandCursor if framed
            else Qt.CursorShape.ArrowCursor if self._sources else Qt.CursorShape.PointingHandCursor
        )
        self.setToolTip(_tr(FRAME_HINT) if framed else self.tr(
            "Drop images or https image links here, paste with Ctrl+V, or click to browse"))

    def _start_preview_load(self, path: str, size: QSize, *, turned_by_engine: bool = False
                            ) -> None:
        token = self._load_token
        signals = self._preview_signals

        def load() -> None:
            # Runs on a pool thread: QImageReader/QImage are safe off the GUI thread.
            reader = QImageReader(path)
            reader.setAutoTransform(True)
            raw = reader.size()
            if turned_by_engine or not fits_qt_image_limit(reader, raw):
                # Turned as engine.images turns it; or Qt would refuse it (with a warning)
                # before scaling: decode it bounded instead.
                signals.loaded.emit(token, _pillow_preview(path))
                return
            if raw.isValid() and max(raw.width(), raw.height()) > PREVIEW_EDGE:
                reader.setScaledSize(
                    raw.scaled(PREVIEW_EDGE, PREVIEW_EDGE, Qt.AspectRatioMode.KeepAspectRatio)
                )
            image = reader.read()
            signals.loaded.emit(token, image if not image.isNull() else _pillow_preview(path))

        QThreadPool.globalInstance().start(load)

    def _start_verify(self) -> None:
        """Read every local picture through, as the CLI does before a generation (the drop
        checked headers only): one cut short or corrupt is refused when the answer comes."""
        local = [source for source in self._sources if not is_web_url(source)]
        if not local:
            return
        token, signals = self._load_token, self._preview_signals

        def verify() -> None:
            from runway_desktop.engine import images
            from runway_desktop.engine.fingerprints import file_sha256

            refused, digests = [], {}
            for path in local:
                digest = file_sha256(path)  # first: the bytes the preview was made from
                try:
                    images.verify_image(Path(path))
                except images.ImageRejected as rejected:
                    refused.append((path, rejected.message))
                    continue
                except OSError:
                    continue  # not the picture's fault: Generate says what went wrong
                if digest:
                    digests[path] = digest
            with contextlib.suppress(RuntimeError):  # the zone's app has gone
                signals.verified.emit(token, refused, digests)

        QThreadPool.globalInstance().start(verify)

    def _on_verified(self, token: int, refused: list[tuple[str, str]],
                     digests: dict[str, str]) -> None:
        if token != self._load_token:
            return  # the pictures changed meanwhile
        self._fingerprints = digests
        if not refused:
            self._refused.clear()
            return
        gone = {path for path, _reason in refused}
        self._refused |= gone
        kept = [source for source in self._sources if source not in gone]
        previous, frame = self._before
        given_back = [source for source in previous if source not in self._refused]
        self._set_sources(kept or given_back)
        if not kept and given_back == previous and frame is not None:
            self.set_frame(frame)
        text = refused[0][1]
        if len(refused) > 1:
            text += " " + self.tr("({count} more refused)").format(count=len(refused) - 1)
        self._show_message(text)

    def _on_preview_loaded(self, token: int, image: QImage) -> None:
        if token != self._load_token:
            return  # a newer image replaced this one while it decoded
        if image.isNull():
            self._show_message(self.tr("The image preview could not be decoded."))
            return
        self.canvas.image = image
        if not self.canvas.image_size.isValid():
            self.canvas.image_size = image.size()
            if len(self._sources) == 1:
                self.canvas.editor.set_image_size(image.size())
                self._show_what_the_pointer_does()
            self.image_size_known.emit(image.size())
        self.canvas.update()

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.show()
        self.canvas.place_footer()
        self._message_timer.start()

    def _hide_message(self) -> None:
        self._message_timer.stop()
        self.message_label.hide()

    def _apply_message_palette(self) -> None:
        palette = self.message_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, error_text_color(self.palette()))
        # An opaque strip in the theme's base colour, so it reads over any image.
        palette.setColor(QPalette.ColorRole.Window, self.palette().color(QPalette.ColorRole.Base))
        self.message_label.setPalette(palette)

    # -- Qt events ------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()
            self._set_drag_active(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drag_active(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drag_active(False)
        if videos := video_files(event.mimeData()):  # the window offers their settings
            event.acceptProposedAction()
            self.video_dropped.emit(videos)
            return
        sources, reasons, writing = self._sources_from_mime(event.mimeData(), allow_text=False)
        if writing or self._take(sources, reasons):
            event.acceptProposedAction()
        else:
            event.ignore()

    def _set_drag_active(self, active: bool) -> None:
        self.canvas.drag_active = active
        self.canvas.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.frame() is not None and self.canvas.editor.key(event):
            event.accept()
            return
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._sources:
            self.clear()
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.browse()
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        paste = menu.addAction(self.tr("Paste"), self.paste)
        paste.setShortcut(QKeySequence(QKeySequence.StandardKey.Paste))
        menu.addAction(self.tr("Browse…"), self.browse)
        remove = menu.addAction(self.tr("Remove images"), self.clear)
        remove.setEnabled(bool(self._sources))
        menu.popup(event.globalPos())  # popup(), not exec(): never nest an event loop

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.canvas.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.canvas.update()
        super().focusOutEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_message_palette()
            self.browse_button.setIcon(icons.icon("image-plus", self.palette()))
        super().changeEvent(event)
