"""ApiClient against a server that never answers, trickles, or sends far too much.

Every call ends within its deadline, and no answer is held in memory beyond the size cap.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from runway_desktop.api import ApiClient, RequestTimeoutError, UnexpectedResponseError
from tests.helpers.scripted_server import Reply, Request, ScriptedServer, endless, job

KEY = "afk_test"
JOB_ID = "3f1c2a4e-0000-4000-8000-00000000beef"


def call(server: ScriptedServer, action: Callable[[ApiClient], Awaitable[Any]],
         **client: Any) -> tuple[Any, float]:
    """Run one call; (result or the exception raised, seconds it took). A hang fails the test
    after 20 s instead of blocking the run."""
    async def main() -> Any:
        async with ApiClient(KEY, server.base_url, **client) as api:
            try:
                return await asyncio.wait_for(action(api), 20)
            except Exception as exc:
                return exc

    started = time.monotonic()
    result = asyncio.run(main())
    return result, time.monotonic() - started


def test_a_server_that_accepts_and_never_answers_fails_within_the_deadline(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.script("GET /v2/me", Reply(hang=True))
    error, seconds = call(scripted_server, lambda api: api.me(), timeout=60, deadline=0.5)
    assert isinstance(error, RequestTimeoutError), error
    assert "0.5 s" in error.message
    assert error.retryable
    assert seconds < 5


def test_a_server_that_trickles_a_byte_at_a_time_fails_within_the_deadline(
    scripted_server: ScriptedServer,
) -> None:
    # Each byte comes well within the per-read timeout; only a deadline on the whole call helps.
    scripted_server.script(f"GET /v2/jobs/{JOB_ID}",
                           Reply(json=job(JOB_ID, "PROCESSING", result=None), trickle=0.05))
    error, seconds = call(scripted_server, lambda api: api.get_job(JOB_ID),
                          timeout=5, deadline=0.6)
    assert isinstance(error, RequestTimeoutError), error
    assert seconds < 5


def test_an_upload_has_its_own_longer_deadline(scripted_server: ScriptedServer,
                                               tmp_path: Any) -> None:
    picture = tmp_path / "a.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    def slow(_request: Request) -> None:
        time.sleep(0.4)  # then the default answer

    scripted_server.on("POST /v2/uploads", slow)
    upload, _ = call(scripted_server, lambda api: api.upload_file(picture),
                     deadline=0.2, upload_deadline=5)
    assert upload.url.endswith(".png"), upload


@pytest.mark.parametrize("declared", [False, True])
def test_a_huge_answer_is_refused_without_being_held_in_memory(
    scripted_server: ScriptedServer, declared: bool
) -> None:
    size = 256 * 1024**2
    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(size)
    scripted_server.script(f"GET /v2/jobs/{JOB_ID}",
                           Reply(chunks=endless(total=size), headers=headers))
    tracemalloc.start()
    try:
        error, seconds = call(scripted_server, lambda api: api.get_job(JOB_ID))
        grown_mib = tracemalloc.get_traced_memory()[1] / 1024**2  # the peak while it ran
    finally:
        tracemalloc.stop()
    assert grown_mib < 64, f"the answer took {grown_mib:.0f} MiB"
    assert isinstance(error, UnexpectedResponseError), error
    assert "larger than 1,048,576 bytes" in error.message
    assert error.retryable  # a glitch of the server: polling tries again later
    assert seconds < 10


def test_answers_under_the_cap_still_read_normally(scripted_server: ScriptedServer) -> None:
    scripted_server.jobs[JOB_ID] = job(JOB_ID, "QUEUED", result=None)
    found, _ = call(scripted_server, lambda api: api.get_job(JOB_ID), max_body_bytes=4096)
    assert found.id == JOB_ID, found
    assert found.video_url
    assert found.video_url.startswith(scripted_server.base_url)
    too_small, _ = call(scripted_server, lambda api: api.get_job(JOB_ID), max_body_bytes=64)
    assert isinstance(too_small, UnexpectedResponseError)


def test_an_error_answer_is_read_through_the_cap_too(scripted_server: ScriptedServer) -> None:
    scripted_server.script("GET /v2/me", Reply(402, json={
        "error": "Insufficient credits", "creditsRequired": 15, "creditsAvailable": 4}))
    error, _ = call(scripted_server, lambda api: api.me())
    assert "this needs 15, you have 4" in str(error)
