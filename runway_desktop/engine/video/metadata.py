"""Settings that travel with the video: inside the MP4 (its comment) and in a JSON sidecar.

What is written is one small JSON object:

    {"app": "Runway Desktop", "format": 1,
     "settings": {"model", "params": {prompt, duration, aspect_ratio, seed},
                  "images": {"image": {path, url, sha256, frame}}},
     "job_id", "generation_id", "parent_id", "parent_job_id", "created_at",
     "shots": [ … the same, one per shot of a joined film … ]}

`settings` is exactly what the journal keeps (`GenerationSettings.to_json`), so "Use these
settings" reads it back with `GenerationSettings.from_json`. In the MP4 it is the comment
(`mp4_comment`, compact); beside it, `<name>.json` (indented, for people). A sidecar is only
written over a file that is ours (an unrelated `<name>.json` is never replaced).

`read_video_settings` takes any path a person may drop and never raises: a file that isn't an
MP4, is damaged, hostile or simply not ours gives None.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runway_desktop.engine.records import Generation, GenerationSettings
from runway_desktop.engine.video.mp4_boxes import Mp4FormatError
from runway_desktop.engine.video.mp4_comment import read_comment, sweep_stale, write_comment
from runway_desktop.engine.video.partial_files import create_partial

log = logging.getLogger(__name__)

APP = "Runway Desktop"
FORMAT = 1
SIDECAR_SUFFIX = ".json"
MAX_SIDECAR = 4 * 1024 * 1024  # ours are a few KB; a joined film's a few hundred
MAX_SHOTS = 10_000


@dataclass(frozen=True)
class VideoSettings:
    """What made one video (or, with `shots`, each shot of a joined film)."""

    settings: GenerationSettings
    job_id: str | None = None
    generation_id: int | None = None
    parent_id: int | None = None  # the generation this one extends
    parent_job_id: str | None = None  # that generation's apiframe job
    created_at: str | None = None  # ISO 8601, UTC
    shots: tuple[VideoSettings, ...] = ()  # a joined film's shots, in order

    @property
    def image_sha256(self) -> str | None:
        return self.settings.image_sha256

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"app": APP, "format": FORMAT, "settings": self.settings.to_json()}
        for key in ("job_id", "generation_id", "parent_id", "parent_job_id", "created_at"):
            data[key] = getattr(self, key)
        if self.shots:
            data["shots"] = [shot.to_json() for shot in self.shots]
        return data

    @classmethod
    def from_json(cls, data: object) -> VideoSettings | None:
        """Read what `to_json` wrote; None when `data` isn't ours."""
        if not isinstance(data, Mapping) or data.get("app") != APP:
            return None
        settings = data.get("settings")
        if not isinstance(settings, Mapping):
            return None
        raw_shots = data.get("shots")
        shots: list[VideoSettings] = []
        if isinstance(raw_shots, list):
            for raw in raw_shots[:MAX_SHOTS]:
                shot = cls.from_json(raw) if isinstance(raw, Mapping) and "shots" not in raw \
                    else None
                if shot is not None:
                    shots.append(shot)
        return cls(
            settings=GenerationSettings.from_json(settings),
            job_id=_text(data.get("job_id")),
            generation_id=_whole(data.get("generation_id")),
            parent_id=_whole(data.get("parent_id")),
            parent_job_id=_text(data.get("parent_job_id")),
            created_at=_text(data.get("created_at")),
            shots=tuple(shots),
        )

    def to_text(self, *, indent: int | None = None) -> str:
        separators = (",", ": ") if indent else (",", ":")
        return json.dumps(self.to_json(), ensure_ascii=False, indent=indent,
                          separators=separators)


def for_generation(generation: Generation, parent: Generation | None = None) -> VideoSettings:
    """The settings of a finished generation (`parent`: the one it extends, when known)."""
    return VideoSettings(
        settings=generation.settings,
        job_id=generation.job_id,
        generation_id=generation.id,
        parent_id=generation.parent_id,
        parent_job_id=parent.job_id if parent is not None else None,
        created_at=datetime.fromtimestamp(generation.created_at, UTC).isoformat(
            timespec="seconds"),
    )


def joined(shots: Sequence[VideoSettings]) -> VideoSettings | None:
    """A joined film's settings: its shots in order; at the top the last shot's settings
    (what "Use these settings" and "Extend" continue from). None without shots."""
    if not shots:
        return None
    last = shots[-1]
    flat = tuple(shot for each in shots for shot in (each.shots or (each,)))
    return VideoSettings(settings=last.settings, shots=flat,
                         created_at=datetime.now(UTC).isoformat(timespec="seconds"))


def film_settings(sources: Sequence[Path]) -> VideoSettings | None:
    """What a film joined from `sources` carries: the shots whose clips carry their settings
    (in the MP4 or a sidecar), in order; None when none does."""
    shots = [found for source in sources if (found := read_video_settings(source)) is not None]
    return joined(shots)


# -- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    embedded: bool  # the MP4's own metadata holds the settings
    sidecar: Path | None  # the sidecar written, if any
    problems: tuple[str, ...] = ()  # what couldn't be written, in words (the video is kept)


def save_video_settings(video: Path, settings: VideoSettings | None, *,
                        sidecar: bool = True) -> Saved:
    """Put `settings` into the MP4 at `video` (replaced atomically) and, when asked, into its
    sidecar. None removes what we wrote. Blocking (run it in a thread); never raises: a video
    that can't take them is kept as it is and `problems` says why."""
    video = Path(video)
    problems: list[str] = []
    embedded = False
    try:
        write_comment(video, settings.to_text() if settings is not None else None)
        embedded = settings is not None
    except Mp4FormatError as error:
        problems.append(f"{video.name} can't hold its settings: {error.message}")
    except OSError as error:
        problems.append(f"couldn't write the settings into {video.name}: "
                        f"{error.strerror or error}")
    written: Path | None = None
    if sidecar and settings is not None:
        try:
            written = write_sidecar(video, settings)
        except OSError as error:
            problems.append(f"couldn't write {sidecar_path(video).name}: "
                            f"{error.strerror or error}")
    elif settings is None:
        with contextlib.suppress(OSError):
            if (ours := sidecar_of(video)) is not None:
                ours.unlink()
    return Saved(embedded, written, tuple(problems))


def sidecar_path(video: Path) -> Path:
    """`clip.mp4` → `clip.json`, beside it."""
    return Path(video).with_suffix(SIDECAR_SUFFIX)


def sidecar_of(video: Path) -> Path | None:
    """The video's sidecar when there is one and it is ours (safe to move or delete)."""
    path = sidecar_path(video)
    return path if _read_sidecar(path) is not None else None


def write_sidecar(video: Path, settings: VideoSettings) -> Path | None:
    """`<name>.json` beside `video` (atomically); None when a file of that name that isn't
    ours is in the way (it is left alone)."""
    path = sidecar_path(video)
    sweep_stale(path)
    if path.exists() and _read_sidecar(path) is None:
        log.info("Not writing %s: a file of that name is already there", path)
        return None
    fd, name = create_partial(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(settings.to_text(indent=2) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return path


# -- reading ----------------------------------------------------------------------------------


def read_video_settings(path: Path | str) -> VideoSettings | None:
    """The settings a video carries: from the MP4's own metadata, else from its sidecar.
    None for anything else (not a regular file, not an MP4, damaged, not ours); never raises."""
    try:
        path = Path(path)
        if not _is_regular_file(path):
            return None
        found = _parse(_comment_or_none(path))
        if found is None and path.suffix.lower() != SIDECAR_SUFFIX:
            found = _read_sidecar(sidecar_path(path))
        return found
    except Exception as error:  # a hostile file must never break a drop (RecursionError too)
        log.info("No settings read from %s: %s", path, error)
        return None


def _comment_or_none(path: Path) -> str | None:
    try:
        return read_comment(path)
    except (Mp4FormatError, OSError, UnicodeDecodeError, ValueError):
        return None


def _read_sidecar(path: Path) -> VideoSettings | None:
    try:
        if not _is_regular_file(path) or path.stat().st_size > MAX_SIDECAR:
            return None
        return _parse(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _parse(text: str | None) -> VideoSettings | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return VideoSettings.from_json(data)


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
