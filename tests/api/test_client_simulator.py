"""ApiClient against the real local simulator over loopback HTTP (no mocked transport)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

import httpx
import pytest
from PIL import Image

from runway_desktop.api import (
    ApiClient,
    AuthenticationError,
    ConflictError,
    GenerateVideoRequest,
    InsufficientCreditsError,
    Job,
    JobStatus,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    Upload,
    UploadFailedError,
    ValidationError,
)
from runway_desktop.api import client as client_module
from runway_desktop.simulator import Simulator
from tests.conftest import run

KEY = "afk_test"
DEMO = "afk_demo"

SimFactory = Callable[..., Simulator]


@pytest.fixture
def make_sim(make_simulator: SimFactory) -> SimFactory:
    """Simulators with a given config (the shared factory: fast, seeded, stopped after)."""
    return make_simulator


@pytest.fixture
def sim(make_sim: SimFactory) -> Simulator:
    return make_sim()


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "start frame.png"
    Image.new("RGB", (64, 36), (200, 120, 40)).save(path)
    return path


def with_client(
    sim: Simulator, action: Callable[[ApiClient], Awaitable[Any]], key: str = KEY, **kwargs: Any
) -> Any:
    async def main() -> Any:
        async with ApiClient(key, sim.base_url, **kwargs) as api:
            return await action(api)

    return run(main())


def raises(
    sim: Simulator, action: Callable[[ApiClient], Awaitable[Any]], key: str = KEY, **kwargs: Any
) -> Any:
    with pytest.raises(Exception) as info:  # noqa: PT011 — the caller checks the exact type
        with_client(sim, action, key, **kwargs)
    return info.value


async def wait_done(api: ApiClient, job_id: str) -> Job:
    async with asyncio.timeout(10):
        while True:
            job = await api.get_job(job_id)
            if job.status.is_terminal:
                return job
            await asyncio.sleep(0.05)


async def upload_and_generate(
    api: ApiClient, png: Path, *, key: str | None = None, **params: Any
) -> tuple[Upload, str]:
    upload = await api.upload_file(png)
    request = GenerateVideoRequest("slow dolly-in, leaves drifting", upload.url, **params)
    accepted = await api.generate_video(request, idempotency_key=key or str(uuid.uuid4()))
    return upload, accepted.job_id


# -- endpoints ------------------------------------------------------------------------------------


def test_me(sim: Simulator):
    account = with_client(sim, lambda api: api.me())
    assert account.user_email == "test@example.com"
    assert account.role == "ADMIN"
    assert account.team_name == "Simulator Team"
    assert account.plan == "pro"
    assert account.credits == 10_000
    assert account.max_concurrent_jobs == 10
    assert account.api_key_name == "Simulator Key"


def test_full_flow_and_the_key_never_reaches_the_cdn(sim: Simulator, png: Path):
    async def flow(api: ApiClient) -> tuple[Upload, Job, bytes, int]:
        upload, job_id = await upload_and_generate(
            api, png, key="click-1", duration=10, aspect_ratio="16:9", seed=7
        )
        assert sim.credits(KEY) == 10_000 - 15
        job = await wait_done(api, job_id)
        assert job.video_url is not None
        async with httpx.AsyncClient() as cdn:  # how the engine downloads: a key-less client
            video = await cdn.get(job.video_url)
        # Even the API client's own connection pool must not leak the key to another origin.
        own = await api._http.get(job.video_url)
        return upload, job, video.content, own.status_code

    upload, job, video, own_status = with_client(sim, flow)

    assert upload.kind == "image"
    assert upload.content_type == "image/png"
    assert upload.byte_size == png.stat().st_size
    assert upload.url.startswith(sim.cdn_base_url + "/uploads/")
    assert upload.expires_at is not None
    assert upload.expires_at > datetime.now(UTC)

    assert job.status is JobStatus.COMPLETED
    assert job.model == "runway-gen4-turbo"
    assert job.progress == 100
    assert job.credit_cost == 15
    assert job.created_at is not None
    assert job.completed_at is not None
    assert job.error is None
    assert job.input is not None
    assert job.input["runwayParams"]["seed"] == 7
    assert job.video_url.startswith(sim.cdn_base_url + "/videos/")
    assert video[4:8] == b"ftyp"  # an MP4
    assert own_status == 200

    api_requests = [r for r in sim.requests if r.host_role == "api"]
    cdn_requests = [r for r in sim.requests if r.host_role == "cdn"]
    assert len(cdn_requests) == 2
    assert all("x-api-key" not in r.headers for r in cdn_requests)
    assert all(r.headers.get("x-api-key") == KEY for r in api_requests)
    assert all(r.headers["user-agent"].startswith("runway-desktop/") for r in api_requests)
    generate = next(r for r in api_requests if r.path == "/v2/videos/generate")
    assert generate.headers["idempotency-key"] == "click-1"
    assert sim.job(job.id)["status"] == "COMPLETED"


@pytest.mark.parametrize("shape", ["object", "string"])
def test_both_result_shapes(make_sim: SimFactory, png: Path, shape: str):
    sim = make_sim(result_shape=shape)

    async def flow(api: ApiClient) -> Job:
        _, job_id = await upload_and_generate(api, png)
        return await wait_done(api, job_id)

    job = with_client(sim, flow)
    assert job.status is JobStatus.COMPLETED
    assert job.video_url is not None
    assert job.video_url.startswith(sim.cdn_base_url + "/videos/")


def test_upload_is_streamed_from_disk(sim: Simulator, tmp_path: Path, monkeypatch):
    big = tmp_path / "noise.png"
    Image.effect_noise((1024, 1024), 80).convert("RGB").save(big)
    size = big.stat().st_size
    assert size > 512 * 1024
    reads: list[int] = []

    class Spy:
        """An open file that records how much each read asked for."""

        def __init__(self, handle: IO[bytes]) -> None:
            self._handle = handle

        def read(self, n: int = -1) -> bytes:
            reads.append(n)
            return self._handle.read(n)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

    original = client_module._open_for_upload
    monkeypatch.setattr(client_module, "_open_for_upload", lambda path: Spy(original(path)))

    async def flow(api: ApiClient) -> tuple[Upload, bytes]:
        upload = await api.upload_file(big, filename="frame.png")
        async with httpx.AsyncClient() as cdn:
            return upload, (await cdn.get(upload.url)).content

    upload, served = with_client(sim, flow)
    assert upload.byte_size == size
    assert served == big.read_bytes()
    assert len(reads) > 1
    assert all(0 < n <= 1024 * 1024 for n in reads)  # chunks, never read() of the whole file
    upload_request = next(r for r in sim.requests if r.path == "/v2/uploads")
    assert upload_request.headers["content-type"].startswith("multipart/form-data")
    assert int(upload_request.headers["content-length"]) > size


def test_idempotent_replay_returns_the_same_job_and_charges_once(sim: Simulator, png: Path):
    async def flow(api: ApiClient) -> tuple[str, str]:
        upload = await api.upload_file(png)
        request = GenerateVideoRequest("a cat", upload.url, duration=5)
        first = await api.generate_video(request, idempotency_key="same-key")
        second = await api.generate_video(request, idempotency_key="same-key")
        return first.job_id, second.job_id

    first, second = with_client(sim, flow)
    assert first == second
    assert sim.jobs_created(KEY) == 1
    assert sim.credits(KEY) == 10_000 - 8


def test_lost_response_then_retry_with_the_same_key(sim: Simulator, png: Path):
    """The server creates the job but the answer never arrives: resending is safe."""

    async def flow(api: ApiClient) -> tuple[Exception, str]:
        upload = await api.upload_file(png)
        request = GenerateVideoRequest("a cat", upload.url)
        sim.faults.routes = {"generate"}
        sim.faults.lose_response_next = 1
        try:
            await api.generate_video(request, idempotency_key="k-lost")
        except NetworkError as exc:
            lost: Exception = exc
        else:
            raise AssertionError("the lost response should raise")
        accepted = await api.generate_video(request, idempotency_key="k-lost")
        return lost, accepted.job_id

    lost, job_id = with_client(sim, flow)
    assert isinstance(lost, NetworkError)
    assert lost.retryable
    assert sim.jobs_created(KEY) == 1
    assert sim.job_ids(KEY) == [job_id]
    assert sim.credits(KEY) == 10_000 - 8


def test_idempotency_key_reused_with_other_settings_is_a_conflict(sim: Simulator, png: Path):
    async def flow(api: ApiClient) -> None:
        upload = await api.upload_file(png)
        await api.generate_video(GenerateVideoRequest("a", upload.url), idempotency_key="k")
        await api.generate_video(GenerateVideoRequest("b", upload.url), idempotency_key="k")

    err = raises(sim, flow)
    assert isinstance(err, ConflictError)
    assert err.status == 409
    assert not err.retryable
    assert sim.jobs_created(KEY) == 1


def test_idempotency_mismatch_replay_mode(make_sim: SimFactory, png: Path):
    sim = make_sim(idempotency_mismatch="replay")

    async def flow(api: ApiClient) -> tuple[str, str]:
        upload = await api.upload_file(png)
        a = await api.generate_video(GenerateVideoRequest("a", upload.url), idempotency_key="k")
        b = await api.generate_video(GenerateVideoRequest("b", upload.url), idempotency_key="k")
        return a.job_id, b.job_id

    first, second = with_client(sim, flow)
    assert first == second


def test_cursor_paging_over_several_pages(sim: Simulator, png: Path):
    async def flow(api: ApiClient) -> tuple[list[str], list[Job], Any, list[str]]:
        upload = await api.upload_file(png)
        for n in range(5):
            await api.generate_video(
                GenerateVideoRequest(f"shot {n}", upload.url), idempotency_key=f"page-{n}"
            )
        first = await api.list_jobs(limit=2)
        listed = [job async for job in api.iter_jobs(page_size=2)]
        queued = [job.id async for job in api.iter_jobs(status=JobStatus.QUEUED, page_size=100)]
        second = await api.list_jobs(limit=2, cursor=first.next_cursor)
        return [j.id for j in first.jobs], listed, second, queued

    first_ids, listed, second, queued = with_client(sim, flow, key=DEMO)
    every = [job.id for job in listed]
    created = sim.job_ids(DEMO)
    assert len(created) == 5
    # Newest first by (createdAt, id), as the cursor orders them: jobs made within the same
    # millisecond come in id order, not in the order they were sent.
    assert sorted(every) == sorted(created)  # no duplicates, nothing missed
    stamps = [(job.created_at, job.id) for job in listed]
    assert stamps == sorted(stamps, reverse=True)
    assert first_ids == every[:2]
    assert [j.id for j in second.jobs] == every[2:4]
    assert second.has_more
    assert set(queued) <= set(created)
    list_requests = [r for r in sim.requests if r.path == "/v2/jobs"]
    assert len(list_requests) == 1 + 3 + 1 + 1  # list, 3 pages, filtered list, second page


def test_failed_job_carries_the_provider_message(sim: Simulator, png: Path):
    sim.faults.fail_jobs_next = 1

    async def flow(api: ApiClient) -> Job:
        _, job_id = await upload_and_generate(api, png)
        return await wait_done(api, job_id)

    job = with_client(sim, flow)
    assert job.status is JobStatus.FAILED
    assert job.error == "Provider returned an error: content policy violation"
    assert job.video_url is None
    assert job.credit_cost == 0
    assert sim.credits(KEY) == 10_000


# -- every row of the contract's error table ------------------------------------------------------


def test_400_validation_details_from_the_server(sim: Simulator):
    body = {"prompt": "x", "model": "runway-gen4-turbo", "runwayParams": {"duration": 7}}
    # The public API can't build this body (it validates first), so go one level down.
    err = raises(
        sim,
        lambda api: api._request(
            "POST", "/v2/videos/generate", json=body, headers={"Idempotency-Key": "k"}
        ),
    )
    assert isinstance(err, ValidationError)
    assert err.status == 400
    assert "runwayParams.duration" in err.details
    assert "duration:" in err.message
    assert err.request_id is not None
    assert err.request_id.startswith("req_")


def test_400_on_an_unreadable_upload(sim: Simulator, tmp_path: Path):
    text = tmp_path / "notes.png"
    text.write_text("not really a picture")
    err = raises(sim, lambda api: api.upload_file(text))
    assert isinstance(err, ValidationError)
    assert "file" in err.details
    assert "file:" in err.message


def test_400_on_a_non_uuid_job_id(sim: Simulator):
    err = raises(sim, lambda api: api.get_job("not-a-uuid"))
    assert isinstance(err, ValidationError)
    assert err.status == 400


def test_400_on_a_bad_cursor(sim: Simulator):
    err = raises(sim, lambda api: api.list_jobs(cursor="garbage!"))
    assert isinstance(err, ValidationError)
    assert "cursor" in err.details


def test_401_missing_key(sim: Simulator):
    err = raises(sim, lambda api: api.me(), key="")
    assert isinstance(err, AuthenticationError)
    assert err.status == 401
    assert err.message == "No API key is set — add yours in Settings."
    assert "x-api-key" not in sim.requests[-1].headers


def test_401_unknown_key(sim: Simulator):
    err = raises(sim, lambda api: api.me(), key="afk_unknown_key_123")
    assert isinstance(err, AuthenticationError)
    assert err.message == "Your API key was rejected — check it in Settings."
    assert "afk_unknown" not in repr(err) + str(err)


def test_402_insufficient_credits(sim: Simulator, png: Path):
    sim.set_credits(KEY, 4)
    err = raises(sim, lambda api: upload_and_generate(api, png, duration=10))
    assert isinstance(err, InsufficientCreditsError)
    assert err.status == 402
    assert (err.required, err.available) == (15, 4)
    assert err.message == (
        "Not enough credits: this needs 15, you have 4. "
        "Top up your apiframe balance, then try again."
    )
    assert sim.jobs_created(KEY) == 0


def test_402_broke_account(sim: Simulator, png: Path):
    err = raises(sim, lambda api: upload_and_generate(api, png), key="afk_test_broke")
    assert isinstance(err, InsufficientCreditsError)
    assert (err.required, err.available) == (8, 0)


def test_403_inactive_key(sim: Simulator):
    err = raises(sim, lambda api: api.me(), key="afk_test_inactive")
    assert isinstance(err, PermissionDeniedError)
    assert err.status == 403
    assert err.message.startswith("Your API key is inactive — ")


def test_404_unknown_and_foreign_jobs(sim: Simulator, png: Path):
    err = raises(sim, lambda api: api.get_job(str(uuid.uuid4())))
    assert isinstance(err, NotFoundError)
    assert err.status == 404

    _, theirs = with_client(sim, lambda api: upload_and_generate(api, png), key=DEMO)
    err = raises(sim, lambda api: api.get_job(theirs))
    assert isinstance(err, NotFoundError)


@pytest.mark.parametrize(("fmt", "seconds"), [("seconds", 3), ("http-date", 30)])
def test_429_with_retry_after(sim: Simulator, fmt: Literal["seconds", "http-date"],
                              seconds: int):
    sim.faults.rate_limit_next = 1
    sim.faults.retry_after_seconds = seconds
    sim.faults.retry_after_format = fmt
    err = raises(sim, lambda api: api.me())
    assert isinstance(err, RateLimitedError)
    assert err.status == 429
    assert err.retryable
    assert err.retry_after is not None
    if fmt == "seconds":
        assert err.retry_after == 3.0
        assert err.message == "apiframe is rate-limiting requests; retrying in 3 s."
    else:
        assert seconds - 3 <= err.retry_after <= seconds + 1
        assert err.message.startswith("apiframe is rate-limiting requests; retrying in ")
    # One attempt only: the client leaves retrying to the scheduler.
    assert len(sim.requests) == 1
    assert with_client(sim, lambda api: api.me()).credits == 10_000


def test_502_on_upload(sim: Simulator, png: Path):
    sim.faults.routes = {"upload"}
    sim.faults.error_next = 1
    sim.faults.error_statuses = (502,)
    err = raises(sim, lambda api: api.upload_file(png))
    assert isinstance(err, UploadFailedError)
    assert isinstance(err, ServerError)
    assert err.status == 502
    assert err.retryable


def test_404_on_upload_is_about_the_upload_endpoint(sim: Simulator, png: Path):
    sim.faults.routes = {"upload"}
    sim.faults.error_next = 1
    sim.faults.error_statuses = (404,)
    err = raises(sim, lambda api: api.upload_file(png))
    assert isinstance(err, UnexpectedResponseError)
    assert err.status == 404
    assert "no such job" not in err.message
    assert "upload endpoint" in err.message
    assert "API address in Settings" in err.message
    assert not err.retryable
    assert sim.jobs_created() == 0


def test_503_on_generate_creates_nothing(sim: Simulator, png: Path):
    async def flow(api: ApiClient) -> None:
        upload = await api.upload_file(png)
        sim.faults.routes = {"generate"}
        sim.faults.error_next = 1
        sim.faults.error_statuses = (503,)
        await api.generate_video(GenerateVideoRequest("a", upload.url), idempotency_key="k")

    err = raises(sim, flow)
    assert isinstance(err, ServiceUnavailableError)
    assert err.status == 503
    assert err.retryable
    assert sim.jobs_created(KEY) == 0
    assert sim.credits(KEY) == 10_000


def test_500(sim: Simulator):
    sim.faults.error_next = 1
    sim.faults.error_statuses = (500,)
    err = raises(sim, lambda api: api.get_job(str(uuid.uuid4())))
    assert type(err) is ServerError
    assert err.status == 500
    assert err.retryable


def test_dropped_connection_is_a_network_error(sim: Simulator):
    sim.faults.drop_next = 1
    err = raises(sim, lambda api: api.me())
    assert type(err) is NetworkError
    assert err.message == "Can't reach apiframe — check your internet connection."
    assert err.status is None
    assert err.retryable


def test_refused_connection_is_a_network_error(sim: Simulator):
    base = sim.base_url
    sim.stop()
    with pytest.raises(NetworkError):
        run(_me_at(base))


async def _me_at(base: str) -> Any:
    async with ApiClient(KEY, base) as api:
        return await api.me()


def test_slow_server_times_out(sim: Simulator):
    sim.faults.slow_seconds = 1.0
    err = raises(sim, lambda api: api.me(), timeout=0.2)
    assert isinstance(err, RequestTimeoutError)
    assert isinstance(err, NetworkError)
    assert err.retryable
