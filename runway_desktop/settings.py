"""Application settings that the CLI and the window share (a small JSON file; never the API key).

Window geometry and other view state live in QSettings; this file holds what the engine needs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runway_desktop import paths

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.apiframe.ai"
BASE_URL_ENV = "APIFRAME_BASE_URL"
SETTINGS_VERSION = 1


@dataclass(frozen=True)
class Settings:
    base_url: str = DEFAULT_BASE_URL
    output_dir: str = ""  # empty: the platform's Videos folder / Runway Desktop
    demo_mode: bool = False
    notify_when_done: bool = True

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir).expanduser() if self.output_dir else paths.default_output_dir()

    def effective_base_url(self) -> str:
        """`APIFRAME_BASE_URL` overrides the stored value (scripts, tests)."""
        return os.environ.get(BASE_URL_ENV) or self.base_url

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Upgrade older settings files in place; one step per version, like Picard's config_upgrade."""
    version = int(data.pop("version", 0))
    # Version 0 (pre-release) called the output folder "download_dir".
    if version < 1 and "download_dir" in data:
            data["output_dir"] = data.pop("download_dir")
    return data


def load(data_dir: Path) -> Settings:
    path = paths.settings_path(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("Ignoring unreadable settings file %s: %s", path, exc)
        return Settings()
    if not isinstance(raw, dict):
        return Settings()
    known = {f.name for f in dataclasses.fields(Settings)}
    values = {k: v for k, v in _migrate(raw).items() if k in known}
    return Settings(**values)


def save(data_dir: Path, settings: Settings) -> None:
    """Write atomically so a crash never leaves half a settings file."""
    path = paths.settings_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"version": SETTINGS_VERSION, **dataclasses.asdict(settings)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
