"""Many processes, one queue: which process drives which generation.

The journal is the shared truth. A process (the window, any `runway-desktop` command) drives a
generation only while it holds that row's lease: `lease_owner` ("host:pid:token") and
`lease_expires`, renewed by a heartbeat. Claims, renewals and releases are single SQLite
transactions (`BEGIN IMMEDIATE`, with a busy timeout so writers queue instead of failing), so two
processes never lease one row: never two POSTs of one request, never two downloads into one
`.part`.

A lease ends when its holder settles the generation or stops (released), when a person's command
moves the row (the journal write frees it; the holder's next write raises LeaseLost and it
stops), or when the holder dies: its leases are not renewed and expire, and any other process
takes the rows over where the journal says (SUBMITTING re-sends the same idempotency key,
DOWNLOADING resumes the `.part`). A holder on this machine whose process is gone is known dead at
once, without waiting for the expiry.

How many generations run at once (the team's `maxConcurrentJobs`) is counted over every process
in the claim's own transaction, so four processes never start four each.

A holder that can't be sure its lease still runs — the computer slept, the process was stopped
— must not touch the `.part` another process may be writing by now: each task's work runs with
`ensure_held()` available (a context variable), which the download calls before every write.
"""

from __future__ import annotations

import contextvars
import logging
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from runway_desktop.engine.journal import Journal, LeaseLost
from runway_desktop.engine.lifecycle_table import RUNNING_STAGES, Stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseTiming:
    seconds: float = 20.0  # a lease not renewed for this long may be taken over
    renew_every: float = 5.0  # the heartbeat (also when expired work is looked for)
    watch_every: float = 0.5  # how often the journal is checked for other processes' changes


class LeaseExpired(LeaseLost):
    """This process's lease on a generation may have run out (it slept, or stalled) and another
    process may drive it now: stop before touching its files."""


# The generation a task drives, and whether its lease surely still runs.
_HELD: contextvars.ContextVar[tuple[int, Callable[[], bool]] | None] = contextvars.ContextVar(
    "runway_desktop_lease_held", default=None)


def held_context(still_held: Callable[[], bool], generation_id: int = 0) -> contextvars.Context:
    """A context for the task driving `generation_id`: `ensure_held()` in it asks `still_held`."""
    context = contextvars.copy_context()
    context.run(_HELD.set, (generation_id, still_held))
    return context


def ensure_held() -> None:
    """Raise LeaseExpired (naming the task's generation) unless the running task's lease is
    surely still its own (outside a leased task: nothing to check)."""
    held = _HELD.get()
    if held is not None and not held[1]():
        raise LeaseExpired(held[0])


def new_owner() -> str:
    """A lease owner name unique to this engine: host, process id and a random token."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"


def owner_is_dead(owner: str, host: str | None = None) -> bool:
    """True only when sure: the owner ran on this machine and its process is gone (or a
    zombie). Another machine's owner, or one we can't check, lives until its lease expires."""
    try:
        owner_host, pid_text, _token = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if owner_host != (host or socket.gethostname()) or pid == os.getpid() or pid <= 0:
        return False
    return not _process_alive(pid)


def left_running(journal: Journal, now: float | None = None) -> int:
    """Generations under way for a process that ended without closing (killed, a crash, a
    power cut: their leases still name it, and it is gone or they have expired). A quit
    releases its leases; so does a command that ends. A process only stopped (Ctrl+Z) has not
    ended: its work is carried on all the same, but not counted here. Count them before an
    engine takes them over."""
    at = time.time() if now is None else now
    left = 0
    stopped: dict[str, bool] = {}
    for generation_id in journal.ids_with_stages(RUNNING_STAGES):
        owner, expires = journal.lease_of(generation_id)
        if not owner or not (owner_is_dead(owner) or (expires is not None and expires < at)):
            continue
        if owner not in stopped:
            stopped[owner] = owner_is_stopped(owner)
        if not stopped[owner]:
            left += 1
    return left


def owner_is_stopped(owner: str) -> bool:
    """True when the owner is a process on this machine that is stopped (Ctrl+Z in its
    terminal, `kill -STOP`, a debugger): its leases run out and others carry its work on, but
    it has not ended — it goes on once continued. Known where /proc says so (Linux)."""
    try:
        owner_host, pid_text, _token = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if owner_host != socket.gethostname() or pid == os.getpid() or pid <= 0:
        return False
    return _process_state(pid) in ("T", "t")


def _process_alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would send Ctrl+C there: wait for expiry
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    # a zombie (killed, not yet reaped by its parent) is gone for our purposes
    return _process_state(pid) != "Z"


def _process_state(pid: int) -> str | None:
    """The process's state letter in /proc (R, S, T stopped, Z zombie…); None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return None


class Leases:
    """This engine's leases in one journal: claim, renew, release, and what it holds."""

    def __init__(self, journal: Journal, timing: LeaseTiming | None = None,
                 owner: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.journal = journal
        self.timing = timing or LeaseTiming()
        self.owner = owner or new_owner()
        self._clock = clock
        self._held: set[int] = set()
        self._valid_until: dict[int, float] = {}  # by this clock, minus a safety margin
        self._dead: set[str] = set()  # owners found dead (refreshed by `look_for_dead`)

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    def holds(self, generation_id: int) -> bool:
        return generation_id in self._held

    def _until(self) -> float:
        return self._clock() + self.timing.seconds

    def _granted(self, ids: Iterable[int], until: float) -> None:
        margin = min(2.0, self.timing.seconds / 4)
        for generation_id in ids:
            self._held.add(generation_id)
            self._valid_until[generation_id] = until - margin

    def still_held(self, generation_id: int) -> bool:
        """Surely still this engine's: held, and its last renewal not yet run out (a process
        that slept past it may have been taken over, even if nobody did yet)."""
        return (generation_id in self._held
                and self._clock() < self._valid_until.get(generation_id, 0.0))

    def look_for_dead(self) -> set[str]:
        """Find owners on this machine whose process is gone (their leases are free now)."""
        owners = self.journal.lease_owners(self._clock()) - {self.owner}
        self._dead = {owner for owner in owners if owner_is_dead(owner)}
        if self._dead:
            log.info("Taking over the work of ended processes: %s", sorted(self._dead))
        return self._dead

    def claim(self, stages: Iterable[Stage]) -> list[int]:
        """Lease every row in `stages` that no live process holds; the ids held now."""
        until = self._until()
        ids = self.journal.claim(self.owner, until, self._clock(), stages, self._dead)
        self._granted(ids, until)
        return ids

    def claim_waiting(self, *, limit: int, waiting: Iterable[Stage], holding: Iterable[Stage],
                      local: Iterable[Stage], prefer: Iterable[int] = ()) -> list[int]:
        """Lease waiting rows while fewer than `limit` run across all processes."""
        until = self._until()
        ids = self.journal.claim_waiting(
            self.owner, until, self._clock(), limit=limit, waiting=waiting,
            holding=holding, local=local, dead=self._dead, prefer=prefer)
        self._granted(ids, until)
        return ids

    def renew(self) -> set[int]:
        """The heartbeat: extend every lease; the ids that were held but are not any more."""
        if not self._held:
            return set()  # nothing to renew: no write, so idle processes never wake the others
        until = self._until()
        still = self.journal.renew(self.owner, until)
        lost = self._held - still
        self._held = set()
        self._valid_until.clear()
        self._granted(still, until)
        return lost

    def forget(self, generation_id: int) -> None:
        """No longer count a row as held (its lease was freed or taken elsewhere)."""
        self._held.discard(generation_id)
        self._valid_until.pop(generation_id, None)

    def release(self, generation_id: int) -> None:
        self.forget(generation_id)
        self.journal.release(self.owner, [generation_id])

    def release_all(self) -> None:
        self._held.clear()
        self._valid_until.clear()
        self.journal.release(self.owner)
