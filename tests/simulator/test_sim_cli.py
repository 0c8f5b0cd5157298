"""`python -m runway_desktop.simulator` serves until interrupted, then exits cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command_line_serves_and_stops_cleanly() -> None:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "runway_desktop.simulator",
        "--port",
        str(port),
        "--seconds-per-job",
        "0.2",
    ]
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            deadline = time.monotonic() + 15
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
                response = None
                while response is None:
                    try:
                        response = client.get("/v2/me", headers={"X-API-Key": "afk_demo"})
                    except httpx.TransportError:
                        assert process.poll() is None, (
                            process.stderr.read() if process.stderr else ""
                        )
                        assert time.monotonic() < deadline, "simulator did not come up"
                        time.sleep(0.05)
            assert response.json()["team"]["credits"] == 100_000
        finally:
            process.send_signal(signal.SIGINT if sys.platform != "win32" else signal.SIGTERM)
            out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert f"http://127.0.0.1:{port}" in out
    assert "afk_demo" in out
    assert "Videos: made from each job's start image" in out  # --clips image, the default
