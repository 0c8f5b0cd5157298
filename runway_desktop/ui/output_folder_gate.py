"""Paid work waits at the door until the output folder can take its video: a folder deleted,
on an unplugged drive, become a file, read-only or full is said before apiframe charges
anything (as `generate --out` does), not once the paid video has nowhere to go."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject

from runway_desktop.ui.banner import Banner

OUTPUT_FOLDER = "output_folder"  # the banner's key: the output folder can't take videos


class OutputFolderGate(QObject):
    """`send_when_ready(folder, send)`: `send` runs once the folder is checked (off the GUI
    thread, bounded) and found fit, in the order asked; else the banner says what is wrong
    with which folder and offers the choice of another (`choose_folder`), and nothing is
    sent. Every ask checks the disk afresh: a folder put right works at the next press."""

    def __init__(self, banner: Banner, choose_folder: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._banner = banner
        self._choose_folder = choose_folder
        self._tasks: set[asyncio.Task[None]] = set()
        self._previous: asyncio.Task[None] | None = None

    def send_when_ready(self, folder: Path, send: Callable[[], object], *,
                        may_make_parents: bool = False) -> None:
        task = asyncio.ensure_future(self._check_then_send(
            folder, send, may_make_parents, self._previous))
        self._previous = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def checking(self) -> bool:
        """Work waits at the door: its folder is being checked (what was asked isn't in the
        queue yet)."""
        return bool(self._tasks)

    async def passed(self) -> None:
        """Until the work asked for so far is sent, or refused with the banner's words."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def folder_changed(self) -> None:
        """Another folder is set: what was said of the old one is over."""
        self._banner.clear(OUTPUT_FOLDER)

    async def _check_then_send(self, folder: Path, send: Callable[[], object],
                               may_make_parents: bool,
                               before: asyncio.Task[None] | None) -> None:
        problem = await self.problem(folder, may_make_parents=may_make_parents)
        if before is not None and not before.done():
            await asyncio.wait([before])  # two presses: sent in the order pressed
        if problem is not None:
            self._banner.show_offer(problem, self.tr("Choose folder…"), self._choose_folder,
                                    key=OUTPUT_FOLDER)
            return
        self._banner.clear(OUTPUT_FOLDER)
        send()

    async def problem(self, folder: Path, *, may_make_parents: bool = False) -> str | None:
        """What is wrong with `folder` for paid work about to be sent and what to do, or None
        (also when the disk doesn't answer in time)."""
        from runway_desktop.ui.folder_checks import output_folder_problem_soon  # not at start

        problem = await output_folder_problem_soon(folder, may_make_parents=may_make_parents)
        if problem is None:
            return None
        return self.tr("{0} Nothing was sent and nothing was charged.").format(problem)
