"""Throughput: the app's download and upload against curl, same loopback server, same file.

The server (here, in threads of this process) sends files with `sendfile` and swallows uploads
with `recv_into`: it is never the bottleneck, so the figures compare the two clients. Downloads
land in /dev/shm (RAM) so the disk is not measured either; both clients write the same bytes
there (the app also fsyncs and renames, a no-op on tmpfs).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from benchmarks._common import BENCH, CLIPS, MB, PYTHON, child_env, median, metric, padded_mp4

DOWNLOAD_MB = 500
UPLOAD_MB = 48  # apiframe's upload limit is 50 MB (the client refuses more)
ROUNDS = 3


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files: ClassVar[dict[str, Path]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.files.get(self.path)
        if path is None:
            self.send_error(404)
            return
        size = path.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(size))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.flush()
        with path.open("rb") as handle:
            self.connection.sendfile(handle)

    def do_POST(self) -> None:
        left = int(self.headers.get("Content-Length") or 0)
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        while left > 0:
            got = self.connection.recv_into(view[: min(left, len(buffer))])
            if not got:
                break
            left -= got
        body = json.dumps({"id": str(uuid.uuid4()), "url": "http://127.0.0.1/u.png",
                           "kind": "image", "contentType": "image/png"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(files: dict[str, Path]) -> tuple[ThreadingHTTPServer, str]:
    _Handler.files = files
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _app(mode: str, where: str, path: Path) -> dict[str, Any]:
    out = subprocess.run([PYTHON, str(BENCH / "throughput_client.py"), mode, where, str(path)],
                         env=child_env(), capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout)


def _curl(args: list[str]) -> float:
    out = subprocess.run(["curl", "-s", "-S", "-f", "-w", "%{time_total}", *args],
                         capture_output=True, text=True, timeout=600, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run() -> dict[str, Any]:
    if not shutil.which("curl"):
        return {"skipped": "curl is not installed"}
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(os.environ["RUNWAY_BENCH_TMP"])
    work = shm / f"rdbench-throughput-{uuid.uuid4().hex[:6]}"
    work.mkdir()
    try:
        video = padded_mp4(CLIPS / "16x9.mp4", work / "big.mp4", DOWNLOAD_MB * MB)
        image = padded_mp4(CLIPS / "16x9.mp4", work / "upload.mp4", UPLOAD_MB * MB)
        server, base = _serve({"/videos/big.mp4": video})
        url = f"{base}/videos/big.mp4"
        app_down, curl_down, app_up, curl_up, growth_down, growth_up = [], [], [], [], [], []
        try:
            for i in range(ROUNDS):
                dest = work / f"app-{i}.mp4"
                result = _app("download", url, dest)
                app_down.append(result["bytes"] / result["seconds"])
                growth_down.append(result["rss_peak_mb"] - result["rss_before_mb"])
                dest.unlink()
                dest = work / f"curl-{i}.mp4"
                curl_down.append(video.stat().st_size / _curl(["-o", str(dest), url]))
                dest.unlink()
                result = _app("upload", base, image)
                app_up.append(result["bytes"] / result["seconds"])
                growth_up.append(result["rss_peak_mb"] - result["rss_before_mb"])
                seconds = _curl(["-o", "/dev/null", "-F", f"file=@{image};type=video/mp4",
                                 f"{base}/v2/uploads"])
                curl_up.append(image.stat().st_size / seconds)
        finally:
            server.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    down, down_floor = median(app_down), median(curl_down)
    up, up_floor = median(app_up), median(curl_up)
    return {
        "rounds": ROUNDS,
        "samples_mb_s": {"app_download": [round(v / MB) for v in app_down],
                         "curl_download": [round(v / MB) for v in curl_down],
                         "app_upload": [round(v / MB) for v in app_up],
                         "curl_upload": [round(v / MB) for v in curl_up]},
        "metrics": {
            "download_speed": metric(
                round(down / MB), "MB/s", target="≥ 0.8× curl", floor=round(down_floor / MB),
                ratio=round(down / down_floor, 2), met=down / down_floor >= 0.8,
                note=f"{DOWNLOAD_MB} MB file, median of {ROUNDS}"),
            "upload_speed": metric(
                round(up / MB), "MB/s", target="≥ 0.8× curl", floor=round(up_floor / MB),
                ratio=round(up / up_floor, 2), met=up / up_floor >= 0.8,
                note=f"{UPLOAD_MB} MB multipart POST (the API's cap is 50 MB), median of "
                     f"{ROUNDS}"),
            "download_rss_growth": metric(
                round(max(growth_down), 1), "MB", target=f"< 20 MB for {DOWNLOAD_MB} MB",
                met=max(growth_down) < 20, note="peak RSS (VmHWM) minus RSS before, worst round"),
            "upload_rss_growth": metric(
                round(max(growth_up), 1), "MB", target="flat (< 20 MB)",
                met=max(growth_up) < 20, note=f"{UPLOAD_MB} MB streamed from disk"),
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
