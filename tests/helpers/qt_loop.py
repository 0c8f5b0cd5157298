"""A qasync loop on the QApplication for engine tests that decode video (QtMultimedia needs
Qt's event loop under asyncio: Extend's last frame), and a bounded way to run a coroutine on it.

Use in a test module:

    loop = pytest.fixture(qt_loop.loop)
    drive = pytest.fixture(qt_loop.drive)
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar
from unittest import mock

import qasync
from PySide6.QtWidgets import QApplication

from tests.helpers.video import Drive

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

T = TypeVar("T")


def loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop riding on the QApplication that pytest-qt's waits keep spinning."""
    event_loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(event_loop)
    try:
        yield event_loop
    finally:
        # See tests/engine/test_thumbnails.py: stop() would leave Qt's quit flag set.
        with mock.patch.object(qapp, "exit"):
            event_loop.stop()
        asyncio._set_running_loop(None)
        event_loop.close()
        asyncio.set_event_loop(None)
        gc.collect()


def drive(qtbot: Any, loop: asyncio.AbstractEventLoop) -> Drive[Any]:
    """Run a coroutine on the qasync loop to its end (a bounded wait) and return its result."""

    def run(coro: Coroutine[Any, Any, T]) -> T:
        task = loop.create_task(coro)
        qtbot.waitUntil(task.done, timeout=120_000)
        return task.result()

    return run
