"""Ctrl+C, SIGTERM and SIGHUP (the terminal closed) for a command that runs on a qasync loop.

Python raises KeyboardInterrupt inside whatever Qt callback runs at that moment, where it is
printed as a traceback and swallowed: the work went on. Instead the signal cancels the task,
which cleans up after itself, and the caller hears `StoppedBySignal`.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any, TypeVar

T = TypeVar("T")


class StoppedBySignal(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def stop_signals() -> tuple[int, ...]:
    """The signals that stop a command cleanly: Ctrl+C first, then SIGTERM and, where there is
    one, SIGHUP: a terminal closed under a running `generate` killed it outright, keeping a
    generation never sent that the next command then paid for."""
    hangup = getattr(signal, "SIGHUP", None)  # not on Windows
    return (signal.SIGINT, signal.SIGTERM, *([hangup] if hangup is not None else []))


def run_until_signal(loop: Any, task: asyncio.Task[T]) -> T:
    """`loop.run_until_complete(task)` (closing the loop after it); a stop signal meanwhile
    cancels `task` and raises StoppedBySignal once it has ended."""
    stopped: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopped.append(signum)
        task.cancel()

    previous = {sig: signal.signal(sig, stop) for sig in stop_signals()}
    try:
        with loop:
            return loop.run_until_complete(task)
    except asyncio.CancelledError:
        if not stopped:
            raise
        raise StoppedBySignal(stopped[0]) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
