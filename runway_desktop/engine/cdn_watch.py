"""Watching for the video server to answer again while finished videos wait for it.

A download that stopped only because the video server (the CDN) couldn't be reached, or kept
failing, leaves a paid video undownloaded. apiframe answering says nothing about the CDN, so the
engine asks the CDN itself, now and then: a small request (`Range: bytes=0-0`, no redirect
followed, a short timeout) to each waiting video's link. Any real answer (even a 403 for an
expired link: the download then asks apiframe for a fresh one) means the server is back, and the
engine carries those generations on. The watch ends when nothing waits any more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx

from runway_desktop.api.url_policy import UnsafeUrlError, UrlPolicy
from runway_desktop.engine.records import Generation
from runway_desktop.engine.retry import Backoff

log = logging.getLogger(__name__)

# Answers that mean the video server is still not itself (it may send the file on the next try,
# but not yet): keep waiting.
NOT_YET_STATUSES = frozenset({408, 429})
MAX_BACKOFF_STEP = 30  # 2**30 × base: far past any cap, and never a float overflow


class CdnWatcher:
    def __init__(
        self,
        cdn: Callable[[], httpx.AsyncClient],
        policy: UrlPolicy,
        backoff: Backoff,
        *,
        waiting: Callable[[], list[Generation]],
        on_back: Callable[[list[Generation]], None],
        timeout: float = 15.0,
    ) -> None:
        """`cdn`: the keyless CDN client; `waiting`: the generations waiting for the video
        server now (read each round); `on_back`: those whose server answered (to carry on);
        `backoff`: how far apart the checks are; `timeout`: the most one check may take."""
        self._cdn = cdn
        self._policy = policy
        self._backoff = backoff
        self._waiting = waiting
        self._on_back = on_back
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The watch under way, if any (the engine cancels it when it stops)."""
        return self._task

    def watch(self) -> None:
        """Start watching, unless a watch is under way (inside the running loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        try:
            await self._rounds()
        except Exception:  # the rows keep their Retry: a broken watch must not go unseen
            log.exception("Watching for the video server to answer again failed")

    async def _rounds(self) -> None:
        attempt = 0
        while self._waiting():
            attempt = min(attempt + 1, MAX_BACKOFF_STEP)
            await asyncio.sleep(self._backoff.delay(attempt))
            answers: dict[str, bool] = {}  # one check per server a round, however many wait
            back: list[Generation] = []
            for generation in self._waiting():
                url = generation.video_url or ""
                origin = _origin(url)
                if origin not in answers:
                    answers[origin] = await self._answers(url)
                if answers[origin]:
                    back.append(generation)
            if back:
                log.info("The video server answers again: %d download(s) carry on", len(back))
                attempt = 0
                self._on_back(back)

    async def _answers(self, url: str) -> bool:
        """Whether the server of `url` answers (usefully) now."""
        try:
            checked = self._policy.check(url)
        except UnsafeUrlError:
            return True  # never contacted: the download itself says why to the person
        cdn = self._cdn()
        request = cdn.build_request(
            "GET", checked, timeout=self._timeout,
            headers={"Range": "bytes=0-0", "Accept-Encoding": "identity"})
        try:  # its whole answer (headers trickled too) within the timeout; never its body
            response = await asyncio.wait_for(
                cdn.send(request, stream=True, follow_redirects=False), self._timeout)
        except (httpx.HTTPError, TimeoutError) as exc:
            log.debug("The video server still doesn't answer: %r", exc)
            return False
        await response.aclose()
        return response.status_code < 500 and response.status_code not in NOT_YET_STATUSES


def _origin(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return url
    return f"{parsed.scheme}://{parsed.host}:{parsed.port}"
