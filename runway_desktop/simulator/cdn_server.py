"""The CDN port (a different origin from the API): finished videos and uploaded files.

It never asks for a key; it records every request's headers so tests can check none was sent.
Byte ranges, truncated bodies, throttling and dropped connections live here.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from runway_desktop.simulator.api_server import retry_after
from runway_desktop.simulator.errors import ApiError
from runway_desktop.simulator.httpbase import BaseHandler
from runway_desktop.simulator.media import Unsatisfiable, parse_range

_VIDEO = re.compile(r"^/videos/([0-9a-fA-F-]{36})\.mp4$")
_UPLOAD = re.compile(r"^/uploads/([0-9a-fA-F-]{36}\.[a-z0-9]+)$")
_CHUNK = 64 * 1024


def _etag(data: bytes) -> str:
    """A strong validator of these exact bytes. `hash()` of a bytes object is computed once
    and cached by Python, so a 100 MB clip costs nothing per request; it differs between
    simulator runs, like a re-uploaded file would."""
    return f'"{hash(data) & 0xFFFF_FFFF_FFFF_FFFF:016x}-{len(data):x}"'


class CdnHandler(BaseHandler):
    role = "cdn"

    def do_GET(self) -> None:
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def dispatch(self) -> None:
        url = urlsplit(self.path)
        self.start_record(url.path, url.query)
        decider = self.backend.faults
        faults = decider.for_request("cdn")  # API-style faults reach the CDN only if routed here
        self.pause(faults.delay)
        if self.headers.get("Content-Length") not in (None, "0"):
            self.close_connection = True  # a CDN takes no bodies; do not try to parse one
        if faults.drop or decider.cdn_drop():
            self.drop()
            return
        if faults.lose_response:
            self.drop("lost")
            return
        try:
            if faults.rate_limited:
                headers = {"Retry-After": retry_after(decider.plan)}
                raise ApiError(429, "Rate limit exceeded", headers=headers)
            if faults.error_status is not None:
                raise ApiError(faults.error_status, "Service temporarily unavailable")
            if self.command not in ("GET", "HEAD"):
                raise ApiError(405, "Method not allowed", headers={"Allow": "GET, HEAD"})
            data, content_type = self._find(url.path)
            self._serve(data, content_type)
        except ApiError as err:
            self.send_api_error(err)
        except OSError:
            self.close_connection = True  # the client hung up mid-body

    def _find(self, path: str) -> tuple[bytes, str]:
        state = self.backend.state
        video = _VIDEO.match(path)
        if video:
            job_id = video.group(1).lower()
            ratio = state.completed_video(job_id)
            if ratio is not None:
                made = self.backend.clip_maker.clip(job_id, self.backend.stopping)
                return made or self.backend.clips[ratio], "video/mp4"
        upload = _UPLOAD.match(path)
        if upload:
            found = state.upload_file(upload.group(1))
            if found is not None:
                return found.data, found.sniffed.content_type
        raise ApiError(404, "Not found")

    def _serve(self, data: bytes, content_type: str) -> None:
        size = len(data)
        etag = _etag(data)
        headers = {"Content-Type": content_type, "Accept-Ranges": "bytes", "ETag": etag}
        range_header = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range.strip() != etag:
            range_header = None  # RFC 9110 §13.1.5: the file changed, so send it whole (200)
        try:
            wanted = parse_range(range_header, size)
        except Unsatisfiable:
            raise ApiError(
                416, "Range not satisfiable", headers={"Content-Range": f"bytes */{size}"}
            ) from None
        status, first, last = 200, 0, size - 1
        if wanted is not None:
            status, (first, last) = 206, wanted
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        body = data[first : last + 1]
        headers["Content-Length"] = str(len(body))
        if self.command == "HEAD":
            self.send_head(status, headers)
            return
        truncate = self.backend.faults.take_truncation()
        if truncate:
            self.close_connection = True
        self.send_head(status, headers)
        if truncate:
            body = body[: len(body) // 2]
            self.record.outcome = "truncated"
        self._write(body)

    def _write(self, body: bytes) -> None:
        rate = self.backend.faults.cdn_rate()
        chunk = _CHUNK if rate is None else max(1, min(_CHUNK, int(rate / 20)))
        started = time.monotonic()
        sent = 0
        for offset in range(0, len(body), chunk):
            if self.backend.stopping.is_set():
                self.close_connection = True
                return
            piece = body[offset : offset + chunk]
            self.wfile.write(piece)
            sent += len(piece)
            if rate is not None:
                # Sleep until the bytes sent so far match the allowed rate.
                self.pause(started + sent / rate - time.monotonic())
