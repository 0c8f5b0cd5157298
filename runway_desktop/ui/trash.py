"""Videos go to the OS trash (send2trash), and come back from it on Undo where we can find them.

send2trash does not say where it put a file. On Linux and the BSDs (the freedesktop.org trash,
which send2trash and gio both write) the entry is found again by its `.trashinfo` record and
moved back. Elsewhere (the macOS Trash, the Windows Recycle Bin) Undo cannot fetch it, and the
person is told where it is.
"""

from __future__ import annotations

import configparser
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

TRASH_NAME = "Recycle Bin" if sys.platform == "win32" else "Trash"


class TrashError(Exception):
    """The file could not be moved to the trash; `reason` says why, in words."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class TrashedFile:
    original: Path
    files_path: Path | None  # where it is inside the trash, when known
    info_path: Path | None  # its .trashinfo record


def move_to_trash(path: Path) -> TrashedFile:
    from send2trash import send2trash  # type: ignore[import-untyped]

    try:
        send2trash(str(path))
    except OSError as error:  # TrashPermissionError is an OSError too
        raise TrashError(path, error.strerror or str(error)) from error
    except Exception as error:  # the platform backends raise their own kinds
        raise TrashError(path, str(error) or type(error).__name__) from error
    found = _find_freedesktop_entry(path) if _uses_freedesktop() else None
    if found is None:
        return TrashedFile(path, None, None)
    return TrashedFile(path, found[0], found[1])


def restore(item: TrashedFile) -> bool:
    """Put a trashed file back where it was; False when that can't be done."""
    if item.files_path is None or not item.files_path.exists() or item.original.exists():
        return False
    try:
        item.original.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(item.files_path), str(item.original))
    except OSError:
        return False
    if item.info_path is not None:
        item.info_path.unlink(missing_ok=True)
    return True


# -- the freedesktop.org trash ------------------------------------------------------------------


def _uses_freedesktop() -> bool:
    return sys.platform not in ("darwin", "win32")


def _home_trashes() -> list[Path]:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    found = [Path(data_home) / "Trash"]
    # send2trash's own implementation reads XDG_DATA_HOME once, when it is imported.
    plat_other = sys.modules.get("send2trash.plat_other")
    home = getattr(plat_other, "HOMETRASH_B", None)
    if isinstance(home, bytes) and Path(os.fsdecode(home)) not in found:
        found.append(Path(os.fsdecode(home)))
    return found


def _volume_trashes(path: Path) -> list[Path]:
    top = path.resolve().parent
    while not os.path.ismount(top) and top != top.parent:
        top = top.parent
    uid = str(os.getuid()) if hasattr(os, "getuid") else ""
    return [top / ".Trash" / uid, top / f".Trash-{uid}"]


def _find_freedesktop_entry(original: Path) -> tuple[Path, Path] | None:
    """The newest trash entry recorded as coming from `original`: (file, .trashinfo)."""
    stem, suffix = original.stem, original.suffix
    best: tuple[float, Path, Path] | None = None
    for trash in (*_home_trashes(), *_volume_trashes(original)):
        info_dir = trash / "info"
        if not info_dir.is_dir():
            continue
        # Entries keep the name, or get " 1", " 2" … before the extension: look only at those.
        for info in info_dir.glob(f"{_glob_escape(stem)}*{_glob_escape(suffix)}.trashinfo"):
            recorded = _recorded_path(info, trash)
            if recorded is None or recorded != original.resolve():
                continue
            entry = trash / "files" / info.name.removesuffix(".trashinfo")
            if not entry.exists():
                continue
            when = info.stat().st_mtime
            if best is None or when > best[0]:
                best = (when, entry, info)
    return None if best is None else (best[1], best[2])


def _recorded_path(info: Path, trash: Path) -> Path | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(info, encoding="utf-8")
        raw = parser.get("Trash Info", "Path")
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    recorded = Path(unquote(raw))
    if not recorded.is_absolute():  # a volume trash records paths from the volume's top
        top = trash.parent if trash.name.startswith(".Trash-") else trash.parent.parent
        recorded = top / recorded
    return recorded.resolve()


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)
