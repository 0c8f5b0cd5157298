"""Helpers for the simulator tests (a module, not conftest, so test files can import them)."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import httpx

from runway_desktop.simulator import Simulator

FAST = 0.2  # seconds per job in these tests

StartSim = Callable[..., Simulator]


def client_for(sim: Simulator, key: str | None = "afk_test") -> httpx.Client:
    headers = {"X-API-Key": key} if key is not None else {}
    # verify=False: every URL here is plain http on loopback; it skips loading the CA bundle.
    return httpx.Client(base_url=sim.base_url, headers=headers, timeout=5, verify=False)


def body(**params: Any) -> dict[str, Any]:
    """A valid generate body; keyword arguments go into runwayParams."""
    out: dict[str, Any] = {"prompt": "slow dolly-in", "model": "runway-gen4-turbo"}
    if params:
        out["runwayParams"] = params
    return out


def submit(client: httpx.Client, payload: dict[str, Any] | None = None, **headers: str) -> str:
    response = client.post("/v2/videos/generate", json=payload or body(), headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["jobId"])


def poll(
    client: httpx.Client,
    job_id: str,
    statuses: tuple[str, ...] = ("COMPLETED", "FAILED"),
    timeout: float = 5.0,
) -> dict[str, Any]:
    """GET the job until its status is one of `statuses`; returns that job."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v2/jobs/{job_id}").json()
        if job["status"] in statuses:
            return dict(job)
        assert time.monotonic() < deadline, f"job stuck in {job['status']}"
        time.sleep(0.02)


def png(width: int = 4, height: int = 3) -> bytes:
    """A tiny valid PNG built by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def upload(client: httpx.Client, data: bytes, name: str = "f.bin") -> httpx.Response:
    # The declared content type is deliberately wrong: the server must sniff the bytes.
    return client.post("/v2/uploads", files={"file": (name, data, "text/plain")})
