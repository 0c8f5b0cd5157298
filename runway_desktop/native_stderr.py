"""Native libraries' chatter kept off the person's terminal while a command works with video.

FFmpeg (inside QtMultimedia) and Qt write to file descriptor 2 themselves, below Python
("Input #0, mov,mp4 …"). While a command decodes or encodes video, fd 2 points at a log file;
Python's own `sys.stderr` (messages, progress lines) keeps writing to the terminal through a
duplicate of the original descriptor. Used by `export`, `sequence` and `extend`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
LOG_MAX_BYTES = 1_000_000  # a log beyond this is started afresh
HEARTBEAT_SECONDS = 0.2


@contextlib.contextmanager
def native_stderr_to(log_file: Path, max_bytes: int = LOG_MAX_BYTES) -> Iterator[None]:
    """Point fd 2 at `log_file` (appended to, started afresh beyond `max_bytes`) while
    `sys.stderr` keeps writing to where fd 2 pointed before."""
    if sys.stderr is None:  # a windowed executable: nothing to keep apart
        yield
        return
    sys.stderr.flush()
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        saved = os.dup(2)
        too_big = log_file.is_file() and log_file.stat().st_size > max_bytes
        with log_file.open("wb" if too_big else "ab") as log:
            os.dup2(log.fileno(), 2)
    except OSError:  # no fd 2 or no log folder: leave it as it is
        yield
        return
    original = sys.stderr
    sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, encoding=original.encoding,
                           errors=original.errors)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.close()
        sys.stderr = original
        os.dup2(saved, 2)
        os.close(saved)


async def awake_while(work: Awaitable[T]) -> T:
    """`work`, with Python running at least every 0.2 s so that a signal's handler runs at
    once even while Qt waits in C++."""

    async def heartbeat() -> None:
        while True:  # noqa: ASYNC110 (no event to wait for: the point is to wake up)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    beat = asyncio.ensure_future(heartbeat())
    try:
        return await work
    finally:
        beat.cancel()
