"""Jobs: the clocked state machine, GET one, list with cursors and filters (contract §4)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from runway_desktop.simulator import Account, Simulator
from tests.simulator.sim_helpers import FAST, StartSim, body, client_for, poll, submit

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
JOB_KEYS = {
    "id",
    "status",
    "model",
    "progress",
    "result",
    "error",
    "creditCost",
    "webhookStatus",
    "createdAt",
    "completedAt",
    "input",
    "expired",
}


@pytest.mark.parametrize("shape", ["object", "string"])
def test_job_runs_queued_processing_completed(start_sim: StartSim, shape: str) -> None:
    # 10 s per job, 2 s of it QUEUED; the test moves the clock instead of sleeping.
    sim = start_sim(seconds_per_job=10, queued_seconds_fraction=0.2, result_shape=shape)
    payload = body(aspect_ratio="9:16", duration=10, seed=7)
    with client_for(sim) as client:
        job_id = submit(client, payload)
        queued = client.get(f"/v2/jobs/{job_id}").json()
        sim.advance_clock(3)
        processing = client.get(f"/v2/jobs/{job_id}").json()
        sim.advance_clock(4)
        later = client.get(f"/v2/jobs/{job_id}").json()
        sim.advance_clock(4)
        done = client.get(f"/v2/jobs/{job_id}").json()
    assert set(queued) == JOB_KEYS
    assert queued["status"] == "QUEUED"
    assert (queued["progress"], queued["result"], queued["completedAt"]) == (0, None, None)
    assert processing["status"] == later["status"] == "PROCESSING"
    assert 12 <= processing["progress"] < later["progress"] < 100
    assert processing["result"] is None
    assert done["status"] == "COMPLETED"
    assert done["progress"] == 100
    assert done["error"] is None
    assert done["webhookStatus"] is None
    assert done["expired"] is False
    assert done["creditCost"] == 15
    assert done["input"] == payload
    assert done["model"] == "runway-gen4-turbo"
    assert ISO_MS.match(done["createdAt"])
    assert ISO_MS.match(done["completedAt"])
    assert done["completedAt"] > done["createdAt"]
    url = f"{sim.cdn_base_url}/videos/{job_id}.mp4"
    assert done["result"] == ({"videoUrl": url} if shape == "object" else url)


def test_a_fast_job_completes_in_real_time(sim: Simulator, api: httpx.Client) -> None:
    assert poll(api, submit(api))["status"] == "COMPLETED"


def test_progress_only_rises_in_integer_steps(start_sim: StartSim) -> None:
    sim = start_sim(seconds_per_job=10)
    seen = []
    job: dict[str, Any] = {}
    with client_for(sim) as client:
        job_id = submit(client)
        for _ in range(25):
            job = client.get(f"/v2/jobs/{job_id}").json()
            seen.append(job["progress"])
            sim.advance_clock(0.45)
    assert job["status"] == "COMPLETED"
    assert all(isinstance(p, int) for p in seen)
    assert seen == sorted(seen)
    assert len(set(seen)) > 10


def test_failed_job_shape_and_refund(sim: Simulator, api: httpx.Client) -> None:
    sim.faults.fail_jobs_next = 1
    job_id = submit(api, body(duration=10))
    failed = poll(api, job_id)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "Provider returned an error: content policy violation"
    assert (failed["progress"], failed["creditCost"], failed["result"]) == (0, 0, None)
    assert ISO_MS.match(failed["completedAt"])
    assert sim.credits("afk_test") == 10_000


def test_jobs_can_fail_straight_from_queued(sim: Simulator, api: httpx.Client) -> None:
    sim.faults.fail_jobs_rate = 1.0
    sim.faults.fail_from_queued = True
    sim.faults.fail_message = "Provider returned an error: SAFETY.INPUT.IMAGE"
    job_id = submit(api)
    seen = set()
    while (job := api.get(f"/v2/jobs/{job_id}").json())["status"] != "FAILED":
        seen.add(job["status"])
    assert seen <= {"QUEUED"}
    assert job["error"] == "Provider returned an error: SAFETY.INPUT.IMAGE"


def test_text_only_requests_can_be_made_to_fail(start_sim: StartSim) -> None:
    sim = start_sim(text_only="fail")
    with client_for(sim) as client:
        job = poll(client, submit(client, body()))
        with_image = poll(client, submit(client, body(image="https://cdn.example/a.png")))
    assert job["status"] == "FAILED"
    assert "image" in job["error"]
    assert with_image["status"] == "COMPLETED"


def test_set_job_outcome_forces_an_ending(start_sim: StartSim) -> None:
    sim = start_sim(seconds_per_job=60)
    with client_for(sim) as client:
        a, b = submit(client), submit(client)
        sim.set_job_outcome(a, "COMPLETED")
        sim.set_job_outcome(b, "FAILED", error="Provider returned an error: boom")
        assert client.get(f"/v2/jobs/{a}").json()["status"] == "COMPLETED"
        assert client.get(f"/v2/jobs/{b}").json()["error"] == "Provider returned an error: boom"
    assert sim.credits("afk_test") == 10_000 - 8
    with pytest.raises(ValueError, match="already"):
        sim.set_job_outcome(a, "FAILED")


def test_get_job_400_for_non_uuid_and_404_for_unknown_or_foreign(
    sim: Simulator, api: httpx.Client
) -> None:
    assert api.get("/v2/jobs/not-a-uuid").status_code == 400
    unknown = api.get(f"/v2/jobs/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Job not found"}
    with client_for(sim, "afk_demo") as other:
        theirs = submit(other)
    assert api.get(f"/v2/jobs/{theirs}").json() == {"error": "Job not found"}


def test_over_concurrency_queues_until_a_slot_frees(start_sim: StartSim) -> None:
    sim = start_sim(accounts=[Account("afk_one", max_concurrent_jobs=1)], seconds_per_job=10)
    with client_for(sim, "afk_one") as client:
        first, second = submit(client), submit(client)

        def status(job_id: str) -> str:
            return str(client.get(f"/v2/jobs/{job_id}").json()["status"])

        sim.advance_clock(2.5)
        assert (status(first), status(second)) == ("PROCESSING", "QUEUED")
        sim.advance_clock(8)  # the first ends at 10 s and frees its slot
        assert (status(first), status(second)) == ("COMPLETED", "PROCESSING")
        sim.advance_clock(8)
        assert status(second) == "COMPLETED"


def test_results_expire_after_their_ttl(start_sim: StartSim, cdn: httpx.Client) -> None:
    sim = start_sim(result_ttl_seconds=3600)
    with client_for(sim) as client:
        job = poll(client, submit(client))
        url = job["result"]["videoUrl"]
        assert cdn.get(url).status_code == 200
        sim.advance_clock(3601)
        assert client.get(f"/v2/jobs/{job['id']}").json()["expired"] is True
    assert cdn.get(url).status_code == 404


# ---- list ------------------------------------------------------------------------------------


@pytest.fixture
def listing(start_sim: StartSim) -> tuple[Simulator, list[str]]:
    """Five jobs that stay put (60 s per job): one COMPLETED, one FAILED, one on gen4.5."""
    sim = start_sim(seconds_per_job=60)
    with client_for(sim) as client:
        ids = [submit(client) for _ in range(4)]
        ids.append(submit(client, {"prompt": "p", "model": "runway-gen4.5"}))
    sim.set_job_outcome(ids[0], "COMPLETED")
    sim.set_job_outcome(ids[1], "FAILED")
    return sim, ids


def _expected_order(sim: Simulator, ids: list[str]) -> list[str]:
    jobs = [sim.job(i) for i in ids]
    return [j["id"] for j in sorted(jobs, key=lambda j: (j["createdAt"], j["id"]), reverse=True)]


def test_list_pages_with_cursors(listing: tuple[Simulator, list[str]]) -> None:
    sim, ids = listing
    seen: list[str] = []
    pages = []
    with client_for(sim) as client:
        params: dict[str, str] = {"limit": "2"}
        while True:
            page = client.get("/v2/jobs", params=params).json()
            pages.append(page)
            seen += [j["id"] for j in page["jobs"]]
            if not page["hasMore"]:
                assert page["nextCursor"] is None
                break
            params["cursor"] = page["nextCursor"]
    assert [len(p["jobs"]) for p in pages] == [2, 2, 1]
    assert seen == _expected_order(sim, ids)
    assert all(set(j) == JOB_KEYS for p in pages for j in p["jobs"])


def test_list_default_limit_and_filters(listing: tuple[Simulator, list[str]]) -> None:
    sim, ids = listing
    with client_for(sim) as client:
        everything = client.get("/v2/jobs").json()
        completed = client.get("/v2/jobs", params={"status": "COMPLETED"}).json()
        failed = client.get("/v2/jobs", params={"status": "FAILED"}).json()
        gen45 = client.get("/v2/jobs", params={"model": "runway-gen4.5"}).json()
        found = client.get("/v2/jobs", params={"search": ids[2]}).json()
        models = client.get("/v2/jobs", params={"include_models": "true"}).json()
        team = client.get("/v2/jobs", params={"scope": "team"})
    assert len(everything["jobs"]) == 5
    assert everything["hasMore"] is False
    assert "models" not in everything
    assert [j["id"] for j in completed["jobs"]] == [ids[0]]
    assert [j["id"] for j in failed["jobs"]] == [ids[1]]
    assert [j["id"] for j in gen45["jobs"]] == [ids[4]]
    assert [j["id"] for j in found["jobs"]] == [ids[2]]
    assert models["models"] == ["runway-gen4-turbo", "runway-gen4.5"]
    assert team.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"status": "DONE"},
        {"scope": "world"},
        {"search": "abc"},
        {"include_models": "yes"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJ4IjoxfQ"},
        {"colour": "red"},
    ],
)
def test_list_rejects_bad_queries(api: httpx.Client, params: dict[str, str]) -> None:
    response = api.get("/v2/jobs", params=params)
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)


def test_team_scope_needs_an_admin(start_sim: StartSim) -> None:
    sim = start_sim(accounts=[Account("afk_member", role="MEMBER")])
    with client_for(sim, "afk_member") as client:
        assert client.get("/v2/jobs", params={"scope": "team"}).status_code == 403
        assert client.get("/v2/jobs", params={"scope": "user"}).status_code == 200


def test_simulator_helpers(sim: Simulator, api: httpx.Client) -> None:
    job_id = submit(api)
    assert sim.job_ids() == [job_id] == sim.job_ids("afk_test")
    assert sim.jobs_created("afk_demo") == 0
    assert sim.wait_for_job(job_id, timeout=5 * FAST + 2)["status"] == "COMPLETED"
