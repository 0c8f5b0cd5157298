"""The async apiframe v2 client: one attempt per call, a typed error on failure.

Retries, polling and backoff belong to the engine's scheduler; this module only speaks HTTP.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import mimetypes
import os
import sys
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlsplit

import httpx

from runway_desktop import __version__

from .catalog import CatalogEntry, parse_catalog
from .errors import (
    InvalidRequestError,
    RequestTimeoutError,
    UnexpectedResponseError,
    error_from_response,
    error_from_transport,
)
from .models import (
    Account,
    GenerateVideoRequest,
    Job,
    JobAccepted,
    JobPage,
    JobStatus,
    Upload,
    validate_idempotency_key,
)
from .network import tls_context
from .redact import remember_secret
from .urls import DEFAULT_BASE_URL, Origin, is_loopback_host, normalize_base_url, origin_of

# httpcore runs `import sniffio` on every request (several times) and falls back to asyncio when
# it is missing; Python searches the disk for a missing module on each attempt (~0.1 ms, on the
# event loop: 1.6 s of a 40 s benchmark run). Record the miss once: the import then fails at
# once, from sys.modules. Nothing changes when sniffio is installed.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

USER_AGENT = f"runway-desktop/{__version__}"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # apiframe's largest cap (video); images stop at 25 MB
MAX_PAGE_SIZE = 100
MAX_BODY_BYTES = 1024 * 1024  # no apiframe answer comes near this; a bigger one is not read
DEFAULT_DEADLINE = 60.0  # a whole JSON call: connect, send, every byte back (the SDK: 60 s)
DEFAULT_UPLOAD_DEADLINE = 30 * 60.0  # an upload of up to 50 MB over a slow line
# Response headers that describe the bytes on the wire, not the decoded body we keep.
_WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")
_MASKED_KEY = "afk_…(redacted)"


class ApiKeyAuth(httpx.Auth):
    """Adds `X-API-Key` only to requests for the API's own origin (scheme, host, port).

    A CDN link, an upload URL or a redirect target on any other host never sees the key —
    and a key someone set on such a request by hand is removed.
    """

    def __init__(self, api_key: str, base_url: str) -> None:
        self._api_key = api_key
        url = httpx.URL(base_url)
        self._origin: Origin = origin_of(url.scheme, url.host, url.port)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._api_key and self._is_api_origin(request.url):
            request.headers["X-API-Key"] = self._api_key
        else:
            request.headers.pop("X-API-Key", None)
        yield request

    def _is_api_origin(self, url: httpx.URL) -> bool:
        return origin_of(url.scheme, url.host, url.port) == self._origin

    def __repr__(self) -> str:
        return f"ApiKeyAuth(origin={self._origin!r}, api_key={_MASKED_KEY!r})"


def _checked_api_key(api_key: object) -> str:
    if not isinstance(api_key, str):
        raise InvalidRequestError("The API key must be text.", field="api_key")
    key = api_key.strip()  # keys pasted from a browser often carry a newline
    # A key with spaces or non-ASCII can't go in a header, and httpx's error would echo it.
    if not all("!" <= ch <= "~" for ch in key):
        raise InvalidRequestError(
            "The API key contains spaces or characters a key can't have — paste it again "
            "from the apiframe dashboard.",
            field="api_key",
        )
    return key


def _open_for_upload(path: Path) -> IO[bytes]:
    # httpx reads an open file in 64 KiB chunks, so the file is streamed, never loaded whole.
    return path.open("rb")


class ApiClient:
    """Async client for the apiframe v2 endpoints Runway Desktop uses.

    Use as `async with ApiClient(key) as api: ...` or call `aclose()` when done.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 60.0,
        deadline: float = DEFAULT_DEADLINE,
        upload_deadline: float = DEFAULT_UPLOAD_DEADLINE,
        max_body_bytes: int = MAX_BODY_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 10,
        user_agent: str = USER_AGENT,
        proxy: str | None = None,
    ) -> None:
        """`timeout` bounds each network step (connect, one read…); `deadline` the whole call,
        so a server that trickles a byte now and then can't hold a request for ever;
        `max_body_bytes` caps what is read of any answer; `proxy` (a URL) carries every request,
        loopback ones too (None: the system's proxy, never for loopback)."""
        try:
            self._base_url = normalize_base_url(base_url)
        except ValueError as exc:
            raise InvalidRequestError(str(exc), field="base_url") from None
        key = _checked_api_key(api_key)
        remember_secret(key)  # a server echoing it back (job errors, logs) gets it redacted
        self._deadline = deadline
        self._upload_deadline = upload_deadline
        self._max_body_bytes = max_body_bytes
        self._proxy = proxy  # named when a connection through it fails
        loopback = is_loopback_host(urlsplit(self._base_url).hostname)
        self._http = httpx.AsyncClient(
            auth=ApiKeyAuth(key, self._base_url),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # a redirect could lead the request (and key) elsewhere
            transport=transport,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            verify=tls_context(),  # the OS certificate store (a company's TLS proxy works)
            # System proxies must not capture traffic to the local simulator.
            trust_env=not loopback,
            proxy=proxy,  # one the person configured is used for every address
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self._base_url!r}, api_key={_MASKED_KEY!r})"

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    # -- endpoints -------------------------------------------------------------------------------

    async def generate_video(
        self, request: GenerateVideoRequest, *, idempotency_key: str
    ) -> JobAccepted:
        """Submit a job. Reuse the same `idempotency_key` when resending the same generation,
        so a lost response can't create (and charge for) a second job."""
        if not isinstance(request, GenerateVideoRequest):
            raise InvalidRequestError(
                "generate_video needs a GenerateVideoRequest.", field="request"
            )
        key = validate_idempotency_key(idempotency_key)
        body = await self._request(
            "POST",
            "/v2/videos/generate",
            json=request.to_json(),
            headers={"Idempotency-Key": key},
        )
        return JobAccepted.from_json(body)

    async def get_job(self, job_id: str) -> Job:
        if not isinstance(job_id, str) or not job_id.strip():
            raise InvalidRequestError("A job id is required.", field="job_id")
        # Quote everything so an id like "../me" can't walk to another route.
        body = await self._request("GET", f"/v2/jobs/{quote(job_id.strip(), safe='')}")
        return Job.from_json(body)

    async def list_jobs(
        self,
        *,
        status: JobStatus | str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> JobPage:
        """One page of the caller's jobs, newest first."""
        params: dict[str, str | int] = {"limit": _checked_limit(limit)}
        if status is not None:
            params["status"] = _checked_status(status)
        if cursor is not None:
            if not isinstance(cursor, str) or not cursor:
                raise InvalidRequestError(
                    "The page cursor must be a non-empty string.", field="cursor"
                )
            params["cursor"] = cursor
        return JobPage.from_json(await self._request("GET", "/v2/jobs", params=params))

    async def iter_jobs(
        self, *, status: JobStatus | str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[Job]:
        """Every job across all pages, following `nextCursor` until `hasMore` is false."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.list_jobs(status=status, limit=page_size, cursor=cursor)
            for job in page.jobs:
                yield job
            if not page.has_more or page.next_cursor is None:
                return
            if page.next_cursor in seen:  # a server bug must not become an endless loop
                raise UnexpectedResponseError("apiframe repeated a page cursor; stopping.")
            seen.add(page.next_cursor)
            cursor = page.next_cursor

    async def upload_file(
        self,
        path: str | os.PathLike[str],
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> Upload:
        """Stream a local file to `POST /v2/uploads`; the returned `url` can be the image."""
        path = Path(path)
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise IsADirectoryError(21, "not a regular file")
        except OSError as exc:
            reason = exc.strerror or "it can't be read"
            raise InvalidRequestError(f"Can't read {path.name}: {reason}.", field="file") from exc
        if size == 0:
            raise InvalidRequestError(f"{path.name} is empty.", field="file")
        if size > MAX_UPLOAD_BYTES:
            raise InvalidRequestError(
                f"{path.name} is {size / 1_048_576:,.1f} MB; apiframe accepts at most "
                f"{MAX_UPLOAD_BYTES // 1_048_576} MB.",
                field="file",
            )
        name = filename or path.name
        ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        try:
            handle = _open_for_upload(path)
        except OSError as exc:
            reason = exc.strerror or "it can't be read"
            raise InvalidRequestError(f"Can't read {path.name}: {reason}.", field="file") from exc
        with handle:
            body = await self._request("POST", "/v2/uploads", files={"file": (name, handle, ctype)},
                                       deadline=self._upload_deadline)
        return Upload.from_json(body)

    async def me(self) -> Account:
        """The key's user, team, plan and credit balance."""
        return Account.from_json(await self._request("GET", "/v2/me"))

    async def list_models(self, modality: str = "video") -> list[CatalogEntry]:
        """apiframe's public model catalog (contract §15.1): labels and prices."""
        return parse_catalog(await self._request("GET", "/v2/models",
                                                 params={"modality": modality}))

    # -- plumbing --------------------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, *, deadline: float | None = None, **kwargs: Any
    ) -> Any:
        """One attempt; the decoded JSON body of a 2xx response, or a typed ApiError.

        The whole call — connecting, sending, every byte of the answer — ends within the
        deadline, and at most `max_body_bytes` of the answer are read.
        """
        limit = self._deadline if deadline is None else deadline
        try:
            async with asyncio.timeout(limit):
                async with self._http.stream(method, self._base_url + path, **kwargs) as streamed:
                    response = await self._read_capped(streamed)
        except TimeoutError:
            raise RequestTimeoutError(
                f"apiframe didn't finish answering within {limit:g} s — check your internet "
                "connection, or try again in a moment."
            ) from None
        except httpx.RequestError as exc:
            raise error_from_transport(exc, proxy=self._proxy) from exc
        if not response.is_success:
            raise error_from_response(response, route=path)
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            # RecursionError: arrays nested thousands deep. Garbled on the way (a proxy's page,
            # a cut body) as often as wrong at the source: asking again is safe (GETs, and
            # POSTs carry their idempotency key).
            raise UnexpectedResponseError(
                f"apiframe sent a response this app can't read (HTTP {response.status_code}).",
                status=response.status_code,
                request_id=response.headers.get("x-request-id"),
                retryable=True,
            ) from exc

    async def _read_capped(self, streamed: httpx.Response) -> httpx.Response:
        """The answer with its body read, or an error once it passes `max_body_bytes` (the rest
        is never read: a runaway body costs a connection, not the memory)."""
        cap = self._max_body_bytes
        declared = streamed.headers.get("content-length", "")
        too_big = UnexpectedResponseError(
            f"apiframe sent an answer larger than {cap:,} bytes (HTTP {streamed.status_code}); "
            "it was not read. This is a server problem; trying again later.",
            status=streamed.status_code,
            request_id=streamed.headers.get("x-request-id"),
            retryable=True,
        )
        if declared.isdigit() and int(declared) > cap:
            raise too_big
        body = bytearray()
        async for chunk in streamed.aiter_bytes():
            body += chunk
            if len(body) > cap:
                raise too_big
        # As bytes: a server may send any byte in a header value, which httpx decodes for
        # reading but could not encode again as text.
        headers = [(k, v) for k, v in streamed.headers.raw
                   if k.decode("latin-1").lower() not in _WIRE_HEADERS]
        return httpx.Response(streamed.status_code, headers=headers, content=bytes(body),
                              request=streamed.request)


def _checked_limit(limit: object) -> int:
    if isinstance(limit, int) and not isinstance(limit, bool) and 1 <= limit <= MAX_PAGE_SIZE:
        return limit
    raise InvalidRequestError(
        f"The page size must be a whole number from 1 to {MAX_PAGE_SIZE}, not {limit!r}.",
        field="limit",
    )


def _checked_status(status: JobStatus | str) -> str:
    parsed = JobStatus.parse(status)
    if parsed is JobStatus.UNKNOWN:
        raise InvalidRequestError(f"Unknown job status filter {status!r}.", field="status")
    return parsed.value
