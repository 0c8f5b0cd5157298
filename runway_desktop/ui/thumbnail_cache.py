"""Thumbnails for the queue: read lazily off the UI thread into a bounded LRU of pixmaps.

`get(path)` never blocks: it answers from memory or schedules a read and answers None; when the
read ends, `loaded(path)` fires and the next paint finds the pixmap. A file that is missing or
cannot be decoded is remembered as a failure (the delegate draws its placeholder) so it is not
read again on every paint and nothing is logged.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage, QImageReader, QPixmap

from runway_desktop.ui.bounded_decode import engine_preview, fits_qt_image_limit

DEFAULT_CAPACITY = 300
DEFAULT_MAX_SIDE = 384  # big enough for a 2x-DPI row thumbnail, small enough to keep 300 around
_MAX_WAITING = 64  # reads asked for but not started; older ones are off screen by now


def read_thumbnail(path: str, max_side: int) -> QImage:
    """Decode `path` scaled to fit `max_side`; a null image if it is missing or not an image.

    Runs in a worker thread: QImage (not QPixmap) is safe there.
    """
    reader = QImageReader(path)
    reader.setAutoTransform(True)  # honour EXIF rotation of camera photos
    if not reader.canRead():  # missing, unreadable or not an image: no decoder noise
        return QImage()
    size = reader.size()
    if not fits_qt_image_limit(reader, size):  # Qt would refuse it, with a warning
        return engine_preview(path, max_side)
    if size.isValid() and (size.width() > max_side or size.height() > max_side):
        # Decoders such as JPEG scale while decoding: far cheaper than a full-size read.
        reader.setScaledSize(
            size.scaled(QSize(max_side, max_side), Qt.AspectRatioMode.KeepAspectRatio)
        )
    image = reader.read()
    if image.isNull():
        return QImage()
    if image.width() > max_side or image.height() > max_side:
        image = image.scaled(
            max_side,
            max_side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return image


class _ReadTask(QRunnable):
    def __init__(self, cache: ThumbnailCache, path: str, epoch: int, max_side: int) -> None:
        super().__init__()
        self._cache = cache
        self._path = path
        self._epoch = epoch
        self._max_side = max_side

    def run(self) -> None:
        image = read_thumbnail(self._path, self._max_side)
        # Emitted from the worker: the connection queues it to the cache's (GUI) thread.
        self._cache._image_read.emit(self._path, self._epoch, image)


class ThumbnailCache(QObject):
    loaded = Signal(str)  # a path whose pixmap (or failure) is now known

    _image_read = Signal(str, int, QImage)  # worker → GUI thread

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        max_side: int = DEFAULT_MAX_SIDE,
        threads: int = 2,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._max_side = max_side
        # Our own pool, so slow disks never starve other users of the global pool.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, threads))
        self._entries: OrderedDict[str, QPixmap | None] = OrderedDict()  # None = failed
        self._waiting: deque[str] = deque()  # newest last: read the most recently painted first
        self._in_flight: set[str] = set()
        self._epoch = 0  # bumped by clear(): late results of an old epoch are dropped
        self._closed = False
        self.load_count = 0  # reads started; lets tests prove the loading is lazy
        self._image_read.connect(self._on_image_read, Qt.ConnectionType.QueuedConnection)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- queries ---------------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self._capacity

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def is_loading(self, path: str) -> bool:
        return path in self._in_flight or path in self._waiting

    def is_busy(self) -> bool:
        return bool(self._in_flight or self._waiting)

    def get(self, path: str | None) -> QPixmap | None:
        """The pixmap if known; otherwise None, and a read is scheduled (once)."""
        if not path:
            return None
        if path in self._entries:
            self._entries.move_to_end(path)
            return self._entries[path]
        self._request(path)
        return None

    def peek(self, path: str) -> QPixmap | None:
        """The pixmap if in memory, without scheduling a read or touching the LRU order."""
        return self._entries.get(path)

    # -- control ---------------------------------------------------------------------------

    def set_capacity(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._evict()

    def invalidate(self, path: str) -> None:
        """Forget `path` (e.g. the file was rewritten): the next paint reads it again."""
        self._entries.pop(path, None)

    def clear(self) -> None:
        self._epoch += 1
        self._entries.clear()
        self._waiting.clear()
        self._in_flight.clear()

    def shutdown(self) -> None:
        """Drop queued reads and wait for running ones; safe to call more than once."""
        self._closed = True
        self._waiting.clear()
        self._pool.clear()
        self._pool.waitForDone(-1)  # also ends the pool's idle threads
        self._in_flight.clear()

    def wait_for_idle(self, msecs: int = -1) -> bool:
        """For tests: let every read finish (their results still arrive as queued signals)."""
        return self._pool.waitForDone(msecs)

    # -- internals -------------------------------------------------------------------------

    def _request(self, path: str) -> None:
        if self._closed or path in self._in_flight:
            return
        if path in self._waiting:
            self._waiting.remove(path)  # painted again: move to the front of the line
        self._waiting.append(path)
        while len(self._waiting) > _MAX_WAITING:
            self._waiting.popleft()
        self._start_reads()

    def _start_reads(self) -> None:
        while self._waiting and len(self._in_flight) < self._pool.maxThreadCount():
            path = self._waiting.pop()
            self._in_flight.add(path)
            self.load_count += 1
            self._pool.start(_ReadTask(self, path, self._epoch, self._max_side))

    @Slot(str, int, QImage)
    def _on_image_read(self, path: str, epoch: int, image: QImage) -> None:
        if self._closed or epoch != self._epoch:
            return
        self._in_flight.discard(path)
        # QPixmap lives on the GUI thread only: convert here, not in the worker.
        self._entries[path] = None if image.isNull() else QPixmap.fromImage(image)
        self._entries.move_to_end(path)
        self._evict()
        self._start_reads()
        self.loaded.emit(path)

    def _evict(self) -> None:
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
