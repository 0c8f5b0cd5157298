"""What the engine tells its front ends (window, CLI, tests). The engine never reaches into them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runway_desktop.engine.records import Action, Generation

if TYPE_CHECKING:
    from runway_desktop.api import Account


class ProblemKind(enum.StrEnum):
    AUTH = "auth"  # no key, wrong key, inactive key: submission paused
    CREDITS = "credits"  # balance below the price: submission paused
    RATE_LIMITED = "rate_limited"  # apiframe asked us to slow down; we wait on our own
    OFFLINE = "offline"  # apiframe unreachable; we keep retrying


@dataclass(frozen=True)
class Problem:
    """An engine-wide condition the person should know about (the window's banner)."""

    kind: ProblemKind
    message: str
    action: Action | None = None

    @property
    def pauses_submission(self) -> bool:
        return self.kind in (ProblemKind.AUTH, ProblemKind.CREDITS)


@dataclass(frozen=True)
class GenerationUpdated:
    generation: Generation


@dataclass(frozen=True)
class GenerationRemoved:
    generation_id: int


@dataclass(frozen=True)
class AccountUpdated:
    account: Account


@dataclass(frozen=True)
class ProblemChanged:
    problem: Problem | None


EngineEvent = GenerationUpdated | GenerationRemoved | AccountUpdated | ProblemChanged
