"""Credits spoken for: generations committed on this computer that apiframe hasn't charged yet.

apiframe takes a job's credits when it accepts it; the balance `GET /v2/me` gives leaves out
what is still waiting here — over the team's limit of jobs at once, queued behind others, being
prepared or uploaded, sent with no answer yet, or stopped by a 402 or a refused key and sent
again by itself after a top-up or a new key. Generate's "… left" and its "Not enough credits"
subtract these, priced from the catalog, so a fifth generation queued isn't the one that meets
a 402.

A generation apiframe just accepted stays counted until the next balance arrives (that balance
is read as soon as apiframe has the job: engine/scheduler.py), so what is left doesn't jump up
for the moment between the two.

Pure bookkeeping, no I/O: the window feeds it every generation it hears of. The Sequences
window's New Take, Extend from End and Run count it the same way (`counted_in`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from runway_desktop.api.catalog import ModelCatalog
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.engine.sequence_records import CostPreview

# Stopped before apiframe took anything, and sent again by the engine by itself once the person
# tops up or gives a working key (scheduler.WAIT_FOR_PERSON_ACTIONS).
_SENT_AGAIN_BY_ITSELF = frozenset({Action.BUY_CREDITS, Action.OPEN_SETTINGS})


def awaits_charge(generation: Generation) -> bool:
    """Committed here, not charged by apiframe yet (and nothing refunded to wait for)."""
    if generation.job_id is not None:
        return False
    stage = generation.stage
    if stage.is_local or stage is Stage.SUBMITTING:
        return True
    return stage is Stage.ATTENTION and generation.action in _SENT_AGAIN_BY_ITSELF


class SpokenFor:
    """What the balance must still cover: one entry per generation awaiting its charge."""

    def __init__(self) -> None:
        self._waiting: dict[int, GenerationSettings] = {}
        # Accepted by apiframe since the last balance was read: that balance doesn't show it.
        self._taken: dict[int, GenerationSettings] = {}

    def reset(self, generations: Iterable[Generation]) -> None:
        """Start from a history (the balance read next includes what is on apiframe already)."""
        self._waiting = {g.id: g.settings for g in generations if awaits_charge(g)}
        self._taken = {}

    def update(self, generation: Generation) -> bool:
        """A generation changed; whether what is spoken for changed with it."""
        gid = generation.id
        if awaits_charge(generation):
            before = self._waiting.get(gid)
            self._waiting[gid] = generation.settings
            return before != generation.settings or self._taken.pop(gid, None) is not None
        settings = self._waiting.pop(gid, None)
        if settings is None:
            return False
        if generation.job_id is not None and generation.stage is not Stage.FAILED:
            self._taken[gid] = settings  # taken by apiframe: until the next balance shows it
        return True

    def remove(self, generation_id: int) -> bool:
        return (self._waiting.pop(generation_id, None) is not None
                or self._taken.pop(generation_id, None) is not None)

    def balance_read(self) -> bool:
        """A new balance arrived: it shows what apiframe took before it."""
        taken, self._taken = self._taken, {}
        return bool(taken)

    def count(self) -> int:
        """Generations not sent yet."""
        return len(self._waiting)

    def credits(self, catalog: ModelCatalog) -> int | None:
        """Credits the generations not sent yet will take; None when a price is unknown
        (apiframe charges what it charges: nothing is said or blocked on a guess)."""
        total = 0
        for settings in self._waiting.values():
            price = settings.price_in(catalog)
            if price is None:
                return None
            total += price
        return total

    def taken(self, catalog: ModelCatalog) -> int:
        """Credits apiframe took since the last balance was read (an unknown price: 0, the
        next balance says)."""
        return sum(settings.price_in(catalog) or 0 for settings in self._taken.values())

    def have(self, balance: int | None, catalog: ModelCatalog) -> int | None:
        """The balance, less what apiframe took since it was read (None: unknown)."""
        return None if balance is None else balance - self.taken(catalog)

    def free(self, balance: int | None, catalog: ModelCatalog) -> int | None:
        """The balance not spoken for by generations waiting here (None: unknown, or a
        price unknown)."""
        have, spoken = self.have(balance, catalog), self.credits(catalog)
        return None if have is None or spoken is None else have - spoken

    def counted_in(self, preview: CostPreview, catalog: ModelCatalog) -> CostPreview:
        """A cost preview whose balance after leaves out what is spoken for (a price unknown:
        only what is priced, as Generate's "Not enough credits" does)."""
        have = self.have(preview.balance, catalog)
        if have is None:
            return preview
        spoken = self.credits(catalog) or 0
        return dataclasses.replace(preview, balance=have, spoken_for=spoken,
                                   waiting=self.count() if spoken else 0)
