"""Every way an apiframe call can fail, as exceptions with a message a person can act on.

The engine decides what to do (retry, ask for a new key, …) from the type and `.retryable`;
the UI shows `.message`. No message ever contains the API key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx

from ._json import json_int
from .redact import redact_secrets
from .server_text import clean_optional, clean_server_text
from .urls import DEFAULT_BASE_URL

_MAX_SERVER_TEXT = 300  # keep a runaway server string from swamping a dialog
_MAX_REQUEST_ID = 100
_MAX_DETAILS = 20  # fields listed from a 400's `details`, and messages per field
_MAX_DETAIL_PATH = 100
_MAX_VALIDATION_MESSAGE = 1000

# The literal `error` strings of the documented 401/403 bodies (contract §7, §14).
MISSING_KEY_ERROR = "API key is required"
INACTIVE_KEY_ERROR = "API key is inactive"


class ApiError(Exception):
    """Base of every error the api layer raises.

    `message` is for people; `status` is the HTTP status (None when no response arrived);
    `request_id` is the server's `x-request-id` for support; `retryable` says whether the
    same call may succeed later unchanged; `server_message` is the raw `error` string.
    """

    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        server_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        message = redact_secrets(message)
        super().__init__(message)
        self.message = message
        self.status = status
        # Both come from the server: shown to people (support ids, details), so cleaned here.
        self.request_id = clean_optional(request_id, limit=_MAX_REQUEST_ID)
        self.retryable = self.default_retryable if retryable is None else retryable
        self.server_message = clean_optional(server_message, limit=_MAX_SERVER_TEXT)
        # Seconds the server asked us to wait (429 and 503 may carry Retry-After).
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class InvalidRequestError(ApiError, ValueError):
    """The input was refused before anything was sent. `problems` maps field → message."""

    def __init__(
        self, message: str, *, field: str | None = None, problems: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.problems: dict[str, str] = dict(problems or ({field: message} if field else {}))
        self.field = field if field is not None else next(iter(self.problems), None)

    @classmethod
    def from_problems(cls, problems: Mapping[str, str]) -> InvalidRequestError:
        return cls(" ".join(problems.values()), problems=problems)


class UnexpectedResponseError(ApiError):
    """A success status whose body this client can't read, or a redirect it won't follow."""


class ValidationError(ApiError):
    """400: apiframe refused the request body or query. `details` maps JSON path → messages."""

    def __init__(
        self, message: str, *, details: Mapping[str, list[str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.details: dict[str, list[str]] = dict(details or {})


class AuthenticationError(ApiError):
    """401: no key was sent, or apiframe doesn't know it."""


class PermissionDeniedError(ApiError):
    """403: the key is inactive or not allowed to do this."""


class InsufficientCreditsError(ApiError):
    """402: the team balance can't pay for the job."""

    def __init__(
        self,
        message: str,
        *,
        required: int | None = None,
        available: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.required = required
        self.available = available


class NotFoundError(ApiError):
    """404: no such job, or it belongs to someone else."""


class ConflictError(ApiError):
    """409: the idempotency key was already used with different settings."""


class RateLimitedError(ApiError):
    """429: too many requests; wait `retry_after` seconds (None when the server didn't say)."""

    default_retryable = True


class ServerError(ApiError):
    """5xx: something broke on apiframe's side."""

    default_retryable = True


class UploadFailedError(ServerError):
    """502 on an upload: apiframe couldn't store the file on its CDN."""


class ServiceUnavailableError(ServerError):
    """503: apiframe's queue or database is down for now."""


class NetworkError(ApiError):
    """No usable response: DNS failure, refused or dropped connection, broken TLS."""

    default_retryable = True


class RequestTimeoutError(NetworkError):
    """apiframe didn't answer within the client's timeout."""


# ---------------------------------------------------------------------------------------------
# Building errors from responses


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date. None if absent
    or unreadable; a date in the past gives 0."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; some servers leave the zone out
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The body as a JSON object, or {} for anything else (HTML error pages, empty bodies)."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested thousands deep
        return {}
    return body if isinstance(body, dict) else {}


def _server_text(body: Mapping[str, Any]) -> str | None:
    return clean_optional(body.get("error"), limit=_MAX_SERVER_TEXT)


def _parse_details(raw: Any) -> dict[str, list[str]]:
    if not isinstance(raw, Mapping):
        return {}
    details: dict[str, list[str]] = {}
    for key, value in list(raw.items())[:_MAX_DETAILS]:
        items = value if isinstance(value, list) else [value]
        path = clean_server_text(str(key), limit=_MAX_DETAIL_PATH) or "request"
        details[path] = [
            clean_server_text(str(item), limit=_MAX_SERVER_TEXT)
            for item in items[:_MAX_DETAILS]
            if item is not None
        ]
    return details


def _field_label(path: str) -> str:
    """`runwayParams.duration` → `duration`: the name the person saw in the form."""
    return path.removeprefix("runwayParams.") or "request"


def _format_seconds(seconds: float) -> str:
    return f"{max(1, math.ceil(seconds)):,} s"


def _validation_message(server: str | None, details: Mapping[str, list[str]]) -> str:
    if details:
        parts = [
            f"{_field_label(path)}: {'; '.join(msgs) if msgs else 'invalid'}"
            for path, msgs in details.items()
        ]
        text = "apiframe rejected these settings — " + "; ".join(parts)
        return clean_server_text(text, limit=_MAX_VALIDATION_MESSAGE) + "."
    if server:
        return f"apiframe rejected the request: {server}."
    return "apiframe rejected the request as invalid."


UPLOAD_ROUTE = "/v2/uploads"
JOB_ROUTE_PREFIX = "/v2/jobs/"  # GET /v2/jobs/{id}: the only route where 404 means "no such job"


def _not_found(route: str | None, common: dict[str, Any]) -> ApiError:
    """A 404 means "no such job" only for a job; anywhere else the route itself is missing,
    which is the API address (a wrong base URL or proxy), not something to run again."""
    if route is None or route.startswith(JOB_ROUTE_PREFIX):
        return NotFoundError(
            "apiframe has no such job — it may have been deleted or belong to another account.",
            **common,
        )
    if route == UPLOAD_ROUTE:
        text = ("apiframe couldn't find the upload endpoint (HTTP 404 on "
                f"{UPLOAD_ROUTE}), so the image wasn't uploaded and nothing was charged")
    else:
        text = f"apiframe couldn't find {route} (HTTP 404)"
    return UnexpectedResponseError(
        f"{text}. Check the API address in Settings (apiframe's is {DEFAULT_BASE_URL}).",
        **common,
    )


def error_from_response(response: httpx.Response, route: str | None = None) -> ApiError:
    """Map an error response (4xx/5xx/unexpected) to the matching exception.

    `route` is the API path asked for (e.g. "/v2/uploads"): a 404 means something different on
    each. Without it a 404 is read as a job lookup's."""
    status = response.status_code
    body = _json_object(response)
    server = _server_text(body)
    common: dict[str, Any] = {
        "status": status,
        "request_id": response.headers.get("x-request-id"),
        "server_message": server,
    }
    if status == 400:
        details = _parse_details(body.get("details"))
        return ValidationError(_validation_message(server, details), details=details, **common)
    if status == 401:
        if server == MISSING_KEY_ERROR:
            return AuthenticationError("No API key is set — add yours in Settings.", **common)
        return AuthenticationError("Your API key was rejected — check it in Settings.", **common)
    if status == 402:
        required = json_int(body.get("creditsRequired"))
        available = json_int(body.get("creditsAvailable"))
        if required is not None and available is not None:
            text = f"Not enough credits: this needs {required:,}, you have {available:,}."
        else:
            text = "Not enough credits for this video."
        return InsufficientCreditsError(
            f"{text} Top up your apiframe balance, then try again.",
            required=required,
            available=available,
            **common,
        )
    if status == 403:
        if server == INACTIVE_KEY_ERROR:
            text = (
                "Your API key is inactive — reactivate it or create a new one in the "
                "apiframe dashboard, then update it in Settings."
            )
        else:
            reason = f" ({server})" if server else ""
            text = f"Your API key isn't allowed to do this{reason} — check its permissions."
        return PermissionDeniedError(text, **common)
    if status == 404:
        return _not_found(route, common)
    if status == 409:
        return ConflictError(
            "apiframe already received a request with this idempotency key but different "
            "settings — submit it again as a new generation.",
            **common,
        )
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if status == 429:
        wait = (
            f"retrying in {_format_seconds(retry_after)}"
            if retry_after is not None
            else "retrying shortly"
        )
        return RateLimitedError(
            f"apiframe is rate-limiting requests; {wait}.", retry_after=retry_after, **common
        )
    if status == 502:
        return UploadFailedError(
            "apiframe couldn't store the file (its storage service failed). Try again in a moment.",
            **common,
        )
    if status == 503:
        return ServiceUnavailableError(
            "apiframe is temporarily unavailable. Try again in a few minutes.",
            retry_after=retry_after,
            **common,
        )
    if status == 501:
        return ServerError(
            "apiframe doesn't support this request (HTTP 501).", retryable=False, **common
        )
    if 500 <= status <= 599:
        return ServerError(
            f"apiframe had an internal error (HTTP {status}). Try again in a moment.",
            retry_after=retry_after,
            **common,
        )
    if 300 <= status <= 399:
        return UnexpectedResponseError(
            f"apiframe redirected the request (HTTP {status}); check the API address in Settings.",
            **common,
        )
    detail = f": {server}" if server else "."
    return ApiError(f"apiframe answered with HTTP {status}{detail}", **common)


def error_from_transport(exc: httpx.RequestError, *, proxy: str | None = None) -> ApiError:
    """Map an httpx transport failure; the original stays reachable as `__cause__`.

    Only a failure that could pass is a (retried) NetworkError: an address httpx can't use at
    all (an `ftp://` one) fails the same way every time. `proxy`: the one the person set, which
    every request goes through: a connection that fails names it (host and port only)."""
    from .network import is_certificate_failure  # (network imports this module)

    if isinstance(exc, httpx.UnsupportedProtocol):
        return _unsupported_scheme(exc)

    if is_certificate_failure(exc):
        try:
            host = exc.request.url.host
        except RuntimeError:  # an error raised before a request existed
            host = "apiframe"
        return NetworkError(
            f"The secure connection to {host} couldn't be verified: its certificate isn't "
            "trusted by this computer. If your network inspects secure connections (a company "
            "proxy or antivirus), install its certificate in the system's certificate store; "
            "otherwise check that this computer's date and time are right.",
            retryable=False,
        )
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(
            "apiframe took too long to answer — check your internet connection, "
            "or try again in a moment."
        )
    if proxy:
        return NetworkError(
            f"Can't reach apiframe through the proxy {_proxy_address(proxy)} — check the proxy "
            "in Settings ▸ Proxy (or clear it), then your internet connection."
        )
    return NetworkError("Can't reach apiframe — check your internet connection.")


def _proxy_address(proxy: str) -> str:
    """host:port of a proxy URL, never its user name or password."""
    try:
        parts = httpx.URL(proxy)
    except httpx.InvalidURL:
        return "set in Settings"
    return f"{parts.host}:{parts.port}" if parts.port else parts.host


def _unsupported_scheme(exc: httpx.UnsupportedProtocol) -> ApiError:
    try:
        url = exc.request.url
        scheme, host = url.scheme, url.host
    except RuntimeError:  # raised before a request existed: its text names the scheme
        quoted = re.search(r"unsupported protocol '([A-Za-z][A-Za-z0-9+.-]*)://'", str(exc))
        scheme, host = (quoted.group(1) if quoted else ""), ""
    named = (f"an address starting {clean_server_text(scheme, limit=20)}://" if scheme
             else "an address without http:// or https://")
    where = f" ({clean_server_text(host, limit=100)})" if host else ""
    return ApiError(
        f"Runway Desktop can't connect to {named}{where}: only https:// is used (http:// only "
        "to this computer). Check the API address in Settings.",
        retryable=False,
    )
