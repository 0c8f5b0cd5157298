"""The `Simulator`: binds the API and CDN ports, serves them in threads, lets tests look in."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from runway_desktop.simulator.api_server import ApiHandler
from runway_desktop.simulator.cdn_server import CdnHandler
from runway_desktop.simulator.clip_maker import ClipMaker
from runway_desktop.simulator.clock import Clock
from runway_desktop.simulator.config import Account, SimulatorConfig
from runway_desktop.simulator.faults import FaultDecider, FaultPlan
from runway_desktop.simulator.httpbase import Backend, RecordedRequest, Recorder, SimHTTPServer
from runway_desktop.simulator.media import load_clips
from runway_desktop.simulator.schema import validate_generate
from runway_desktop.simulator.state import State

TERMINAL = frozenset({"COMPLETED", "FAILED"})


class Simulator:
    """A local apiframe v2 service: `start()`, point a client at `base_url`, `stop()`.

    Also a context manager. Inspection helpers read the same state the HTTP routes serve.
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock = Clock()
        self._decider = FaultDecider(self.config.faults, self.config.seed)
        self._clip_maker = ClipMaker()
        self._state = State(self.config, self.clock, self._decider, self._clip_maker)
        self._recorder = Recorder()
        self._stopping = threading.Event()
        self._servers: list[SimHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self.base_url = ""
        self.cdn_base_url = ""

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self, api_port: int = 0, cdn_port: int = 0) -> Simulator:
        """Bind both ports (0 = any free one) and serve in daemon threads; returns when ready."""
        if self._servers:
            raise RuntimeError("simulator already started")
        self._stopping.clear()
        backend = Backend(
            config=self.config,
            state=self._state,
            faults=self._decider,
            recorder=self._recorder,
            clips=load_clips(self.config.clips_dir),
            stopping=self._stopping,
            clip_maker=self._clip_maker,
        )
        host = self.config.host
        try:
            api = SimHTTPServer((host, api_port), ApiHandler, backend)
            self._servers.append(api)
            cdn = SimHTTPServer((host, cdn_port), CdnHandler, backend)
            self._servers.append(cdn)
        except OSError:
            self._close_servers()
            raise
        self.base_url = _url(host, api.server_address[1])
        self.cdn_base_url = _url(host, cdn.server_address[1])
        self._state.cdn_base_url = self.cdn_base_url
        for server, name in ((api, "api"), (cdn, "cdn")):
            thread = threading.Thread(target=server.serve, name=f"simulator-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections, close the sockets and join every thread."""
        self._stopping.set()
        for server in self._servers:
            server.stop_serving()
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        self._close_servers()
        self._clip_maker.close()

    def _close_servers(self) -> None:
        for server in self._servers:
            server.abort_connections()
            server.server_close()  # joins the handler threads
        self._servers.clear()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def api_port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def cdn_port(self) -> int:
        return int(self.cdn_base_url.rsplit(":", 1)[1])

    # ---- faults -----------------------------------------------------------------------------

    @property
    def faults(self) -> FaultPlan:
        """The live fault plan: mutate its fields, or assign a whole new FaultPlan."""
        return self._decider.plan

    @faults.setter
    def faults(self, plan: FaultPlan) -> None:
        self._decider.plan = plan

    # ---- inspection -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request seen so far, oldest first."""
        return self._recorder.snapshot()

    def clear_requests(self) -> None:
        self._recorder.clear()

    def jobs_created(self, api_key: str | None = None) -> int:
        """Distinct jobs created (idempotent replays do not count), for one key or all."""
        return self._state.jobs_created(api_key)

    def credits(self, api_key: str) -> int:
        return self._state.balance(api_key)

    def debits(self, api_key: str) -> int:
        """Total credits ever debited for new jobs (refunds not subtracted)."""
        with self._state.lock:
            return self._state.debited[api_key]

    def refunds(self, api_key: str) -> int:
        with self._state.lock:
            self._state.settle()
            return self._state.refunded[api_key]

    def charged(self, api_key: str) -> int:
        """Net credits charged: debits minus refunds of failed jobs."""
        with self._state.lock:
            self._state.settle()
            return self._state.debited[api_key] - self._state.refunded[api_key]

    def job(self, job_id: str) -> dict[str, Any]:
        """The job as GET /v2/jobs/{id} returns it to its owner. KeyError if unknown."""
        return self._state.any_job(job_id)

    def job_ids(self, api_key: str | None = None) -> list[str]:
        """Ids of created jobs, oldest first."""
        with self._state.lock:
            jobs = sorted(self._state.jobs.values(), key=lambda j: j.created)
            return [j.id for j in jobs if api_key is None or j.owner == api_key]

    def wait_for_job(
        self, job_id: str, statuses: Iterable[str] = TERMINAL, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Block until the job reaches one of `statuses` (no HTTP involved); TimeoutError if not."""
        wanted = set(statuses)
        deadline = time.monotonic() + timeout
        while True:
            view = self.job(job_id)
            if view["status"] in wanted:
                return view
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} still {view['status']} after {timeout} s")
            time.sleep(0.01)

    # ---- steering ---------------------------------------------------------------------------

    def adopt_job(self, job_id: str, api_key: str, body: dict[str, Any],
                  image: bytes | None = None, *, completed: bool = False) -> bool:
        """Know again a job an earlier run made (demo mode: the app quit or was killed, and
        this simulator with it), from the body it was sent with; `image`: the start picture its
        demo clip is made from. Made anew from now, not charged again. False if known."""
        request = validate_generate(body)
        return self._state.adopt(job_id, api_key, request, image, completed=completed)

    def set_job_outcome(
        self,
        job_id: str,
        status: str = "FAILED",
        *,
        error: str | None = None,
        immediately: bool = True,
    ) -> None:
        """Force how a running job ends: now (`immediately`) or at its scheduled end.

        A FAILED outcome refunds the job and uses `error` (default: the fault plan's message).
        """
        self._state.set_outcome(job_id, status, error, immediately)

    def advance_clock(self, seconds: float) -> None:
        """Move simulated time forward: jobs progress, uploads and results expire, no sleeping."""
        self.clock.advance(seconds)

    def add_account(self, account: Account) -> None:
        self._state.add_account(account)

    def set_credits(self, api_key: str, credits: int) -> None:
        with self._state.lock:
            self._state.balances[api_key] = credits

    def set_active(self, api_key: str, active: bool) -> None:
        """Deactivate (revoke) or reactivate a key at run time."""
        self._state.update_account(api_key, active=active)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
