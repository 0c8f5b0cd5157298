"""An async generator left half-way is closed on the qasync loop (its cleanup awaits there)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import qasync
from pytestqt.qtbot import QtBot

from runway_desktop.loop_hooks import close_async_generators_on


@pytest.fixture
def loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(event_loop)
    restore = close_async_generators_on(event_loop)
    try:
        yield event_loop
    finally:
        restore()
        event_loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
        asyncio.events._set_running_loop(None)
        event_loop.close()
        asyncio.set_event_loop(None)
        gc.collect()


def test_a_generator_left_by_an_exception_is_closed_on_the_loop(
    qtbot: QtBot, loop: asyncio.AbstractEventLoop
) -> None:
    """Like httpcore's response stream: its cleanup awaits. Without the hooks it ran (and
    failed) in the garbage collector, outside the loop."""
    cleaned: list[bool] = []

    async def body() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"chunk"
        finally:
            await asyncio.sleep(0)  # an awaited cleanup, as closing a connection is
            cleaned.append(asyncio.current_task() is not None)

    async def read_then_fail() -> None:
        async for _chunk in body():
            raise OSError("Read-only file system")

    async def main() -> None:
        with pytest.raises(OSError, match="Read-only"):
            await read_then_fail()

    task = asyncio.ensure_future(main())
    qtbot.waitUntil(task.done, timeout=5_000)
    task.result()
    gc.collect()
    qtbot.waitUntil(lambda: bool(cleaned), timeout=5_000)
    assert cleaned == [True]  # cleaned up inside a task on the loop
