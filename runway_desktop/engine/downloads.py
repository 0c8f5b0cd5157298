"""Streaming the finished MP4 from the CDN to disk: resumable, checked, renamed atomically.

The caller must pass the keyless CDN client (see DESIGN.md: one client per host role): this
module adds no credentials, and the CDN must never see the API key.

The bytes go to `<dest>.part`; only a complete, checked file is renamed to `dest`. A part left
behind by an interruption is resumed with a Range request next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import httpx

SNIFF_BYTES = 12  # enough for an ISO-BMFF `ftyp` box header or the EBML magic
EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # WebM / Matroska
ACCEPTED_TYPES = ("application/octet-stream",)  # plus every video/*

Progress = Callable[[int, int | None], None]  # (bytes on disk, total bytes or None)


class DownloadError(Exception):
    """Base of every download problem; `message` is for people, `retryable` for the scheduler."""

    retryable = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DownloadFailed(DownloadError):
    """The CDN answered with an HTTP error."""

    def __init__(self, status: int, message: str | None = None) -> None:
        self.status = status
        # 404/410: gone (expired or purged); other 4xx won't change on retry; 5xx and 429 may.
        self.retryable = status >= 500 or status in (408, 429)
        if message is None:
            if status in (404, 410):
                message = f"The video is no longer on the server (HTTP {status})."
            elif self.retryable:
                message = f"The video server had a problem (HTTP {status}). Try again shortly."
            else:
                message = f"The video server refused the download (HTTP {status})."
        super().__init__(message)


class DownloadRejected(DownloadError):
    """What came back is not a video we want: wrong type, wrong bytes, or far too big."""

    retryable = False


class DownloadInterrupted(DownloadError):
    """The connection broke; the `.part` file is kept so a retry resumes."""


class DownloadIncomplete(DownloadInterrupted):
    """The body ended before Content-Length said it would; the `.part` is kept for resume."""


class DiskFullError(DownloadError):
    def __init__(self, folder: Path) -> None:
        super().__init__(f"The disk is full — free some space in {folder}, then retry.")
        self.folder = folder


class OutputFolderError(DownloadError):
    retryable = False  # needs the person to pick another folder first

    def __init__(self, folder: Path) -> None:
        super().__init__(f"Can't write to {folder} — choose another output folder in Settings.")
        self.folder = folder


async def download_video(
    client: httpx.AsyncClient,
    url: str,
    dest: Path,
    *,
    max_bytes: int = 2 * 1024**3,
    progress: Progress | None = None,
) -> Path:
    """Download `url` to `dest` and return `dest`. `client` must be the keyless CDN client."""
    dest = Path(dest)
    part = part_path(dest)
    folder = dest.parent
    if not folder.is_dir():
        raise OutputFolderError(folder)
    # At most one restart from zero (a part the server no longer matches); then give up.
    for _attempt in range(2):
        offset = _resumable_size(part)
        try:
            complete = await _fetch(client, url, part, offset, max_bytes, progress)
        except DownloadRejected:
            _remove(part)  # not worth resuming: the same answer would come back
            raise
        if complete:
            await asyncio.to_thread(_finish, part, dest)  # rename + directory fsync
            return dest
        _remove(part)
    raise DownloadRejected("The server keeps sending a different file. Try again later.")


def part_path(dest: Path) -> Path:
    """Where the bytes of `dest` collect until it is complete (delete it to give up)."""
    return dest.with_name(dest.name + ".part")


def _resumable_size(part: Path) -> int:
    """Bytes of a previous attempt worth keeping; 0 (and the part gone) if none."""
    try:
        with part.open("rb") as f:
            head = f.read(SNIFF_BYTES)
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        return 0
    except OSError:
        size, head = 0, b""
    if size >= SNIFF_BYTES and _looks_like_video(head):
        return size
    _remove(part)  # too short to judge, or not ours: start over
    return 0


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    part: Path,
    offset: int,
    max_bytes: int,
    progress: Progress | None,
) -> bool:
    """One request. True when the part is complete; False when it must be thrown away."""
    folder = part.parent
    # identity: byte counts must match Content-Length / Content-Range exactly.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        async with client.stream("GET", url, headers=headers, follow_redirects=True) as resp:
            if resp.status_code == 416 and offset:
                # Nothing left to send: fine if our part already is the whole file.
                return _content_range(resp)[2] == offset
            if resp.status_code == 206 and offset:
                start, _, total = _content_range(resp)
                if start != offset:
                    return False
            elif resp.status_code == 200:
                offset, total = 0, None  # the whole file again: start over
            else:
                raise DownloadFailed(resp.status_code)
            _check_content_type(resp)

            length = _content_length(resp)
            if total is None and length is not None:
                total = offset + length
            if total is not None and total > max_bytes:
                raise DownloadRejected(_too_big(total, max_bytes))
            if progress is not None and offset:
                progress(offset, total)

            written = await _stream_body(resp, part, offset, max_bytes, total, progress)
            if total is not None and written < total:
                raise DownloadIncomplete(_incomplete(written, total))
            return True
    except httpx.RemoteProtocolError as exc:
        # h11 raises this when the peer closes before Content-Length bytes arrived.
        raise DownloadIncomplete(
            "The download stopped before the end. Retry to continue where it left off."
        ) from exc
    except httpx.TransportError as exc:
        raise DownloadInterrupted(
            "The connection to the video server broke. Retry to continue where it left off."
        ) from exc
    except httpx.RequestError as exc:  # e.g. too many redirects
        raise DownloadError(f"The video couldn't be fetched: {exc}.") from exc
    except OSError as exc:
        raise _os_error(exc, folder) from exc


async def _stream_body(
    resp: httpx.Response,
    part: Path,
    offset: int,
    max_bytes: int,
    total: int | None,
    progress: Progress | None,
) -> int:
    """Append the body to the part (or write it anew when offset is 0); bytes on disk after."""
    written = offset
    # A fresh file is sniffed before a byte is written: an HTML error page never lands on disk.
    head = b""
    out: BinaryIO | None = part.open("ab") if offset else None
    try:
        async for chunk in resp.aiter_bytes():
            if out is None:
                head += chunk
                if len(head) < SNIFF_BYTES:
                    continue
                out = _open_checked(part, head, resp)
                chunk, head = head, b""
            if written + len(chunk) > max_bytes:
                raise DownloadRejected(_too_big(written + len(chunk), max_bytes))
            out.write(chunk)  # small buffered writes: fine on the event loop
            written += len(chunk)
            if progress is not None:
                progress(written, total)
        if out is None:  # the whole body was shorter than the sniff window
            out = _open_checked(part, head, resp)
            out.write(head)
            written += len(head)
        if total is None or written >= total:
            # On disk before the rename makes it visible. In a thread: flushing 100 MB can
            # take seconds, and the event loop (the window) must not wait for the disk.
            await asyncio.to_thread(_sync_file, out)
    finally:
        if out is not None:
            out.close()
    return written


def _open_checked(part: Path, head: bytes, resp: httpx.Response) -> BinaryIO:
    if not _looks_like_video(head):
        raise DownloadRejected(_not_video(resp))
    return part.open("wb")


def _sync_file(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())


def _finish(part: Path, dest: Path) -> None:
    try:
        os.replace(part, dest)  # atomic: `dest` is either absent or complete
        _fsync_dir(dest.parent)
    except OSError as exc:
        raise _os_error(exc, dest.parent) from exc


# --- HTTP helpers --------------------------------------------------------------------------


def _content_length(resp: httpx.Response) -> int | None:
    value = resp.headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)")


def _content_range(resp: httpx.Response) -> tuple[int | None, int | None, int | None]:
    """(start, end, total) of `Content-Range: bytes 100-199/1000` or `bytes */1000`."""
    match = _RANGE.fullmatch(resp.headers.get("content-range", "").strip())
    if not match:
        return None, None, None
    start, end, total = match.groups()
    return (
        int(start) if start else None,
        int(end) if end else None,
        int(total) if total and total != "*" else None,
    )


def _check_content_type(resp: httpx.Response) -> None:
    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    # A missing type is left to the byte sniff; a wrong one (an HTML error page) is refused.
    if ctype and not ctype.startswith("video/") and ctype not in ACCEPTED_TYPES:
        raise DownloadRejected(_not_video(resp))


def _looks_like_video(head: bytes) -> bool:
    return head[4:8] == b"ftyp" or head.startswith(EBML_MAGIC)


def _not_video(resp: httpx.Response) -> str:
    ctype = resp.headers.get("content-type", "unknown")
    return f"The server sent something that isn't a video ({ctype}). Try again later."


def _too_big(size: int, limit: int) -> str:
    return (
        f"The video is {size / 1024**2:.0f} MB, more than the {limit / 1024**2:.0f} MB allowed. "
        "It was not downloaded."
    )


def _incomplete(written: int, total: int) -> str:
    return (
        f"The download stopped at {written:,} of {total:,} bytes. "
        "Retry to continue where it left off."
    )


# --- file helpers --------------------------------------------------------------------------


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)  # makes the rename itself survive a crash
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_FOLDER = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR, errno.EISDIR}


def _os_error(exc: OSError, folder: Path) -> DownloadError:
    if exc.errno in _FULL:
        return DiskFullError(folder)
    if exc.errno in _FOLDER:
        return OutputFolderError(folder)
    return DownloadError(f"Couldn't save the video in {folder}: {exc.strerror or exc}.")


# --- file names ----------------------------------------------------------------------------

MAX_PROMPT_CHARS = 50
MAX_PROMPT_WORDS = 6
MAX_PROMPT_BYTES = 150  # UTF-8: file names are limited to 255 bytes on most file systems
FORBIDDEN = set('<>:"/\\|?*')
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


def video_filename(prompt: str, job_id: str, created: datetime) -> str:
    """`2026-11-24 1432 a red kite over dunes [b2c3d4e5].mp4`, safe on every OS.

    Built only from what we know locally: never from the server's path.
    """
    words = _prompt_words(prompt) or "video"
    job = re.sub(r"[^A-Za-z0-9_-]", "", unicodedata.normalize("NFKC", job_id))[:8]
    name = f"{created:%Y-%m-%d %H%M} {words}"
    if job:
        name += f" [{job}]"
    return _safe_component(name) + ".mp4"


def _prompt_words(prompt: str) -> str:
    text = unicodedata.normalize("NFC", prompt)
    # Control, format (e.g. right-to-left override), private and unpaired code points and
    # every kind of space become plain spaces, like the characters Windows forbids.
    text = "".join(" " if c in FORBIDDEN or unicodedata.category(c)[0] in "CZ" else c for c in text)
    words = text.split()[:MAX_PROMPT_WORDS]
    result = ""
    for word in words:
        candidate = f"{result} {word}" if result else word
        if len(candidate) > MAX_PROMPT_CHARS or len(candidate.encode()) > MAX_PROMPT_BYTES:
            break
        result = candidate
    if not result and words:  # one very long first word: cut it
        result = _cut(words[0])
    return result.rstrip(". ")


def _cut(word: str) -> str:
    word = word[:MAX_PROMPT_CHARS]
    while len(word.encode()) > MAX_PROMPT_BYTES:
        word = word[:-1]
    return word


def _safe_component(name: str) -> str:
    name = name.strip().rstrip(". ")  # Windows drops trailing dots and spaces
    if name.split(".")[0].strip().upper() in WINDOWS_RESERVED:
        name = "_" + name
    return name or "video"


def unique_path(folder: Path, filename: str) -> Path:
    """`folder/filename`, or `name (2).mp4`, `name (3).mp4`… if that is taken."""
    folder = Path(folder)
    candidate = folder / filename
    stem, suffix = candidate.stem, candidate.suffix
    n = 2
    # A `.part` in progress counts as taken too: two downloads must not share one.
    while candidate.exists() or part_path(candidate).exists():
        candidate = folder / f"{stem} ({n}){suffix}"
        n += 1
    return candidate
