"""A small loopback apiframe whose answers each test scripts: the misbehaving twin of the simulator.

The simulator is faithful; this server is not. By default it answers like a well-behaved apiframe
and CDN in one (uploads, generate with idempotency, a job that is COMPLETED at the first poll, the
MP4 with Range support), so a test scripts only the part that misbehaves:

    server.script("GET /v2/jobs/*", Reply(json=job(jid, "COMPLETED", result=None)))  # once
    server.on("GET /cdn/*", lambda req: Reply(status=403) if first(req) else None)   # logic

Scripted replies are used in order, then the default answers again; a handler returning None
falls back to the default too. Every request is recorded in `server.requests`.

Misbehaviours a reply can carry besides status/headers/body: `hang` (accept, never answer),
`trickle` (one byte every N seconds), `drop` (hang up unanswered), and a streamed `chunks` body
of any size. `ScriptedServer(port=…)` listens on a given port: a server that is down (nothing
listening: connections refused) can come back at the same address (`closed_port()`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import http.server
import itertools
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

CLIP = Path(__file__).resolve().parents[2] / "resources" / "clips" / "16x9.mp4"


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Callable[[], Iterable[bytes]] | None = None  # a streamed body (Content-Length given)
    hang: bool = False  # accept the request and never answer (until the server stops)
    trickle: float | None = None  # seconds between single bytes of the body
    drop: bool = False  # close the connection without a word (a network that drops it)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Request], Reply | None]


def job(job_id: str, status: str = "COMPLETED", *, result: Any = "default",
        progress: int | None = None, error: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Job body as apiframe sends it (contract §4.1)."""
    return {
        "id": job_id, "status": status, "model": "runway-gen4-turbo",
        "progress": progress if progress is not None else (100 if status == "COMPLETED" else 0),
        "result": result, "error": error, "creditCost": 0 if status == "FAILED" else 8,
        "webhookStatus": None, "createdAt": "2026-11-29T10:00:00.000Z",
        "completedAt": "2026-11-29T10:00:30.000Z" if status in ("COMPLETED", "FAILED") else None,
        **extra,
    }


class ScriptedServer:
    """One HTTP server on 127.0.0.1 serving both the API (`/v2/...`) and the CDN (`/cdn/...`)."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[Request] = []
        self.jobs: dict[str, dict[str, Any]] = {}  # job id → the default Job body
        self.video = CLIP.read_bytes()
        self._scripts: list[tuple[str, deque[Reply]]] = []
        self._handlers: list[tuple[str, Handler]] = []
        self._by_key: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._url_serial = itertools.count(1)
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})

    # -- life ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ----------------------------------------------------------------------------

    def script(self, route: str, *replies: Reply) -> None:
        """Answer the next requests matching `route` ("GET /v2/jobs/*") with these, in order."""
        with self._lock:
            self._scripts.append((route, deque(replies)))

    def on(self, route: str, handler: Handler) -> None:
        """Decide every answer for `route`; return None to let the default answer."""
        with self._lock:
            self._handlers.append((route, handler))

    def seen(self, route: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if fnmatch.fnmatchcase(r.route, route)]

    def video_url(self, job_id: str) -> str:
        """A fresh signed link to the job's video, as a CDN with expiring URLs would give."""
        return f"{self.base_url}/cdn/{job_id}.mp4?sig={next(self._url_serial)}"

    # -- answering ----------------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            for route, queue in self._scripts:
                if queue and fnmatch.fnmatchcase(request.route, route):
                    return queue.popleft()
            handlers = [h for route, h in self._handlers
                        if fnmatch.fnmatchcase(request.route, route)]
        for handler in handlers:
            reply = handler(request)
            if reply is not None:
                return reply
        return self.default(request)

    def default(self, request: Request) -> Reply:
        """What a well-behaved apiframe + CDN would answer."""
        route = request.route
        if route == "POST /v2/uploads":
            upload_id = str(uuid.uuid4())
            return Reply(201, json={
                "id": upload_id, "url": f"{self.base_url}/cdn/uploads/{upload_id}.png",
                "kind": "image", "contentType": "image/png", "byteSize": len(request.body),
                "expiresAt": "2099-01-01T00:00:00.000Z"})
        if route == "POST /v2/videos/generate":
            key = request.headers.get("idempotency-key", str(uuid.uuid4()))
            with self._lock:
                job_id = self._by_key.setdefault(key, str(uuid.uuid4()))
                self.jobs.setdefault(job_id, job(job_id, "QUEUED", result=None))
            return Reply(202, json={"jobId": job_id, "status": "QUEUED"})
        if fnmatch.fnmatchcase(route, "GET /v2/jobs/*"):
            job_id = request.path.rsplit("/", 1)[1]
            if job_id not in self.jobs:
                return Reply(404, json={"error": "Job not found"})
            return Reply(json=job(job_id, "COMPLETED", result={"videoUrl": self.video_url(job_id)}))
        if route == "GET /v2/jobs":
            with self._lock:
                ids = list(self.jobs)
            jobs = [job(i, "COMPLETED", result={"videoUrl": self.video_url(i)}) for i in ids]
            return Reply(json={"jobs": jobs, "nextCursor": None, "hasMore": False})
        if route == "GET /v2/me":
            return Reply(json={
                "user": {"id": "u1", "email": "t@example.com", "role": "ADMIN"},
                "team": {"id": "t1", "name": "T", "plan": "pro", "credits": 1000,
                         "maxConcurrentJobs": 10},
                "apiKey": {"id": "k1", "name": "test", "prefix": "afk_"}})
        if fnmatch.fnmatchcase(route, "GET /cdn/*.mp4"):
            return self._video_reply(request)
        return Reply(404, json={"error": "Not found"})

    def _video_reply(self, request: Request) -> Reply:
        data = self.video
        wanted = request.headers.get("range", "")
        if wanted.startswith("bytes=") and wanted.endswith("-"):
            start = int(wanted[6:-1])
            if start >= len(data):
                return Reply(416, headers={"Content-Range": f"bytes */{len(data)}"})
            return Reply(206, body=data[start:], headers={
                "Content-Type": "video/mp4",
                "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        return Reply(200, body=data, headers={"Content-Type": "video/mp4"})


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hanging handler must not hold up the end of a test
    owner: ScriptedServer


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read `server.requests`

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parse_qs(parts.query),
                          {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
        reply = owner.answer(request)
        with contextlib.suppress(ConnectionError, TimeoutError):
            self._send(reply, owner._stopping)

    def _send(self, reply: Reply, stopping: threading.Event) -> None:
        if reply.hang:
            stopping.wait()
            self.close_connection = True
            return
        if reply.drop:
            self.close_connection = True
            return
        payload = reply.body
        if payload is None and reply.json is not None:
            payload = json.dumps(reply.json).encode()
        headers = dict(reply.headers)
        if reply.json is not None:
            headers.setdefault("Content-Type", "application/json")
        chunks: Iterable[bytes] = [payload or b""]
        if reply.chunks is not None:
            chunks = reply.chunks()
        else:
            headers.setdefault("Content-Length", str(len(payload or b"")))
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        if reply.chunks is not None and "Content-Length" not in headers:
            self.close_connection = True  # the end of the body is the end of the connection
        self.end_headers()
        for chunk in chunks:
            if reply.trickle is not None:
                for byte in _bytes_of(chunk):
                    if stopping.wait(reply.trickle):
                        return
                    self.wfile.write(byte)
                    self.wfile.flush()
            else:
                if stopping.is_set():
                    return
                self.wfile.write(chunk)
        self.wfile.flush()


def _bytes_of(chunk: bytes) -> Iterator[bytes]:
    return (chunk[i:i + 1] for i in range(len(chunk)))


def closed_port() -> int:
    """A loopback port nobody listens on (connections to it are refused) until a server is
    started on it (`ScriptedServer(port=…)`)."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def endless(chunk_size: int = 64 * 1024, total: int = 1024**3) -> Callable[[], Iterable[bytes]]:
    """A body of `total` bytes (1 GiB by default) produced as it is sent, never held whole."""
    def produce() -> Iterator[bytes]:
        block = b" " * chunk_size
        sent = 0
        while sent < total:
            yield block
            sent += chunk_size
    return produce


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A fresh scripted apiframe + CDN on loopback, stopped after the test."""
    with ScriptedServer() as server:
        yield server
