"""Every server string the api layer hands on is clean (issue 11, item 3): job errors,
account fields, error bodies, validation details and request ids."""

from __future__ import annotations

import json

import httpx
import pytest

from runway_desktop.api import (
    Account,
    Job,
    JobAccepted,
    UnexpectedResponseError,
    Upload,
    error_from_response,
)
from runway_desktop.api.redact import remember_secret

KEY = "pk.Test-Key_0042.zz"  # the configured key; no "afk_", so only the literal net knows it
HOSTILE = f"\x1b[2J\x1b]0;owned\x07Provider said:\x07 {KEY}\r\n\u202egnp.exe " + "x" * 5000


@pytest.fixture(autouse=True)
def _configured_key() -> None:
    remember_secret(KEY)


def assert_clean(text: str | None, limit: int) -> None:
    assert text is not None
    assert KEY not in text
    assert "owned" not in text
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)
    assert "\u202e" not in text
    assert len(text) <= limit


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers,
                          request=httpx.Request("GET", "https://api.apiframe.ai/v2/jobs/x"))


def test_a_failed_jobs_error_is_clean() -> None:
    job = Job.from_json({"id": "b2c3d4e5-f6a7-8901-bcde-f23456789012", "status": "FAILED",
                         "error": HOSTILE, "model": HOSTILE})  # fmt: skip
    assert_clean(job.error, 500)
    assert job.error is not None
    assert job.error.startswith("Provider said: afk_…redacted gnp.exe xxx")
    assert_clean(job.model, 100)


def test_an_error_of_only_control_characters_is_none() -> None:
    job = Job.from_json({"id": "j1", "status": "FAILED", "error": "\x1b[2J\x07\x00"})
    assert job.error is None


def test_account_strings_are_clean() -> None:
    account = Account.from_json({
        "user": {"email": HOSTILE, "role": HOSTILE},
        "team": {"name": HOSTILE, "plan": HOSTILE, "credits": 5},
        "apiKey": {"name": HOSTILE},
    })  # fmt: skip
    for value in (account.role, account.team_name, account.plan, account.api_key_name):
        assert_clean(value, 100)
    assert_clean(account.user_email, 254)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 418, 429, 500, 503])
def test_error_bodies_are_clean(status: int) -> None:
    error = error_from_response(
        response(status, {"error": HOSTILE}, {"x-request-id": "req-1\tok" + "9" * 500})
    )
    assert_clean(error.message, 1000)
    assert_clean(error.server_message, 300)
    assert error.request_id is not None
    assert_clean(error.request_id, 100)


def test_validation_details_are_clean_and_bounded() -> None:
    details = {f"runwayParams.f{i}\x1b[31m": [HOSTILE] * 50 for i in range(100)}
    error = error_from_response(response(400, {"error": HOSTILE, "details": details}))
    assert len(error.details) <= 20  # type: ignore[attr-defined]
    for path, messages in error.details.items():  # type: ignore[attr-defined]
        assert_clean(path, 100)
        assert len(messages) <= 20
        for message in messages:
            assert_clean(message, 300)
    assert_clean(error.message, 1001)


@pytest.mark.parametrize(
    "bad_id", ["j1\x1b[2J", "b2c3\u202e", "../me", "a b", "x" * 129, "id\x00", "ïd"]
)
def test_ids_shown_to_people_are_plain(bad_id: str) -> None:
    """A job or upload id goes into the queue's details, the CLI and URLs: a malformed one is
    an unreadable answer (a typed error), never text on a screen."""
    with pytest.raises(UnexpectedResponseError, match="malformed"):
        Job.from_json({"id": bad_id, "status": "QUEUED"})
    with pytest.raises(UnexpectedResponseError, match="malformed"):
        JobAccepted.from_json({"jobId": bad_id, "status": "QUEUED"})
    with pytest.raises(UnexpectedResponseError, match="malformed"):
        Upload.from_json({"id": bad_id, "url": "https://cdn2.apiframe.ai/u/x.png"})


def test_uuid_and_plain_ids_are_read() -> None:
    for good in ("b2c3d4e5-f6a7-8901-bcde-f23456789012", "j1", "job_01.A:b~c"):
        assert Job.from_json({"id": good, "status": "QUEUED"}).id == good
