"""Is the file at a path still the picture a generation was made from? Asked off the GUI thread.

"Use these settings" restores a start image from its path, with the frame chosen on it. The file
may have been replaced since by another picture (of the same size, even): the frame must not
crop that one. Its content fingerprint (`engine.fingerprints`) is compared with the one the
generation recorded; the file is read on a pool thread, so a big picture on a slow disk never
freezes the window.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, QThreadPool, Signal

from runway_desktop.engine.fingerprints import file_sha256


class _Relay(QObject):
    """Carries a pool thread's answer to the GUI thread (no parent: it outlives its checker
    while the thread still holds it, so a late answer never reaches a deleted object)."""

    done = Signal(int, str, str)  # token, path, SHA-256 ("" when the file can't be read)


class SamePictureCheck(QObject):
    """One check at a time; a new one (or `cancel`) makes any answer still to come moot."""

    # path, and whether it holds the expected picture: True, False, or None (can't be read)
    checked = Signal(str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._token = 0
        self._expected: str | None = None
        self._relay = _Relay()
        self._relay.done.connect(self._on_done)

    def start(self, path: str, expected_sha256: str) -> None:
        """Hash the file at `path` on a pool thread; `checked` follows on the GUI thread."""
        self._token += 1
        self._expected = expected_sha256
        token, relay = self._token, self._relay

        def work() -> None:
            digest = file_sha256(path) or ""
            # RuntimeError: the relay was deleted with the app, nobody waits any more.
            with contextlib.suppress(RuntimeError):
                relay.done.emit(token, path, digest)

        QThreadPool.globalInstance().start(work)

    def cancel(self) -> None:
        self._token += 1
        self._expected = None

    def pending(self) -> bool:
        return self._expected is not None

    def _on_done(self, token: int, path: str, digest: str) -> None:
        if token != self._token or self._expected is None:
            return  # cancelled, or a newer check was started
        same = None if not digest else digest == self._expected
        self._expected = None
        self.checked.emit(path, same)


__all__ = ["SamePictureCheck"]
