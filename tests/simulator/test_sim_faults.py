"""Every FaultPlan knob, seen from a real HTTP client (contract §7, §8, §14.9)."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from runway_desktop.simulator import FaultPlan, Simulator
from runway_desktop.simulator.faults import FaultDecider
from tests.simulator.sim_helpers import body, png, poll, submit, upload


def test_rate_limit_next_with_retry_after_seconds(sim: Simulator, api: httpx.Client) -> None:
    sim.faults.rate_limit_next = 2
    sim.faults.retry_after_seconds = 3
    answers = [api.get("/v2/me") for _ in range(3)]
    assert [r.status_code for r in answers] == [429, 429, 200]
    assert answers[0].json() == {"error": "Rate limit exceeded"}
    assert answers[0].headers["retry-after"] == "3"


def test_retry_after_as_http_date(sim: Simulator, api: httpx.Client) -> None:
    sim.faults.rate_limit_next = 1
    sim.faults.retry_after_seconds = 5
    sim.faults.retry_after_format = "http-date"
    response = api.get("/v2/me")
    assert response.status_code == 429
    when = email.utils.parsedate_to_datetime(response.headers["retry-after"]).timestamp()
    assert 4 <= when - time.time() <= 6.5


def test_faults_only_hit_the_chosen_routes(sim: Simulator, api: httpx.Client) -> None:
    sim.faults.rate_limit_next = 1
    sim.faults.routes = {"generate"}
    assert api.get("/v2/me").status_code == 200
    assert api.post("/v2/videos/generate", json=body()).status_code == 429
    assert api.post("/v2/videos/generate", json=body()).status_code == 202


def test_server_errors(sim: Simulator, api: httpx.Client) -> None:
    sim.faults.error_rate = 1.0
    statuses = {api.get("/v2/me").status_code for _ in range(12)}
    assert statuses == {500, 503}
    sim.faults.error_statuses = (503,)
    response = api.post("/v2/videos/generate", json=body())
    assert response.status_code == 503
    assert isinstance(response.json()["error"], str)
    assert sim.jobs_created() == 0


def test_uploads_can_get_502(sim: Simulator, api: httpx.Client) -> None:
    sim.faults.error_rate = 1.0
    sim.faults.error_statuses = ()
    response = upload(api, png())
    assert response.status_code in (502, 503)
    sim.faults.error_statuses = (500,)
    seen = {upload(api, png()).status_code for _ in range(12)}
    assert 502 in seen
    assert upload(api, png()).json()["error"] in ("Upload to CDN failed", "Internal server error")


def test_dropped_connection_is_a_transport_error(sim: Simulator, api: httpx.Client) -> None:
    sim.faults.drop_next = 1
    with pytest.raises(httpx.TransportError):
        api.post("/v2/videos/generate", json=body())
    assert sim.jobs_created() == 0  # dropped before any processing
    assert sim.requests[-1].outcome == "dropped"
    sim.faults.drop_rate = 1.0
    with pytest.raises(httpx.TransportError):
        api.get("/v2/me")
    sim.faults.drop_rate = 0.0
    assert api.get("/v2/me").status_code == 200


def test_lost_response_creates_the_job_and_a_retry_with_the_key_replays_it(
    sim: Simulator, api: httpx.Client
) -> None:
    sim.faults.lose_response_rate = 1.0
    with pytest.raises(httpx.TransportError):
        api.post("/v2/videos/generate", json=body(), headers={"Idempotency-Key": "lost-1"})
    assert sim.jobs_created() == 1
    assert sim.credits("afk_test") == 10_000 - 8
    assert sim.requests[-1].outcome == "lost"
    sim.faults.lose_response_rate = 0.0
    retry = api.post("/v2/videos/generate", json=body(), headers={"Idempotency-Key": "lost-1"})
    assert retry.json()["jobId"] == sim.job_ids()[0]
    assert sim.jobs_created() == 1
    assert sim.credits("afk_test") == 10_000 - 8


def test_slow_answers(sim: Simulator, api: httpx.Client) -> None:
    sim.faults.slow_seconds = 0.3
    started = time.monotonic()
    assert api.get("/v2/me").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_truncated_download_delivers_fewer_bytes_than_promised(
    sim: Simulator, api: httpx.Client, cdn: httpx.Client
) -> None:
    url = poll(api, submit(api))["result"]["videoUrl"]
    sim.faults.truncate_downloads_next = 1
    chunks: list[bytes] = []
    with cdn.stream("GET", url) as response:
        promised = int(response.headers["content-length"])
        with pytest.raises(httpx.RemoteProtocolError):
            chunks.extend(response.iter_raw())
    assert 0 < sum(map(len, chunks)) < promised
    assert len(cdn.get(url).content) == promised  # only the next N downloads


def test_cdn_drop_and_throttle(sim: Simulator, api: httpx.Client, cdn: httpx.Client) -> None:
    url = poll(api, submit(api))["result"]["videoUrl"]
    sim.faults.cdn_drop_rate = 1.0
    with pytest.raises(httpx.TransportError):
        cdn.get(url)
    sim.faults.cdn_drop_rate = 0.0
    sim.faults.cdn_slow_bytes_per_second = 100_000
    started = time.monotonic()
    size = len(cdn.get(url).content)
    assert time.monotonic() - started >= 0.8 * size / 100_000


def test_api_faults_reach_the_cdn_only_when_routed_there(
    sim: Simulator, api: httpx.Client, cdn: httpx.Client
) -> None:
    url = poll(api, submit(api))["result"]["videoUrl"]
    sim.faults.error_next = 1
    assert cdn.get(url).status_code == 200
    sim.faults.routes = {"cdn"}
    assert cdn.get(url).status_code in (500, 503)
    assert api.get("/v2/me").status_code == 200


def test_fault_plan_can_be_replaced_whole(sim: Simulator, api: httpx.Client) -> None:
    sim.faults = FaultPlan(rate_limit_next=1)
    assert api.get("/v2/me").status_code == 429


def test_fault_decisions_are_reproducible_with_a_seed() -> None:
    def run(seed: int) -> list[object]:
        decider = FaultDecider(FaultPlan(error_rate=0.5, drop_rate=0.2, fail_jobs_rate=0.5), seed)
        return [decider.for_request("me") for _ in range(30)] + [
            decider.for_new_job() for _ in range(10)
        ]

    assert run(7) == run(7)
    assert run(7) != run(8)
