"""A plan of shots written by a person: a JSON or YAML file for `runway-desktop sequence run`.

```yaml
name: Lighthouse            # optional (default: the file's name)
model: runway-gen4-turbo    # defaults for every shot (optional)
duration: 5
ratio: "16:9"
seed: 42                    # optional: else the first shot gets a random one, later shots keep it
shots:
  - prompt: the camera rises over the cliff
    image: cliff.png        # the first shot's start image (a file beside the plan, or an https URL)
  - prompt: the lighthouse beam sweeps the sea
    duration: 10            # a shot's own settings win over the defaults
  - the storm rolls in      # a shot can be just its prompt
```

Each later shot starts from the previous shot's last frame, so only the first may name an image.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runway_desktop.engine.settings_changes import SettingsChanges

MAX_SHOTS = 100
_FIELDS = {"model", "duration", "ratio", "aspect_ratio", "seed", "image", "prompt"}


class PlanError(Exception):
    """The plan can't be used; `message` says where and what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PlannedShot:
    prompt: str
    changes: SettingsChanges  # the plan's defaults with the shot's own settings over them


@dataclass(frozen=True)
class Plan:
    name: str
    shots: tuple[PlannedShot, ...]
    source: str | None = None  # "<file>#sha256:<hash>": the same file runs on, never anew


def load_plan(path: Path) -> Plan:
    """Read a plan file (JSON, or YAML for .yaml/.yml); PlanError says what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PlanError(f"Can't read the plan {path}: {error.strerror or error}.") from None
    text = raw.decode("utf-8", errors="replace")
    if path.suffix.lower() in (".yaml", ".yml"):
        data = _yaml(text, path)
    else:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise PlanError(f"The plan {path} is not valid JSON ({error}). Fix it, or write it "
                            "as YAML in a .yaml file.") from None
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return plan_from_data(data, base_dir=path.parent.absolute(), default_name=path.stem,
                          source=f"{path.absolute()}#sha256:{digest}")


def plan_from_data(data: object, *, base_dir: Path, default_name: str = "Sequence",
                   source: str | None = None) -> Plan:
    """A plan from parsed JSON/YAML (a mapping with `shots`, or just the list of shots)."""
    if isinstance(data, list):
        data = {"shots": data}
    if not isinstance(data, Mapping):
        raise PlanError("A plan is a mapping with a list of `shots` (each a prompt, or a mapping "
                        "with `prompt` and settings).")
    unknown = set(data) - _FIELDS - {"name", "shots"}
    if unknown:
        raise PlanError(f"The plan has settings this version doesn't know: "
                        f"{', '.join(sorted(map(str, unknown)))}. Known: name, model, duration, "
                        "ratio, seed, shots.")
    if "image" in data or "prompt" in data:
        raise PlanError("`image` and `prompt` belong to a shot (the first shot's image is the "
                        "start), not to the whole plan.")
    defaults = _changes(data, base_dir, where="the plan")
    shots_data = data.get("shots")
    if not isinstance(shots_data, list) or not shots_data:
        raise PlanError("The plan has no `shots`: list at least one, each with a prompt.")
    if len(shots_data) > MAX_SHOTS:
        raise PlanError(f"The plan has {len(shots_data)} shots; at most {MAX_SHOTS} run as one "
                        "sequence. Split it in two.")
    shots = []
    for index, item in enumerate(shots_data):
        where = f"shot {index + 1}"
        entry: Mapping[str, Any] = {"prompt": item} if isinstance(item, str) else item
        if not isinstance(entry, Mapping):
            raise PlanError(f"{where} is neither a prompt nor a mapping with a prompt.")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise PlanError(f"{where} has settings this version doesn't know: "
                            f"{', '.join(sorted(map(str, unknown)))}.")
        prompt = entry.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise PlanError(f"{where} has no prompt: say what happens in it.")
        if index > 0 and entry.get("image") is not None:
            raise PlanError(f"{where} names an image, but only the first shot can: every later "
                            "shot starts from the previous shot's last frame.")
        changes = _changes(entry, base_dir, where=where).over(defaults)
        shots.append(PlannedShot(prompt.strip(), changes))
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise PlanError("The plan's `name` must be text.")
    return Plan((name or default_name).strip() or default_name, tuple(shots), source)


def _changes(entry: Mapping[str, Any], base_dir: Path, *, where: str) -> SettingsChanges:
    def whole(key: str) -> int | None:
        value = entry.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise PlanError(f"{where}: `{key}` must be a whole number, not {value!r}.")
        return value

    def text(key: str) -> str | None:
        value = entry.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise PlanError(f"{where}: `{key}` must be text, not {value!r}.")
        return value.strip()

    ratio = text("ratio") or text("aspect_ratio")
    image = text("image")
    image_url = image if image and image.lower().startswith(("http://", "https://")) else None
    image_path = None
    if image and not image_url:
        candidate = (base_dir / Path(image).expanduser()).absolute()
        if not candidate.is_file():
            raise PlanError(f"{where}: the image {candidate} doesn't exist. Give a path relative "
                            "to the plan file, an absolute path, or an https URL.")
        image_path = str(candidate)
    return SettingsChanges(duration=whole("duration"), aspect_ratio=ratio, seed=whole("seed"),
                           model=text("model"), image_path=image_path, image_url=image_url)


def _yaml(text: str, path: Path) -> object:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise PlanError(f"The plan {path} is not valid YAML{at}. Fix it (or write it as JSON)."
                        ) from None
