"""The API port: routing, auth, and the six routes the desktop client uses (contract §2)."""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from runway_desktop.simulator.config import ASPECT_RATIOS, MODEL_LABELS, Account
from runway_desktop.simulator.errors import ApiError, ValidationFailed
from runway_desktop.simulator.faults import FaultPlan, RequestFaults
from runway_desktop.simulator.httpbase import BaseHandler
from runway_desktop.simulator.multipart import MultipartError, file_part
from runway_desktop.simulator.schema import (
    check_idempotency_key,
    parse_list_query,
    validate_generate,
)

JSON_BODY_LIMIT = 1024 * 1024
_MULTIPART_SLACK = 1024 * 1024  # room for part headers and boundaries around the file
_JOB_PATH = re.compile(r"^/v2/jobs/([^/]+)$")

# (route name, allowed methods) by exact path; GET also allows HEAD.
_ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "/v2/videos/generate": ("generate", ("POST",)),
    "/v2/jobs": ("list", ("GET",)),
    "/v2/uploads": ("upload", ("POST",)),
    "/v2/me": ("me", ("GET",)),
    "/v2/models": ("models", ("GET",)),
}

_SERVER_ERRORS = {
    500: "Internal server error",
    502: "Upload to CDN failed",
    503: "Service temporarily unavailable",
}


def catalog(prices: dict[str, dict[int, int]]) -> list[dict[str, Any]]:
    """The public model catalog (contract §15.1: id, label, modality, costMin/costMax,
    pricingMode, extra fields allowed); only the Runway entries can be generated here."""
    runway = [
        {
            "id": model,
            "label": MODEL_LABELS.get(model, model),
            "modality": "video",
            "description": "Runway image-to-video",
            "costMin": min(by_duration.values()),
            "costMax": max(by_duration.values()),
            "pricingMode": "flat",
            "provider": "runway",  # an extra field, as the loose schema allows
            "durations": sorted(by_duration),
            "aspectRatios": list(ASPECT_RATIOS),
        }
        for model, by_duration in prices.items()
        if by_duration
    ]
    others = [
        {"id": "midjourney-video", "label": "Midjourney Video", "modality": "video",
         "costMin": 20, "pricingMode": "per-output"},
        {"id": "midjourney", "label": "Midjourney", "modality": "image", "costMin": 4},
        {"id": "flux-pro", "label": "FLUX Pro", "modality": "image", "costMin": 2},
        {"id": "suno", "label": "Suno", "modality": "music", "costMin": 5},
    ]
    return runway + others


def resolve(path: str) -> tuple[str, tuple[str, ...]]:
    """Route name and allowed methods for a path; ("other", ()) when nothing lives there."""
    if path in _ROUTES:
        return _ROUTES[path]
    if _JOB_PATH.match(path):
        return "job", ("GET",)
    return "other", ()


def retry_after(plan: FaultPlan) -> str:
    seconds = max(0, int(plan.retry_after_seconds))
    if plan.retry_after_format == "http-date":
        # Whole seconds, rounded up so a client never waits less than asked.
        return email.utils.formatdate(math.ceil(time.time()) + seconds, usegmt=True)
    return str(seconds)


class ApiHandler(BaseHandler):
    role = "api"

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def dispatch(self) -> None:
        url = urlsplit(self.path)
        self.start_record(url.path, url.query)
        route, allowed = resolve(url.path)
        faults = self.backend.faults.for_request(route)
        self.pause(faults.delay)
        try:
            limit = JSON_BODY_LIMIT
            if route == "upload":
                cfg = self.backend.config
                limit = max(cfg.max_image_bytes, cfg.max_audio_bytes, cfg.max_video_bytes)
                limit += _MULTIPART_SLACK
            body = self.read_body(limit)
        except ApiError as err:
            reply: tuple[int, Any, dict[str, str]] | None = (err.status, err.body(), err.headers)
            body = b""
        else:
            reply = None
        if faults.drop:
            self.drop()
            return
        if reply is None:
            reply = self._answer(faults, route, allowed, url.path, url.query, body)
        if faults.lose_response:
            self.drop("lost")
            return
        status, payload, headers = reply
        try:
            self.send_json(status, payload, headers)
        except OSError:
            self.close_connection = True  # the client went away mid-reply

    def _answer(
        self,
        faults: RequestFaults,
        route: str,
        allowed: tuple[str, ...],
        path: str,
        query: str,
        body: bytes,
    ) -> tuple[int, Any, dict[str, str]]:
        if faults.rate_limited:
            plan = self.backend.faults.plan
            return 429, {"error": "Rate limit exceeded"}, {"Retry-After": retry_after(plan)}
        if faults.error_status is not None:
            status = faults.error_status
            return status, {"error": _SERVER_ERRORS.get(status, "Server error")}, {}
        try:
            return self._route(route, allowed, path, query, body)
        except ApiError as err:
            return err.status, err.body(), err.headers

    def _route(
        self, route: str, allowed: tuple[str, ...], path: str, query: str, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if route == "other":
            raise ApiError(404, "Not found")
        methods = (*allowed, "HEAD") if "GET" in allowed else allowed
        if self.command not in methods:
            raise ApiError(405, "Method not allowed", headers={"Allow": ", ".join(methods)})
        if route == "models":
            return 200, self._models(query), {}
        account = self.backend.state.authenticate(self.headers.get("X-API-Key"))
        if route == "generate":
            return self._generate(account, body)
        if route == "job":
            match = _JOB_PATH.match(path)
            assert match is not None  # resolve() matched it
            return 200, self.backend.state.get_job(account.api_key, match.group(1)), {}
        if route == "list":
            return 200, self.backend.state.list_jobs(account, parse_list_query(query)), {}
        if route == "upload":
            return self._upload(account, body)
        return 200, self._me(account), {}

    def _generate(self, account: Account, body: bytes) -> tuple[int, Any, dict[str, str]]:
        if self.headers.get_content_type() != "application/json":
            raise ApiError(400, "Content-Type must be application/json")
        idem_key = self.headers.get("Idempotency-Key")
        check_idempotency_key(idem_key)
        data = _parse_json(body)
        req = validate_generate(data)
        submitted = self.backend.state.submit(account, req, idem_key)
        return 202, {"jobId": submitted.job_id, "status": submitted.status}, {}

    def _upload(self, account: Account, body: bytes) -> tuple[int, Any, dict[str, str]]:
        try:
            data = file_part(self.headers.get("Content-Type"), body)
        except MultipartError as err:
            raise ValidationFailed({"file": [str(err)]}) from None
        if data is None:
            raise ValidationFailed({"file": ["Required"]})
        if not data:
            raise ValidationFailed({"file": ["File is empty"]})
        return 201, self.backend.state.add_upload(account, data), {}

    def _me(self, account: Account) -> dict[str, Any]:
        key = account.api_key
        ids = {
            part: str(uuid.uuid5(uuid.NAMESPACE_URL, f"simulator:{part}:{key}"))
            for part in ("user", "team", "key")
        }
        return {
            "user": {"id": ids["user"], "email": account.email, "role": account.role},
            "team": {
                "id": ids["team"],
                "name": account.team_name,
                "plan": account.plan,
                "credits": self.backend.state.balance(key),
                "maxConcurrentJobs": account.max_concurrent_jobs,
                "customerId": None,
            },
            "apiKey": {"id": ids["key"], "name": account.key_name, "prefix": key[:8]},
        }

    def _models(self, query: str) -> dict[str, Any]:
        params = parse_qs(query, keep_blank_values=True)
        modality = params.get("modality", [None])[-1]
        if modality is not None and modality not in ("image", "video", "music"):
            raise ValidationFailed(
                {
                    "modality": [
                        f"Invalid enum value. Expected 'image' | 'video' | 'music', "
                        f"received '{modality}'"
                    ]
                }
            )
        models = catalog(self.backend.config.prices)
        return {"models": [m for m in models if modality is None or m["modality"] == modality]}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # JavaScript's JSON.parse refuses NaN/Infinity


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "Invalid JSON body") from None
