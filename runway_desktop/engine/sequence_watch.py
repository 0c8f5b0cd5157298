"""Notice what other processes changed in the sequences (the window sees a CLI's `sequence run`
move shot after shot, and the reverse).

Every write of a sequence, its shots or takes stamps the sequence's `updated_at`
(engine/sequence_store.py); the watch compares those stamps with the last seen ones. Cheap: one
small query of (id, updated_at) per poll. What this process changes itself it marks as seen
(`saw`, `forgot`) after telling its own listeners, so nothing is announced twice.
"""

from __future__ import annotations

from runway_desktop.engine.sequence_records import Sequence
from runway_desktop.engine.sequence_store import SequenceStore


class SequenceWatch:
    def __init__(self, store: SequenceStore) -> None:
        self._store = store
        self._seen = store.stamps()

    def saw(self, sequence: Sequence) -> None:
        """This process announced the sequence as it is now."""
        self._seen[sequence.id] = sequence.updated_at

    def forgot(self, sequence_id: int) -> None:
        """This process removed the sequence (and announced it)."""
        self._seen.pop(sequence_id, None)

    def poll(self) -> tuple[list[int], list[int]]:
        """(ids changed or added, ids removed) by others since the last poll."""
        now = self._store.stamps()
        changed = sorted(i for i, stamp in now.items() if self._seen.get(i) != stamp)
        removed = sorted(i for i in self._seen if i not in now)
        self._seen = now
        return changed, removed
