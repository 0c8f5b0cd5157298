"""Async generators left half-way are closed on the qasync loop, as asyncio's own loop does.

asyncio's `run_forever` installs hooks that hand an abandoned async generator (an `async for`
left by an exception: a download stopped because its folder can't be written, a body too
big, a lease lost) back to the loop, which awaits its `aclose()`. qasync's `run_forever` installs
none, so such a generator is closed by the garbage collector instead, outside any task: the
cleanup httpx/httpcore await there fails ("no running event loop", "async generator ignored
GeneratorExit"), and is printed as an ignored exception.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, Callable
from typing import Any


def close_async_generators_on(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """From now on, async generators first iterated on this thread are closed on `loop`.
    Returns what puts the previous hooks back."""
    previous = sys.get_asyncgen_hooks()

    def finalizer(generator: AsyncGenerator[Any, Any]) -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.create_task, generator.aclose())

    sys.set_asyncgen_hooks(firstiter=previous.firstiter, finalizer=finalizer)
    return lambda: sys.set_asyncgen_hooks(*previous)
