"""Notice what other processes changed in the journal (the window sees a CLI's generations live,
and a CLI sees the window's).

Cheap when nothing changed: one `PRAGMA data_version` (SQLite bumps it when another connection
commits). When it moved: the rows whose `revision` grew past the last one seen (an index range,
not a table scan), minus this connection's own writes, and the ids removed since.
"""

from __future__ import annotations

from dataclasses import dataclass

from runway_desktop.engine.journal import Journal
from runway_desktop.engine.records import Generation


@dataclass(frozen=True)
class JournalChanges:
    updated: list[Generation]  # added or changed by another process
    removed: list[int]  # removed by another process
    moved: bool  # anything committed by another process, even a lease (worth a schedule)


class JournalWatch:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._version = journal.data_version()
        self._revision = journal.last_revision()
        self._ids = journal.ids()

    def poll(self) -> JournalChanges:
        version = self.journal.data_version()
        if version == self._version:
            # No other process committed: every revision written since is this one's own.
            self._revision = max(self._revision, self.journal.drop_own_revisions())
            return JournalChanges([], [], moved=False)
        self._version = version
        updated, self._revision = self.journal.changes_since(self._revision)
        ids = self.journal.ids()
        added_here, removed_here = self.journal.take_own_changes()
        removed = sorted((self._ids | added_here) - ids - removed_here)
        self._ids = ids
        return JournalChanges(updated, removed, moved=True)
