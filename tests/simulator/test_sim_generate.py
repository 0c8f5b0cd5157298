"""POST /v2/videos/generate: strict schema, prices, credits, idempotency (contract §3, §6, §7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from runway_desktop.simulator import Account, FaultPlan, Simulator
from tests.simulator.sim_helpers import StartSim, body, client_for, poll, submit


def _with(**changes: Any) -> dict[str, Any]:
    out = body(image="https://cdn.example/u/abc.png", duration=5, aspect_ratio="16:9", seed=42)
    for key, value in changes.items():
        if key.startswith("rp_"):
            out["runwayParams"][key[3:]] = value
        else:
            out[key] = value
    return out


def _without(key: str) -> dict[str, Any]:
    out = body()
    del out[key]
    return out


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (_with(foo=1), "foo"),
        (_with(rp_ratio="1280:720"), "runwayParams.ratio"),
        (_with(rp_promptImage="https://x.example/a.png"), "runwayParams.promptImage"),
        (_with(rp_duration=7), "runwayParams.duration"),
        (_with(rp_duration="5"), "runwayParams.duration"),
        (_with(rp_duration=True), "runwayParams.duration"),
        (_with(rp_aspect_ratio="2:1"), "runwayParams.aspect_ratio"),
        (_with(rp_aspect_ratio="1280:720"), "runwayParams.aspect_ratio"),
        (_with(rp_seed=1.5), "runwayParams.seed"),
        (_with(rp_seed=True), "runwayParams.seed"),
        (_with(rp_seed="42"), "runwayParams.seed"),
        (_with(rp_image="not a url"), "runwayParams.image"),
        (_with(prompt=""), "prompt"),
        (_with(prompt="x" * 4001), "prompt"),
        (_with(prompt=None), "prompt"),
        (_without("prompt"), "prompt"),
        (_without("model"), "model"),
        (_with(model="gen4_turbo"), "model"),
        (_with(webhookUrl="nope"), "webhookUrl"),
        (_with(webhookEvents=[]), "webhookEvents"),
        (_with(webhookEvents=["done"]), "webhookEvents.0"),
        (_with(runwayParams="16:9"), "runwayParams"),
        ([body()], "body"),
    ],
)
def test_schema_rejections_name_the_json_path(
    sim: Simulator, api: httpx.Client, payload: Any, path: str
) -> None:
    response = api.post("/v2/videos/generate", json=payload)
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "Validation failed"
    assert path in answer["details"]
    assert all(isinstance(m, str) for m in answer["details"][path])
    assert sim.jobs_created() == 0
    assert sim.credits("afk_test") == 10_000


def test_unknown_runway_param_detail_matches_the_contract_example(api: httpx.Client) -> None:
    response = api.post("/v2/videos/generate", json=_with(rp_ratio="16:9"))
    assert response.json() == {
        "error": "Validation failed",
        "details": {"runwayParams.ratio": ["Unrecognized key"]},
    }


@pytest.mark.parametrize(
    "payload",
    [
        body(),
        _with(),
        _with(prompt="x" * 4000),
        _with(prompt="🎬" * 2000),  # 4000 UTF-16 code units, as JavaScript counts
        _with(model="runway-gen4.5"),
        _with(rp_duration=10.0, rp_seed=0),
        _with(rp_image="data:image/png;base64,iVBORw0KGgo="),
        _with(webhookUrl="https://hooks.example/x", webhookEvents=["completed", "failed"]),
        {"prompt": "p", "model": "runway-gen4-turbo", "runwayParams": {}},
    ],
)
def test_valid_bodies_are_accepted(api: httpx.Client, payload: dict[str, Any]) -> None:
    response = api.post("/v2/videos/generate", json=payload)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert set(answer) == {"jobId", "status"}
    assert answer["status"] == "QUEUED"


def test_emoji_prompt_over_4000_utf16_units_is_rejected(api: httpx.Client) -> None:
    assert api.post("/v2/videos/generate", json=_with(prompt="🎬" * 2001)).status_code == 400


@pytest.mark.parametrize(
    ("content", "content_type", "error"),
    [
        (b"{not json", "application/json", "Invalid JSON body"),
        (b'{"prompt": NaN}', "application/json", "Invalid JSON body"),
        (b"\xff\xfe", "application/json", "Invalid JSON body"),
        (
            b'{"prompt":"p","model":"runway-gen4-turbo"}',
            "text/plain",
            "Content-Type must be application/json",
        ),
    ],
)
def test_unparsable_bodies_are_400(
    api: httpx.Client, content: bytes, content_type: str, error: str
) -> None:
    response = api.post(
        "/v2/videos/generate", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_idempotency_key_is_limited_to_255_characters(api: httpx.Client) -> None:
    too_long = api.post("/v2/videos/generate", json=body(), headers={"Idempotency-Key": "k" * 256})
    assert too_long.status_code == 400
    assert "Idempotency-Key" in too_long.json()["details"]
    ok = api.post("/v2/videos/generate", json=body(), headers={"Idempotency-Key": "k" * 255})
    assert ok.status_code == 202


def test_insufficient_credits_is_402_with_price_and_balance(start_sim: StartSim) -> None:
    sim = start_sim(accounts=[Account("afk_poor", credits=4), Account("afk_test_broke", credits=0)])
    with client_for(sim, "afk_poor") as client:
        response = client.post("/v2/videos/generate", json=body(duration=10))
    assert response.status_code == 402
    assert response.json() == {
        "error": "Insufficient credits",
        "creditsRequired": 15,
        "creditsAvailable": 4,
    }
    with client_for(sim, "afk_test_broke") as client:
        response = client.post("/v2/videos/generate", json=body())
    assert response.json() == {
        "error": "Insufficient credits",
        "creditsRequired": 8,
        "creditsAvailable": 0,
    }
    assert sim.jobs_created() == 0


def test_debit_on_accept_and_refund_on_failure(start_sim: StartSim) -> None:
    sim = start_sim(seconds_per_job=60)  # nothing moves unless the test says so
    with client_for(sim) as api:
        five = submit(api, body(duration=5))
        ten = submit(api, body(duration=10))
        assert sim.credits("afk_test") == 10_000 - 8 - 15
        assert api.get("/v2/me").json()["team"]["credits"] == 10_000 - 23
        assert api.get(f"/v2/jobs/{ten}").json()["creditCost"] == 15  # filled while QUEUED
        sim.set_job_outcome(five, "COMPLETED")
        sim.set_job_outcome(ten, "FAILED")
        assert api.get(f"/v2/jobs/{ten}").json()["creditCost"] == 0
        assert api.get("/v2/me").json()["team"]["credits"] == 10_000 - 8
    assert sim.credits("afk_test") == 10_000 - 8
    assert (sim.debits("afk_test"), sim.refunds("afk_test"), sim.charged("afk_test")) == (23, 15, 8)


def test_idempotent_replay_returns_the_original_job_without_a_second_debit(
    sim: Simulator, api: httpx.Client
) -> None:
    first = api.post("/v2/videos/generate", json=body(), headers={"Idempotency-Key": "click-1"})
    again = api.post("/v2/videos/generate", json=body(), headers={"Idempotency-Key": "click-1"})
    assert again.status_code == 202
    assert again.json()["jobId"] == first.json()["jobId"]
    assert sim.jobs_created() == 1
    assert sim.debits("afk_test") == 8
    poll(api, first.json()["jobId"], ("COMPLETED",))
    late = api.post("/v2/videos/generate", json=body(), headers={"Idempotency-Key": "click-1"})
    assert late.json() == {"jobId": first.json()["jobId"], "status": "COMPLETED"}


def test_idempotency_keys_are_per_api_key(sim: Simulator, api: httpx.Client) -> None:
    mine = submit(api, body(), **{"Idempotency-Key": "same"})
    with client_for(sim, "afk_demo") as other:
        theirs = submit(other, body(), **{"Idempotency-Key": "same"})
    assert mine != theirs
    assert sim.jobs_created() == 2


def test_same_key_different_body_conflicts_by_default(sim: Simulator, api: httpx.Client) -> None:
    submit(api, body(duration=5), **{"Idempotency-Key": "k"})
    response = api.post(
        "/v2/videos/generate", json=body(duration=10), headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 409
    assert set(response.json()) == {"error"}
    assert sim.jobs_created() == 1


def test_same_key_different_body_can_replay_instead(start_sim: StartSim) -> None:
    sim = start_sim(idempotency_mismatch="replay")
    with client_for(sim) as client:
        first = submit(client, body(duration=5), **{"Idempotency-Key": "k"})
        second = submit(client, body(duration=10), **{"Idempotency-Key": "k"})
    assert first == second
    assert sim.jobs_created() == 1
    assert sim.debits("afk_test") == 8


def test_key_order_does_not_make_a_different_body(sim: Simulator, api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "k", "Content-Type": "application/json"}
    a = api.post(
        "/v2/videos/generate",
        headers=headers,
        content=b'{"prompt":"p","model":"runway-gen4-turbo"}',
    )
    b = api.post(
        "/v2/videos/generate",
        headers=headers,
        content=b'{"model":"runway-gen4-turbo","prompt":"p"}',
    )
    assert a.json()["jobId"] == b.json()["jobId"]


def test_over_concurrency_can_reject_with_retry_after(start_sim: StartSim) -> None:
    sim = start_sim(
        accounts=[Account("afk_one", max_concurrent_jobs=1)],
        over_concurrency="reject",
        faults=FaultPlan(),
    )
    with client_for(sim, "afk_one") as client:
        submit(client)
        response = client.post("/v2/videos/generate", json=body())
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert sim.jobs_created() == 1
