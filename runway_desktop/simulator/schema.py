"""Strict request validation (contract §3.1, §4.4), with zod-like messages keyed by JSON path.

apiframe's schemas are generated from zod with additionalProperties:false, so unknown keys are
errors. Numbers follow JavaScript semantics (5.0 is the integer 5) because the real server parses
JSON with JavaScript.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from runway_desktop.simulator.config import ASPECT_RATIOS, DEFAULT_DURATION, PRICES
from runway_desktop.simulator.errors import ValidationFailed

MAX_PROMPT = 4000
MAX_IDEMPOTENCY_KEY = 255
WEBHOOK_EVENTS = ("progress", "completed", "failed")
JOB_STATUSES = ("QUEUED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED")
DURATIONS = (5, 10)
_TOP_KEYS = ("prompt", "model", "webhookUrl", "webhookEvents", "runwayParams")
_RUNWAY_KEYS = ("image", "duration", "aspect_ratio", "seed")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")


@dataclass(frozen=True)
class GenerateRequest:
    raw: dict[str, Any]  # the body as submitted (already known to hold only allowed keys)
    prompt: str
    model: str
    image: str | None
    duration: int
    aspect_ratio: str | None
    seed: int | None

    @property
    def price(self) -> int:
        return PRICES[self.model][self.duration]


def js_type(value: Any) -> str:
    """The name zod would print for a received value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))


def is_uri(text: str) -> bool:
    """Roughly what `new URL(text)` accepts: a scheme, something after it, no whitespace."""
    if not text or any(ch.isspace() for ch in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    if not _SCHEME.match(parts.scheme or ""):
        return False
    if parts.scheme.lower() in ("http", "https", "ftp", "ws", "wss"):
        return bool(parts.hostname)
    return bool(text[len(parts.scheme) + 1 :])


def _as_integer(value: Any) -> int | None:
    """An integral JSON number as int (JS has no int/float split); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _utf16_len(text: str) -> int:
    # JavaScript string length counts UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


class _Errors:
    def __init__(self) -> None:
        self.details: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.details.setdefault(path, []).append(message)

    def expect(self, path: str, expected: str, value: Any) -> None:
        self.add(path, f"Expected {expected}, received {js_type(value)}")


def _check_unknown(
    obj: dict[str, Any], allowed: tuple[str, ...], prefix: str, errs: _Errors
) -> None:
    for key in obj:
        if key not in allowed:
            errs.add(f"{prefix}{key}", "Unrecognized key")


def _enum_message(options: tuple[str, ...], value: Any) -> str:
    listed = " | ".join(f"'{o}'" for o in options)
    return f"Invalid enum value. Expected {listed}, received '{value}'"


def validate_generate(body: Any) -> GenerateRequest:
    """Validate a POST /v2/videos/generate body or raise ValidationFailed."""
    errs = _Errors()
    if not isinstance(body, dict):
        errs.expect("body", "object", body)
        raise ValidationFailed(errs.details)
    _check_unknown(body, _TOP_KEYS, "", errs)

    prompt = body.get("prompt")
    if "prompt" not in body:
        errs.add("prompt", "Required")
    elif not isinstance(prompt, str):
        errs.expect("prompt", "string", prompt)
    elif _utf16_len(prompt) < 1:
        errs.add("prompt", "String must contain at least 1 character(s)")
    elif _utf16_len(prompt) > MAX_PROMPT:
        errs.add("prompt", f"String must contain at most {MAX_PROMPT} character(s)")

    model = body.get("model")
    if "model" not in body:
        errs.add("model", "Required")
    elif not isinstance(model, str) or model not in PRICES:
        known = " | ".join(f"'{m}'" for m in PRICES)
        errs.add("model", f"Invalid discriminator value. Expected {known}")

    if "webhookUrl" in body:
        url = body["webhookUrl"]
        if not isinstance(url, str):
            errs.expect("webhookUrl", "string", url)
        elif not is_uri(url):
            errs.add("webhookUrl", "Invalid url")

    if "webhookEvents" in body:
        events = body["webhookEvents"]
        if not isinstance(events, list):
            errs.expect("webhookEvents", "array", events)
        elif not events:
            errs.add("webhookEvents", "Array must contain at least 1 element(s)")
        else:
            for i, event in enumerate(events):
                if event not in WEBHOOK_EVENTS:
                    errs.add(f"webhookEvents.{i}", _enum_message(WEBHOOK_EVENTS, event))

    image: str | None = None
    duration = DEFAULT_DURATION
    aspect: str | None = None
    seed: int | None = None
    if "runwayParams" in body:
        params = body["runwayParams"]
        if not isinstance(params, dict):
            errs.expect("runwayParams", "object", params)
        else:
            _check_unknown(params, _RUNWAY_KEYS, "runwayParams.", errs)
            if "image" in params:
                value = params["image"]
                if not isinstance(value, str):
                    errs.expect("runwayParams.image", "string", value)
                elif not is_uri(value):
                    errs.add("runwayParams.image", "Invalid url")
                else:
                    image = value
            if "duration" in params:
                value = params["duration"]
                number = _as_integer(value)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    errs.expect("runwayParams.duration", "number", value)
                elif number not in DURATIONS:
                    errs.add("runwayParams.duration", "Invalid literal value, expected 5 or 10")
                else:
                    duration = number
            if "aspect_ratio" in params:
                value = params["aspect_ratio"]
                if not isinstance(value, str):
                    errs.expect("runwayParams.aspect_ratio", "string", value)
                elif value not in ASPECT_RATIOS:
                    errs.add("runwayParams.aspect_ratio", _enum_message(ASPECT_RATIOS, value))
                else:
                    aspect = value
            if "seed" in params:
                value = params["seed"]
                number = _as_integer(value)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    errs.expect("runwayParams.seed", "number", value)
                elif number is None:
                    errs.add("runwayParams.seed", "Expected integer, received float")
                else:
                    seed = number

    if errs.details:
        raise ValidationFailed(errs.details)
    return GenerateRequest(
        raw=body,
        prompt=str(prompt),
        model=str(model),
        image=image,
        duration=duration,
        aspect_ratio=aspect,
        seed=seed,
    )


def check_idempotency_key(value: str | None) -> None:
    if value is None:
        return
    if not value:
        raise ValidationFailed({"Idempotency-Key": ["String must contain at least 1 character(s)"]})
    if len(value) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed(
            {"Idempotency-Key": [f"String must contain at most {MAX_IDEMPOTENCY_KEY} character(s)"]}
        )


def fingerprint(body: dict[str, Any]) -> str:
    """Order-insensitive identity of a request body, for Idempotency-Key mismatch checks."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


# ---- GET /v2/jobs --------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    status: str | None = None
    model: str | None = None
    limit: int = 20
    cursor: tuple[str, str] | None = None  # (createdAt, id) of the last job already seen
    scope: str = "user"
    search: str | None = None
    include_models: bool = False


_LIST_KEYS = ("status", "model", "limit", "cursor", "scope", "search", "include_models")


def parse_list_query(query: str) -> ListQuery:
    errs = _Errors()
    try:
        pairs = parse_qs(query, keep_blank_values=True, strict_parsing=False)
    except ValueError:
        raise ValidationFailed({"query": ["Invalid query string"]}) from None
    values: dict[str, str] = {}
    for key, found in pairs.items():
        if key not in _LIST_KEYS:
            errs.add(key, "Unrecognized key")
        elif len(found) != 1:
            errs.expect(key, "string", found)
        else:
            values[key] = found[0]

    status = values.get("status")
    if status is not None and status not in JOB_STATUSES:
        errs.add("status", _enum_message(JOB_STATUSES, status))
    limit = 20
    if "limit" in values:
        text = values["limit"]
        if not text.isascii() or not text.isdigit():
            errs.add("limit", "Expected number, received nan")
        elif not 1 <= int(text) <= 100:
            bound = "greater than or equal to 1" if int(text) < 1 else "less than or equal to 100"
            errs.add("limit", f"Number must be {bound}")
        else:
            limit = int(text)
    scope = values.get("scope", "user")
    if scope not in ("user", "team"):
        errs.add("scope", _enum_message(("user", "team"), scope))
    search = values.get("search")
    if search is not None and not is_uuid(search):
        errs.add("search", "Invalid uuid")
    include = values.get("include_models", "false")
    if include not in ("true", "false"):
        errs.add("include_models", _enum_message(("true", "false"), include))
    cursor = None
    if "cursor" in values:
        cursor = decode_cursor(values["cursor"])
        if cursor is None:
            errs.add("cursor", "Invalid cursor")

    if errs.details:
        raise ValidationFailed(errs.details)
    return ListQuery(
        status=status,
        model=values.get("model"),
        limit=limit,
        cursor=cursor,
        scope=scope,
        search=search.lower() if search else None,
        include_models=include == "true",
    )


def encode_cursor(created_at: str, job_id: str) -> str:
    raw = json.dumps({"createdAt": created_at, "id": job_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[str, str] | None:
    try:
        padded = text + "=" * (-len(text) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        return None
    if not isinstance(data, dict):
        return None
    created, job_id = data.get("createdAt"), data.get("id")
    if not isinstance(created, str) or not isinstance(job_id, str) or not is_uuid(job_id):
        return None
    return created, job_id
