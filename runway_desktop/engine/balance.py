"""The team's account (balance, concurrency limit), read in the background.

One job: keep the latest `GET /v2/me` answer and fetch it again when asked, one request at a
time. What an answer means for the queue (a key that works again, credits topped up) is the
engine's to decide: it hears each outcome through `on_checked` / `on_refused`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from runway_desktop import api
from runway_desktop.engine.retry import Backoff, RateGate

log = logging.getLogger(__name__)


class AccountWatcher:
    def __init__(
        self,
        client: Callable[[], api.ApiClient],
        gate: RateGate,
        *,
        on_account: Callable[[api.Account], None],
        on_checked: Callable[[api.Account], None],
        on_refused: Callable[[api.ApiError], None],
        offline: Callable[[], bool] = lambda: False,
        backoff: Backoff | None = None,
        on_failed: Callable[[api.ApiError], None] = lambda _error: None,
    ) -> None:
        """`on_account`: every answer (to show it); `on_checked`: a background check's answer
        (to act on it); `on_refused`: the key was refused (401/403); `offline`: whether apiframe
        is known to be unreachable now (a check then keeps asking, `backoff` apart);
        `on_failed`: a background check gave up without an answer (to say so)."""
        self._client = client
        self._gate = gate
        self._on_account = on_account
        self._on_checked = on_checked
        self._on_refused = on_refused
        self._offline = offline
        self._on_failed = on_failed
        self._backoff = backoff or Backoff()
        self._account: api.Account | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False  # asked while a check was under way

    @property
    def account(self) -> api.Account | None:
        return self._account

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The background check in flight, if any (the engine cancels it when it stops)."""
        return self._task

    def max_concurrent(self, default: int) -> int:
        """The team's limit on jobs at once, once known."""
        if self._account and self._account.max_concurrent_jobs:
            return self._account.max_concurrent_jobs
        return default

    async def refresh(self) -> api.Account:
        """Fetch the account now (waits for a rate limit like any other request)."""
        await self._gate.wait()
        account = await self._client().me()
        self._account = account
        self._on_account(account)
        return account

    def refresh_soon(self) -> None:
        """Check in the background; asked while a check is under way, one more follows it
        (the balance may have moved after that check was sent: a batch's next job)."""
        if self._task and not self._task.done():
            self._again = True
            return
        self._task = asyncio.ensure_future(self._check())

    async def _check(self) -> None:
        self._again = False
        await self._check_once()
        while self._again:  # asked again meanwhile: that answer may be out of date
            self._again = False
            await self._check_once()

    async def _check_once(self) -> None:
        attempt = 0
        while True:
            asked_with = self._client()
            try:
                account = await self.refresh()
            except (api.AuthenticationError, api.PermissionDeniedError) as exc:
                if self._client() is not asked_with:
                    continue  # the key it carried was replaced meanwhile: check the new one
                self._on_refused(exc)
                return
            except api.NetworkError as exc:
                if not self._offline():
                    log.info("Couldn't refresh the balance: %s", exc.message)
                    self._on_failed(exc)
                    return
                # apiframe can't be reached: ask again now and then. The first answer is how
                # the engine learns it is back (and clears its banner) with no Retry pressed.
                attempt += 1
                await asyncio.sleep(self._backoff.delay(attempt))
            except api.ApiError as exc:
                log.info("Couldn't refresh the balance: %s", exc.message)
                self._on_failed(exc)
                return
            else:
                self._on_checked(account)
                return
