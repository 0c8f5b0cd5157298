"""`join_mp4` off the UI thread: a coroutine that joins in a worker thread, reports progress
on the loop, and stops the worker when the awaiting task is cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from runway_desktop.engine.video.mp4_join import JoinResult, join_mp4

PROGRESS_STEP = 0.01  # report at most every 1 % (the loop isn't flooded by a fast copy)


async def join_clips(
    sources: Sequence[Path],
    dest: Path,
    *,
    progress: Callable[[float], None] | None = None,
) -> JoinResult:
    """Join `sources` into `dest` without re-encoding; see mp4_join.join_mp4 for the errors.

    Cancelling the task cancels the join: the worker notices within one 1 MB block, removes
    its partial file, and the task ends with CancelledError once the worker has stopped.
    """
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    last = [-1.0]

    def report(written: int, total: int) -> None:  # in the worker thread
        fraction = written / total if total else 1.0
        if progress is not None and (fraction - last[0] >= PROGRESS_STEP or fraction >= 1.0):
            last[0] = fraction
            loop.call_soon_threadsafe(progress, fraction)

    worker = asyncio.ensure_future(
        asyncio.to_thread(join_mp4, list(sources), dest, progress=report, cancelled=stop.is_set)
    )
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        stop.set()
        # Wait for the worker to clean up, so no partial file outlives the task.
        (outcome,) = await asyncio.gather(worker, return_exceptions=True)
        if isinstance(outcome, JoinResult):
            # Cancelled after the join had finished: the caller was told it stopped, so the
            # film must not be there either.
            await asyncio.to_thread(dest.unlink, True)  # True: missing_ok
        raise
