"""The exception every route raises to answer with an error: status, `{"error": ...}`, headers."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.error, **self.extra}


class ValidationFailed(ApiError):
    """A 400 whose `details` map JSON paths to lists of messages (contract §7)."""

    def __init__(self, details: dict[str, list[str]] | None = None, error: str = "") -> None:
        self.details = details or {}
        super().__init__(
            400, error or "Validation failed", extra={"details": self.details} if details else None
        )
