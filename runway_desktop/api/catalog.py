"""The video models this app can drive: one description per model (contract §15).

A `ModelSpec` says what a model accepts (durations, ratios, seed range, prompt limit counted as
Runway counts it, image slots) and what it costs. The built-in table below is the fallback for
offline starts; `GET /v2/models?modality=video` refreshes labels and prices (`with_remote`).
Validation, pricing, the compose panel and the CLI all read a `ModelCatalog`: a new model with the
same parameters as an existing one is one more entry here.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .server_text import clean_optional  # light: the window's first paint reads the catalog

RUNWAY_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
RUNWAY_MAX_SEED = 2**32 - 1
RUNWAY_PROMPT_LIMIT = 1000  # Runway's promptText cap in UTF-16 units; apiframe would take 4000


def prompt_length(text: str) -> int:
    """Length as Runway counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})  # controls, zero-width/format, spaces


def has_visible_text(text: str) -> bool:
    """Whether a prompt shows anything: one of only controls (BEL, NUL) or zero-width and format
    characters (U+200B, U+200D, U+FEFF) reads as empty and must not be charged."""
    return any(unicodedata.category(char) not in _INVISIBLE for char in text)


@dataclass(frozen=True)
class ModelSpec:
    """One video model: what it takes and what it costs (credits per duration)."""

    id: str
    label: str
    durations: tuple[int, ...] = (5, 10)
    default_duration: int = 5
    aspect_ratios: tuple[str, ...] = RUNWAY_RATIOS
    seed_range: tuple[int, int] = (0, RUNWAY_MAX_SEED)
    prompt_limit: int = RUNWAY_PROMPT_LIMIT
    image_slots: tuple[str, ...] = ("image",)  # keys inside the params block, start image first
    params_key: str = "runwayParams"
    prices: Mapping[int, int] = field(default_factory=dict)  # duration → credits; {} = unknown
    description: str | None = None

    def price(self, duration: int) -> int | None:
        """Credits for one clip of `duration` seconds, or None when the catalog doesn't say."""
        return self.prices.get(duration)

    @property
    def max_seed(self) -> int:
        return self.seed_range[1]


GEN4_TURBO = ModelSpec(
    id="runway-gen4-turbo",
    label="Gen-4 Turbo",
    prices={5: 8, 10: 15},  # apiframe's Runway page (contract §10)
    description="Fast image-to-video, 720p.",
)
GEN4_5 = ModelSpec(
    id="runway-gen4.5",
    label="Gen-4.5",
    # Same request shape as Gen-4 Turbo (contract §15.2); its price is only in /v2/models.
    description="Runway's newest model: higher fidelity, slower.",
)
BUILT_IN_MODELS = (GEN4_TURBO, GEN4_5)
DEFAULT_MODEL_ID = GEN4_TURBO.id


@dataclass(frozen=True)
class CatalogEntry:
    """One `ModelCatalogEntry` of `GET /v2/models` (lenient: the schema is intentionally loose)."""

    id: str
    label: str
    modality: str
    cost_min: float | None = None
    cost_max: float | None = None
    pricing_mode: str | None = None  # flat | per-second | per-output
    description: str | None = None


MAX_COST = 1_000_000.0  # credits per video or per second: a price beyond it is no price


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and not -MAX_COST <= value <= MAX_COST:
        return None  # a JSON integer of any size: float() of a huge one would overflow
    return float(value) if math.isfinite(value) and 0 <= value <= MAX_COST else None


def parse_catalog(body: Any) -> list[CatalogEntry]:
    """Read `{"models": [...]}`; entries without an id, label or modality are skipped."""
    if not isinstance(body, Mapping) or not isinstance(body.get("models"), list):
        from .errors import UnexpectedResponseError  # loads httpx: only when a body is read

        raise UnexpectedResponseError("apiframe's model list wasn't {\"models\": [...]}.")
    entries = []
    for item in body["models"]:
        if not isinstance(item, Mapping):
            continue
        model_id = clean_optional(item.get("id"), limit=100)
        label = clean_optional(item.get("label"), limit=100)
        modality = clean_optional(item.get("modality"), limit=20)
        if not (model_id and label and modality):
            continue
        entries.append(CatalogEntry(
            id=model_id, label=label, modality=modality,
            cost_min=_number(item.get("costMin")), cost_max=_number(item.get("costMax")),
            pricing_mode=clean_optional(item.get("pricingMode"), limit=20),
            description=clean_optional(item.get("description"), limit=300),
        ))
    return entries


def prices_from_entry(spec: ModelSpec, entry: CatalogEntry) -> dict[int, int]:
    """Credits per duration from a catalog entry; {} when it can't be read unambiguously.

    flat (or unstated) with a min and max: the shortest duration costs costMin, the longest
    costMax (8 and 15 for Gen-4 Turbo's 5 s and 10 s). per-second: costMin × seconds, rounded up.
    """
    low, high = entry.cost_min, entry.cost_max
    if entry.pricing_mode == "per-second" and low is not None:
        return {d: math.ceil(round(low * d, 6)) for d in spec.durations}
    if entry.pricing_mode in (None, "flat") and low is not None:
        high = low if high is None else high
        shortest, longest = min(spec.durations), max(spec.durations)
        if len(spec.durations) == 1:
            return {shortest: math.ceil(low)}
        if len(spec.durations) == 2 and low <= high:
            return {shortest: math.ceil(low), longest: math.ceil(high)}
    return {}


@dataclass(frozen=True)
class ModelCatalog:
    """The models on offer, in the order a person sees them."""

    models: tuple[ModelSpec, ...] = BUILT_IN_MODELS
    source: str = "built-in"  # built-in | apiframe | cache

    def get(self, model_id: str) -> ModelSpec | None:
        return next((m for m in self.models if m.id == model_id), None)

    def require(self, model_id: str) -> ModelSpec:
        spec = self.get(model_id)
        if spec is None:
            known = ", ".join(m.id for m in self.models)
            raise KeyError(f"Unknown model {model_id!r}; this app knows {known}.")
        return spec

    @property
    def default(self) -> ModelSpec:
        return self.get(DEFAULT_MODEL_ID) or self.models[0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.models)

    def with_remote(self, entries: Iterable[CatalogEntry]) -> ModelCatalog:
        """Labels and prices from apiframe for the models this app knows how to drive. Models it
        doesn't know stay out: their parameters can't be guessed from the catalog alone."""
        by_id = {e.id: e for e in entries if e.modality == "video"}
        updated = []
        for spec in self.models:
            entry = by_id.get(spec.id)
            if entry is None:
                updated.append(spec)
                continue
            prices = prices_from_entry(spec, entry) or dict(spec.prices)
            updated.append(dataclasses.replace(
                spec, label=entry.label, prices=prices,
                description=entry.description or spec.description))
        return ModelCatalog(tuple(updated), source="apiframe")

    def to_json(self) -> dict[str, Any]:
        """What the disk cache keeps: per model, its label and prices."""
        return {"models": [{"id": m.id, "label": m.label,
                            "prices": {str(d): c for d, c in sorted(m.prices.items())}}
                           for m in self.models]}

    def with_cached(self, data: Any) -> ModelCatalog:
        """Apply a cache written by `to_json`; anything odd in it is ignored."""
        if not isinstance(data, Mapping) or not isinstance(data.get("models"), list):
            return self
        cached = {item["id"]: item for item in data["models"]
                  if isinstance(item, Mapping) and isinstance(item.get("id"), str)}
        updated = []
        for spec in self.models:
            item = cached.get(spec.id)
            if item is None:
                updated.append(spec)
                continue
            raw = item.get("prices")
            prices = {int(d): c for d, c in raw.items()
                      if isinstance(d, str) and d.isascii() and d.isdigit()
                      and int(d) in spec.durations
                      and isinstance(c, int) and not isinstance(c, bool) and c >= 0
                      } if isinstance(raw, Mapping) else {}
            label = clean_optional(item.get("label"), limit=100) or spec.label
            updated.append(dataclasses.replace(spec, label=label,
                                               prices=prices or dict(spec.prices)))
        return ModelCatalog(tuple(updated), source="cache")


BUILT_IN_CATALOG = ModelCatalog()
