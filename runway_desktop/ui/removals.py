"""Remove rows, trash videos, clear finished: each undoable while its notice shows.

Removed rows leave the list at once but stay in the journal until the notice goes (timed out,
closed, replaced by the next removal, or the engine being swapped or stopped); only then does
the engine remove them. Undo before that shows them again from the journal. Videos go to the
OS trash at once (the notice says so) and Undo fetches them back where the platform allows.

A hidden row the engine starts moving again (e.g. a Retry of everything that waits for the
person) is not removed: it shows again, because removing running work would lose what may
be paid for.

The rows of a pending removal are also written down (QSettings, by idempotency key) until it
ends: a quit makes it final, and so does the next start after a kill, a crash or a power cut
(`finish_interrupted`), instead of bringing the rows back — their videos already in the Trash.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QSettings

from runway_desktop.engine.records import Generation, Stage
from runway_desktop.engine.video.metadata import sidecar_of
from runway_desktop.ui import trash
from runway_desktop.ui.queue_model import QueueModel
from runway_desktop.ui.undo_notice import UndoNotice

if TYPE_CHECKING:
    from runway_desktop.engine.commands import GenerationService

log = logging.getLogger(__name__)
_CONTEXT = "Removals"
# Per window process: its owner name (engine/leases.py's "host:pid:token") and the idempotency
# keys of the rows its removal hides, until it ends.
PENDING_GROUP = "removals_pending"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def _generations(count: int) -> str:
    return _tr("1 generation") if count == 1 else _tr("{n} generations").format(n=count)


def _videos(count: int) -> str:
    return _tr("1 video") if count == 1 else _tr("{n} videos").format(n=count)


def clearable(generation: Generation) -> bool:
    """What Clear finished takes away: finished, failed, cancelled, unfollowed; not favourites."""
    return generation.stage.is_terminal and not generation.favourite


@dataclass
class _Batch:
    engine: GenerationService
    rows: dict[int, Generation] = field(default_factory=dict)  # hidden, by id
    trashed: dict[int, trash.TrashedFile] = field(default_factory=dict)
    # Each trashed video's settings file (`<name>.json`), trashed and restored with it.
    sidecars: dict[int, trash.TrashedFile] = field(default_factory=dict)
    chosen: bool = True  # the person picked these rows (a removal; not Clear finished)


def _remove(engine: GenerationService, generation: Generation) -> None:
    """Out of the history for good; a download it cut short leaves no `.part` (nor the note of
    what it was cut from) beside the videos, where nothing would ever finish or remove it."""
    engine.remove(generation.id, delete_file=False)
    if generation.stage is Stage.DONE or not generation.video_path:
        return
    from runway_desktop.engine.part_origin import discard_part

    discard_part(Path(generation.video_path))


class Removals(QObject):
    def __init__(
        self,
        model: QueueModel,
        notice: UndoNotice,
        engine: Callable[[], GenerationService | None],
        parent: QObject | None = None,
        *,
        hold_selection: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
        select: Callable[[list[int]], None] = lambda _ids: None,
    ) -> None:
        super().__init__(parent)
        self._hold_selection = hold_selection
        self._select = select  # the rows Undo brings back become the selection
        self._model = model
        self._notice = notice
        self._engine = engine
        self._batch: _Batch | None = None
        self._owner_name = ""  # whose pending removal it is (another window's isn't ours)
        notice.undo_requested.connect(self.undo)
        notice.expired.connect(self.commit)

    # -- what people ask for --------------------------------------------------------------------

    def remove(self, ids: Iterable[int], *, trash_videos: bool) -> None:
        engine = self._engine()
        if engine is None:
            return
        self._notice.dismiss()  # the previous removal becomes final
        self.commit()
        rows = [g for i in ids if (g := self._model.generation(i)) is not None]
        if not rows:
            return
        batch = _Batch(engine, {g.id: g for g in rows})
        # Out of the list first: the preview lets go of a video before it moves.
        self._hide(batch)
        self._write_pending()  # before any video moves to the Trash
        refused: list[trash.TrashError] = []
        for generation in rows:
            video = Path(generation.video_path) if generation.video_path else None
            if trash_videos and video is not None and video.exists():
                try:
                    batch.trashed[generation.id] = trash.move_to_trash(video)
                except trash.TrashError as error:
                    log.warning("Could not move %s to the trash: %s", video, error.reason)
                    refused.append(error)
                    # Its row stays: nothing happens to it at all.
                    del batch.rows[generation.id]
                    self._model.upsert(generation)
                    continue
                self._trash_sidecar(batch, generation.id, video)
        if not batch.rows:
            self._batch = None
        self._write_pending()
        text = self._removed_text(batch, trash_videos)
        takes = len(batch.rows.keys() & engine.sequence_takes())
        if takes:  # what else it touches: a shot of a sequence isn't made any more
            text += " " + (_tr("It was a take of a sequence: that shot isn't made any more "
                               "(Undo brings it back).") if takes == 1 and len(batch.rows) == 1
                           else _tr("{n} were takes of a sequence: those shots aren't made any "
                                    "more (Undo brings them back).").format(n=takes))
        if refused:
            text += " " + _tr(
                "{videos} could not be moved to the {trash} ({reason}), so {those} stayed."
            ).format(videos=_videos(len(refused)), trash=_tr(trash.TRASH_NAME),
                     reason=refused[0].reason,
                     those=_tr("it") if len(refused) == 1 else _tr("they"))
        text = text.strip()
        if batch.rows:
            self._notice.show_undoable(text)
        else:
            self._notice.show_info(text)

    def clear_finished(self, ids: Iterable[int] | None = None) -> None:
        """Clear what is finished; given `ids` (the rows the person was asked about), only
        those still finished — never a row that became clearable while the question was open."""
        asked = None if ids is None else set(ids)
        self._remove_cleared([i for i in self.clearable_ids() if asked is None or i in asked])

    def clearable_ids(self) -> list[int]:
        """Finished rows, not favourites, not a sequence's takes (they make its film)."""
        engine = self._engine()
        takes = engine.sequence_takes() if engine is not None else set()
        return [g.id for g in self._model.generations() if clearable(g) and g.id not in takes]

    def clearable_count(self) -> int:
        return len(self.clearable_ids())

    def undo(self) -> None:
        batch, self._batch = self._batch, None
        if batch is None:
            return
        self._write_pending()
        self._notice.dismiss()
        stuck = [item for item in batch.trashed.values() if not trash.restore(item)]
        for sidecar in batch.sidecars.values():
            trash.restore(sidecar)  # a settings file left in the trash is no loss to name
        back: list[int] = []
        for generation_id in batch.rows:
            current = batch.engine.get(generation_id)  # the journal is the truth
            if current is not None:
                self._model.upsert(current)
                back.append(generation_id)
        if batch.chosen:
            # What was removed is what the person looks at again. Not the rows Clear finished
            # brings back: dozens the person never picked, all selected, and the next F or
            # Delete acted on every one of them.
            self._select(back)
        shown = len(back)
        text = _tr("Restored {generations}.").format(generations=_generations(shown))
        if stuck:
            text += " " + _tr("{videos} stayed in the {trash}: restore {them} from there.").format(
                videos=_videos(len(stuck)), trash=_tr(trash.TRASH_NAME),
                them=_tr("it") if len(stuck) == 1 else _tr("them"))
        self._notice.show_info(text)

    def commit(self) -> None:
        """Make the pending removal final: the engine removes the rows from the journal."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        self._notice.dismiss()  # e.g. the engine is being swapped: no Undo that can't work
        self._write_pending()
        for generation_id, generation in batch.rows.items():
            try:
                _remove(batch.engine, batch.engine.get(generation_id) or generation)
            except Exception:  # one bad row must not keep the others
                log.exception("Could not remove generation %s", generation_id)
                continue
            if generation_id in batch.trashed and generation.thumbnail_path:
                # The video is in the trash; its first-frame thumbnail is only our cache.
                Path(generation.thumbnail_path).unlink(missing_ok=True)

    def _owner(self) -> str:
        """This window's owner name, made at the first removal: engine.leases brings SQLite
        in, which the window's first paint doesn't need."""
        if not self._owner_name:
            from runway_desktop.engine.leases import new_owner

            self._owner_name = new_owner()
        return self._owner_name

    def finish_interrupted(self, engine: GenerationService) -> int:
        """A removal whose Undo was still offered when its window ended without closing is
        final now, as a quit makes it (its videos went to the Trash then); how many rows went.
        Only a window that is gone (another may be open on this history, its Undo still
        offered); rows of another history (demo) wait for it to be open."""
        from runway_desktop.engine.leases import owner_is_dead

        store = QSettings()
        store.beginGroup(PENDING_GROUP)
        pending = {name: store.value(name) for name in store.childKeys()}
        store.endGroup()
        by_key = {g.idempotency_key: g for g in engine.generations()}
        removed = 0
        for name, value in pending.items():
            if isinstance(value, str):  # QSettings gives a one-item list back as a string
                value = [value]
            if not isinstance(value, list) or not value:
                continue
            owner, keys = str(value[0]), set(map(str, value[1:]))
            if not owner_is_dead(owner):
                continue
            found = [by_key[key] for key in keys if key in by_key]
            for generation in found:
                try:
                    _remove(engine, generation)
                    removed += 1
                except Exception:  # one bad row must not keep the others
                    log.exception("Could not remove generation %s", generation.id)
            if found or not keys:
                store.remove(f"{PENDING_GROUP}/{name}")
        return removed

    # -- engine events --------------------------------------------------------------------------

    def is_hidden(self, generation_id: int) -> bool:
        return self._batch is not None and generation_id in self._batch.rows

    def absorb_update(self, generation: Generation) -> bool:
        """True when this update is for a hidden row and must not show it."""
        if not self.is_hidden(generation.id):
            return False
        assert self._batch is not None
        hidden = self._batch.rows[generation.id]
        if generation.stage is hidden.stage:
            self._batch.rows[generation.id] = generation
            return True
        # It is moving again: keep it (and its video) and show it.
        del self._batch.rows[generation.id]
        self._write_pending()
        item = self._batch.trashed.pop(generation.id, None)
        if item is not None:
            trash.restore(item)
        sidecar = self._batch.sidecars.pop(generation.id, None)
        if sidecar is not None:
            trash.restore(sidecar)
        return False

    def forget(self, generation_id: int) -> None:
        """The engine removed it by itself: nothing left to undo for it."""
        if self._batch is not None:
            self._batch.rows.pop(generation_id, None)
            self._batch.trashed.pop(generation_id, None)
            self._batch.sidecars.pop(generation_id, None)
            self._write_pending()

    def _write_pending(self) -> None:
        """What a removal hides now, on disk at once: a kill a moment later keeps it removed."""
        store = QSettings()
        name = f"{PENDING_GROUP}/p{os.getpid()}"
        if self._batch is None:
            store.remove(name)
        else:  # [owner, key, key, …]: one list reads back as one (a dict didn't, in INI files)
            store.setValue(name, [self._owner(),
                                  *(g.idempotency_key for g in self._batch.rows.values())])
        store.sync()

    # -- internals ------------------------------------------------------------------------------

    def _remove_cleared(self, ids: list[int]) -> None:
        engine = self._engine()
        if engine is None or not ids:
            return
        self._notice.dismiss()
        self.commit()
        batch = _Batch(engine, chosen=False)
        for generation_id in ids:
            generation = self._model.generation(generation_id)
            if generation is not None:
                batch.rows[generation_id] = generation
        self._hide(batch)
        self._write_pending()
        self._notice.show_undoable(
            _tr("Cleared {generations} from the list. Their videos stay in the folder.").format(
                generations=_generations(len(batch.rows))
            )
        )

    @staticmethod
    def _trash_sidecar(batch: _Batch, generation_id: int, video: Path) -> None:
        """The video's settings file goes where the video went (only ours: a `<name>.json`
        someone else made is left alone)."""
        sidecar = sidecar_of(video)
        if sidecar is None:
            return
        try:
            batch.sidecars[generation_id] = trash.move_to_trash(sidecar)
        except trash.TrashError as error:
            log.info("Could not move %s to the trash: %s", sidecar, error.reason)

    def _hide(self, batch: _Batch) -> None:
        self._batch = batch if batch.rows else None
        with self._hold_selection():  # the selection (and the preview) changes once
            self._model.remove_many(batch.rows)

    @staticmethod
    def _removed_text(batch: _Batch, trash_videos: bool) -> str:
        count = len(batch.rows)
        if not count:
            return ""
        if batch.trashed:
            return _tr("Removed {generations} and moved {videos} to the {trash}.").format(
                generations=_generations(count), videos=_videos(len(batch.trashed)),
                trash=_tr(trash.TRASH_NAME))
        text = _tr("Removed {generations} from the history.").format(
            generations=_generations(count))
        if not trash_videos and any(g.video_path for g in batch.rows.values()):
            text += " " + _tr("Videos stay in the folder.")
        return text
