"""Value types of sequences: a sequence, its shots, a shot's takes, and a run's state.

A sequence is an ordered list of shots; each shot is one generation chosen among its takes
(re-runs with other seeds or prompts). Shot n+1 starts from the last frame of shot n's chosen
take. Kept in the journal (schema 7, engine/sequence_store.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from runway_desktop.engine.settings_changes import SettingsChanges


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
    account's last known balance (None: unknown yet).
    """

    shots_to_make: int
    credits: int
    unpriced: int
    balance: int | None

    @property
    def balance_after(self) -> int | None:
        return None if self.balance is None else self.balance - self.credits

    @property
    def affordable(self) -> bool | None:
        """Whether the balance covers the priced shots (None: balance unknown)."""
        after = self.balance_after
        return None if after is None else after >= 0
