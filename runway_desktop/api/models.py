"""Request and response value types of the apiframe v2 API, with validation and lenient parsing.

Requests validate themselves on construction, so an invalid one can't exist. Responses are
read leniently: unknown fields are ignored and odd values become None instead of crashing,
because the server's schema drifts (see contract §12).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._json import is_int, json_int
from .catalog import GEN4_TURBO, ModelSpec, has_visible_text
from .catalog import prompt_length as prompt_length  # counted as Runway counts it
from .errors import InvalidRequestError, UnexpectedResponseError
from .server_text import clean_optional
from .urls import image_url_problem

DEFAULT_MAX_CONCURRENT_JOBS = 10
MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_ERROR_TEXT = 500  # a job's `error` as shown and stored (server text, cleaned)


def _prompt_problem(prompt: object, limit: int) -> str | None:
    if not isinstance(prompt, str):
        return f"The prompt must be text, not {type(prompt).__name__}."
    if not prompt.strip():
        return "The prompt is empty — describe the motion you want."
    if not has_visible_text(prompt):
        return ("The prompt is empty: it holds only invisible characters (controls or "
                "zero-width ones) — describe the motion you want.")
    try:
        prompt.encode("utf-8")
    except UnicodeEncodeError:
        return "The prompt contains characters that can't be sent (broken surrogate pairs)."
    length = prompt_length(prompt.strip())
    if length > limit:
        return f"The prompt is {length:,} characters; the limit is {limit:,}."
    return None


def _duration_problem(duration: object, spec: ModelSpec) -> str | None:
    if duration is None or (is_int(duration) and duration in spec.durations):
        return None
    allowed = " or ".join(str(d) for d in spec.durations)
    return f"The duration must be {allowed} seconds for {spec.label}, not {duration!r}."


def _aspect_ratio_problem(ratio: object, spec: ModelSpec) -> str | None:
    if ratio is None or (isinstance(ratio, str) and ratio in spec.aspect_ratios):
        return None
    return (f"The aspect ratio must be one of {', '.join(spec.aspect_ratios)} for "
            f"{spec.label}, not {ratio!r}.")


def _seed_problem(seed: object, spec: ModelSpec) -> str | None:
    low, high = spec.seed_range
    if seed is None or (isinstance(seed, int) and is_int(seed) and low <= seed <= high):
        return None
    return f"The seed must be a whole number from {low} to {high:,}, not {seed!r}."


def _image_problem(image: object, spec: ModelSpec) -> str | None:
    if image is None:
        return None
    if not spec.image_slots:
        return f"{spec.label} takes no start image."
    return image_url_problem(image)


def _model_problem(model: object) -> str | None:
    if isinstance(model, ModelSpec):
        return None
    return f"The model must be one from the catalog, not {model!r}."


def validate_idempotency_key(key: object) -> str:
    """Return the key if it can go in the Idempotency-Key header, else raise."""
    if not isinstance(key, str) or not key:
        raise InvalidRequestError("An idempotency key is required.", field="idempotency_key")
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidRequestError(
            f"The idempotency key is {len(key):,} characters; the limit is "
            f"{MAX_IDEMPOTENCY_KEY_LENGTH}.",
            field="idempotency_key",
        )
    if not all("!" <= ch <= "~" for ch in key):
        raise InvalidRequestError(
            "The idempotency key may only contain visible ASCII characters.",
            field="idempotency_key",
        )
    return key


@dataclass(frozen=True, slots=True)
class GenerateVideoRequest:
    """One generation with one model of the catalog (checked against what that model takes).
    Unset optional fields are left out of the body so apiframe's defaults apply. The prompt is
    stored trimmed."""

    prompt: str
    image: str | None = None
    duration: int | None = None
    aspect_ratio: str | None = None
    seed: int | None = None
    model: ModelSpec = GEN4_TURBO

    def __post_init__(self) -> None:
        if problem := _model_problem(self.model):
            raise InvalidRequestError.from_problems({"model": problem})
        spec = self.model
        checks = {
            "prompt": _prompt_problem(self.prompt, spec.prompt_limit),
            "image": _image_problem(self.image, spec),
            "duration": _duration_problem(self.duration, spec),
            "aspect_ratio": _aspect_ratio_problem(self.aspect_ratio, spec),
            "seed": _seed_problem(self.seed, spec),
        }
        problems = {name: text for name, text in checks.items() if text}
        if problems:
            raise InvalidRequestError.from_problems(problems)
        object.__setattr__(self, "prompt", self.prompt.strip())
        if self.aspect_ratio is not None:  # a StrEnum member becomes its plain value
            object.__setattr__(self, "aspect_ratio", str(self.aspect_ratio))

    @property
    def effective_duration(self) -> int:
        return self.model.default_duration if self.duration is None else self.duration

    @property
    def price(self) -> int | None:
        """Credits the model's catalog entry names for this duration (None: not known)."""
        return self.model.price(self.effective_duration)

    def to_json(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.image is not None:
            params[self.model.image_slots[0]] = self.image
        if self.duration is not None:
            params["duration"] = int(self.duration)
        if self.aspect_ratio is not None:
            params["aspect_ratio"] = self.aspect_ratio
        if self.seed is not None:
            params["seed"] = int(self.seed)
        body: dict[str, Any] = {"prompt": self.prompt, "model": self.model.id}
        if params:
            body[self.model.params_key] = params
        return body


class JobStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"  # a status this client doesn't know yet; treat as still running

    @classmethod
    def parse(cls, value: object) -> JobStatus:
        if isinstance(value, str):
            try:
                return cls(value.strip().upper())
            except ValueError:
                pass
        return cls.UNKNOWN

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


# ---------------------------------------------------------------------------------------------
# Lenient readers


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text(value: Any, limit: int = 100) -> str | None:
    """A server string a person may see: one clean line, no key, at most `limit` chars."""
    return clean_optional(value, limit=limit)


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def video_url_from_result(result: Any) -> str | None:
    """`result` is a bare URL, `{"videoUrl": url}` or `{"videos": [url, ...]}` (contract §4.3)."""
    if isinstance(result, str):
        return result or None
    if isinstance(result, Mapping):
        for key in ("videoUrl", "video_url", "url"):
            url = result.get(key)
            if isinstance(url, str) and url:
                return url
        videos = result.get("videos")
        if isinstance(videos, list):
            for item in videos:
                url = video_url_from_result(item)
                if url:
                    return url
    return None


def _require_object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise UnexpectedResponseError(f"apiframe sent an unreadable {what} (not a JSON object).")
    return body


def _require_str(body: Mapping[str, Any], key: str, what: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise UnexpectedResponseError(f"apiframe sent an unreadable {what} (no {key!r}).")
    return value


# Ids are UUIDs (contract §4.1); anything printable and plain is tolerated, but an id is shown
# to people (the queue's details, the CLI) and goes into URLs: no control or bidi characters,
# no spaces, no slashes, nothing huge.
_ID = re.compile(r"[A-Za-z0-9._:~-]{1,128}")


def _require_id(body: Mapping[str, Any], key: str, what: str) -> str:
    value = _require_str(body, key, what)
    if not _ID.fullmatch(value):
        raise UnexpectedResponseError(f"apiframe sent an unreadable {what} (a malformed {key!r}).")
    return value


@dataclass(frozen=True, slots=True)
class JobAccepted:
    job_id: str
    status: JobStatus = JobStatus.QUEUED

    @classmethod
    def from_json(cls, body: Any) -> JobAccepted:
        body = _require_object(body, "job receipt")
        return cls(
            job_id=_require_id(body, "jobId", "job receipt"),
            status=JobStatus.parse(body.get("status", "QUEUED")),
        )


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    status: JobStatus
    model: str | None = None
    progress: int | None = None
    video_url: str | None = None
    error: str | None = None
    credit_cost: int | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    expired: bool = False
    # The submitted body as apiframe echoes it (OAS-only, optional): lets a job made elsewhere
    # be re-run with the same settings. Left out of equality and hashing (it is a dict).
    input: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_json(cls, body: Any) -> Job:
        body = _require_object(body, "job")
        progress = json_int(body.get("progress"))
        return cls(
            id=_require_id(body, "id", "job"),
            status=JobStatus.parse(body.get("status")),
            model=_text(body.get("model")),
            progress=None if progress is None else max(0, min(100, progress)),
            video_url=video_url_from_result(body.get("result")),
            error=_text(body.get("error"), MAX_ERROR_TEXT),
            credit_cost=json_int(body.get("creditCost")),
            created_at=_datetime(body.get("createdAt")),
            completed_at=_datetime(body.get("completedAt")),
            expired=body.get("expired") is True,
            input=dict(body["input"]) if isinstance(body.get("input"), Mapping) else None,
        )


@dataclass(frozen=True, slots=True)
class JobPage:
    jobs: tuple[Job, ...]
    next_cursor: str | None = None
    has_more: bool = False

    @classmethod
    def from_json(cls, body: Any) -> JobPage:
        body = _require_object(body, "job list")
        raw_jobs = body.get("jobs")
        if not isinstance(raw_jobs, list):
            raise UnexpectedResponseError("apiframe sent an unreadable job list (no 'jobs').")
        cursor = _str(body.get("nextCursor")) or None
        return cls(
            jobs=tuple(Job.from_json(item) for item in raw_jobs),
            next_cursor=cursor,
            # Older servers may omit hasMore: a cursor alone means there is more.
            has_more=bool(body.get("hasMore", cursor is not None)) and cursor is not None,
        )


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    url: str
    kind: str | None = None  # image | video | audio
    content_type: str | None = None
    byte_size: int | None = None
    expires_at: datetime | None = None

    @classmethod
    def from_json(cls, body: Any) -> Upload:
        body = _require_object(body, "upload receipt")
        return cls(
            id=_require_id(body, "id", "upload receipt"),
            url=_require_str(body, "url", "upload receipt"),
            kind=_text(body.get("kind")),
            content_type=_text(body.get("contentType")),
            byte_size=json_int(body.get("byteSize")),
            expires_at=_datetime(body.get("expiresAt")),
        )


@dataclass(frozen=True, slots=True)
class Account:
    user_email: str | None = None
    role: str | None = None
    team_name: str | None = None
    plan: str | None = None
    credits: int | None = None
    max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT_JOBS
    api_key_name: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> Account:
        body = _require_object(body, "account")
        user, team, key = (_mapping(body.get(k)) for k in ("user", "team", "apiKey"))
        max_jobs = json_int(team.get("maxConcurrentJobs"))
        return cls(
            user_email=_text(user.get("email"), 254),
            role=_text(user.get("role")),
            team_name=_text(team.get("name")),
            plan=_text(team.get("plan")),
            credits=json_int(team.get("credits")),
            max_concurrent_jobs=max_jobs
            if max_jobs and max_jobs > 0
            else DEFAULT_MAX_CONCURRENT_JOBS,
            api_key_name=_text(key.get("name")),
        )
