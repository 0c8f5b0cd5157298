"""ApiClient behaviour that needs no server: construction policy, key handling, pre-send checks."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from runway_desktop.api import (
    DEFAULT_BASE_URL,
    USER_AGENT,
    ApiClient,
    ApiKeyAuth,
    GenerateVideoRequest,
    InvalidRequestError,
)

KEY = "afk_supersecretvalue123"
UNUSED = "http://127.0.0.1:9"  # nothing is ever sent there: these checks fail before I/O


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await asyncio.wait_for(coro, 10)

    return asyncio.run(main())


def with_client(action: Callable[[ApiClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with ApiClient(KEY, UNUSED) as client:
            return await action(client)

    return run(main())


def test_defaults_and_repr_masks_the_key():
    client = ApiClient(KEY)
    try:
        assert client.base_url == DEFAULT_BASE_URL == "https://api.apiframe.ai"
        assert KEY not in repr(client)
        assert "supersecret" not in repr(client)
        assert "afk_…" in repr(client)
        assert KEY not in repr(client._http.auth)
        assert client._http.headers["user-agent"] == USER_AGENT
        assert USER_AGENT.startswith("runway-desktop/")
    finally:
        run(client.aclose())
    assert client.is_closed


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.apiframe.ai/", "https://api.apiframe.ai"),
        ("https://api.apiframe.ai///", "https://api.apiframe.ai"),
        ("  https://proxy.example/apiframe/ ", "https://proxy.example/apiframe"),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123"),
        ("http://localhost:8123", "http://localhost:8123"),
        ("http://[::1]:8123", "http://[::1]:8123"),
    ],
)
def test_base_url_is_normalized(given, expected):
    client = ApiClient(KEY, given)
    try:
        assert client.base_url == expected
    finally:
        run(client.aclose())


@pytest.mark.parametrize(
    "url",
    [
        "http://api.apiframe.ai",
        "http://192.168.1.10:8000",
        "ftp://api.apiframe.ai",
        "api.apiframe.ai",
        "https://",
        "https://api.apiframe.ai?x=1",
        "https://user:pw@api.apiframe.ai",
        "https://api.apiframe.ai:notaport",
    ],
)
def test_bad_base_urls_are_refused(url):
    with pytest.raises(InvalidRequestError) as info:
        ApiClient(KEY, url)
    assert info.value.field == "base_url"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("key", ["afk_abc def", "afk_ключ", "afk_a\r\nX-Evil: 1"])
def test_unsendable_keys_are_refused_without_echoing_them(key):
    with pytest.raises(InvalidRequestError) as info:
        ApiClient(key, UNUSED)
    assert info.value.field == "api_key"
    assert key not in str(info.value)


def _auth_headers(auth: httpx.Auth, url: str, **headers: str) -> httpx.Headers:
    request = httpx.Request("GET", url, headers=headers)
    flow = auth.auth_flow(request)
    sent = next(flow)
    return sent.headers


@pytest.mark.parametrize(
    ("url", "gets_key"),
    [
        ("https://api.apiframe.ai/v2/me", True),
        ("https://api.apiframe.ai:443/v2/jobs", True),
        ("https://API.apiframe.ai/v2/me", True),
        ("http://api.apiframe.ai/v2/me", False),  # scheme differs
        ("https://api.apiframe.ai:8443/v2/me", False),  # port differs
        ("https://cdn2.apiframe.ai/videos/x.mp4", False),
        ("https://api.apiframe.ai.evil.com/v2/me", False),
        ("https://evil.com/api.apiframe.ai", False),
    ],
)
def test_key_goes_only_to_the_api_origin(url, gets_key):
    auth = ApiKeyAuth(KEY, "https://api.apiframe.ai")
    headers = _auth_headers(auth, url)
    assert (headers.get("x-api-key") == KEY) is gets_key
    if not gets_key:
        assert "x-api-key" not in headers


def test_hand_set_key_is_stripped_for_other_hosts():
    auth = ApiKeyAuth(KEY, "http://127.0.0.1:8000")
    assert "x-api-key" not in _auth_headers(auth, "http://127.0.0.1:8001/x", **{"X-API-Key": KEY})


def test_empty_key_sends_no_header():
    auth = ApiKeyAuth("", "https://api.apiframe.ai")
    assert "x-api-key" not in _auth_headers(auth, "https://api.apiframe.ai/v2/me")


def test_client_does_not_follow_redirects():
    client = ApiClient(KEY, UNUSED)
    try:
        assert client._http.follow_redirects is False
    finally:
        run(client.aclose())


REQUEST = GenerateVideoRequest("a cat", "https://cdn.example/a.png")


@pytest.mark.parametrize("key", ["", "x" * 256, "not ascii é", None])
def test_generate_requires_a_usable_idempotency_key(key):
    with pytest.raises(InvalidRequestError) as info:
        with_client(lambda c: c.generate_video(REQUEST, idempotency_key=key))
    assert info.value.field == "idempotency_key"


def test_generate_requires_a_request_object():
    with pytest.raises(InvalidRequestError):
        with_client(lambda c: c.generate_video({"prompt": "x"},  # type: ignore[arg-type]
                                               idempotency_key="k"))


@pytest.mark.parametrize("limit", [0, 101, -1, True, 5.0, "20"])
def test_list_limit_is_checked(limit):
    with pytest.raises(InvalidRequestError) as info:
        with_client(lambda c: c.list_jobs(limit=limit))
    assert info.value.field == "limit"


def test_list_status_is_checked():
    with pytest.raises(InvalidRequestError) as info:
        with_client(lambda c: c.list_jobs(status="PAUSED"))
    assert info.value.field == "status"


@pytest.mark.parametrize("job_id", ["", "   ", None])
def test_job_id_is_required(job_id):
    with pytest.raises(InvalidRequestError) as info:
        with_client(lambda c: c.get_job(job_id))
    assert info.value.field == "job_id"


def test_upload_file_problems_are_caught_before_sending(tmp_path: Path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    big = tmp_path / "big.mp4"
    with big.open("wb") as handle:  # sparse: no disk space used
        handle.truncate(50 * 1024 * 1024 + 1)
    for path, words in [
        (tmp_path / "missing.png", "Can't read missing.png"),
        (tmp_path, "Can't read"),
        (empty, "empty"),
        (big, "at most 50 MB"),
    ]:
        with pytest.raises(InvalidRequestError) as info:
            with_client(functools.partial(ApiClient.upload_file, path=path))
        assert info.value.field == "file"
        assert words in info.value.message
