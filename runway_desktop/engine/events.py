"""What the engine tells its front ends (window, CLI, tests). The engine never reaches into them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runway_desktop.engine.records import Action, Generation

if TYPE_CHECKING:
    from runway_desktop.api import Account
    from runway_desktop.api.catalog import ModelCatalog


class ProblemKind(enum.StrEnum):
    AUTH = "auth"  # no key, wrong key, inactive key: submission paused
    CREDITS = "credits"  # balance below the price: submission paused
    RATE_LIMITED = "rate_limited"  # apiframe asked us to slow down; we wait on our own
    OFFLINE = "offline"  # apiframe unreachable; we keep retrying
    JOURNAL = "journal"  # the history can't be written: the engine has stopped


@dataclass(frozen=True)
class Problem:
    """An engine-wide condition the person should know about (the window's banner)."""

    kind: ProblemKind
    message: str
    action: Action | None = None
    # When a wait we impose ends (epoch seconds, `time.time()`), for a countdown; None: no wait.
    until: float | None = None

    @property
    def pauses_submission(self) -> bool:
        return self.kind in (ProblemKind.AUTH, ProblemKind.CREDITS, ProblemKind.JOURNAL)


@dataclass(frozen=True)
class GenerationUpdated:
    generation: Generation
    # A remark about a generation that is not an error, e.g. "taking unusually long".
    note: str | None = None


@dataclass(frozen=True)
class GenerationRemoved:
    generation_id: int


@dataclass(frozen=True)
class AccountUpdated:
    account: Account


@dataclass(frozen=True)
class AccountUnavailable:
    """A balance check got no answer it could use (apiframe unreachable or erring): its words.
    The balance is read again at the next check (after a generation, or on demand)."""

    message: str


@dataclass(frozen=True)
class ProblemChanged:
    problem: Problem | None


@dataclass(frozen=True)
class CatalogChanged:
    """apiframe's model list changed what is known: labels, prices (Generate's price)."""

    catalog: ModelCatalog


EngineEvent = (GenerationUpdated | GenerationRemoved | AccountUpdated | AccountUnavailable
               | ProblemChanged | CatalogChanged)
