"""MP4 downloads against a small local HTTP server of our own, and safe file names."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import http.server
import os
import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.engine import downloads
from runway_desktop.engine.downloads import (
    MAX_PROMPT_BYTES,
    DiskFullError,
    DownloadError,
    DownloadFailed,
    DownloadIncomplete,
    DownloadInterrupted,
    DownloadRefused,
    DownloadRejected,
    DownloadStalled,
    DownloadUnreachable,
    OutputFolderError,
    Stall,
    UrlPolicy,
    download_video,
    safe_stem,
    unique_path,
    video_filename,
)
from runway_desktop.engine.part_origin import PartOrigin, origin_path, save_origin
from tests.helpers.network_guard import guard, off_machine
from tests.helpers.small_disk import tmpfs

CLIPS = Path(__file__).resolve().parents[2] / "resources" / "clips"
ETAG = '"v1-clip"'
LOOPBACK = UrlPolicy(allow_loopback=True)  # the test server, like the simulator, is local
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real H.264 MP4: the repo's sample clip (no system ffmpeg is needed anywhere)."""
    clip = CLIPS / "16x9.mp4"
    assert clip.is_file(), f"{clip} is part of the repository"
    return clip.read_bytes()


# --- the test server -----------------------------------------------------------------------


@dataclass
class Behaviour:
    """What the server does; tests flip these switches between requests."""

    body: bytes = b""
    content_type: str = "video/mp4"
    ranges: bool = True  # honour Range with 206 (else always 200 with the whole body)
    truncate_at: int | None = None  # announce the full length, send this many bytes, hang up
    fake_length: int | None = None  # announce this Content-Length and send nothing
    status: int | None = None  # answer with this status and a short text body
    range_start_shift: int = 0  # lie in Content-Range (a changed file)
    chunked: bool = False  # no Content-Length: Transfer-Encoding chunked
    # Neither Content-Length nor chunking: the body ends when the connection closes (an
    # HTTP/1.0-style server); with truncate_at it closes early, indistinguishably.
    close_delimited: bool = False
    etag: str | None = ETAG  # validators sent with every answer (None: not sent)
    last_modified: str | None = None
    if_range: bool = True  # honour If-Range (a non-matching validator gets the whole file)
    redirects: dict[str, str] = field(default_factory=dict)  # path → Location (302)
    trickle: float | None = None  # send the body one byte every this many seconds
    trickle_headers: float | None = None  # send the headers (never ending) likewise
    requests: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    behaviour: Behaviour

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        b = self.behaviour
        b.requests.append({k.lower(): v for k, v in self.headers.items()})
        b.paths.append(self.path)
        if b.trickle_headers is not None:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nX-Slow: " + b"a" * 9999:
                time.sleep(b.trickle_headers)
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            return None
        if self.path in b.redirects:
            self.send_response(302)
            self.send_header("Location", b.redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if b.status is not None:
            return self._simple(b.status, b"nope")
        if b.fake_length is not None:
            self.send_response(200)
            self.send_header("Content-Type", b.content_type)
            self.send_header("Content-Length", str(b.fake_length))
            self.end_headers()
            self.close_connection = True
            return None
        body, status, extra = b.body, 200, {}
        if b.etag is not None:
            extra["ETag"] = b.etag
        if b.last_modified is not None:
            extra["Last-Modified"] = b.last_modified
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        validator = self.headers.get("If-Range")
        if validator is not None and b.if_range and validator not in (b.etag, b.last_modified):
            match = None  # the file changed since the part was cut: send all of it
        if match and b.ranges:
            start = int(match.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            shown = start + b.range_start_shift
            extra["Content-Range"] = f"bytes {shown}-{len(body) - 1}/{len(body)}"
            body, status = body[start:], 206
        self.send_response(status)
        self.send_header("Content-Type", b.content_type)
        for key, value in extra.items():
            self.send_header(key, value)
        if b.close_delimited:
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body if b.truncate_at is None else body[: b.truncate_at])
            self.wfile.flush()
            self.close_connection = True
            return None
        if b.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 4096):
                piece = body[i : i + 4096]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return None
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if b.truncate_at is not None:
            self.wfile.write(body[: b.truncate_at])
            self.wfile.flush()
            self.close_connection = True
            return None
        if b.trickle is not None:
            for i in range(len(body)):  # until the client hangs up (BrokenPipeError)
                time.sleep(b.trickle)
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
            return None
        self.wfile.write(body)
        return None

    def _simple(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up on purpose (refused downloads) is not news


@dataclass
class Server:
    url: str
    behaviour: Behaviour


@pytest.fixture
def server(mp4: bytes) -> Iterator[Server]:
    behaviour = Behaviour(body=mp4)
    handler = type("Handler", (_Handler,), {"behaviour": behaviour})
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}/videos/abc.mp4", behaviour)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def fetch(url: str, dest: Path, **kwargs: object) -> Path:
    kwargs.setdefault("policy", LOOPBACK)

    async def go() -> Path:
        # Like the engine's CDN client: keyless, and following redirects by default.
        async with httpx.AsyncClient(timeout=10, follow_redirects=True) as client:
            return await download_video(client, url, dest, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


def part_of(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def leave_part(dest: Path, data: bytes, *, etag: str | None = ETAG,
               total: int | None = None) -> None:
    """What an interrupted download leaves: the first bytes and the file they came from."""
    part_of(dest).write_bytes(data)
    save_origin(part_of(dest), PartOrigin(etag=etag, total=total))


# --- downloads -----------------------------------------------------------------------------


def test_downloads_the_whole_file_and_renames_it(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    dest = tmp_path / "out.mp4"
    seen: list[tuple[int, int | None]] = []

    assert fetch(server.url, dest, progress=lambda done, total: seen.append((done, total))) == dest

    assert dest.read_bytes() == mp4
    assert not part_of(dest).exists()
    assert seen[-1] == (len(mp4), len(mp4))
    assert "range" not in server.behaviour.requests[0]
    assert "authorization" not in server.behaviour.requests[0]


def test_truncated_body_keeps_the_part_and_resumes(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    dest = tmp_path / "out.mp4"
    server.behaviour.truncate_at = len(mp4) // 2

    with pytest.raises(DownloadIncomplete) as exc:
        fetch(server.url, dest)
    assert exc.value.retryable
    assert not dest.exists()
    kept = part_of(dest).stat().st_size
    assert 0 < kept <= len(mp4) // 2

    server.behaviour.truncate_at = None
    seen: list[tuple[int, int | None]] = []
    fetch(server.url, dest, progress=lambda done, total: seen.append((done, total)))

    assert server.behaviour.requests[-1]["range"] == f"bytes={kept}-"
    assert seen[0] == (kept, len(mp4))
    assert dest.read_bytes() == mp4
    assert not part_of(dest).exists()


def test_server_without_ranges_starts_over(server: Server, tmp_path: Path, mp4: bytes) -> None:
    dest = tmp_path / "out.mp4"
    leave_part(dest, mp4[:5000])
    server.behaviour.ranges = False

    fetch(server.url, dest)

    assert server.behaviour.requests[0]["range"] == "bytes=5000-"
    assert dest.read_bytes() == mp4


def test_complete_part_and_416_is_accepted(server: Server, tmp_path: Path, mp4: bytes) -> None:
    dest = tmp_path / "out.mp4"
    leave_part(dest, mp4)

    fetch(server.url, dest)

    assert server.behaviour.requests[0]["range"] == f"bytes={len(mp4)}-"
    assert dest.read_bytes() == mp4
    assert not part_of(dest).exists()


def test_part_longer_than_the_file_starts_over(server: Server, tmp_path: Path, mp4: bytes) -> None:
    dest = tmp_path / "out.mp4"
    leave_part(dest, mp4 + b"junk")

    fetch(server.url, dest)

    assert [r.get("range") for r in server.behaviour.requests] == [f"bytes={len(mp4) + 4}-", None]
    assert dest.read_bytes() == mp4


def test_content_range_mismatch_starts_over(server: Server, tmp_path: Path, mp4: bytes) -> None:
    dest = tmp_path / "out.mp4"
    leave_part(dest, mp4[:4000])
    server.behaviour.range_start_shift = 100

    fetch(server.url, dest)

    assert [r.get("range") for r in server.behaviour.requests] == ["bytes=4000-", None]
    assert dest.read_bytes() == mp4


def test_part_that_is_not_a_video_is_discarded(server: Server, tmp_path: Path, mp4: bytes) -> None:
    dest = tmp_path / "out.mp4"
    leave_part(dest, b"<html>old error page</html>")

    fetch(server.url, dest)

    assert "range" not in server.behaviour.requests[0]
    assert dest.read_bytes() == mp4


def test_chunked_body_without_length(server: Server, tmp_path: Path, mp4: bytes) -> None:
    dest = tmp_path / "out.mp4"
    server.behaviour.chunked = True
    seen: list[tuple[int, int | None]] = []

    fetch(server.url, dest, progress=lambda done, total: seen.append((done, total)))

    assert dest.read_bytes() == mp4
    assert seen[-1] == (len(mp4), None)


def test_wrong_content_type_is_refused(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"
    server.behaviour.content_type = "text/html; charset=utf-8"

    with pytest.raises(DownloadRejected) as exc:
        fetch(server.url, dest)

    assert "isn't a video (text/html" in exc.value.message
    assert not exc.value.retryable
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content_type", ["application/mp4", "binary/octet-stream"])
def test_an_mp4_labelled_as_object_stores_and_rfc_4337_do_is_downloaded(
    server: Server, tmp_path: Path, mp4: bytes, content_type: str
) -> None:
    """Before: refused as 'isn't a video (application/mp4)', every time, fresh link or not."""
    server.behaviour.content_type = content_type
    assert fetch(server.url, tmp_path / "out.mp4").read_bytes() == mp4


def test_a_hostile_content_type_is_shown_clean(server: Server, tmp_path: Path) -> None:
    """Header values may carry 8-bit bytes: C1 terminal controls never reach the message."""
    server.behaviour.content_type = "text/html\x9b2J\x9d0;owned\x9c\x85; charset=x"

    with pytest.raises(DownloadRejected) as exc:
        fetch(server.url, tmp_path / "out.mp4")

    assert "isn't a video (text/html" in exc.value.message
    assert not any(0x80 <= ord(ch) < 0xA0 for ch in exc.value.message)
    assert "owned" not in exc.value.message


def test_bytes_that_are_not_a_video_are_refused(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"
    server.behaviour.content_type = "application/octet-stream"
    server.behaviour.body = b"<!doctype html><html><body>Access denied</body></html>"

    with pytest.raises(DownloadRejected):
        fetch(server.url, dest)

    assert list(tmp_path.iterdir()) == []


def test_webm_is_accepted(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "out.webm"
    server.behaviour.content_type = "video/webm"
    server.behaviour.body = b"\x1a\x45\xdf\xa3" + bytes(5000)

    fetch(server.url, dest)

    assert dest.stat().st_size == 5004


def test_huge_content_length_is_refused_before_writing(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"
    server.behaviour.fake_length = 3 * 1024**3

    with pytest.raises(DownloadRejected, match="more than the 2048 MB allowed"):
        fetch(server.url, dest)

    assert list(tmp_path.iterdir()) == []


def test_body_over_the_limit_without_length_is_refused(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    dest = tmp_path / "out.mp4"
    server.behaviour.chunked = True

    with pytest.raises(DownloadRejected):
        fetch(server.url, dest, max_bytes=len(mp4) // 2)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("status", "retryable"), [(404, False), (403, False), (503, True)])
def test_http_errors(server: Server, tmp_path: Path, status: int, retryable: bool) -> None:
    server.behaviour.status = status

    with pytest.raises(DownloadFailed) as exc:
        fetch(server.url, tmp_path / "out.mp4")

    assert exc.value.status == status
    assert exc.value.retryable is retryable
    assert f"HTTP {status}" in exc.value.message


def test_connection_refused_is_interrupted(tmp_path: Path) -> None:
    with contextlib.closing(__import__("socket").socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nobody listens
    with pytest.raises(DownloadInterrupted) as exc:
        fetch(f"http://127.0.0.1:{port}/x.mp4", tmp_path / "out.mp4")
    assert exc.value.retryable
    assert isinstance(exc.value, DownloadUnreachable)  # the engine waits for the CDN to answer
    assert not isinstance(exc.value, DownloadIncomplete)


def test_a_trickle_is_cut_within_its_bound_and_resumes_where_it_stopped(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    """A server sending a byte now and then never trips a read timeout: before, the download
    (and the paid video's row) waited for hours. Now it is cut once too little arrives in the
    window, keeping what came for the next try."""
    server.behaviour.trickle = 0.01
    dest = tmp_path / "out.mp4"
    started = time.monotonic()

    async def go() -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.wait_for(download_video(
                client, server.url, dest, policy=LOOPBACK,
                stall=Stall(min_bytes=1024, seconds=0.5)), timeout=5)

    with pytest.raises(DownloadStalled) as exc:
        asyncio.run(go())
    assert time.monotonic() - started < 2
    assert exc.value.retryable
    assert "Retry to continue" in exc.value.message
    kept = part_of(dest).stat().st_size
    assert 0 < kept < 1024
    assert not dest.exists()
    server.behaviour.trickle = None
    assert fetch(server.url, dest).read_bytes() == mp4
    assert server.behaviour.requests[-1]["range"] == f"bytes={kept}-"


def test_headers_trickled_a_byte_at_a_time_are_cut_within_the_bound(
    server: Server, tmp_path: Path
) -> None:
    """Each byte of the answer's headers within the read timeout: before, it waited for days."""
    server.behaviour.trickle_headers = 0.01
    started = time.monotonic()

    async def go() -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.wait_for(download_video(
                client, server.url, tmp_path / "out.mp4", policy=LOOPBACK,
                stall=Stall(seconds=0.3)), timeout=5)

    with pytest.raises(DownloadUnreachable) as exc:
        asyncio.run(go())
    assert time.monotonic() - started < 2
    assert "didn't answer within 0.3 s" in exc.value.message


def test_missing_output_folder(server: Server, tmp_path: Path) -> None:
    folder = tmp_path / "unplugged-drive"
    with pytest.raises(OutputFolderError) as exc:
        fetch(server.url, folder / "out.mp4")
    assert exc.value.message == (
        f"Can't write to {folder} — choose another output folder in Settings."
    )
    assert not exc.value.retryable


@pytest.mark.skipif(IS_ROOT, reason="root writes into read-only folders anyway")
def test_read_only_folder(server: Server, tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputFolderError):
            fetch(server.url, folder / "out.mp4")
    finally:
        folder.chmod(0o700)


def test_disk_full_when_syncing(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskFullError) as exc:
        fetch(server.url, tmp_path / "out.mp4")
    assert exc.value.message == (f"The disk is full — free some space in {tmp_path}, then retry, "
                                 "or choose another output folder in Settings.")
    assert exc.value.retryable


@pytest.mark.parametrize(
    ("err", "kind"),
    [
        (errno.ENOSPC, DiskFullError),
        (errno.EDQUOT, DiskFullError),
        (errno.EACCES, OutputFolderError),
        (errno.EROFS, OutputFolderError),
        (errno.ENOENT, OutputFolderError),
        (errno.EIO, DownloadError),
    ],
)
def test_os_errors_are_named(err: int, kind: type[DownloadError], tmp_path: Path) -> None:
    mapped = downloads._os_error(OSError(err, os.strerror(err)), tmp_path)
    assert type(mapped) is kind
    assert str(tmp_path) in mapped.message
    # What to do, not only what happened ('… Input/output error.' said nothing more).
    assert "retry" in mapped.message or "choose another output folder" in mapped.message


@pytest.mark.skipif(not IS_ROOT or not shutil.which("mount"), reason="mounting needs root")
def test_disk_full_on_a_tiny_tmpfs(server: Server, tmp_path: Path) -> None:
    server.behaviour.body = b"\x00\x00\x00\x18ftypisom" + os.urandom(256 * 1024)
    with tmpfs(tmp_path / "tiny", "size=64k") as folder:
        with pytest.raises(DiskFullError):
            fetch(server.url, folder / "out.mp4")
        assert not (folder / "out.mp4").exists()


@pytest.mark.skipif(not IS_ROOT or not shutil.which("mount"), reason="mounting needs root")
def test_read_only_file_system(server: Server, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=64k") as folder, pytest.raises(OutputFolderError):
        fetch(server.url, folder / "out.mp4")


# --- proven whole: no length, validators, If-Range (issue 11, item 1) -----------------------


@pytest.mark.parametrize("clip", sorted(p.name for p in CLIPS.glob("*.mp4")))
def test_body_without_length_is_accepted_when_its_boxes_add_up(
    server: Server, tmp_path: Path, clip: str
) -> None:
    body = (CLIPS / clip).read_bytes()
    server.behaviour.body = body
    server.behaviour.close_delimited = True
    dest = tmp_path / "out.mp4"

    fetch(server.url, dest)

    assert dest.read_bytes() == body
    assert not part_of(dest).exists()
    assert not origin_path(part_of(dest)).exists()


def test_body_without_length_cut_by_a_hang_up_is_not_saved_and_resumes(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    """The measured case: neither Content-Length nor chunking, the server closes at half."""
    server.behaviour.close_delimited = True
    server.behaviour.truncate_at = len(mp4) // 2
    dest = tmp_path / "out.mp4"

    with pytest.raises(DownloadIncomplete) as exc:
        fetch(server.url, dest)

    assert exc.value.retryable
    assert not dest.exists()
    assert part_of(dest).read_bytes() == mp4[: len(mp4) // 2]

    server.behaviour.truncate_at = None
    server.behaviour.ranges = True
    fetch(server.url, dest)

    resumed = server.behaviour.requests[-1]
    assert resumed["range"] == f"bytes={len(mp4) // 2}-"
    assert resumed["if-range"] == ETAG
    assert dest.read_bytes() == mp4


@pytest.mark.parametrize("where", ["after ftyp", "after moov", "inside mdat", "one byte short"])
def test_body_without_length_cut_anywhere_is_never_done(
    server: Server, tmp_path: Path, mp4: bytes, where: str
) -> None:
    ftyp = int.from_bytes(mp4[:4], "big")
    moov_end = ftyp + int.from_bytes(mp4[ftyp : ftyp + 4], "big")
    cut = {"after ftyp": ftyp, "after moov": moov_end, "inside mdat": len(mp4) - 5000,
           "one byte short": len(mp4) - 1}[where]  # fmt: skip
    server.behaviour.close_delimited = True
    server.behaviour.truncate_at = cut
    dest = tmp_path / "out.mp4"

    with pytest.raises(DownloadIncomplete):
        fetch(server.url, dest)

    assert not dest.exists()


def test_body_without_length_and_no_validator_starts_over(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    """Without ETag or Last-Modified nothing proves the rest is from the same file."""
    server.behaviour.close_delimited = True
    server.behaviour.etag = None
    server.behaviour.truncate_at = 10_000
    dest = tmp_path / "out.mp4"
    with pytest.raises(DownloadIncomplete):
        fetch(server.url, dest)
    assert not origin_path(part_of(dest)).exists()

    server.behaviour.truncate_at = None
    fetch(server.url, dest)

    assert "range" not in server.behaviour.requests[-1]
    assert dest.read_bytes() == mp4


def test_resume_uses_last_modified_when_there_is_no_strong_etag(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    server.behaviour.etag = 'W/"weak"'  # weak tags may not go in If-Range
    server.behaviour.last_modified = "Sun, 29 Nov 2026 10:00:00 GMT"
    server.behaviour.truncate_at = 9_000
    dest = tmp_path / "out.mp4"
    with pytest.raises(DownloadIncomplete):
        fetch(server.url, dest)

    server.behaviour.truncate_at = None
    fetch(server.url, dest)

    assert server.behaviour.requests[-1]["if-range"] == "Sun, 29 Nov 2026 10:00:00 GMT"
    assert dest.read_bytes() == mp4


def test_changed_file_is_sent_whole_and_never_spliced(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    """The part came from one clip; the server now has another: If-Range gets a 200."""
    other = (CLIPS / "9x16.mp4").read_bytes()
    dest = tmp_path / "out.mp4"
    leave_part(dest, mp4[:12_000])
    server.behaviour.body = other
    server.behaviour.etag = '"v2-other-clip"'

    fetch(server.url, dest)

    assert server.behaviour.requests[0]["if-range"] == ETAG
    assert dest.read_bytes() == other


def test_server_ignoring_if_range_but_naming_a_new_etag_starts_over(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    other = (CLIPS / "9x16.mp4").read_bytes()
    dest = tmp_path / "out.mp4"
    leave_part(dest, mp4[:12_000])
    server.behaviour.body = other
    server.behaviour.etag = '"v2-other-clip"'
    server.behaviour.if_range = False  # answers 206 with the other file's tail

    fetch(server.url, dest)

    assert [r.get("range") for r in server.behaviour.requests] == ["bytes=12000-", None]
    assert dest.read_bytes() == other


def test_part_of_unknown_origin_is_not_resumed(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    dest = tmp_path / "out.mp4"
    part_of(dest).write_bytes(mp4[:12_000])  # e.g. left by an older version: no validator

    fetch(server.url, dest)

    assert "range" not in server.behaviour.requests[0]
    assert dest.read_bytes() == mp4


def test_a_spliced_part_is_caught_by_the_box_check(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    """A server that lies (same ETag, other bytes): the spliced file fails the box walk, so it
    is fetched again whole instead of being saved."""
    other = (CLIPS / "9x16.mp4").read_bytes()
    dest = tmp_path / "out.mp4"
    leave_part(dest, other[:2_000])  # other's ftyp and the start of its moov
    server.behaviour.close_delimited = True

    fetch(server.url, dest)

    assert [r.get("range") for r in server.behaviour.requests] == ["bytes=2000-", None]
    assert dest.read_bytes() == mp4


def test_a_whole_looking_but_broken_mp4_is_refused(server: Server, tmp_path: Path,
                                                    mp4: bytes) -> None:
    """Content-Length is honest, the file itself is cut (no mdat end): never DONE."""
    server.behaviour.body = mp4[:-100]
    dest = tmp_path / "out.mp4"

    with pytest.raises(DownloadRejected, match="damaged"):
        fetch(server.url, dest)

    assert len(server.behaviour.requests) == 2  # fetched again once from zero, then refused
    assert list(tmp_path.iterdir()) == []


def test_webm_without_length_is_refused(server: Server, tmp_path: Path) -> None:
    server.behaviour.content_type = "video/webm"
    server.behaviour.body = b"\x1a\x45\xdf\xa3" + bytes(5000)
    server.behaviour.close_delimited = True

    with pytest.raises(DownloadRejected, match="without saying how long"):
        fetch(server.url, tmp_path / "out.webm")

    assert list(tmp_path.iterdir()) == []


# --- links and redirects under the URL policy (issue 11, item 2) ---------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://169.254.169.254/latest/meta-data/x.mp4?X-Sig=s3cr3t", "169.254.169.254"),
        ("https://10.0.0.7/x.mp4", "10.0.0.7"),
        ("http://cdn.example.com/x.mp4", "cdn.example.com"),
        ("file:///etc/passwd", "an unnamed host"),
    ],
)
def test_a_refused_link_is_never_contacted(tmp_path: Path, url: str, host: str) -> None:
    with guard() as connections, pytest.raises(DownloadRefused) as exc:
        fetch(url, tmp_path / "out.mp4", policy=UrlPolicy())

    assert connections == []
    assert not exc.value.retryable
    assert exc.value.host == host
    assert host in exc.value.message
    assert "s3cr3t" not in exc.value.message
    assert "meta-data" not in exc.value.message
    assert list(tmp_path.iterdir()) == []


def test_loopback_links_only_when_the_api_is_local(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadRefused, match=r"127\.0\.0\.1"):
        fetch(server.url, tmp_path / "out.mp4", policy=UrlPolicy.for_base_url(
            "https://api.apiframe.ai"))  # fmt: skip
    assert server.behaviour.requests == []

    fetch(server.url, tmp_path / "out.mp4",
          policy=UrlPolicy.for_base_url("http://127.0.0.1:8000"))  # fmt: skip
    assert (tmp_path / "out.mp4").exists()


def test_redirect_to_a_metadata_address_is_not_followed(server: Server, tmp_path: Path) -> None:
    server.behaviour.redirects["/videos/abc.mp4"] = "http://169.254.169.254/latest/x.mp4"

    with guard() as connections, pytest.raises(DownloadRefused) as exc:
        fetch(server.url, tmp_path / "out.mp4")

    assert "127.0.0.1" in connections  # the guard sees connections…
    assert off_machine(connections) == []  # …and none went (or tried to go) off the machine
    assert exc.value.host == "169.254.169.254"
    assert server.behaviour.paths == ["/videos/abc.mp4"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("location", ["http://cdn.example.com/x.mp4", "ftp://example.com/x"])
def test_redirect_off_https_is_not_followed(server: Server, tmp_path: Path,
                                            location: str) -> None:
    server.behaviour.redirects["/videos/abc.mp4"] = location

    with guard() as connections, pytest.raises(DownloadRefused):
        fetch(server.url, tmp_path / "out.mp4")

    assert off_machine(connections) == []


def test_up_to_three_redirects_are_followed(server: Server, tmp_path: Path, mp4: bytes) -> None:
    server.behaviour.redirects.update({"/videos/abc.mp4": "/r1", "/r1": "/r2", "/r2": "/r3.mp4"})

    fetch(server.url, tmp_path / "out.mp4")

    assert server.behaviour.paths == ["/videos/abc.mp4", "/r1", "/r2", "/r3.mp4"]
    assert (tmp_path / "out.mp4").read_bytes() == mp4


def test_a_fourth_redirect_is_refused(server: Server, tmp_path: Path) -> None:
    server.behaviour.redirects.update(
        {"/videos/abc.mp4": "/r1", "/r1": "/r2", "/r2": "/r3", "/r3": "/r4.mp4"}
    )

    with pytest.raises(DownloadRefused, match="more than 3 times") as exc:
        fetch(server.url, tmp_path / "out.mp4")

    assert not exc.value.retryable
    assert server.behaviour.paths == ["/videos/abc.mp4", "/r1", "/r2", "/r3"]


# --- file names ----------------------------------------------------------------------------

CREATED = datetime(2026, 11, 24, 14, 32, 5)


def test_filename_example() -> None:
    name = video_filename("A red kite over dunes, at dusk; golden light", "b2c3d4e5-ffff", CREATED)
    assert name == "2026-11-24 1432 A red kite over dunes, at [b2c3d4e5].mp4"


def test_filename_strips_forbidden_characters_and_paths() -> None:
    name = video_filename('../../etc/passwd "quoted" <tag>: a|b?*', "job/../1", CREATED)
    assert name == "2026-11-24 1432 .. .. etc passwd quoted tag [job1].mp4"


def test_filename_falls_back_to_video() -> None:
    assert video_filename("  \t\n ", "abc", CREATED) == "2026-11-24 1432 video [abc].mp4"
    assert video_filename("", "", CREATED) == "2026-11-24 1432 video.mp4"


def test_filename_cuts_a_long_first_word() -> None:
    name = video_filename("x" * 500, "abcdefghijkl", CREATED)
    assert name == f"2026-11-24 1432 {'x' * 50} [abcdefgh].mp4"


def test_filename_is_nfc() -> None:
    name = video_filename("cafe\u0301", "id", CREATED)  # e + combining acute
    assert "café" in name
    assert unicodedata.is_normalized("NFC", name)


FORBIDDEN = set('<>:"/\\|?*')
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)}
RESERVED |= {f"LPT{i}" for i in range(1, 10)}


@given(prompt=st.text(), job_id=st.text(max_size=40), created=st.datetimes())
def test_any_prompt_gives_a_safe_name(prompt: str, job_id: str, created: datetime) -> None:
    name = video_filename(prompt, job_id, created)
    assert name.endswith(".mp4")
    assert 4 < len(name) <= 120
    assert len(name.encode()) <= 255
    assert not FORBIDDEN & set(name)
    assert all(unicodedata.category(c)[0] != "C" for c in name)
    stem = name[: -len(".mp4")]
    assert stem
    assert stem == stem.strip()
    assert not stem.endswith(".")
    assert stem.split(".")[0].upper() not in RESERVED
    assert unicodedata.is_normalized("NFC", name)


@given(text=st.text(max_size=300))
def test_any_name_gives_a_stem_windows_can_hold(text: str) -> None:
    """A film is named after its sequence ('Dawn: take 2?'): the window offered that name
    with only '/' replaced, which Windows can't create (':' even makes a hidden stream)."""
    stem = safe_stem(text, "film")
    assert stem
    assert len(stem) <= 81
    assert len(stem.encode()) <= MAX_PROMPT_BYTES + 1
    assert not FORBIDDEN & set(stem)
    assert all(unicodedata.category(c)[0] != "C" for c in stem)
    assert stem == stem.strip()
    assert not stem.endswith(".")
    assert stem.split(".")[0].upper() not in RESERVED


def test_a_stem_keeps_what_it_can() -> None:
    assert safe_stem('Dawn: "take" 2? <final>/\\|*. ', "film") == "Dawn take 2 final"
    assert safe_stem("nul", "film") == "_nul"
    assert safe_stem(" ... ", "film") == "film"
    assert safe_stem("\u202eevil\u202c 🎬 שלום", "film") == "evil 🎬 שלום"


@given(prompt=st.text(min_size=1, max_size=200))
def test_names_are_creatable(prompt: str) -> None:
    name = video_filename(prompt, "abc12345", CREATED)
    path = Path(tempfile.gettempdir()) / name
    try:
        path.touch()
        assert path.exists()
    finally:
        path.unlink(missing_ok=True)


def test_unique_path(tmp_path: Path) -> None:
    first = unique_path(tmp_path, "clip.mp4")
    assert first == tmp_path / "clip.mp4"
    first.touch()
    second = unique_path(tmp_path, "clip.mp4")
    assert second == tmp_path / "clip (2).mp4"
    part_of(second).touch()  # a download in progress claims its name too
    assert unique_path(tmp_path, "clip.mp4") == tmp_path / "clip (3).mp4"


def test_a_download_whose_lease_may_have_run_out_stops_before_touching_the_part(
    server: Server, tmp_path: Path, mp4: bytes
) -> None:
    """A process that slept past its lease may have been taken over: no chunk that arrives
    after that is written, and the part is not renamed (another process may be writing it)."""
    from runway_desktop.engine.leases import LeaseExpired, held_context

    dest = tmp_path / "out.mp4"
    held = {"yes": True}
    written_when_it_ran_out: list[int] = []

    def progress(done: int, _total: int | None) -> None:
        if held["yes"]:
            written_when_it_ran_out.append(done)
            held["yes"] = False  # the computer "slept" past the lease right after this chunk

    context = held_context(lambda: held["yes"])
    with pytest.raises(LeaseExpired):
        context.run(fetch, server.url, dest, progress=progress)
    assert not dest.exists()
    assert part_of(dest).stat().st_size == written_when_it_ran_out[0]
    fetch(server.url, dest)  # held again (here: no lease to check): it resumes and ends
    assert dest.read_bytes() == mp4


# -- the frames decode, not only the boxes ------------------------------------------------------

@pytest.mark.parametrize("framing", ["content-length", "close-delimited"])
def test_boxes_that_add_up_around_noise_are_never_done(
    server: Server, tmp_path: Path, mp4: bytes, framing: str
) -> None:
    """Deliver 1: without a length the boxes are checked end to end *and the frames decode*."""
    from tests.engine.test_mp4_frames import with_media

    server.behaviour.body = with_media(mp4)
    server.behaviour.close_delimited = framing == "close-delimited"
    dest = tmp_path / "out.mp4"

    with pytest.raises(downloads.DownloadUnplayable) as failure:
        fetch(server.url, dest)

    assert "can't be played" in failure.value.message
    assert "frame 1" in failure.value.message
    assert "Retry" in failure.value.message
    assert len(server.behaviour.requests) == 2  # fetched once more from zero, then given up
    assert not dest.exists()
    assert not part_of(dest).exists()
