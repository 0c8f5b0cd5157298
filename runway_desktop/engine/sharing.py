"""One engine among the processes sharing a journal: its leases (engine/leases.py), their
heartbeat, and the watch for what the others change (engine/journal_watch.py).

The engine decides what the findings mean; this part only keeps time and reports:
`on_changes` with other processes' changes (every `watch_every`), `on_lost` with generations whose
lease is gone (taken over after an expiry, or freed by a person's command elsewhere), and
`on_heartbeat` after each renewal (time to take over expired work).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from runway_desktop.engine.journal import Journal, JournalError
from runway_desktop.engine.journal_watch import JournalChanges, JournalWatch
from runway_desktop.engine.leases import Leases, LeaseTiming
from runway_desktop.engine.presence import EnginePresence

log = logging.getLogger(__name__)


class QueueSharing:
    def __init__(
        self,
        journal: Journal,
        timing: LeaseTiming,
        *,
        on_changes: Callable[[JournalChanges], None],
        on_lost: Callable[[set[int]], None],
        on_heartbeat: Callable[[], None],
        on_error: Callable[[JournalError], None],
    ) -> None:
        self.journal = journal
        self.timing = timing
        self.leases = Leases(journal, timing)
        self._on_changes = on_changes
        self._on_lost = on_lost
        self._on_heartbeat = on_heartbeat
        self._on_error = on_error
        self._watch: JournalWatch | None = None
        self._task: asyncio.Task[None] | None = None
        # The history's folder is in use while this engine runs (engine/presence.py).
        self._presence = EnginePresence(journal.path.parent)

    def start(self) -> None:
        """Begin watching and renewing (call once the engine has claimed its first work)."""
        self._presence.enter()
        self.leases.look_for_dead()
        self._watch = JournalWatch(self.journal)
        self._task = asyncio.ensure_future(self._run())

    def halt(self) -> None:
        """The engine stopped by itself (its history can't be written): stop renewing, so its
        leases expire and another process can carry its generations on."""
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    def resume(self) -> None:
        """After `halt`, once the history can be written again: renew and watch as before, from
        where the watch left off (what other processes changed meanwhile is reported). Its
        leases are handed back first, as at a stop: the engine claims afresh what no one else
        took meanwhile (a waiting row it had leased would otherwise stay leased and unstarted)."""
        self.leases.release_all()
        self.leases.look_for_dead()
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop the heartbeat and hand every lease back (other processes carry on at once)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        with contextlib.suppress(JournalError):  # unwritable: the leases simply expire
            self.leases.release_all()
        self._presence.leave()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        renew_at = loop.time() + self.timing.renew_every
        while True:
            await asyncio.sleep(self.timing.watch_every)
            try:
                assert self._watch is not None
                changes = self._watch.poll()
                if loop.time() >= renew_at:
                    renew_at = loop.time() + self.timing.renew_every
                    lost = self.leases.renew()
                    if lost:
                        self._say_lost(lost)
                        self._on_lost(lost)
                    self.leases.look_for_dead()
                    self._on_heartbeat()
                if changes.moved:
                    self._check_still_held(changes)
                    self._on_changes(changes)
            except JournalError as error:
                self._on_error(error)
                return

    def _say_lost(self, lost: set[int]) -> None:
        """A lease taken by another process means this one stalled past it (stopped, a
        debugger, a frozen VM): worth a warning. One freed is a person's command elsewhere
        (stop following, remove) or a row settled there: ordinary, as when the watch sees it."""
        taken = {gid for gid in lost if self.journal.lease_of(gid)[0] is not None}
        if taken:
            log.warning("Generations %s were taken over by another process (this one may have "
                        "been stopped or stalled past their leases)", sorted(taken))
        if lost - taken:
            log.info("Generations %s were moved on elsewhere", sorted(lost - taken))

    def _check_still_held(self, changes: JournalChanges) -> None:
        """A row this engine drives that another process changed (a person's command there)
        has lost its lease: stop at once rather than at the next heartbeat."""
        lost = {gid for gid in changes.removed if self.leases.holds(gid)}
        for generation in changes.updated:
            if self.leases.holds(generation.id):
                owner, _expires = self.journal.lease_of(generation.id)
                if owner != self.leases.owner:
                    lost.add(generation.id)
        if lost:
            for gid in lost:
                self.leases.forget(gid)
            self._on_lost(lost)
