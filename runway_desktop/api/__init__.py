"""The apiframe v2 wire contract: models, validation, errors and the async httpx client.

No Qt here (enforced by import-linter): the engine and the CLI use this package directly.

The names below load on first use (PEP 562): `runway_desktop.api.redact` (the log filter) and
type-only imports must not pull in httpx before the window's first paint.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # also what PyInstaller's analysis follows
    from .client import MAX_UPLOAD_BYTES, USER_AGENT, ApiClient, ApiKeyAuth
    from .errors import (
        ApiError,
        AuthenticationError,
        ConflictError,
        InsufficientCreditsError,
        InvalidRequestError,
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
    from .models import (
        MAX_IDEMPOTENCY_KEY_LENGTH,
        Account,
        GenerateVideoRequest,
        Job,
        JobAccepted,
        JobPage,
        JobStatus,
        Upload,
        prompt_length,
        validate_idempotency_key,
        video_url_from_result,
    )
    from .redact import redact_secrets
    from .urls import DEFAULT_BASE_URL, image_url_problem, is_loopback_host, normalize_base_url

_EXPORTS = {
    "MAX_UPLOAD_BYTES": "client",
    "USER_AGENT": "client",
    "ApiClient": "client",
    "ApiKeyAuth": "client",
    "ApiError": "errors",
    "AuthenticationError": "errors",
    "ConflictError": "errors",
    "InsufficientCreditsError": "errors",
    "InvalidRequestError": "errors",
    "NetworkError": "errors",
    "NotFoundError": "errors",
    "PermissionDeniedError": "errors",
    "RateLimitedError": "errors",
    "RequestTimeoutError": "errors",
    "ServerError": "errors",
    "ServiceUnavailableError": "errors",
    "UnexpectedResponseError": "errors",
    "UploadFailedError": "errors",
    "ValidationError": "errors",
    "error_from_response": "errors",
    "error_from_transport": "errors",
    "parse_retry_after": "errors",
    "MAX_IDEMPOTENCY_KEY_LENGTH": "models",
    "Account": "models",
    "GenerateVideoRequest": "models",
    "Job": "models",
    "JobAccepted": "models",
    "JobPage": "models",
    "JobStatus": "models",
    "Upload": "models",
    "prompt_length": "models",
    "validate_idempotency_key": "models",
    "video_url_from_result": "models",
    "redact_secrets": "redact",
    "DEFAULT_BASE_URL": "urls",
    "image_url_problem": "urls",
    "is_loopback_host": "urls",
    "normalize_base_url": "urls",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # once loaded, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_IDEMPOTENCY_KEY_LENGTH",
    "MAX_UPLOAD_BYTES",
    "USER_AGENT",
    "Account",
    "ApiClient",
    "ApiError",
    "ApiKeyAuth",
    "AuthenticationError",
    "ConflictError",
    "GenerateVideoRequest",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "Job",
    "JobAccepted",
    "JobPage",
    "JobStatus",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ServerError",
    "ServiceUnavailableError",
    "UnexpectedResponseError",
    "Upload",
    "UploadFailedError",
    "ValidationError",
    "error_from_response",
    "error_from_transport",
    "image_url_problem",
    "is_loopback_host",
    "normalize_base_url",
    "parse_retry_after",
    "prompt_length",
    "redact_secrets",
    "validate_idempotency_key",
    "video_url_from_result",
]
