"""Auth, account and catalog routes (contract §1, §6, §7, §14.1, §14.8)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from runway_desktop.simulator import Account, Simulator
from tests.simulator.sim_helpers import StartSim, client_for


@pytest.mark.parametrize(
    ("key", "status", "error"),
    [
        (None, 401, "API key is required"),
        ("afk_nope", 401, "Invalid API key"),
        ("afk_test_inactive", 403, "API key is inactive"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/me"),
        ("GET", "/v2/jobs"),
        ("POST", "/v2/videos/generate"),
        ("POST", "/v2/uploads"),
        ("GET", "/v2/jobs/3f0b8a1e-4c2d-4e5f-9a6b-7c8d9e0f1a2b"),
    ],
)
def test_every_route_but_models_needs_a_valid_active_key(
    sim: Simulator, key: str | None, status: int, error: str, method: str, path: str
) -> None:
    with client_for(sim, key) as client:
        response = client.request(method, path)
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert response.headers["content-type"] == "application/json"


def test_revoking_a_key_takes_effect_immediately(sim: Simulator, api: httpx.Client) -> None:
    assert api.get("/v2/me").status_code == 200
    sim.set_active("afk_test", False)
    assert api.get("/v2/me").status_code == 403


def test_me_returns_the_union_of_docs_and_openapi_shapes(start_sim: StartSim) -> None:
    account = Account(
        "afk_team",
        credits=4500,
        email="dev@example.com",
        team_name="My Team",
        plan="business",
        max_concurrent_jobs=3,
        role="OWNER",
    )
    sim = start_sim(accounts=[account])
    with client_for(sim, "afk_team") as client:
        me = client.get("/v2/me").json()
    assert me["user"]["email"] == "dev@example.com"
    assert me["user"]["role"] == "OWNER"
    assert me["team"] == {
        "id": me["team"]["id"],
        "name": "My Team",
        "plan": "business",
        "credits": 4500,
        "maxConcurrentJobs": 3,
        "customerId": None,
    }
    assert set(me["apiKey"]) == {"id", "name", "prefix"}
    assert "afk_team".startswith(me["apiKey"]["prefix"])


def test_models_is_public_and_lists_runway_gen4_turbo(sim: Simulator) -> None:
    with client_for(sim, None) as client:
        response = client.get("/v2/models", params={"modality": "video"})
        assert client.get("/v2/models", params={"modality": "smell"}).status_code == 400
    assert response.status_code == 200
    models = response.json()["models"]
    ids = {m["id"] for m in models}
    assert {"runway-gen4-turbo", "runway-gen4.5"} <= ids
    assert all(m["modality"] == "video" for m in models)


def test_every_api_response_carries_a_request_id_and_errors_are_json(
    sim: Simulator, api: httpx.Client
) -> None:
    for response in (api.get("/v2/me"), api.get("/v2/nowhere"), api.delete("/v2/me")):
        assert response.headers["x-request-id"]
        assert response.headers["content-type"] == "application/json"
    assert api.get("/v2/nowhere").json() == {"error": "Not found"}
    assert api.delete("/v2/me").status_code == 405


def test_request_ids_can_be_switched_off(start_sim: StartSim) -> None:
    sim = start_sim(send_request_id=False)
    with client_for(sim) as client:
        assert "x-request-id" not in client.get("/v2/me").headers


def test_requests_are_recorded_with_lower_case_headers(sim: Simulator, api: httpx.Client) -> None:
    api.get("/v2/me", params={"a": "b"})
    record = sim.requests[-1]
    assert (record.method, record.path, record.query) == ("GET", "/v2/me", "a=b")
    assert record.headers["x-api-key"] == "afk_test"
    assert (record.host_role, record.status, record.outcome) == ("api", 200, "answered")


def test_models_entries_follow_the_contract_and_the_runs_prices(
        make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(prices={"runway-gen4-turbo": {5: 8, 10: 15},
                                 "runway-gen4.5": {5: 30, 10: 60}})
    with client_for(sim, None) as client:
        models = client.get("/v2/models", params={"modality": "video"}).json()["models"]
        [gen45] = [m for m in models if m["id"] == "runway-gen4.5"]
        assert {"id", "label", "modality"} <= set(gen45)
        assert (gen45["costMin"], gen45["costMax"], gen45["pricingMode"]) == (30, 60, "flat")
    with client_for(sim) as client:
        before = client.get("/v2/me").json()["team"]["credits"]
        accepted = client.post("/v2/videos/generate", json={
            "prompt": "p", "model": "runway-gen4.5", "runwayParams": {"duration": 10}})
        assert accepted.status_code == 202
        assert client.get("/v2/me").json()["team"]["credits"] == before - 60
