"""Run the real command line in a subprocess against a simulator, and look at what it left.

Every run gets an explicit environment: the key, the simulator's URL, a private data dir and a
private HOME (so the default output folder, ~/Videos/Runway Desktop, never touches the real one).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLI = (sys.executable, "-m", "runway_desktop")
# The CLI's pacing knobs (engine.lifecycle.timing_from_env): poll every ~0.05 s, retry fast.
FAST_TIMING = {"RUNWAY_DESKTOP_POLL_SECONDS": "0.05", "RUNWAY_DESKTOP_RETRY_SECONDS": "0.05"}
_OWN_VARIABLES = ("APIFRAME_", "RUNWAY_DESKTOP_")
APP_FOLDER = "Runway Desktop"


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str
    seconds: float

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def one(self) -> dict[str, Any]:
        rows = self.json_lines()
        assert len(rows) == 1, f"expected one JSON line, got {self.stdout!r}"
        return rows[0]

    def __str__(self) -> str:  # what pytest shows when an assertion on the result fails
        return (f"exit {self.code} after {self.seconds:.1f} s\n--- stdout\n{self.stdout}"
                f"--- stderr\n{self.stderr}")


def cli_env(
    base_url: str | None,
    data_dir: Path,
    home: Path,
    key: str | None = "afk_test",
    *,
    fast: bool = True,
    **extra: str,
) -> dict[str, str]:
    """The environment of one CLI run. `key=None` leaves APIFRAME_API_KEY unset."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_VARIABLES)}
    env.update(
        RUNWAY_DESKTOP_DATA_DIR=str(data_dir),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),  # no user-dirs.dirs: Videos is ~/Videos
        PYTHONDONTWRITEBYTECODE="1",
    )
    if base_url is not None:
        env["APIFRAME_BASE_URL"] = base_url
    if key is not None:
        env["APIFRAME_API_KEY"] = key
    if fast:
        env.update(FAST_TIMING)
    env.update(extra)
    return env


def default_output(home: Path) -> Path:
    """Where the CLI saves videos when neither --out nor the settings name a folder."""
    return home / "Videos" / APP_FOLDER


def run_cli(*args: str | os.PathLike[str], env: Mapping[str, str],
            timeout: float = 60) -> CliResult:
    started = time.monotonic()
    done = subprocess.run(
        [*CLI, *map(str, args)], env=dict(env), capture_output=True, text=True,
        timeout=timeout, check=False, stdin=subprocess.DEVNULL,
    )
    return CliResult(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def start_cli(*args: str | os.PathLike[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start the CLI without waiting (the caller kills or waits it)."""
    return subprocess.Popen(
        [*CLI, *map(str, args)], env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True,
    )


def assert_one_line_message(result: CliResult, *fragments: str) -> str:
    """stderr is one `runway-desktop: …` line naming what to do; never a traceback."""
    assert "Traceback" not in result.stderr, str(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, str(result)
    line = lines[0]
    assert line.startswith("runway-desktop: "), str(result)
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


# -- the journal, read the way another process would ---------------------------------------------

def journal_file(data_dir: Path) -> Path:
    return data_dir / "journal.sqlite3"


@contextlib.contextmanager
def read_only_journal(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection (the CLI may be writing at the same time: WAL lets us read)."""
    db = sqlite3.connect(f"file:{journal_file(data_dir)}?mode=ro", uri=True, timeout=5)
    try:
        db.row_factory = sqlite3.Row
        yield db
    finally:
        db.close()


def journal_rows(data_dir: Path) -> list[dict[str, Any]]:
    """Every generation row as a dict, oldest first ([] when there is no journal yet). The
    settings (`settings_json`: model, params, images) are also given as flat keys: prompt,
    duration, aspect_ratio, seed, image_path, image_url, model."""
    if not journal_file(data_dir).exists():
        return []
    with read_only_journal(data_dir) as db:
        try:
            rows = db.execute("SELECT * FROM generations ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # created, schema not written yet
            return []
    return [_with_flat_settings(dict(row)) for row in rows]


def _with_flat_settings(row: dict[str, Any]) -> dict[str, Any]:
    text = row.get("settings_json")
    if text is None:
        return row
    settings = json.loads(text)
    image = settings.get("images", {}).get("image", {})
    return {**row, **settings["params"], "model": settings["model"],
            "image_path": image.get("path"), "image_url": image.get("url")}


# -- MP4 files -----------------------------------------------------------------------------------

def mp4_boxes(path: Path) -> list[tuple[str, int]]:
    """Top-level ISO-BMFF boxes (type, size); AssertionError unless they tile the whole file."""
    data = Path(path).read_bytes()
    boxes: list[tuple[str, int]] = []
    offset = 0
    while offset < len(data):
        assert offset + 8 <= len(data), f"{path}: a box header is cut at byte {offset}"
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8:offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        assert size >= 8, f"{path}: a box of {size} bytes at {offset}"
        assert offset + size <= len(data), (
            f"{path}: box {kind!r} at {offset} needs {size} bytes, the file ends first"
        )
        boxes.append((kind.decode("latin-1"), size))
        offset += size
    return boxes


def assert_complete_mp4(path: Path, expected: bytes | None = None) -> None:
    """A playable MP4: starts with `ftyp`, has `moov` and `mdat`, boxes tile the file exactly."""
    path = Path(path)
    assert path.suffix == ".mp4", path
    head = path.read_bytes()[:12]
    assert head[4:8] == b"ftyp", f"{path} doesn't start with an ftyp box: {head!r}"
    kinds = [kind for kind, _ in mp4_boxes(path)]
    assert kinds[0] == "ftyp", kinds
    assert {"moov", "mdat"} <= set(kinds), kinds
    if expected is not None:
        media = without_settings(path)  # the app adds the generation's settings (its comment)
        assert len(media) == len(expected), (len(media), len(expected))
        assert media == expected, f"{path} differs from the clip the server sent"


def without_settings(path: Path) -> bytes:
    """The bytes of the MP4 at `path` without the settings the app wrote into it: what the
    server sent."""
    import shutil
    import tempfile

    from runway_desktop.engine.video.mp4_comment import write_comment

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(shutil.copy(path, Path(folder) / "copy.mp4"))
        write_comment(copy, None)
        return copy.read_bytes()


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    """Every file under `folder` whose bytes contain `needle`."""
    return [p for p in Path(folder).rglob("*") if p.is_file() and needle in p.read_bytes()]
