"""HTTP plumbing shared by the API and CDN servers: request records, body reading, JSON replies,
socket-level faults (drop, lost response) and connection tracking for a clean stop."""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from runway_desktop.simulator.clip_maker import ClipMaker
from runway_desktop.simulator.config import SimulatorConfig
from runway_desktop.simulator.errors import ApiError
from runway_desktop.simulator.faults import FaultDecider
from runway_desktop.simulator.state import State

log = logging.getLogger(__name__)

_DRAIN_LIMIT = 64 * 1024 * 1024  # beyond this an oversized body is not read, the socket just closes


@dataclass
class RecordedRequest:
    """One request as the simulator saw it. `status` is None when no response was sent."""

    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # lower-case names
    host_role: str  # "api" | "cdn"
    status: int | None = None
    outcome: str = "pending"  # answered | dropped | lost | truncated | pending
    at: float = field(default_factory=time.time)  # unix time it arrived


class Recorder:
    # Bounded so a demo left running for days does not grow without end.
    MAX_ITEMS = 100_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: deque[RecordedRequest] = deque(maxlen=self.MAX_ITEMS)

    def add(self, item: RecordedRequest) -> RecordedRequest:
        with self._lock:
            self._items.append(item)
        return item

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass
class Backend:
    """What every handler needs, hung on its server."""

    config: SimulatorConfig
    state: State
    faults: FaultDecider
    recorder: Recorder
    clips: dict[str, bytes]  # the stock clips by ratio
    stopping: threading.Event
    clip_maker: ClipMaker  # clips made from start images (SimulatorConfig.image_clips)


class SimHTTPServer(ThreadingHTTPServer):
    # Handler threads are joined on close; open keep-alive sockets are shut down first so they end.
    daemon_threads = False
    block_on_close = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], backend: Backend
    ) -> None:
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)
        # serve_forever() polls for shutdown; this pair wakes our own loop at once instead.
        self._wake_r, self._wake_w = socket.socketpair()

    def serve(self) -> None:
        """Accept connections until `stop_serving()`; idle costs nothing (no polling)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    # BaseServer's own accept-and-dispatch step (private, so not in typeshed).
                    self._handle_request_noblock()  # type: ignore[attr-defined]

    def stop_serving(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def abort_connections(self) -> None:
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real service behind its load balancer
    server_version = "apiframe-simulator"
    timeout = 30  # idle keep-alive connections end after this
    role: ClassVar[str] = "api"
    server: SimHTTPServer

    record: RecordedRequest

    def version_string(self) -> str:
        return self.server_version

    @property
    def backend(self) -> Backend:
        return self.server.backend

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle plus the client's
        # delayed ACK adds ~40 ms to every response.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, alive=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, alive=False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.role, format % args)

    # ---- request side ---------------------------------------------------------------------

    def start_record(self, path: str, query: str) -> RecordedRequest:
        headers = {k.lower(): v for k, v in self.headers.items()}
        item = RecordedRequest(self.command, path, query, headers, self.role)
        self.record = self.backend.recorder.add(item)
        return item

    def read_body(self, limit: int) -> bytes:
        """The request body (Content-Length or chunked). Over `limit`: a 400 that closes."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "Invalid Content-Length") from None
        if length > limit:
            self.close_connection = True
            if length <= _DRAIN_LIMIT:
                self._drain(length)
            raise ApiError(400, "Request body too large")
        return self.rfile.read(length)

    def _drain(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                return
            length -= len(chunk)

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                self.close_connection = True
                raise ApiError(400, "Malformed chunked body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > limit:
                self.close_connection = True
                raise ApiError(400, "Request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    # ---- response side --------------------------------------------------------------------

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self.backend.stopping.wait(seconds)

    def drop(self, outcome: str = "dropped") -> None:
        """Close the connection without a response (the server then FINs the socket)."""
        self.close_connection = True
        self.record.outcome = outcome
        self.record.status = None

    def send_head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        if self.backend.config.send_request_id:
            self.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.record.status = status
        self.record.outcome = "answered"

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        all_headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        all_headers.update(headers or {})
        self.send_head(status, all_headers)
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_api_error(self, err: ApiError) -> None:
        self.send_json(err.status, err.body(), err.headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # BaseHTTPRequestHandler answers malformed requests in HTML; keep every error JSON.
        self.close_connection = True
        self.record = RecordedRequest(getattr(self, "command", "") or "", "", "", {}, self.role)
        self.send_json(code, {"error": message or self.responses.get(code, ("Error",))[0]})
