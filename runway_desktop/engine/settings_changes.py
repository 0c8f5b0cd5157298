"""What a new shot changes from the settings it inherits, and the settings that come of it.

An extension (or a sequence's next shot) keeps its parent's model, ratio, duration, seed and
every other setting unless the person changed it; its prompt is new and its start image is the
parent's last frame. The settings are derived through their journal form (`to_json`), so
fields other parts of the app add to it travel along, and what belongs to the parent's own
start image (its framing) does not.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from runway_desktop.engine.records import GenerationSettings

# SettingsChanges field → where it lives in GenerationSettings.to_json()'s "params".
_PARAMS = {"duration": "duration", "aspect_ratio": "aspect_ratio", "seed": "seed"}


@dataclass(frozen=True)
class SettingsChanges:
    """Settings that differ from the inherited ones; None means "the same as before".

    `image_path` / `image_url` only make sense for a first shot (later ones start from their
    parent's last frame).
    """

    duration: int | None = None
    aspect_ratio: str | None = None
    seed: int | None = None
    model: str | None = None
    image_path: str | None = None
    image_url: str | None = None

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def over(self, base: SettingsChanges) -> SettingsChanges:
        """These changes, and `base`'s where these say nothing."""
        return SettingsChanges(**{
            f.name: getattr(self, f.name) if getattr(self, f.name) is not None
            else getattr(base, f.name) for f in fields(self)})

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SettingsChanges:
        """Read what `to_json` wrote; a value of the wrong type is ignored."""
        kinds: dict[str, type] = {"duration": int, "seed": int}
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            kind = kinds.get(f.name, str)
            if isinstance(value, kind) and not isinstance(value, bool):
                values[f.name] = value
        return cls(**values)


def applied(settings: GenerationSettings, changes: SettingsChanges | None, *,
            prompt: str | None = None) -> GenerationSettings:
    """`settings` with `changes` (and a new prompt) applied; its start image stays unless the
    changes name one."""
    data = copy.deepcopy(settings.to_json())
    if prompt is not None:
        data["params"]["prompt"] = prompt
    if changes is not None:
        for name, key in _PARAMS.items():
            value = getattr(changes, name)
            if value is not None:
                data["params"][key] = value
        if changes.model is not None:
            data["model"] = changes.model
        if changes.image_path is not None or changes.image_url is not None:
            data["images"] = {"image": {k: v for k, v in (("path", changes.image_path),
                                                         ("url", changes.image_url)) if v}}
    return GenerationSettings.from_json(data)


def continued(parent: GenerationSettings, prompt: str, start_image: Path,
              changes: SettingsChanges | None = None) -> GenerationSettings:
    """The settings of a shot that starts from `start_image` (the parent's last frame): the
    parent's, with the new prompt and the changes; any image the changes name is ignored."""
    data = copy.deepcopy(parent.to_json())
    data["images"] = {"image": {"path": str(start_image)}}
    keep_image = GenerationSettings.from_json(data)
    if changes is not None:
        changes = SettingsChanges(**{**changes.to_json(), "image_path": None, "image_url": None})
    return applied(keep_image, changes, prompt=prompt)
