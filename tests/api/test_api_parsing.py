"""Lenient parsing of apiframe responses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.api import (
    Account,
    Job,
    JobAccepted,
    JobPage,
    JobStatus,
    UnexpectedResponseError,
    Upload,
    video_url_from_result,
)

URL = "https://cdn.apiframe.ai/results/abc.mp4"

DOC_JOB = {
    "id": "b2c3d4e5-f6a7-8901-bcde-f23456789012",
    "status": "PROCESSING",
    "model": "runway-gen4-turbo",
    "progress": 65,
    "result": None,
    "error": None,
    "creditCost": 15,
    "webhookStatus": None,
    "createdAt": "2026-03-15T10:00:00.000Z",
    "completedAt": None,
}


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (URL, URL),
        ({"videoUrl": URL}, URL),
        ({"videoUrl": URL, "thumbnail": "x"}, URL),
        ({"videos": [URL, "https://b"]}, URL),
        ({"videos": [{"videoUrl": URL}]}, URL),
        (None, None),
        ("", None),
        ({}, None),
        ({"videos": []}, None),
        ([URL], None),
        (42, None),
    ],
)
def test_result_shapes(result, expected):
    assert video_url_from_result(result) == expected
    assert Job.from_json({"id": "j", "status": "COMPLETED", "result": result}).video_url == expected


def test_doc_example_job():
    job = Job.from_json(DOC_JOB)
    assert job.id == DOC_JOB["id"]
    assert job.status is JobStatus.PROCESSING
    assert job.progress == 65
    assert job.credit_cost == 15
    assert job.created_at == datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
    assert job.completed_at is None
    assert job.video_url is None
    assert job.expired is False
    assert job.input is None
    assert not job.status.is_terminal


def test_input_echo_is_kept_but_not_compared():
    echo = {"prompt": "a cat", "model": "runway-gen4-turbo", "runwayParams": {"seed": 3}}
    job = Job.from_json({**DOC_JOB, "input": echo})
    assert job.input == echo
    assert job == Job.from_json(DOC_JOB)
    assert hash(job) == hash(Job.from_json(DOC_JOB))


def test_unknown_fields_and_odd_values_are_tolerated():
    job = Job.from_json(
        {
            **DOC_JOB,
            "status": "throttled",
            "progress": "65",
            "creditCost": True,
            "createdAt": "yesterday",
            "brandNew": {"x": 1},
            "expired": "yes",
        }
    )
    assert job.status is JobStatus.UNKNOWN
    assert job.progress is None
    assert job.credit_cost is None
    assert job.created_at is None
    assert job.expired is False


def test_status_parsing():
    assert JobStatus.parse("completed") is JobStatus.COMPLETED
    assert JobStatus.parse("CANCELLED").is_terminal
    assert JobStatus.parse(None) is JobStatus.UNKNOWN
    assert JobStatus.parse("PAUSED") is JobStatus.UNKNOWN
    assert JobStatus.COMPLETED == "COMPLETED"


@given(st.dictionaries(st.text(max_size=10), st.none() | st.integers() | st.text(max_size=10)))
def test_job_parsing_never_crashes_on_junk_fields(extra):
    job = Job.from_json({**extra, "id": "abc", "status": "FAILED", "error": "boom"})
    assert job.id == "abc"
    assert job.status is JobStatus.FAILED


@pytest.mark.parametrize("body", [None, [], "x", {"status": "QUEUED"}, {"id": ""}])
def test_job_without_id_is_unexpected(body):
    with pytest.raises(UnexpectedResponseError):
        Job.from_json(body)


def test_job_accepted():
    accepted = JobAccepted.from_json({"jobId": "j1", "status": "QUEUED", "extra": 1})
    assert accepted == JobAccepted("j1", JobStatus.QUEUED)
    assert (
        JobAccepted.from_json({"jobId": "j1", "status": "COMPLETED"}).status is JobStatus.COMPLETED
    )
    with pytest.raises(UnexpectedResponseError):
        JobAccepted.from_json({"status": "QUEUED"})


def test_job_page():
    page = JobPage.from_json(
        {
            "jobs": [DOC_JOB, {**DOC_JOB, "id": "x", "expired": True}],
            "nextCursor": "c",
            "hasMore": True,
        }
    )
    assert [job.id for job in page.jobs] == [DOC_JOB["id"], "x"]
    assert page.jobs[1].expired
    assert page.next_cursor == "c"
    assert page.has_more
    last = JobPage.from_json({"jobs": [], "nextCursor": None, "hasMore": False})
    assert (last.jobs, last.next_cursor, last.has_more) == ((), None, False)
    # hasMore without a cursor can't be followed, so it reads as the last page.
    assert not JobPage.from_json({"jobs": [], "hasMore": True}).has_more
    with pytest.raises(UnexpectedResponseError):
        JobPage.from_json({"items": []})


def test_upload():
    upload = Upload.from_json(
        {
            "id": "0b7c",
            "url": "https://cdn2.apiframe.ai/uploads/0b7c.png",
            "kind": "image",
            "contentType": "image/png",
            "byteSize": 482113,
            "expiresAt": "2026-05-01T12:00:00.000Z",
        }
    )
    assert upload.url.endswith("0b7c.png")
    assert upload.kind == "image"
    assert upload.content_type == "image/png"
    assert upload.byte_size == 482113
    assert upload.expires_at == datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_account_docs_shape():
    account = Account.from_json(
        {
            "user": {"id": "u", "email": "dev@example.com", "role": "ADMIN"},
            "team": {
                "id": "t",
                "name": "My Team",
                "plan": "pro",
                "credits": 4500,
                "maxConcurrentJobs": 4,
            },
            "apiKey": {"id": "k", "name": "Production Key", "prefix": "afk_abcd"},
        }
    )
    assert account == Account(
        "dev@example.com", "ADMIN", "My Team", "pro", 4500, 4, "Production Key"
    )


def test_account_openapi_shape_defaults():
    account = Account.from_json(
        {"user": {"email": "a@b.c", "role": "OWNER"}, "team": None, "apiKey": None}
    )
    assert account.max_concurrent_jobs == 10
    assert account.credits is None
    assert account.team_name is None
    assert account.api_key_name is None
