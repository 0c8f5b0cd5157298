"""Streaming the finished MP4 from the CDN to disk: resumable, checked, renamed atomically.

The caller must pass the keyless CDN client (see DESIGN.md: one client per host role): this
module adds no credentials, and the CDN must never see the API key.

The bytes go to `<dest>.part`; only a complete, checked file is renamed to `dest`: its length
as the server announced it, and for an MP4 its box structure end to end (`mp4_check.py`) and
the bitstream of every video frame (`mp4_frames.py`). A
part left behind by an interruption is resumed with `Range` + `If-Range` next time, so the
rest comes from the same file or the whole new file comes instead (`part_origin.py`).
The link and every redirect are checked against the URL policy first (`api/url_policy.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import httpx

from runway_desktop.api.server_text import clean_server_text
from runway_desktop.api.url_policy import UnsafeUrlError
from runway_desktop.api.url_policy import UrlPolicy as UrlPolicy  # callers build theirs here
from runway_desktop.engine.durable import fsync_dir
from runway_desktop.engine.leases import ensure_held
from runway_desktop.engine.mp4_check import Mp4Verdict, check_mp4
from runway_desktop.engine.mp4_frames import UnplayableVideo, check_video_frames
from runway_desktop.engine.part_origin import (
    PartOrigin,
    discard_origin,
    load_origin,
    part_path,
    save_origin,
)

log = logging.getLogger(__name__)

SNIFF_BYTES = 12  # enough for an ISO-BMFF `ftyp` box header or the EBML magic
EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # WebM / Matroska
# Plus every video/*: MP4's own registered type (RFC 4337), and the "no idea" labels of
# object stores (S3 labels files uploaded without a type binary/octet-stream). The bytes decide.
ACCEPTED_TYPES = ("application/octet-stream", "application/mp4", "binary/octet-stream")

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


class DownloadNotVideo(DownloadRejected):
    """The server answered with something else than a video: an HTML page (a captive portal,
    an error page sent as 200), an empty body. Another link to the same video may do better."""


class DownloadUnplayable(DownloadRejected):
    """Whole by every count, yet its frames don't decode (`mp4_frames.py`): fetched once more
    from zero, then handed to the person."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The video server sent a file that can't be played ({reason}). Retry to download "
            "it again; if it keeps happening, the video is damaged on apiframe's side.")
        self.reason = reason


class DownloadRefused(DownloadRejected):
    """The link, or a redirect, leads somewhere this app won't fetch from (see
    `api/url_policy.py`); nothing was requested from there. `host` names it for people."""

    def __init__(self, error: UnsafeUrlError) -> None:
        super().__init__(error.message)
        self.host = error.host


class DownloadInterrupted(DownloadError):
    """The connection broke; the `.part` file is kept so a retry resumes."""


class DownloadIncomplete(DownloadInterrupted):
    """The body ended before Content-Length said it would; the `.part` is kept for resume."""


class DownloadUnreachable(DownloadInterrupted):
    """No connection to the video server at all (refused, no route, DNS, connect timeout)."""


class DownloadStalled(DownloadInterrupted):
    """The server sends too slowly to ever finish (a trickle); the `.part` is kept."""


@dataclass(frozen=True)
class Stall:
    """How slow a download may get before it is cut and resumed: its answer's headers not
    all there after `seconds`, or fewer than `min_bytes` of its body in `seconds` (each read
    has its own timeout too: the client's)."""

    min_bytes: int = 16 * 1024
    seconds: float = 60.0


class DiskFullError(DownloadError):
    def __init__(self, folder: Path) -> None:
        super().__init__(f"The disk is full — free some space in {folder}, then retry, or "
                         "choose another output folder in Settings.")
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
    policy: UrlPolicy | None = None,
    stall: Stall | None = None,
) -> Path:
    """Download `url` to `dest` and return `dest`. `client` must be the keyless CDN client.

    `policy` decides which links (and redirects) may be fetched; the default refuses this
    computer's own addresses, which only the simulator may use (`UrlPolicy.for_base_url`).
    `stall`: how slow the body may come before the download is cut (DownloadStalled).
    """
    stall = stall or Stall()
    policy = policy or UrlPolicy()
    try:
        checked = policy.check(url)  # before anything else: a refused link is never contacted
    except UnsafeUrlError as exc:
        raise DownloadRefused(exc) from None
    dest = Path(dest)
    part = part_path(dest)
    folder = dest.parent
    if not folder.is_dir():
        raise OutputFolderError(folder)
    # At most one restart from zero (a part the server no longer matches, or a whole-looking
    # file that isn't); then give up.
    for _attempt in range(2):
        ensure_held()  # another process may have taken this generation over meanwhile
        offset, origin = _resumable(part)
        try:
            complete = await _fetch(client, checked, policy, part, offset, origin, max_bytes,
                                    progress, stall)  # fmt: skip
        except DownloadUnplayable:
            ensure_held()
            _discard(part)
            if _attempt:
                raise
            continue  # a damaged copy on one server may be whole on the next fetch
        except DownloadRejected:
            ensure_held()
            _discard(part)  # not worth resuming: the same answer would come back
            raise
        if complete:
            ensure_held()
            await asyncio.to_thread(_finish, part, dest)  # rename + directory fsync
            discard_origin(part)
            return dest
        ensure_held()
        _discard(part)
    raise DownloadRejected(
        "The server keeps sending a different or damaged video file. Try again later."
    )


def _resumable(part: Path) -> tuple[int, PartOrigin | None]:
    """Bytes of a previous attempt worth keeping and where they came from; (0, None), and
    the part gone, if none — including a part whose origin is unknown (never spliced)."""
    try:
        with part.open("rb") as f:
            head = f.read(SNIFF_BYTES)
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        discard_origin(part)
        return 0, None
    except OSError:
        size, head = 0, b""
    origin = load_origin(part)
    if size >= SNIFF_BYTES and _looks_like_video(head) and origin is not None:
        return size, origin
    _discard(part)  # too short to judge, not ours, or of unknown origin: start over
    return 0, None


@contextlib.asynccontextmanager
async def _get(
    client: httpx.AsyncClient, url: httpx.URL, policy: UrlPolicy, headers: dict[str, str],
    deadline: float,
) -> AsyncIterator[httpx.Response]:
    """GET, following redirects by hand: each hop is checked against the policy first.

    Each answer's status line and headers must all come within `deadline` seconds: headers
    trickled a byte at a time would never trip the client's read timeout.
    """
    hops = 0
    while True:
        request = client.build_request("GET", url, headers=headers)
        try:
            resp = await asyncio.wait_for(
                client.send(request, stream=True, follow_redirects=False), deadline)
        except (TimeoutError, httpx.ReadTimeout):
            raise DownloadUnreachable(
                f"The video server didn't answer within {deadline:g} s. Retry to continue "
                "where it left off.") from None
        try:
            location = resp.headers.get("location")
            if not (resp.is_redirect and location):
                yield resp
                return
        finally:
            await resp.aclose()
        hops += 1
        try:
            url = policy.check_redirect(url, location, hops)
        except UnsafeUrlError as exc:
            raise DownloadRefused(exc) from None


async def _fetch(
    client: httpx.AsyncClient,
    url: httpx.URL,
    policy: UrlPolicy,
    part: Path,
    offset: int,
    origin: PartOrigin | None,
    max_bytes: int,
    progress: Progress | None,
    stall: Stall,
) -> bool:
    """One request. True when the part is complete and whole; False when it must be thrown
    away (the server's file changed, or it came whole-looking but broken)."""
    folder = part.parent
    # identity: byte counts must match Content-Length / Content-Range exactly.
    headers = {"Accept-Encoding": "identity"}
    if offset and origin is not None and origin.if_range:
        headers["Range"] = f"bytes={offset}-"
        headers["If-Range"] = origin.if_range  # a changed file comes back whole (200)
    try:
        async with _get(client, url, policy, headers, stall.seconds) as resp:
            framed = True  # the end of the body is known (length or chunking), not a hang-up
            if resp.status_code == 416 and offset:
                # Nothing left to send: fine if our part already is the whole file.
                if _content_range(resp)[2] != offset:
                    return False
            else:
                if resp.status_code == 206 and offset:
                    start, _, total = _content_range(resp)
                    if start != offset or origin is None or not origin.agrees_with(resp, total):
                        return False
                elif resp.status_code == 206 and _content_range(resp)[0] == 0:
                    # Unasked, but from the first byte (a CDN answering every GET with a
                    # range): the file as if 200; a part of it resumes from there later.
                    offset, total = 0, _content_range(resp)[2]
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
                if offset == 0:
                    # Before the first byte lands: what a later resume must ask If-Range for.
                    ensure_held()
                    save_origin(part, PartOrigin.from_response(resp, total))
                if progress is not None and offset:
                    progress(offset, total)

                written = await _stream_body(resp, part, offset, max_bytes, total, progress,
                                             stall)
                if total is not None and written < total:
                    raise DownloadIncomplete(_incomplete(written, total))
                framed = total is not None or _is_chunked(resp)
        return await _proven_whole(part, framed)
    except httpx.RemoteProtocolError as exc:
        # h11 raises this when the peer closes before Content-Length bytes arrived.
        raise DownloadIncomplete(
            "The download stopped before the end. Retry to continue where it left off."
        ) from exc
    except httpx.ReadTimeout as exc:  # the body stopped coming (the headers came)
        raise DownloadStalled(
            "The video server stopped sending for too long. Retry to continue where it left off."
        ) from exc
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise DownloadUnreachable(
            "Can't reach the video server. Retry to continue where it left off."
        ) from exc
    except httpx.TransportError as exc:
        raise DownloadInterrupted(
            "The connection to the video server broke. Retry to continue where it left off."
        ) from exc
    except httpx.RequestError as exc:
        reason = clean_server_text(str(exc), limit=200)  # httpx may quote server text
        raise DownloadError(f"The video couldn't be fetched: {reason}.") from exc
    except OSError as exc:
        raise _os_error(exc, folder) from exc


async def _proven_whole(part: Path, framed: bool) -> bool:
    """Whether the part on disk is the whole video. `framed`: the server said where the body
    ends (Content-Length, Content-Range or chunking) and all of it arrived.

    An MP4 proves itself too: its top-level boxes must add up to its size. A body that ended
    only because the connection closed can't be told from a cut one any other way.
    """
    with part.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if head[4:8] != b"ftyp":
        if framed:
            return True  # WebM: the framing is the proof
        raise DownloadRejected(
            "The video server sent a file without saying how long it is, and it isn't an "
            "MP4 whose size can be checked. Try again later."
        )
    check = await asyncio.to_thread(check_mp4, part)
    if check.whole:
        try:  # and its frames are a real bitstream, not noise inside good boxes
            await asyncio.to_thread(check_video_frames, part)
        except UnplayableVideo as exc:
            log.info("Downloaded MP4 doesn't decode: %s", exc.reason)
            raise DownloadUnplayable(exc.reason) from None
        return True
    log.info("Downloaded MP4 is not whole (%s; framed=%s)", check.reason, framed)
    if check.verdict is Mp4Verdict.TRUNCATED and not framed:
        # The connection closed early: keep the part, a retry asks for the rest.
        raise DownloadIncomplete(
            f"The download stopped before the end ({check.reason}). "
            "Retry to continue where it left off."
        )
    return False  # complete by the server's account, yet broken: fetch it again from zero


def _discard(part: Path) -> None:
    _remove(part)
    discard_origin(part)


async def _stream_body(
    resp: httpx.Response,
    part: Path,
    offset: int,
    max_bytes: int,
    total: int | None,
    progress: Progress | None,
    stall: Stall,
) -> int:
    """Append the body to the part (or write it anew when offset is 0); bytes on disk after."""
    written = offset
    # A body trickled a few bytes at a time never trips a read timeout: the rate must too.
    window_start, window_bytes = time.monotonic(), offset
    # A fresh file is sniffed before a byte is written: an HTML error page never lands on disk.
    head = b""
    ensure_held()
    out: BinaryIO | None = part.open("ab") if offset else None
    try:
        async for chunk in resp.aiter_bytes():
            # Each chunk may arrive after a long pause (the computer slept): write it only if
            # this process still surely holds the generation's lease (engine/leases.py).
            ensure_held()
            now = time.monotonic()
            if now - window_start >= stall.seconds:
                if written + len(head) + len(chunk) - window_bytes < stall.min_bytes:
                    raise DownloadStalled(_stalled(stall))
                window_start, window_bytes = now, written + len(head) + len(chunk)
            if out is None:
                head += chunk
                if len(head) < SNIFF_BYTES:
                    continue
                out = _open_checked(part, head, resp)
                chunk, head = head, b""
            if written + len(chunk) > max_bytes:
                raise DownloadRejected(_too_big(written + len(chunk), max_bytes))
            # Handed to the system at once, while the lease surely runs: a chunk left in the
            # file's buffer would be written by close() after a pause, when the lease may be
            # gone and the part another process's (its bytes appended to that one's video).
            out.write(chunk)
            out.flush()  # small writes to the page cache: fine on the event loop
            written += len(chunk)
            if progress is not None:
                progress(written, total)
        if out is None:  # the whole body was shorter than the sniff window
            ensure_held()
            out = _open_checked(part, head, resp)
            out.write(head)
            out.flush()
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
    if not head:
        raise DownloadNotVideo("The video server sent an empty file instead of the video. "
                               "Try again later.")
    if not _looks_like_video(head):
        raise DownloadNotVideo(_not_video(resp))
    return part.open("wb")


def _sync_file(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())


def _finish(part: Path, dest: Path) -> None:
    try:
        os.replace(part, dest)  # atomic: `dest` is either absent or complete
        fsync_dir(dest.parent)
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


def _is_chunked(resp: httpx.Response) -> bool:
    return "chunked" in resp.headers.get("transfer-encoding", "").lower()


def _check_content_type(resp: httpx.Response) -> None:
    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    # A missing type is left to the byte sniff; a wrong one (an HTML error page) is refused.
    if ctype and not ctype.startswith("video/") and ctype not in ACCEPTED_TYPES:
        raise DownloadNotVideo(_not_video(resp))


def _looks_like_video(head: bytes) -> bool:
    return head[4:8] == b"ftyp" or head.startswith(EBML_MAGIC)


def _not_video(resp: httpx.Response) -> str:
    # The header is the server's text (latin-1 may carry 8-bit terminal controls): cleaned.
    ctype = clean_server_text(resp.headers.get("content-type", ""), limit=80) or "unknown"
    return f"The server sent something that isn't a video ({ctype}). Try again later."


def _stalled(stall: Stall) -> str:
    return (
        f"The video server sent less than {stall.min_bytes // 1024} KB in "
        f"{stall.seconds:g} s. Retry to continue where it left off."
    )


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
    return DownloadError(f"Couldn't save the video in {folder}: {exc.strerror or exc}. Check "
                         "that its drive is connected and working, then retry.")


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


def safe_stem(text: str, fallback: str, limit: int = 80) -> str:
    """`text` as the stem of a file name valid on Windows, macOS and Linux (a film named after
    its sequence): what Windows forbids as spaces, at most `limit` characters, no trailing
    dots or spaces, no device name; `fallback` when nothing is left."""
    name = " ".join(_as_spaces(text).split())
    return _safe_component(_cut(name, limit), fallback)


def _as_spaces(text: str) -> str:
    """Control, format (e.g. right-to-left override), private and unpaired code points and
    every kind of space as plain spaces, like the characters Windows forbids (NFC)."""
    text = unicodedata.normalize("NFC", text)
    return "".join(" " if c in FORBIDDEN or unicodedata.category(c)[0] in "CZ" else c
                   for c in text)


def _prompt_words(prompt: str) -> str:
    words = _as_spaces(prompt).split()[:MAX_PROMPT_WORDS]
    result = ""
    for word in words:
        candidate = f"{result} {word}" if result else word
        if len(candidate) > MAX_PROMPT_CHARS or len(candidate.encode()) > MAX_PROMPT_BYTES:
            break
        result = candidate
    if not result and words:  # one very long first word: cut it
        result = _cut(words[0])
    return result.rstrip(". ")


def _cut(word: str, limit: int = MAX_PROMPT_CHARS) -> str:
    word = word[:limit]
    while len(word.encode()) > MAX_PROMPT_BYTES:
        word = word[:-1]
    return word


def _safe_component(name: str, fallback: str = "video") -> str:
    name = name.strip().rstrip(". ")  # Windows drops trailing dots and spaces
    if name.split(".")[0].strip().upper() in WINDOWS_RESERVED:
        name = "_" + name
    return name or fallback


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
