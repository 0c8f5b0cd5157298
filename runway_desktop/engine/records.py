"""Value types of the engine: one generation, its settings (its stage: lifecycle_table)."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from runway_desktop.api.catalog import DEFAULT_MODEL_ID, ModelCatalog
from runway_desktop.engine.framing import ImageFrame, frame_from

# A generation's stage and everything it means live in the lifecycle table; re-exported here so
# `from runway_desktop.engine.records import Stage` keeps working.
from runway_desktop.engine.lifecycle_table import Stage

__all__ = ["Action", "Generation", "GenerationSettings", "Stage", "StopCause"]


class Action(enum.StrEnum):
    """What the person can do about a problem; the UI turns it into a button."""

    OPEN_SETTINGS = "open_settings"  # fix or enter the API key
    BUY_CREDITS = "buy_credits"  # top up, then resume
    EDIT_INPUT = "edit_input"  # change the prompt / image / settings
    RETRY = "retry"  # try again (network, server, disk)
    CHOOSE_FOLDER = "choose_folder"  # output folder missing or not writable
    RUN_AGAIN = "run_again"  # apiframe has no such job any more: a new one, same settings


class StopCause(enum.StrEnum):
    """Why a generation stopped, for the engine (its `error` is the words for the person):
    work stopped only because a server couldn't be reached carries on once it answers."""

    API_UNREACHABLE = "api_unreachable"  # apiframe didn't answer (network, DNS, proxy)
    CDN_UNREACHABLE = "cdn_unreachable"  # the video server didn't answer or kept failing
    OUTPUT_FULL = "output_full"  # the output folder's drive had no room for the video


@dataclass(frozen=True)
class GenerationSettings:
    """Everything the person chose; enough to re-run a generation exactly.

    What a model accepts (durations, ratios, seed range) is in its catalog entry; the journal
    keeps these as `{model, params, images}` JSON (`to_json`), so a new model or field needs no
    schema change.
    """

    prompt: str
    duration: int = 5
    aspect_ratio: str = "16:9"
    seed: int = 0
    image_path: str | None = None  # a local file the person gave us
    image_url: str | None = None  # an https URL the person gave us (no upload needed)
    model: str = DEFAULT_MODEL_ID  # a catalog id (api.catalog)
    # The part of the local image the person framed for the video (None: Runway's centre crop).
    frame: ImageFrame | None = None
    # SHA-256 (hex) of the start image's bytes as uploaded (after preparation); set at upload.
    image_sha256: str | None = None
    # SHA-256 (hex) of the start image file as it was read for the upload (before preparation):
    # re-using these settings keeps `frame` only on that very picture. Set at upload.
    image_source_sha256: str | None = None

    def price_in(self, catalog: ModelCatalog) -> int | None:
        """Credits this costs by `catalog` (None: the catalog doesn't know; apiframe decides)."""
        spec = catalog.get(self.model)
        return spec.price(self.duration) if spec else None

    def with_seed(self, seed: int) -> GenerationSettings:
        return dataclasses.replace(self, seed=seed)

    def to_json(self) -> dict[str, Any]:
        """`{"model", "params", "images"}`: what the journal stores."""
        image: dict[str, Any] = {
            key: value for key, value in (("path", self.image_path), ("url", self.image_url))
            if value is not None
        }
        if self.frame is not None and self.image_path is not None:
            image["frame"] = self.frame.to_json()
        if self.image_sha256 is not None and image:
            image["sha256"] = self.image_sha256
        if self.image_source_sha256 is not None and self.image_path is not None:
            image["source_sha256"] = self.image_source_sha256
        return {
            "model": self.model,
            "params": {"prompt": self.prompt, "duration": self.duration,
                       "aspect_ratio": self.aspect_ratio, "seed": self.seed},
            "images": {"image": image} if image else {},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GenerationSettings:
        """Read what `to_json` wrote; a missing field takes its default."""
        params = _mapping(data.get("params"))
        image = _mapping(_mapping(data.get("images")).get("image"))
        defaults = cls(prompt="")
        return cls(
            prompt=_typed(params.get("prompt"), str, defaults.prompt),
            duration=_typed(params.get("duration"), int, defaults.duration),
            aspect_ratio=_typed(params.get("aspect_ratio"), str, defaults.aspect_ratio),
            seed=_typed(params.get("seed"), int, defaults.seed),
            image_path=_typed(image.get("path"), str, None),
            image_url=_typed(image.get("url"), str, None),
            image_sha256=_typed(image.get("sha256"), str, None),
            image_source_sha256=_typed(image.get("source_sha256"), str, None),
            model=_typed(data.get("model"), str, defaults.model),
            frame=frame_from(image),
        )


_T = TypeVar("_T")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _typed(value: object, kind: type[_T], default: _T) -> _T:
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    return default


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
    parent_id: int | None = None  # made from this generation's last frame (Extend)
    # Why it stopped, when the engine may carry on by itself (no column: kept in the row's
    # settings JSON under "stop", and cleared with its `error`: engine/journal.py).
    stop_cause: StopCause | None = None
    # A failure apiframe refunded that Retry sent anew: the new generation's id (no column:
    # the settings JSON's "sent_again"; cleared when that generation leaves the history).
    sent_again_as: int | None = None
