"""Value types of sequences: a sequence, its shots, a shot's takes, and a run's state.

A sequence is an ordered list of shots; each shot is one generation chosen among its takes
(re-runs with other seeds or prompts). Shot n+1 starts from the last frame of shot n's chosen
take. Kept in the journal (schema 7, engine/sequence_store.py).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from runway_desktop.engine.records import Generation
from runway_desktop.engine.settings_changes import SettingsChanges

MAX_NAME = 120  # characters of a sequence's name (a picker entry, a film's file name)


class RunState(enum.StrEnum):
    """Where a sequence's run is. Stored as text in the journal."""

    IDLE = "idle"  # planned or made by hand; nothing runs by itself
    RUNNING = "running"  # shot after shot; a restart carries on (SequenceService.resume_running)
    STOPPED = "stopped"  # a shot needs the person (`error` says which and what to do)
    DONE = "done"  # every shot has a finished chosen take


@dataclass(frozen=True)
class Shot:
    """One shot: its prompt, what it changes from the shot before, its takes (generation
    ids, oldest first) and the chosen one (None: not made yet)."""

    id: int
    sequence_id: int
    prompt: str
    changes: SettingsChanges
    takes: tuple[int, ...] = ()
    chosen_id: int | None = None


@dataclass(frozen=True)
class Sequence:
    """A sequence with its shots in order."""

    id: int
    name: str
    run_state: RunState
    shots: tuple[Shot, ...]
    created_at: float
    updated_at: float
    error: str | None = None  # why a run stopped (RunState.STOPPED)
    output_dir: str | None = None  # where its takes save (None: the default output folder)
    source: str | None = None  # the plan it was made from (a file and its content's hash)

    def shot(self, shot_id: int) -> Shot:
        for shot in self.shots:
            if shot.id == shot_id:
                return shot
        raise KeyError(shot_id)

    def index_of(self, shot_id: int) -> int:
        return [shot.id for shot in self.shots].index(shot_id)

    @property
    def chosen_ids(self) -> list[int | None]:
        """Each shot's chosen take, in order (what a join exports)."""
        return [shot.chosen_id for shot in self.shots]


@dataclass(frozen=True)
class CostPreview:
    """What running a sequence (or a plan) would cost, before anything is sent.

    `credits` prices the shots still to make by the model catalog; `unpriced` counts those
    the catalog has no price for (apiframe then charges its current price). `balance` is the
    account's last known balance (None: unknown yet). `spoken_for` is the part of it the
    `waiting` generations not sent yet will take (engine/spoken_for.py: the window counts them,
    as Generate's "… left" does); the balance after leaves it out.
    """

    shots_to_make: int
    credits: int
    unpriced: int
    balance: int | None
    spoken_for: int = 0
    waiting: int = 0

    @property
    def balance_after(self) -> int | None:
        return None if self.balance is None else self.balance - self.spoken_for - self.credits

    @property
    def affordable(self) -> bool | None:
        """Whether the balance covers the priced shots (None: balance unknown)."""
        after = self.balance_after
        return None if after is None else after >= 0


class SequenceRefused(Exception):
    """A sequence can't be renamed or removed (now); `message` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SequenceRunning(SequenceRefused):
    """The sequence is running (shots being made, maybe paid): removing it would stop that
    work unseen, so it is refused until the run is stopped."""

    def __init__(self, sequence: Sequence) -> None:
        super().__init__(f"“{sequence.name}” is running: its shots are being made (and "
                         "paid for). Stop it first, then delete it.")
        self.sequence = sequence


def sequence_name(text: str) -> str:
    """A name as typed, made fit for one line: runs of spaces, tabs and line breaks become one
    space, control characters go. SequenceRefused when nothing is left, or it is too long."""
    kept = "".join(c for c in text if unicodedata.category(c) != "Cc" or c.isspace())
    name = " ".join(kept.split())
    if not name:
        raise SequenceRefused("A sequence needs a name: type at least one letter, digit or "
                              "sign (spaces alone don't count).")
    if len(name) > MAX_NAME:
        raise SequenceRefused(f"That name has {len(name)} characters; a sequence's name can "
                              f"have up to {MAX_NAME}. Shorten it.")
    return name


@dataclass(frozen=True)
class KeptTakes:
    """What removing a sequence leaves in place: its takes stay generations in the history
    (`takes`), `videos` of them with their file on disk, `making` of them still being made."""

    takes: int
    videos: int
    making: int

    @classmethod
    def of(cls, takes: Iterable[Generation | None]) -> KeptTakes:
        """From the sequence's takes as the history has them (None: gone from it)."""
        found = [take for take in takes if take is not None]
        return cls(takes=len(found),
                   videos=sum(1 for take in found
                              if take.video_path and Path(take.video_path).is_file()),
                   making=sum(1 for take in found if not take.stage.is_settled))
