"""The sandbox one hostile case runs in, and the promises every case must keep.

Each case gets a private tree:

    root/home    HOME and the XDG folders
    root/data    the app's data folder (history, settings, logs): the app may write here
    root/out     the output folder given with --out: the app may write here
    root/inputs  the files handed to the command
    root/tmp     TMPDIR of the command

and a history that already holds one finished generation (copied from a seed made once by the
real CLI). After the command, whatever it was asked, these hold:

- stderr is `runway-desktop: …` lines (what happened, what to do), never a traceback;
- the earlier generation and its video are exactly as they were;
- every job the server created is in the history (a paid job is never lost) and no generation
  created two (never paid twice);
- nothing outside root/data and root/out changed: not HOME, not the inputs, not TMPDIR;
- the API key appears in no output and no file, and never went to the CDN.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.helpers.cli import CliResult, cli_env, journal_file, journal_rows
from tests.helpers.scripted_server import ScriptedServer

# A key no pattern recognises (no "afk_" prefix, "-" and "." inside): only the literal key's
# redaction keeps it out of messages, the history and the logs. MARK is a piece of it that no
# other text contains.
KEY = "Live.S3cr.3tK3y-0123456789.abcdef"
MARK = "S3cr.3tK3y"
PROMPT = "a red kite over dunes"

Boundary = Literal["files", "servers", "journal", "settings", "arguments"]
# kept: the earlier generation stays; damaged: the history can't be read and its bytes stay as
# they were; emptied: the case itself empties the history (a 0-byte file), rows start afresh.
History = Literal["kept", "damaged", "emptied"]
Args = Sequence[str | os.PathLike[str]]


@dataclass(frozen=True)
class Seed:
    """A data folder holding one finished generation, made by the real CLI."""

    data_dir: Path
    row: dict[str, Any]
    video: Path
    video_sha256: str


@dataclass
class Box:
    """One case's sandbox (see the module docstring) and its scripted apiframe."""

    root: Path
    server: ScriptedServer
    seed: Seed
    base_url: str | None = None  # None: the scripted server's
    closers: list[Callable[[], object]] = field(default_factory=list)  # run after the case

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def journal(self) -> Path:
        return journal_file(self.data)

    def env(self) -> dict[str, str]:
        base = self.server.base_url if self.base_url is None else self.base_url
        return cli_env(base, self.data, self.home, KEY, TMPDIR=str(self.tmp))

    def generated_jobs(self) -> set[str]:
        """Job ids the server created (each one paid for)."""
        return set(self.server.jobs)


def make_box(root: Path, server: ScriptedServer, seed: Seed) -> Box:
    box = Box(root, server, seed)
    for folder in (box.home, box.inputs, box.tmp, box.out):
        folder.mkdir(parents=True)
    for xdg in (".config", ".local/share", ".local/state", ".cache"):
        (box.home / xdg).mkdir(parents=True)
    shutil.copytree(seed.data_dir, box.data)
    return box


@dataclass(frozen=True)
class Case:
    """One row of the hostile table: what is handed over, and what must come back."""

    id: str
    boundary: Boundary
    args: Callable[[Box], Args]
    code: int
    says: tuple[str, ...]  # fragments of the message on stderr
    jobs: int = 0  # jobs the server creates (and charges) during the command
    rows: tuple[str, ...] = ()  # stages of the generations the command adds to the history
    saved: int = 0  # whole videos in the output folder afterwards
    prepare: Callable[[Box], object] | None = None
    check: Callable[[Box, CliResult], None] | None = None
    history: History = "kept"  # "damaged": the history can't be read; its bytes stay as they were
    usage: bool = False  # argparse's own complaint: a usage block, then one line
    timeout: float = 60
    measured: str = ""  # the issue-11 "Measured" finding this row proves fixed
    default_out: bool = False  # the videos go to the default folder (~/Videos/Runway Desktop)
    stdout_closed: bool = False  # stdout is a pipe nobody reads (`… | head -c0`)
    # Ctrl-C (SIGINT) once this holds; the command must end within 2 s of it.
    interrupt_when: Callable[[Box], bool] | None = None

    def __str__(self) -> str:
        return self.id


# -- filesystem snapshots --------------------------------------------------------------------------

Entry = tuple[str, int, int, str]  # kind, size, mode, digest


def snapshot(root: Path, allowed: Sequence[Path]) -> dict[str, Entry]:
    """Every path under `root` except the allowed folders: its kind, size, mode and content."""
    seen: dict[str, Entry] = {}
    skip = {p.resolve() for p in allowed}
    for folder, dirs, names in os.walk(root, followlinks=False):
        here = Path(folder)
        dirs[:] = [d for d in dirs if (here / d).resolve() not in skip]
        for name in (*dirs, *names):
            path = here / name
            info = path.lstat()
            seen[str(path.relative_to(root))] = _entry(path, info)
    return seen


def _entry(path: Path, info: os.stat_result) -> Entry:
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        return "link", 0, mode, os.readlink(path)
    if stat.S_ISDIR(info.st_mode):
        return "dir", 0, mode, ""
    if stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return "file", info.st_size, mode, digest
    return "special", 0, mode, ""  # a FIFO is never opened here: opening it would block


def assert_same_tree(before: dict[str, Entry], after: dict[str, Entry]) -> None:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    outside = {"added": added, "removed": removed, "changed": changed}
    assert outside == {"added": [], "removed": [], "changed": []}, (
        f"written outside the output and data folders: {outside}")


# -- the promises ----------------------------------------------------------------------------------

def assert_message(case: Case, result: CliResult) -> None:
    assert "Traceback" not in result.stderr, str(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if case.usage:
        lines = lines[-1:]  # argparse: usage, then `runway-desktop generate: error: …`
        assert lines, str(result)
        assert ": error: " in lines[0], str(result)
    else:
        assert lines or not case.says, f"no message at all\n{result}"
        # A problem is told as `runway-desktop: …`; a command that did its job may also just
        # say what it did ("Kept the old history as …").
        strays = [line for line in lines if not line.startswith("runway-desktop: ")]
        assert not strays or result.code == 0, f"not a runway-desktop message: {strays}\n{result}"
    text = " ".join(lines)
    for fragment in case.says:
        assert fragment in text, f"{fragment!r} not in the message\n{result}"
    assert "\x1b" not in result.stderr + result.stdout, "a terminal escape reached the terminal"
    assert "\x07" not in result.stderr + result.stdout, "a BEL reached the terminal"


def assert_nothing_lost_or_paid_twice(box: Box, case: Case, rows_before: list[dict[str, Any]],
                                      jobs_before: set[str]) -> list[dict[str, Any]]:
    """The earlier generation is intact, the new rows are the expected ones, every paid job is
    in the history once. Returns the new rows."""
    created = box.generated_jobs() - jobs_before
    assert len(created) == case.jobs, f"the server made {len(created)} job(s), not {case.jobs}"
    generate_keys = {r.headers.get("idempotency-key")
                     for r in box.server.seen("POST /v2/videos/generate")}
    assert len(generate_keys) <= max(case.jobs, 1), (
        f"{len(generate_keys)} idempotency keys for {case.jobs} job(s)")
    if case.history == "damaged":
        assert not created, "a job was paid while the history couldn't record it"
        return []
    rows = journal_rows(box.data)
    if case.history == "emptied":
        rows_before = []
    assert rows[: len(rows_before)] == rows_before, "an earlier generation changed"
    seed = box.seed
    assert hashlib.sha256(seed.video.read_bytes()).hexdigest() == seed.video_sha256
    new = rows[len(rows_before):]
    assert [row["stage"] for row in new] == list(case.rows), [
        (row["stage"], row["error"]) for row in new]
    job_ids = [row["job_id"] for row in rows if row["job_id"]]
    assert len(job_ids) == len(set(job_ids)), f"one job in two rows: {job_ids}"
    assert created <= set(job_ids), f"paid jobs missing from the history: {created - set(job_ids)}"
    return new


def assert_nothing_unexpected_logged(box: Box) -> None:
    """Every hostile input is a case the app knows: its log holds no traceback (an exception
    caught by a last-resort handler, however politely the person was told)."""
    logs = sorted((box.data / "logs").glob("*.log*")) if (box.data / "logs").is_dir() else []
    unexpected = [line for log in logs for line in log.read_text(errors="replace").splitlines()
                  if line.startswith("Traceback")]
    assert unexpected == [], "an unexpected exception was logged: " + "".join(
        log.read_text(errors="replace") for log in logs)[-3000:]


def assert_no_key_anywhere(box: Box, result: CliResult) -> None:
    assert MARK not in result.stdout + result.stderr, str(result)
    leaked = [p for p in box.root.rglob("*")
              if p.is_file() and not p.is_symlink() and MARK.encode() in p.read_bytes()]
    assert leaked == [], f"the API key is written in {leaked}"
    cdn = box.server.seen("GET /cdn/*")
    assert not any(r.headers.get("x-api-key") for r in cdn), "the CDN was sent the key"


def assert_output_folder(folder: Path, box: Box, case: Case, partial_ok: bool) -> None:
    """`case.saved` whole videos (the server's media, whatever settings the app tagged them
    with), their settings sidecars, and `.part` files only beside a row that can resume."""
    videos = sorted(folder.glob("*.mp4")) if folder.is_dir() else []
    assert len(videos) == case.saved, videos
    for video in videos:
        assert _media(video.read_bytes()) == _media(box.server.video), (
            f"{video.name} isn't the whole video")
    sidecars = {video.with_suffix(".json").name for video in videos}
    others = [p.name for p in folder.iterdir()
              if p.suffix != ".mp4" and p.name not in sidecars] if folder.is_dir() else []
    if not partial_ok:
        assert others == [], f"left in the output folder: {others}"


def _media(mp4: bytes) -> bytes:
    """The `mdat` box of an MP4 whose top-level boxes tile it exactly (AssertionError if not)."""
    offset, media = 0, b""
    while offset < len(mp4):
        assert offset + 8 <= len(mp4), "a box header is cut"
        size, kind = struct.unpack(">I4s", mp4[offset:offset + 8])
        if size == 1:
            size = struct.unpack(">Q", mp4[offset + 8:offset + 16])[0]
        assert 8 <= size <= len(mp4) - offset, f"box {kind!r} runs past the end"
        if kind == b"mdat":
            media += mp4[offset:offset + size]
        offset += size
    return media
