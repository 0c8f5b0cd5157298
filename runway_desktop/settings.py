"""Application settings that the CLI and the window share (a small JSON file; never the API key).

Window geometry and other view state live in QSettings; this file holds what the engine needs.

A settings file that can't be used as it is (not JSON, not an object, a version or a value of
the wrong type) never stops the app: it is kept aside as `settings.json.bad-<time>`, the values
that were fine are kept (the others are back to their defaults) and `load_checked` returns a
notice, once, for the person (the CLI prints it on stderr; the window shows it).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runway_desktop import paths
from runway_desktop.regular_files import NotARegularFile, read_regular_bytes

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
    # Off: EXIF (GPS position, camera, dates), XMP and comments are removed from every image
    # before it is uploaded (engine/images.py). On: a file that fits is sent as it is.
    keep_image_metadata: bool = False
    # On: each saved video gets `<name>.json` beside it, its settings for people and tools
    # (they are inside the MP4 as well, either way).
    settings_sidecar: bool = True
    # Empty: the system's proxy (environment, OS settings). Otherwise host:port or an http(s)
    # URL (api/network.normalize_proxy_url) used for the API and the video downloads.
    proxy: str = ""

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir).expanduser() if self.output_dir else paths.default_output_dir()

    def effective_base_url(self) -> str:
        """`APIFRAME_BASE_URL` overrides the stored value (scripts, tests)."""
        return os.environ.get(BASE_URL_ENV) or self.base_url

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    notice: str | None = None  # for the person, when the file had to be kept aside


class _Unusable(ValueError):
    """What is wrong with the settings file, in a few words."""


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Upgrade older settings files in place; one step per version, like Picard's config_upgrade."""
    version = data.pop("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise _Unusable(f"its version is {json.dumps(version)}, not a whole number")
    # Version 0 (pre-release) called the output folder "download_dir".
    if version < 1 and "download_dir" in data:
        data["output_dir"] = data.pop("download_dir")
    return data


_FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(Settings)}


def _valid(name: str, value: Any) -> bool:
    wanted = {"str": str, "bool": bool}[str(_FIELD_TYPES[name])]
    return isinstance(value, wanted)


def load(data_dir: Path) -> Settings:
    return load_checked(data_dir).settings


def load_checked(data_dir: Path) -> LoadedSettings:
    """The settings, and a notice when the file was unusable (kept aside; defaults used)."""
    path = paths.settings_path(data_dir)
    try:
        data_bytes = read_regular_bytes(path)  # a FIFO here would hang every command
    except FileNotFoundError:
        return LoadedSettings(Settings())
    except NotARegularFile as exc:
        return LoadedSettings(Settings(), _keep_aside(path, exc.problem, "all settings are"))
    except OSError as exc:
        log.warning("Can't read the settings file %s: %s", path, exc)
        return LoadedSettings(Settings(), (
            f"Can't read the settings file {path} ({exc.strerror or exc}); using the default "
            "settings. Check the file's permissions."))
    try:
        raw = json.loads(data_bytes.decode("utf-8"))
        if not isinstance(raw, dict):
            raise _Unusable(f"it holds {_json_kind(raw)}, not settings")
        data = _migrate(raw)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, _Unusable
        reason = str(exc) if isinstance(exc, _Unusable) else "it isn't valid JSON"
        return LoadedSettings(Settings(), _keep_aside(path, reason, "all settings are"))
    known = {k: v for k, v in data.items() if k in _FIELD_TYPES}
    bad = sorted(k for k, v in known.items() if not _valid(k, v))
    chosen = Settings(**{k: v for k, v in known.items() if k not in bad})
    if not bad:
        return LoadedSettings(chosen)
    shown = ", ".join(f"{k}: {json.dumps(known[k])}" for k in bad)
    notice = _keep_aside(path, f"it has values of the wrong kind ({shown})",
                         "those settings are" if len(bad) > 1 else "that setting is")
    try:
        save(data_dir, chosen)  # the good values stay; the notice is given only once
    except OSError as exc:
        log.warning("Can't rewrite the settings file %s: %s", path, exc)
    return LoadedSettings(chosen, notice)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    return f"a single {type(value).__name__} value"


def _keep_aside(path: Path, reason: str, what: str) -> str:
    """Rename the unusable file to settings.json.bad-<time>; the notice for the person."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.bad-{stamp}")
    for n in range(2, 100):
        if not backup.exists():
            break
        backup = path.with_name(f"{path.name}.bad-{stamp}-{n}")
    try:
        os.replace(path, backup)
    except OSError as exc:
        log.warning("Can't keep the settings file %s aside: %s", path, exc)
        return (f"The settings file {path} can't be used ({reason}) and can't be renamed "
                f"({exc.strerror or exc}); {what} back to the defaults for now. Fix or delete "
                "the file.")
    log.warning("Settings file %s unusable (%s): kept as %s", path, reason, backup)
    return (f"The settings file {path} couldn't be used ({reason}): {what} back to the "
            f"defaults. The old file is kept as {backup.name}.")


def save(data_dir: Path, settings: Settings) -> None:
    """Write atomically so a crash never leaves half a settings file, and on the disk before
    the rename: a power cut a moment later keeps the old file or the new one, never an empty
    one (kept aside at the next start, every setting back to its default)."""
    path = paths.settings_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"version": SETTINGS_VERSION, **dataclasses.asdict(settings)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if os.name == "posix":  # the folder's entry for the rename (Windows can't open a folder)
        try:
            folder = os.open(path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(folder)
        except OSError:
            pass
        finally:
            os.close(folder)
