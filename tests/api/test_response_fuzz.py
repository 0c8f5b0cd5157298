"""Every response parser fed junk: only the client's own typed errors (api/errors.py) escape.

Two depths. In volume, hypothesis's arbitrary JSON (huge and non-finite numbers, wrong types,
nested junk), and the same junk placed under the fields each parser reads, go straight into the
parse functions: Job, JobAccepted, JobPage, Upload, Account, the model catalog (and what the
app builds from it: prices, the disk cache), and error responses of every status. A sample goes
the whole way: bytes of any kind, any status and any content type, served by a scripted apiframe
on loopback and read by the real ApiClient for each endpoint.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runway_desktop.api import (
    Account,
    ApiClient,
    ApiError,
    GenerateVideoRequest,
    Job,
    JobAccepted,
    JobPage,
    Upload,
)
from runway_desktop.api.catalog import BUILT_IN_CATALOG, parse_catalog, prices_from_entry
from runway_desktop.api.errors import error_from_response
from tests.helpers.scripted_server import Reply, Request, ScriptedServer

# -- junk ------------------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)  # beyond any int64 or double
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e300, -1e300, 2**53 + 1, -(2**63), 2**64, 0.5, -0.0])
    | st.text(max_size=40)
    | st.sampled_from(["", " ", "COMPLETED", "failed", "\x1b[31m", "../../me", "ftp://x",
                       "2026-11-29T10:00:00Z", "9999-99-99", "\u202e", "\ud800"])
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=5),
    max_leaves=25,
)


def shaped(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects carrying the fields a parser reads, each with junk or a plausible value."""
    return st.fixed_dictionaries({}, optional={k: v | junk for k, v in fields.items()})


ids = st.sampled_from(["j1", "b2c3d4e5-f6a7-8901-bcde-f23456789012", "x" * 129, "a/b", "é"])
job_bodies = shaped({
    "id": ids, "status": st.sampled_from(["QUEUED", "PROCESSING", "COMPLETED", "FAILED"]),
    "progress": st.integers(), "result": junk | st.fixed_dictionaries({"videoUrl": junk}),
    "error": st.text(), "creditCost": scalars, "createdAt": st.text(), "completedAt": junk,
    "expired": junk, "input": junk, "model": junk,
})
page_bodies = shaped({"jobs": st.lists(job_bodies | junk, max_size=4), "nextCursor": junk,
                      "hasMore": junk})
upload_bodies = shaped({"id": ids, "url": st.text(), "kind": junk, "contentType": junk,
                        "byteSize": scalars, "expiresAt": junk})
account_bodies = shaped({
    "user": shaped({"email": st.text(), "role": junk}),
    "team": shaped({"name": st.text(), "plan": junk, "credits": scalars,
                    "maxConcurrentJobs": scalars}),
    "apiKey": shaped({"name": junk}),
})
catalog_entries = shaped({
    "id": st.sampled_from(list(BUILT_IN_CATALOG.ids)) | st.text(max_size=10),
    "label": st.text(max_size=20), "modality": st.sampled_from(["video", "image"]),
    "costMin": scalars, "costMax": scalars,
    "pricingMode": st.sampled_from(["flat", "per-second", "per-output"]), "description": junk,
})
catalog_bodies = shaped({"models": st.lists(catalog_entries | junk, max_size=6)})
error_bodies = shaped({"error": st.text(), "details": junk, "creditsRequired": scalars,
                       "creditsAvailable": scalars})
statuses = st.integers(min_value=100, max_value=599) | st.sampled_from([400, 401, 402, 403, 404,
                                                                        409, 429, 502, 503])
def _wire(text: str) -> str:
    """`text`'s UTF-8 bytes as a latin-1 string: what http.server writes is those bytes."""
    return "".join(ch for ch in text if ch not in "\r\n\x00").encode(
        "utf-8", "surrogatepass").decode("latin-1")


headers = st.fixed_dictionaries({}, optional={
    "retry-after": (st.text(max_size=30) | st.sampled_from(
        ["1e309", "-1", "nan", "0", "Wed, 21 Oct 2015 07:28:00 GMT", "\x80\xff"])).map(_wire),
    "x-request-id": st.text(max_size=300).map(_wire),
    "content-type": st.sampled_from(["application/json", "text/html", "image/png", "",
                                     "application/json; charset=utf-16"]),
})


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]

PARSERS: dict[str, tuple[Callable[[Any], object], st.SearchStrategy[Any]]] = {
    "job": (Job.from_json, job_bodies),
    "job receipt": (JobAccepted.from_json, shaped({"jobId": ids, "status": junk})),
    "job page": (JobPage.from_json, page_bodies),
    "upload": (Upload.from_json, upload_bodies),
    "account": (Account.from_json, account_bodies),
    "catalog": (parse_catalog, catalog_bodies),
}


def _only_typed_errors(parse: Callable[[Any], object], body: Any) -> object | None:
    try:
        return parse(body)
    except ApiError:
        return None


# -- in volume: the parse functions ----------------------------------------------------------------

@pytest.mark.parametrize("name", list(PARSERS))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_parser_raises_only_typed_errors(name: str, data: st.DataObject) -> None:
    parse, bodies = PARSERS[name]
    body = data.draw(bodies | junk, label=name)
    parsed = _only_typed_errors(parse, body)
    if isinstance(parsed, Job):  # what a person may see is one clean, bounded line
        for text in (parsed.error, parsed.model):
            assert text is None or ("\x1b" not in text and "\n" not in text)
        assert parsed.progress is None or 0 <= parsed.progress <= 100
        assert parsed.credit_cost is None or abs(parsed.credit_cost) < 2**63  # fits SQLite


@settings(max_examples=300)
@given(body=catalog_bodies)
@example(body={"models": [{"id": "runway-gen4-turbo", "label": "Gen-4 Turbo", "modality": "video",
                           "costMin": 1e308, "pricingMode": "per-second"}]})  # ceil(inf)
@example(body={"models": [{"id": "runway-gen4-turbo", "label": "Gen-4 Turbo", "modality": "video",
                           "costMin": 10**400}]})  # float() of it overflows
def test_the_catalog_built_from_any_model_list_has_whole_prices(body: dict[str, Any]) -> None:
    entries = _only_typed_errors(parse_catalog, body)
    if not isinstance(entries, list):
        return
    catalog = BUILT_IN_CATALOG.with_remote(entries)
    for spec in catalog.models:
        for entry in entries:
            prices_from_entry(spec, entry)
        assert all(isinstance(c, int) and c >= 0 for c in spec.prices.values()), spec.prices
    assert BUILT_IN_CATALOG.with_cached(json.loads(json.dumps(catalog.to_json()))) == \
        BUILT_IN_CATALOG.with_cached(catalog.to_json())


@settings(max_examples=300)
@given(cache=junk | shaped({"models": st.lists(
    shaped({"id": st.sampled_from(list(BUILT_IN_CATALOG.ids)) | junk, "label": junk,
            "prices": st.dictionaries(st.text(max_size=4) | st.sampled_from(["5", "10", "²"]),
                                      scalars, max_size=3) | junk}) | junk, max_size=4)}))
@example(cache={"models": [{"id": "runway-gen4-turbo", "prices": {"²": 3}}]})  # "²".isdigit()
@example(cache={"models": [{"id": [1]}]})  # an id that can't be a key
def test_any_model_cache_on_disk_is_read_or_ignored(cache: Any) -> None:
    catalog = BUILT_IN_CATALOG.with_cached(cache)
    for spec in catalog.models:
        assert all(isinstance(c, int) and c >= 0 for c in spec.prices.values())


@settings(max_examples=400)
@example(status=500, body=None, raw=b"[" * 100_000, headers={}, route=None)
@given(status=statuses, body=error_bodies | junk, raw=st.binary(max_size=64) | st.none(),
       headers=headers, route=st.sampled_from([None, "/v2/uploads", "/v2/jobs/j1", "/v2/me"]))
def test_any_error_response_becomes_an_api_error(status: int, body: Any, raw: bytes | None,
                                                  headers: dict[str, str],
                                                  route: str | None) -> None:
    try:
        content = raw if raw is not None else json.dumps(body).encode()
    except ValueError:  # a huge int can't be written as JSON text by the stdlib either
        content = b"{}"
    response = httpx.Response(status, content=content, headers=_raw(headers))
    error = error_from_response(response, route=route)
    assert isinstance(error, ApiError)
    assert error.message
    assert "\x1b" not in error.message
    assert error.retry_after is None or (math.isfinite(error.retry_after)
                                         and error.retry_after >= 0)


# -- a sample the whole way: the real client against a scripted apiframe ---------------------------

@pytest.fixture(scope="module")
def junk_server() -> Iterator[tuple[ScriptedServer, list[Reply]]]:
    """A loopback apiframe whose every answer is `answer[0]`."""
    answer = [Reply()]
    with ScriptedServer() as server:
        server.on("*", lambda _request: answer[0])
        yield server, answer


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "kite.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)  # the client uploads bytes as they are
    return path


REQUEST = GenerateVideoRequest("a kite", "https://cdn.example/a.png")


def _calls(picture: Path) -> dict[str, Callable[[ApiClient], Any]]:
    return {
        "me": lambda c: c.me(),
        "get_job": lambda c: c.get_job("j1"),
        "list_jobs": lambda c: c.list_jobs(),
        "generate": lambda c: c.generate_video(REQUEST, idempotency_key="k" * 16),
        "upload": lambda c: c.upload_file(picture),
        "models": lambda c: c.list_models(),
    }


bodies = (
    st.binary(max_size=300)
    | junk.map(lambda v: json.dumps(v, allow_nan=True).encode() if _dumpable(v) else b"[]")
    | st.sampled_from([b"", b"{", b"\xff\xfe", b"null", b"1e999999", b"9" * 5000,
                       b"[" * 2000 + b"]" * 2000, b'{"id": "\\ud800"}'])
)


def _dumpable(value: Any) -> bool:
    try:
        json.dumps(value)
    except ValueError:
        return False
    return True


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(call="get_job", status=200, body=b"[" * 100_000, headers={})  # RecursionError
@example(call="me", status=200, body=b"{}", headers={"x-request-id": "\xe9\x80"})
@given(call=st.sampled_from(["me", "get_job", "list_jobs", "generate", "upload", "models"]),
       status=statuses.filter(lambda s: s not in range(300, 400) and s not in (100, 101, 103)
                              and s >= 200),
       body=bodies, headers=headers)
def test_the_real_client_raises_only_typed_errors(
    junk_server: tuple[ScriptedServer, list[Reply]], picture: Path, call: str, status: int,
    body: bytes, headers: dict[str, str],
) -> None:
    server, answer = junk_server
    answer[0] = Reply(status, body=body, headers={k: v for k, v in headers.items() if v})

    async def main() -> object:
        async with ApiClient("afk_test", server.base_url, deadline=10) as client:
            try:
                return await _calls(picture)[call](client)
            except ApiError as error:
                return error

    outcome = asyncio.run(main())
    if isinstance(outcome, ApiError):
        assert outcome.message


def test_a_request_is_what_the_junk_server_saw(
    junk_server: tuple[ScriptedServer, list[Reply]], picture: Path
) -> None:
    """The sample above really goes over HTTP (the fixture isn't answering from memory)."""
    server, answer = junk_server
    answer[0] = Reply(200, json={"user": {"email": "t@example.com"}, "team": {"credits": 3}})
    before = len(server.requests)

    async def main() -> Account:
        async with ApiClient("afk_test", server.base_url) as client:
            return await client.me()

    assert asyncio.run(main()).credits == 3
    seen: list[Request] = server.requests[before:]
    assert [r.route for r in seen] == ["GET /v2/me"]
