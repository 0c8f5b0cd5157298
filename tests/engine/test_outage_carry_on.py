"""Work that stopped only because a server couldn't be reached carries on once it answers again.

apiframe unreachable: the rows it stopped carry on when it answers (matched by the stop's cause
kept on the row, never by its words). The video server (CDN) unreachable while apiframe answers
fine: a finished, paid video waits, its row says for what, and its download carries on by itself
once the CDN answers (a link that expired meanwhile is fetched again from the job; the job is
never sent twice), a few times a run at most.

Real loopback servers (tests/helpers/scripted_server.py); a CDN that is down is a port nobody
listens on, back when a server starts on it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runway_desktop.engine.journal import Journal
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage, StopCause
from runway_desktop.engine.retry import Backoff
from runway_desktop.engine.scheduler import BACK_ONLINE_CARRY_ONS, Engine
from tests.conftest import run
from tests.engine.conftest import EngineFactory
from tests.helpers.scripted_server import Reply, Request, ScriptedServer, closed_port, job

SETTINGS = GenerationSettings("a kite over dunes", seed=7)
GENERATE = "POST /v2/videos/generate"
POLL = "GET /v2/jobs/*"


async def until(engine: Engine, generation_id: int, wanted: Callable[[Generation], bool],
                timeout: float = 15.0) -> Generation:
    """The row once `wanted` holds (read from the journal; bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        row = engine.get(generation_id)
        assert row is not None
        if wanted(row):
            return row
        assert time.monotonic() < deadline, (row.stage, row.error)
        await asyncio.sleep(0.01)


def stopped(row: Generation) -> bool:
    return row.stage is Stage.ATTENTION


def done(row: Generation) -> bool:
    return row.stage is Stage.DONE


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_rows_stopped_by_an_unreachable_apiframe_carry_on_by_their_cause_not_their_words(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path,
) -> None:
    down = True

    def unreachable(_request: Request) -> Reply | None:
        return Reply(drop=True) if down else None

    scripted_server.on(POLL, unreachable)
    scripted_server.on("GET /v2/me", unreachable)

    async def scenario() -> tuple[Generation, Generation, Generation]:
        nonlocal down
        engine = scripted_engine(poll_failure_budget=3)
        await engine.start()
        generation = engine.submit(SETTINGS)
        first = await until(engine, generation.id, stopped)
        # A row stopped for another reason, in the very same words (an older version wrote
        # them, or a stop that only reads alike): it is not this outage's to carry on.
        journal = Journal(data_dir / "journal.sqlite3")
        try:
            other = journal.add(SETTINGS, stage=Stage.ATTENTION, job_id="b" * 8,
                                error=first.error, action=Action.RETRY)
        finally:
            journal.close()
        down = False
        carried = await until(engine, generation.id, done)
        await asyncio.sleep(0.05)  # a wrong carry-on of the other row would show by now
        left = engine.get(other.id)
        await engine.stop()
        assert left is not None
        return first, carried, left

    first, carried, left = run(scenario())
    assert first.action is Action.RETRY
    assert first.stop_cause is StopCause.API_UNREACHABLE
    assert "reach apiframe" in (first.error or "")
    assert carried.stop_cause is None
    assert carried.error is None
    assert left.stage is Stage.ATTENTION
    assert left.stop_cause is None
    assert (left.error, left.action) == (first.error, Action.RETRY)
    assert scripted_server.seen(f"GET /v2/jobs/{left.job_id}") == []  # never followed
    assert len(scripted_server.seen(GENERATE)) == 1  # carried on, never paid twice


def test_rows_an_earlier_run_stopped_for_an_unreachable_apiframe_carry_on_when_it_answers(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path,
) -> None:
    """Quit while offline, started again online: before, the rows kept saying 'Can't reach
    apiframe' (their outage's banner went with the earlier run) until Retry was pressed."""
    job_id = "3f1c2a4e-0000-4000-8000-00000000beef"
    scripted_server.jobs[job_id] = job(job_id, "QUEUED", result=None)
    journal = Journal(data_dir / "journal.sqlite3")
    try:
        paid = journal.add(SETTINGS, job_id=job_id, credit_cost=8, submitted_at=time.time())
        paid = journal.update(paid.id, stage=Stage.ATTENTION, action=Action.RETRY,
                              error="Can't reach apiframe — check your internet connection.",
                              stop_cause=StopCause.API_UNREACHABLE)
    finally:
        journal.close()

    async def scenario() -> Generation:
        engine = scripted_engine()
        await engine.start()
        row = await until(engine, paid.id, done)
        await engine.stop()
        return row

    row = run(scenario())
    assert row.job_id == job_id
    assert scripted_server.seen(GENERATE) == []  # followed, never sent again


def test_the_stop_cause_lives_in_the_row_and_goes_with_its_error(data_dir: Path) -> None:
    """No new column or schema version: kept in the settings JSON, cleared by the next error
    written without one, and a cause this version doesn't know reads as none."""
    journal = Journal(data_dir / "journal.sqlite3")
    try:
        row = journal.add(SETTINGS)
        row = journal.update(row.id, stage=Stage.ATTENTION, error="x", action=Action.RETRY,
                             stop_cause=StopCause.CDN_UNREACHABLE)
        assert journal.get(row.id).stop_cause is StopCause.CDN_UNREACHABLE  # type: ignore[union-attr]
        assert row.settings == SETTINGS
        assert journal.update(row.id, progress=5).stop_cause is StopCause.CDN_UNREACHABLE
        assert journal.update(row.id, error="y").stop_cause is None
        journal._db.execute(  # a newer version's cause
            "UPDATE generations SET settings_json = json_set(settings_json, '$.stop', 'solar')")
        assert journal.get(row.id).stop_cause is None  # type: ignore[union-attr]
        assert journal.get(row.id).settings == SETTINGS  # type: ignore[union-attr]
        columns = [c[1] for c in journal._db.execute("PRAGMA table_info(generations)")]
        assert "stop_cause" not in columns
    finally:
        journal.close()


def cdn_links(api: ScriptedServer, cdn_port: int) -> None:
    """apiframe answers every poll with COMPLETED and a fresh signed link on the CDN."""
    serial = iter(range(1, 1000))

    def completed(request: Request) -> Reply:
        job_id = request.path.rsplit("/", 1)[1]
        url = f"http://127.0.0.1:{cdn_port}/cdn/{job_id}.mp4?sig={next(serial)}"
        return Reply(json=job(job_id, "COMPLETED", result={"videoUrl": url}))

    api.on(POLL, completed)


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_paid_video_waiting_for_an_unreachable_cdn_downloads_once_it_answers(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer,
) -> None:
    """Before: the row stopped with 'The connection to the video server broke. Retry…' and
    stayed so until the person pressed Retry, though the CDN was back."""
    port = closed_port()
    cdn_links(scripted_server, port)

    async def scenario() -> tuple[Generation, Generation, ScriptedServer]:
        engine = scripted_engine()
        await engine.start()
        generation = engine.submit(SETTINGS)
        waiting = await until(engine, generation.id, stopped)
        # Back, but the link the row holds has expired meanwhile (the CDN refuses it).
        cdn = ScriptedServer(port=port)
        cdn.on("GET /cdn/*", lambda r: Reply(403) if r.query.get("sig") == ["1"] else None)
        with cdn:
            carried = await until(engine, generation.id, done)
            await engine.stop()
        return waiting, carried, cdn

    waiting, carried, cdn = run(scenario())
    assert waiting.action is Action.RETRY
    assert waiting.stop_cause is StopCause.CDN_UNREACHABLE
    assert waiting.job_id
    assert waiting.video_url
    error = waiting.error or ""
    assert "Waiting for the video server" in error
    assert "127.0.0.1" in error
    assert "carries on by itself" in error
    assert "won't be charged again" in error
    assert carried.video_path
    assert Path(carried.video_path).read_bytes()[4:8] == b"ftyp"
    assert "sig=1" not in (carried.video_url or "")  # a fresh link from the job
    assert len(scripted_server.seen(GENERATE)) == 1  # the job was never sent again
    downloads = [r for r in cdn.seen("GET /cdn/*") if r.headers.get("range") != "bytes=0-0"]
    assert [r.query["sig"] for r in downloads] == [["1"], ["2"]]


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_cdn_that_answers_but_never_sends_the_video_stops_carrying_on_after_a_few_times(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer,
) -> None:
    """The CDN answers a check but hangs up on every download: the row carries on a few
    times, then waits for the person, and says so (no promise it can't keep)."""
    port = closed_port()
    cdn_links(scripted_server, port)

    def hang_up(request: Request) -> Reply | None:
        return None if request.headers.get("range") == "bytes=0-0" else Reply(drop=True)

    async def scenario() -> tuple[Generation, int]:
        engine = scripted_engine(backoff=Backoff(base=0.01, cap=0.02, attempts=2))
        await engine.start()
        with ScriptedServer(port=port) as cdn:
            cdn.on("GET /cdn/*", hang_up)
            generation = engine.submit(SETTINGS)

            def settled_for_good(row: Generation) -> bool:
                return stopped(row) and "Retry it when" in (row.error or "")

            row = await until(engine, generation.id, settled_for_good, timeout=30)
            await asyncio.sleep(0.1)  # no further carry-on comes (the watch has ended)
            assert engine.get(generation.id) == row
            checks = len([r for r in cdn.seen("GET /cdn/*")
                          if r.headers.get("range") == "bytes=0-0"])
            await engine.stop()
        return row, checks

    row, checks = run(scenario())
    assert row.stop_cause is StopCause.CDN_UNREACHABLE
    assert "carries on by itself" not in (row.error or "")
    assert checks == BACK_ONLINE_CARRY_ONS
    assert len(scripted_server.seen(GENERATE)) == 1
