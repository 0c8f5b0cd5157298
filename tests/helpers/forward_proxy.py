"""A tiny HTTP forward proxy on 127.0.0.1 that records what passes through it.

It forwards absolute-form requests (`GET http://host:port/path HTTP/1.1`, what a client sends to
an HTTP proxy for a plain-http address) to loopback targets only, which is all the simulator
needs; anything else gets 403. `CONNECT` (https tunnels) is refused: no test here needs one.
"""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from runway_desktop.api.urls import is_loopback_host

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te",
               "trailer", "transfer-encoding", "upgrade"}


class ForwardProxy:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []  # (method, absolute URL) in arrival order
        self._lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ForwardProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def record(self, method: str, url: str) -> None:
        with self._lock:
            self.seen.append((method, url))

    def paths(self, method: str | None = None) -> list[str]:
        with self._lock:
            return [urlsplit(u).path for m, u in self.seen if method in (None, m)]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: http.server.ThreadingHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_CONNECT(self) -> None:
        self.send_error(405, "This test proxy forwards plain http only")

    def do_GET(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_PUT(self) -> None:
        self._forward()

    def _forward(self) -> None:
        target = urlsplit(self.path)
        if target.scheme != "http" or not is_loopback_host(target.hostname):
            self.send_error(403, "Only absolute http URLs to loopback are forwarded")
            return
        self.server.owner.record(self.command, self.path)  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        assert target.hostname  # checked loopback above
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path or "/", body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            upstream.close()


@pytest.fixture
def forward_proxy() -> Iterator[ForwardProxy]:
    proxy = ForwardProxy().start()
    try:
        yield proxy
    finally:
        proxy.stop()
