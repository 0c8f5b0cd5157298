"""Value types of the engine: one generation, its settings (its stage: lifecycle_table)."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

# A generation's stage and everything it means live in the lifecycle table; re-exported here so
# `from runway_desktop.engine.records import Stage` keeps working.
from runway_desktop.engine.lifecycle_table import Stage

__all__ = ["Action", "Generation", "GenerationSettings", "Stage"]

PRICE_BY_DURATION = {5: 8, 10: 15}
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
DURATIONS = (5, 10)
MAX_SEED = 2**32 - 1


class Action(enum.StrEnum):
    """What the person can do about a problem; the UI turns it into a button."""

    OPEN_SETTINGS = "open_settings"  # fix or enter the API key
    BUY_CREDITS = "buy_credits"  # top up, then resume
    EDIT_INPUT = "edit_input"  # change the prompt / image / settings
    RETRY = "retry"  # try again (network, server, disk)
    CHOOSE_FOLDER = "choose_folder"  # output folder missing or not writable


@dataclass(frozen=True)
class GenerationSettings:
    """Everything the person chose; enough to re-run a generation exactly."""

    prompt: str
    duration: int = 5
    aspect_ratio: str = "16:9"
    seed: int = 0
    image_path: str | None = None  # a local file the person gave us
    image_url: str | None = None  # an https URL the person gave us (no upload needed)

    @property
    def price(self) -> int:
        return PRICE_BY_DURATION[self.duration]

    def with_seed(self, seed: int) -> GenerationSettings:
        return dataclasses.replace(self, seed=seed)


@dataclass(frozen=True)
class Generation:
    """One row of the journal."""

    id: int
    settings: GenerationSettings
    idempotency_key: str
    stage: Stage
    created_at: float
    updated_at: float
    position: float = 0.0  # order of pending items (lower runs first)
    job_id: str | None = None
    progress: int = 0
    credit_cost: int | None = None
    error: str | None = None
    action: Action | None = None
    uploaded_url: str | None = None
    uploaded_at: float | None = None
    submitted_at: float | None = None
    finished_at: float | None = None
    video_url: str | None = None
    video_path: str | None = None
    thumbnail_path: str | None = None
    favourite: bool = False
    attempts: int = 0
    output_dir: str | None = None  # a folder chosen for this one (CLI --out); None: the default
