"""Mapping HTTP error responses and transport failures onto the error hierarchy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.api import (
    ApiError,
    AuthenticationError,
    ConflictError,
    InsufficientCreditsError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    ServiceUnavailableError,
    UnexpectedResponseError,
    UploadFailedError,
    ValidationError,
    error_from_response,
    error_from_transport,
    parse_retry_after,
)

NOW = datetime(2026, 3, 15, 10, 0, 0, tzinfo=UTC)


def _response(
    status: int,
    body: object = None,
    *,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    if content is not None:
        return httpx.Response(status, content=content, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


# -- Retry-After ----------------------------------------------------------------------------------


@given(st.integers(0, 10**7))
def test_retry_after_seconds(seconds):
    assert parse_retry_after(str(seconds)) == float(seconds)


@given(st.integers(0, 86_400 * 30))
def test_retry_after_http_date(seconds):
    header = format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(header, now=NOW) == float(seconds)


def test_retry_after_date_in_the_past_is_zero():
    header = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(header, now=NOW) == 0.0


@pytest.mark.parametrize(
    "value", [None, "", "  ", "-1", "soon", "nan", "inf", "Mon, 99 Foo 2026 xx:yy:zz GMT"]
)
def test_retry_after_unreadable(value):
    assert parse_retry_after(value, now=NOW) is None


def test_retry_after_tolerates_whitespace_and_fractions():
    assert parse_retry_after(" 3 ") == 3.0
    assert parse_retry_after("1.5") == 1.5


# -- status mapping --------------------------------------------------------------------------------


def test_400_lists_the_fields():
    err = error_from_response(
        _response(
            400,
            {
                "error": "Validation failed",
                "details": {
                    "runwayParams.duration": ["Expected 5 or 10"],
                    "prompt": ["Too long", "Bad"],
                },
            },
            headers={"x-request-id": "req-1"},
        )
    )
    assert type(err) is ValidationError
    assert err.status == 400
    assert err.request_id == "req-1"
    assert err.details == {
        "runwayParams.duration": ["Expected 5 or 10"],
        "prompt": ["Too long", "Bad"],
    }
    assert "duration: Expected 5 or 10" in err.message
    assert "prompt: Too long; Bad" in err.message
    assert not err.retryable


def test_400_without_details_uses_the_server_text():
    err = error_from_response(_response(400, {"error": "Invalid job id"}))
    assert isinstance(err, ValidationError)
    assert err.details == {}
    assert "Invalid job id" in err.message


def test_401_both_bodies():
    missing = error_from_response(_response(401, {"error": "API key is required"}))
    invalid = error_from_response(_response(401, {"error": "Invalid API key"}))
    assert isinstance(missing, AuthenticationError)
    assert isinstance(invalid, AuthenticationError)
    assert missing.message == "No API key is set — add yours in Settings."
    assert invalid.message == "Your API key was rejected — check it in Settings."
    assert not missing.retryable
    assert not invalid.retryable


def test_402_carries_required_and_available():
    err = error_from_response(
        _response(
            402, {"error": "Insufficient credits", "creditsRequired": 15, "creditsAvailable": 4}
        )
    )
    assert isinstance(err, InsufficientCreditsError)
    assert (err.required, err.available) == (15, 4)
    assert err.message == (
        "Not enough credits: this needs 15, you have 4. "
        "Top up your apiframe balance, then try again."
    )
    assert not err.retryable


def test_402_without_numbers():
    err = error_from_response(_response(402, {"error": "Insufficient credits"}))
    assert isinstance(err, InsufficientCreditsError)
    assert err.required is None
    assert "Top up" in err.message


def test_403_inactive_and_not_allowed():
    inactive = error_from_response(_response(403, {"error": "API key is inactive"}))
    scope = error_from_response(_response(403, {"error": "Modality disabled"}))
    assert isinstance(inactive, PermissionDeniedError)
    assert inactive.message.startswith("Your API key is inactive — ")
    assert isinstance(scope, PermissionDeniedError)
    assert "Modality disabled" in scope.message


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (404, NotFoundError, False),
        (409, ConflictError, False),
        (429, RateLimitedError, True),
        (500, ServerError, True),
        (501, ServerError, False),
        (502, UploadFailedError, True),
        (503, ServiceUnavailableError, True),
        (504, ServerError, True),
    ],
)
def test_status_classes(status, cls, retryable):
    err = error_from_response(_response(status, {"error": "x"}))
    assert type(err) is cls
    assert err.status == status
    assert err.retryable is retryable
    assert err.message


def test_429_message_and_retry_after():
    err = error_from_response(_response(429, {"error": "Too many"}, headers={"Retry-After": "7"}))
    assert isinstance(err, RateLimitedError)
    assert err.retry_after == 7.0
    assert err.message == "apiframe is rate-limiting requests; retrying in 7 s."
    no_header = error_from_response(_response(429, {"error": "Too many"}))
    assert no_header.retry_after is None
    assert "rate-limiting" in no_header.message


def test_429_with_http_date():
    when = datetime.now(UTC) + timedelta(seconds=120)
    err = error_from_response(
        _response(429, {"error": "x"}, headers={"Retry-After": format_datetime(when, usegmt=True)})
    )
    assert err.retry_after is not None
    assert 100 < err.retry_after <= 120


def test_unknown_status_keeps_the_server_text():
    err = error_from_response(_response(418, {"error": "I'm a teapot"}))
    assert type(err) is ApiError
    assert err.status == 418
    assert "I'm a teapot" in err.message
    assert not err.retryable


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"<html><body>Bad Gateway</body></html>",
        b"[1,2]",
        b'"str"',
        b"\xff\xfe\x00garbage",
        b'{"error": 5}',
        b'{"error": null, "details": "nope"}',
        b"null",
    ],
)
@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 429, 500, 502, 503, 418])
def test_non_json_bodies_do_not_crash(status, content):
    err = error_from_response(_response(status, content=content))
    assert isinstance(err, ApiError)
    assert err.status == status
    assert err.message
    assert "<html>" not in err.message


@given(st.integers(300, 599), st.binary(max_size=200), st.text(max_size=20))
def test_any_error_response_maps_without_crashing(status, content, retry_after):
    headers = {"Retry-After": retry_after.encode("ascii", "ignore").decode()}
    err = error_from_response(_response(status, content=content, headers=headers))
    assert isinstance(err, ApiError)
    assert err.status == status


def test_server_text_is_redacted_and_bounded():
    err = error_from_response(_response(418, {"error": "bad key afk_secret123 " + "x" * 1000}))
    assert "afk_secret123" not in err.message
    assert len(err.message) < 400


def test_transport_errors():
    request = httpx.Request("GET", "https://api.apiframe.ai/v2/me")
    for exc in (
        httpx.ConnectError("refused", request=request),
        httpx.RemoteProtocolError("Server disconnected", request=request),
        httpx.ReadError("reset", request=request),
    ):
        err = error_from_transport(exc)
        assert type(err) is NetworkError
        assert err.message == "Can't reach apiframe — check your internet connection."
        assert err.retryable
        assert err.status is None
    timeout = error_from_transport(httpx.ReadTimeout("slow", request=request))
    assert isinstance(timeout, RequestTimeoutError)
    assert isinstance(timeout, NetworkError)
    assert timeout.retryable


def test_str_is_the_message():
    err = error_from_response(_response(404, {"error": "Job not found"}))
    assert str(err) == err.message
    assert "NotFoundError" in repr(err)


@pytest.mark.parametrize("route", [None, "/v2/jobs/7f1c", "/v2/jobs/a%2Fb"])
def test_a_404_on_a_job_says_there_is_no_such_job(route):
    err = error_from_response(_response(404, {"error": "Job not found"}), route=route)
    assert isinstance(err, NotFoundError)
    assert err.message.startswith("apiframe has no such job")


def test_a_404_on_upload_is_about_the_upload_endpoint_not_a_job():
    err = error_from_response(_response(404, {"error": "Not found"}), route="/v2/uploads")
    assert not isinstance(err, NotFoundError)  # the engine would offer "run it again as new"
    assert isinstance(err, UnexpectedResponseError)
    assert "job" not in err.message
    assert err.message.startswith("apiframe couldn't find the upload endpoint (HTTP 404 on "
                                  "/v2/uploads)")
    assert "Check the API address in Settings" in err.message
    assert err.status == 404
    assert not err.retryable


@pytest.mark.parametrize("route", ["/v2/me", "/v2/models", "/v2/videos/generate", "/v2/jobs"])
def test_a_404_elsewhere_names_the_route_and_the_api_address(route):
    err = error_from_response(_response(404), route=route)
    assert isinstance(err, UnexpectedResponseError)
    assert err.message.startswith(f"apiframe couldn't find {route} (HTTP 404). Check the API "
                                  "address in Settings")
    assert not err.retryable


def _real_unsupported_protocol(url: str) -> httpx.UnsupportedProtocol:
    """What httpx itself raises for an address it can't use (nothing is sent anywhere)."""
    async def fetch() -> None:
        async with httpx.AsyncClient() as client:
            await client.get(url)

    with pytest.raises(httpx.UnsupportedProtocol) as info:
        asyncio.run(fetch())
    return info.value


@pytest.mark.parametrize(("url", "named"), [
    ("ftp://files.example/v2/me", "an address starting ftp:// (files.example)"),
    ("gopher://h.example/x", "an address starting gopher:// (h.example):"),
    ("file:///etc/passwd", "an address without http:// or https://:"),
])
def test_an_unsupported_scheme_is_named_and_not_retried(url, named):
    err = error_from_transport(_real_unsupported_protocol(url))
    assert not isinstance(err, NetworkError)  # the engine retries every NetworkError
    assert isinstance(err, ApiError)
    assert not err.retryable
    assert "internet connection" not in err.message
    assert err.message.startswith(f"Runway Desktop can't connect to {named}")
    assert "Check the API address in Settings" in err.message


def test_an_unsupported_scheme_without_a_request_is_still_clear():
    for text, named in (("Request URL has an unsupported protocol 'ftp://'.",
                         "an address starting ftp://:"),
                        ("Request URL is missing an 'http://' or 'https://' protocol.",
                         "an address without http:// or https://:")):
        err = error_from_transport(httpx.UnsupportedProtocol(text))
        assert not isinstance(err, NetworkError)
        assert not err.retryable
        assert err.message.startswith(f"Runway Desktop can't connect to {named} only https://")
