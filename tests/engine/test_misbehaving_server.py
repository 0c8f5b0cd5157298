"""The engine against a server that misbehaves in ways the faithful simulator never does.

Each test scripts the misbehaviour on the loopback `scripted_server` (tests/helpers) and checks
that no paid video is lost, nothing is paid twice, every wait is bounded and the person is told.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runway_desktop import api
from runway_desktop.engine.events import (
    GenerationUpdated,
    ProblemChanged,
    ProblemKind,
)
from runway_desktop.engine.journal import Journal, JournalError, journal_error
from runway_desktop.engine.lifecycle import (
    LEGACY_NO_LINK,
    NO_LINK_YET,
    RATE_LIMITED_TOO_LONG,
    EngineConfig,
)
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.engine.retry import Backoff, PollSchedule
from runway_desktop.engine.scheduler import Engine
from tests.conftest import run
from tests.engine.conftest import FAST_BACKOFF, FAST_POLL, EngineFactory
from tests.helpers.scripted_server import Reply, Request, ScriptedServer, job
from tests.helpers.small_disk import fill, tmpfs

SETTINGS = GenerationSettings("a kite over dunes", seed=7)
GENERATE = "POST /v2/videos/generate"
POLL = "GET /v2/jobs/*"
VIDEO = "GET /cdn/*.mp4"


def is_mp4(path: str | None) -> bool:
    return bool(path) and Path(path).read_bytes()[4:8] == b"ftyp"  # type: ignore[arg-type]


def job_id_of(request: Request) -> str:
    return request.path.rsplit("/", 1)[1]


async def settle(engine: Engine, ids: list[int], timeout: float = 20) -> list[Generation]:
    return await asyncio.wait_for(engine.wait_settled(ids), timeout)


def journaled_job(data_dir: Path, server: ScriptedServer, **fields: object) -> tuple[int, str]:
    """A generation an earlier run already submitted (its job exists on the server)."""
    job_id = "3f1c2a4e-0000-4000-8000-00000000beef"
    server.jobs[job_id] = job(job_id, "QUEUED", result=None)
    journal = Journal(data_dir / "journal.sqlite3")
    try:
        generation = journal.add(SETTINGS, stage=Stage.QUEUED, job_id=job_id, credit_cost=8,
                                 submitted_at=time.time(), **fields)
    finally:
        journal.close()
    return generation.id, job_id


# -- 1. COMPLETED without a video link ---------------------------------------------------------

def test_completed_without_a_link_keeps_polling_until_the_link_comes(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    answered: list[int] = []

    def no_link_at_first(request: Request) -> Reply | None:
        answered.append(1)
        if len(answered) <= 3:
            return Reply(json=job(job_id_of(request), "COMPLETED", result=None))
        return None  # then the link, as the default answers

    scripted_server.on(POLL, no_link_at_first)
    stages: list[Stage] = []

    async def scenario() -> Generation:
        engine = scripted_engine()
        engine.subscribe(lambda e: stages.append(e.generation.stage)
                         if isinstance(e, GenerationUpdated) else None)
        await engine.start()
        generation = engine.submit(SETTINGS)
        [row] = await settle(engine, [generation.id])
        await engine.stop()
        return row

    row = run(scenario())
    assert row.stage == Stage.DONE, row.error
    assert is_mp4(row.video_path)
    assert Stage.FAILED not in stages
    assert len(scripted_server.seen(GENERATE)) == 1
    assert len(scripted_server.seen(POLL)) == 4


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_link_that_never_comes_asks_the_person_and_retry_never_pays_again(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    link_sent = False

    def no_link_until_fixed(request: Request) -> Reply | None:
        if link_sent:
            return None
        return Reply(json=job(job_id_of(request), "COMPLETED", result=None))

    scripted_server.on(POLL, no_link_until_fixed)

    async def scenario() -> tuple[Generation, Generation]:
        nonlocal link_sent
        engine = scripted_engine(missing_link_polls=3)
        await engine.start()
        generation = engine.submit(SETTINGS)
        [waiting] = await settle(engine, [generation.id])
        link_sent = True
        engine.retry(generation.id)
        [row] = await settle(engine, [generation.id])
        await engine.stop()
        return waiting, row

    waiting, row = run(scenario())
    assert waiting.stage == Stage.ATTENTION
    assert waiting.action == Action.RETRY
    assert waiting.error == NO_LINK_YET
    assert waiting.job_id
    polls_before_asking = [r for r in scripted_server.seen(POLL) if r.at]
    assert len(polls_before_asking) >= 4  # bounded: 1 + 3 more, then the person
    assert row.stage == Stage.DONE
    assert is_mp4(row.video_path)
    assert row.job_id == waiting.job_id
    assert len(scripted_server.seen(GENERATE)) == 1


def test_a_row_an_older_version_failed_for_a_missing_link_is_fetched_not_paid_again(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path
) -> None:
    generation_id, job_id = journaled_job(data_dir, scripted_server)
    journal = Journal(data_dir / "journal.sqlite3")
    journal.update(generation_id, stage=Stage.FAILED, error=LEGACY_NO_LINK, credit_cost=None,
                   finished_at=time.time())
    journal.close()

    async def scenario() -> Generation:
        engine = scripted_engine()
        await engine.start()  # a plain start (the CLI's `resume`, the window) picks it up
        [row] = await settle(engine, [generation_id])
        await engine.stop()
        return row

    row = run(scenario())
    assert row.stage == Stage.DONE
    assert is_mp4(row.video_path)
    assert row.job_id == job_id
    assert scripted_server.seen(GENERATE) == []


@pytest.mark.parametrize(("credit_cost", "new_jobs"), [(None, 0), (8, 0), (0, 1)])
def test_retry_of_a_failed_row_pays_again_only_when_the_server_refunded_it(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path,
    credit_cost: int | None, new_jobs: int,
) -> None:
    generation_id, _job_id = journaled_job(data_dir, scripted_server)
    journal = Journal(data_dir / "journal.sqlite3")
    journal.update(generation_id, stage=Stage.FAILED, error="gone wrong",
                   credit_cost=credit_cost, finished_at=time.time())
    journal.close()

    async def scenario() -> Generation:
        engine = scripted_engine()
        await engine.start()
        retried = engine.retry(generation_id)
        [row] = await settle(engine, [retried.id])
        await engine.stop()
        return row

    row = run(scenario())
    assert row.stage == Stage.DONE
    assert len(scripted_server.seen(GENERATE)) == new_jobs
    assert (row.id == generation_id) == (new_jobs == 0)


def test_import_fetches_a_failed_row_whose_job_the_server_completed(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path
) -> None:
    generation_id, job_id = journaled_job(data_dir, scripted_server)
    journal = Journal(data_dir / "journal.sqlite3")
    journal.update(generation_id, stage=Stage.FAILED, error="lost track of it",
                   credit_cost=None, finished_at=time.time())
    journal.close()

    async def scenario() -> tuple[int, Generation]:
        engine = scripted_engine()
        await engine.start()
        added = await engine.import_remote_jobs()
        [row] = await settle(engine, [generation_id])
        await engine.stop()
        return added, row

    added, row = run(scenario())
    assert added == 0  # the same row, not an "(imported)" copy
    assert row.stage == Stage.DONE
    assert is_mp4(row.video_path)
    assert row.job_id == job_id
    assert scripted_server.seen(GENERATE) == []


# -- 2. An expired or refused video link -----------------------------------------------------

@pytest.mark.parametrize("status", [403, 410])
def test_an_expired_link_is_refreshed_from_the_job_and_the_download_completes(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path,
    status: int,
) -> None:
    # A restart finds a row DOWNLOADING with the link an earlier run stored; it has expired.
    generation_id, job_id = journaled_job(data_dir, scripted_server)
    journal = Journal(data_dir / "journal.sqlite3")
    journal.update(generation_id, stage=Stage.DOWNLOADING,
                   video_url=f"{scripted_server.base_url}/cdn/{job_id}.mp4?sig=expired")
    journal.close()
    scripted_server.on(VIDEO, lambda r: Reply(status) if r.query.get("sig") == ["expired"]
                       else None)

    async def scenario() -> Generation:
        engine = scripted_engine()
        await engine.start()
        [row] = await settle(engine, [generation_id])
        await engine.stop()
        return row

    row = run(scenario())
    assert row.stage == Stage.DONE, row.error
    assert is_mp4(row.video_path)
    assert "sig=expired" not in (row.video_url or "")
    assert len(scripted_server.seen(POLL)) == 1
    assert len(scripted_server.seen(VIDEO)) == 2
    assert scripted_server.seen(GENERATE) == []


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_link_refused_every_time_ends_in_attention_after_a_few_fresh_ones(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    scripted_server.on(VIDEO, lambda _r: Reply(403, body=b"<html>denied</html>",
                                              headers={"Content-Type": "text/html"}))

    async def scenario() -> Generation:
        engine = scripted_engine(link_refreshes=2)
        await engine.start()
        generation = engine.submit(SETTINGS)
        [row] = await settle(engine, [generation.id])
        await engine.stop()
        return row

    row = run(scenario())
    assert row.stage == Stage.ATTENTION
    assert row.action == Action.RETRY
    assert "HTTP 403" in (row.error or "")
    assert "won't be charged again" in (row.error or "")
    assert len(scripted_server.seen(VIDEO)) == 3  # the stored link and two fresh ones
    assert len(scripted_server.seen(GENERATE)) == 1


def _html_page(_server: ScriptedServer) -> Reply:
    return Reply(200, body=b"<html>Sign in to the hotel wifi</html>",
                 headers={"Content-Type": "text/html"})


def _empty_file(_server: ScriptedServer) -> Reply:
    return Reply(200, body=b"", headers={"Content-Type": "video/mp4"})


def _unasked_range(server: ScriptedServer) -> Reply:
    size = len(server.video)
    return Reply(206, body=server.video, headers={
        "Content-Type": "video/mp4", "Content-Range": f"bytes 0-{size - 1}/{size}"})


@pytest.mark.parametrize(("first_answer", "videos"), [
    pytest.param(_html_page, 2, id="a page sent as 200"),
    pytest.param(_empty_file, 2, id="an empty file"),
    pytest.param(_unasked_range, 1, id="206 for the whole file, unasked"),
])
def test_a_first_answer_that_isnt_the_video_asks_for_a_fresh_link_and_the_video_comes(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer,
    first_answer: Callable[[ScriptedServer], Reply], videos: int,
) -> None:
    """Before: each stopped the paid video at once for the person ('isn't a video', 'refused
    the download (HTTP 206)'). A page or an empty file is now taken as a link gone wrong (a
    fresh one is asked of apiframe, as for a 403); a 206 from the first byte is the file."""
    scripted_server.on(VIDEO, lambda r: first_answer(scripted_server)
                       if r.query.get("sig") == ["1"] else None)

    async def scenario() -> Generation:
        engine = scripted_engine()
        await engine.start()
        generation = engine.submit(SETTINGS)
        [row] = await settle(engine, [generation.id])
        await engine.stop()
        return row

    row = run(scenario())
    assert row.stage == Stage.DONE, row.error
    assert is_mp4(row.video_path)
    assert len(scripted_server.seen(VIDEO)) == videos
    assert len(scripted_server.seen(POLL)) == videos  # one fresh link per wrong answer
    assert len(scripted_server.seen(GENERATE)) == 1


# -- 4. A journal that can't be written ------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real, tiny file system (tmpfs) the test can fill up. Mounting needs root."""
    with tmpfs(tmp_path / "small-disk", "size=512k") as folder:
        yield folder


@pytest.mark.expect_log_warnings(r"Stopping the queue")
def test_a_full_disk_stops_the_engine_once_with_a_clear_message(
    scripted_server: ScriptedServer, small_disk: Path, output_dir: Path
) -> None:
    path = small_disk / "journal.sqlite3"
    journal = Journal(path)
    job_id = "3f1c2a4e-0000-4000-8000-00000000beef"
    scripted_server.jobs[job_id] = job(job_id, "QUEUED", result=None)
    queued = journal.add(SETTINGS, stage=Stage.QUEUED, job_id=job_id, credit_cost=8,
                         submitted_at=time.time())
    waiting = journal.add(GenerationSettings("next one", seed=8))
    fill(small_disk)
    problems: list[ProblemChanged] = []

    async def scenario() -> BaseException:
        engine = Engine(journal, EngineConfig(
            data_dir=small_disk, output_dir=output_dir, base_url=scripted_server.base_url,
            poll=FAST_POLL, backoff=FAST_BACKOFF), "afk_test")
        engine.subscribe(lambda e: problems.append(e) if isinstance(e, ProblemChanged) else None)
        await engine.start()
        with pytest.raises(JournalError) as stopped:
            await settle(engine, [queued.id, waiting.id], timeout=10)
        await asyncio.sleep(0.3)  # long enough for a busy loop to show itself
        assert engine.halted is stopped.value
        assert not engine.busy
        await engine.stop()
        return stopped.value

    try:
        error = run(scenario())
    finally:
        journal.close()
    assert str(path) in str(error)
    assert "disk is full" in str(error)
    assert "Free some space" in str(error)
    assert len(problems) == 1
    assert problems[0].problem is not None
    assert problems[0].problem.kind == ProblemKind.JOURNAL
    assert problems[0].problem.message == str(error)
    assert len(scripted_server.requests) <= 3  # not a loop of polls
    assert scripted_server.seen(GENERATE) == []  # nothing new is paid for meanwhile
    (small_disk / "filler").unlink()
    reopened = Journal(path)  # nothing was lost: the next start carries on
    try:
        assert reopened.require(queued.id).stage == Stage.QUEUED
        assert reopened.require(queued.id).job_id == job_id
        assert reopened.require(waiting.id).stage == Stage.PENDING
    finally:
        reopened.close()


def test_journal_writes_on_a_full_disk_raise_journal_error(small_disk: Path) -> None:
    path = small_disk / "journal.sqlite3"
    journal = Journal(path)
    try:
        generation = journal.add(SETTINGS)
        fill(small_disk)

        def keep_writing() -> None:
            for progress in range(200):  # the write-ahead log grows until the disk says no
                journal.update(generation.id, progress=progress % 100, error="x" * 2000)

        with pytest.raises(JournalError) as full:
            keep_writing()
        assert isinstance(full.value.__cause__, sqlite3.Error)
        assert full.value.path == path
        assert str(path) in full.value.message
    finally:
        journal.close()


def test_a_read_only_history_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    Journal(path).close()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # a real SQLITE_READONLY
    try:
        with pytest.raises(sqlite3.OperationalError) as raw:
            db.execute("DELETE FROM generations")
    finally:
        db.close()
    error = journal_error(path, raw.value)
    assert error.path == path
    assert str(path) in error.message
    assert "read-only" in error.message
    assert "writable" in error.message


# -- 5. Retry-After: capped, shown, and never holding back paid jobs ---------------------------

@pytest.mark.parametrize("retry_after", ["100000", "Fri, 01 Jan 2100 00:00:00 GMT"])
def test_a_huge_retry_after_is_capped_and_shown_as_a_countdown(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, retry_after: str
) -> None:
    scripted_server.script(GENERATE, Reply(429, json={"error": "Too many requests"},
                                           headers={"Retry-After": retry_after}))
    problems: list[ProblemChanged] = []

    async def scenario() -> Generation:
        engine = scripted_engine(max_retry_after=0.3)
        engine.subscribe(lambda e: problems.append(e) if isinstance(e, ProblemChanged) else None)
        await engine.start()
        generation = engine.submit(SETTINGS)
        [row] = await settle(engine, [generation.id], timeout=10)
        await engine.stop()
        return row

    started = time.time()
    row = run(scenario())
    assert row.stage == Stage.DONE
    limited = [p.problem for p in problems if p.problem]
    assert [p.kind for p in limited] == [ProblemKind.RATE_LIMITED]
    assert limited[0].until is not None
    assert started < limited[0].until <= time.time() + 0.3  # the cap, not 27 hours or 2100
    assert "slow down" in limited[0].message
    assert problems[-1].problem is None  # cleared once a request went through
    posts = scripted_server.seen(GENERATE)
    assert len(posts) == 2
    assert posts[1].at - posts[0].at >= 0.25  # it did wait (the capped time)
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_submit_rate_limited_again_and_again_is_paused_with_words_that_are_true(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    scripted_server.on(GENERATE, lambda _r: Reply(429, json={"error": "Too many requests"},
                                                 headers={"Retry-After": "100000"}))

    async def scenario() -> Generation:
        engine = scripted_engine(max_retry_after=0.05,
                                 backoff=Backoff(base=0.01, cap=0.05, attempts=3))
        await engine.start()
        generation = engine.submit(SETTINGS)
        [row] = await settle(engine, [generation.id], timeout=10)
        await engine.stop()
        return row

    row = run(scenario())
    assert row.stage == Stage.ATTENTION
    assert row.action == Action.RETRY
    assert row.error == RATE_LIMITED_TOO_LONG  # not "retrying in 100,000 s"
    assert len(scripted_server.seen(GENERATE)) == 3


def test_a_garbage_retry_after_falls_back_to_our_backoff(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    scripted_server.script(GENERATE, Reply(429, json={"error": "Too many requests"},
                                           headers={"Retry-After": "soon-ish"}))

    async def scenario() -> Generation:
        engine = scripted_engine(max_retry_after=600)
        await engine.start()
        generation = engine.submit(SETTINGS)
        [row] = await settle(engine, [generation.id], timeout=10)
        await engine.stop()
        return row

    assert run(scenario()).stage == Stage.DONE
    assert len(scripted_server.seen(GENERATE)) == 2


def test_a_rate_limited_submit_never_holds_back_paid_jobs(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path
) -> None:
    paid_id, paid_job = journaled_job(data_dir, scripted_server)
    polls: list[int] = []

    def processing_for_a_while(request: Request) -> Reply | None:
        polls.append(1)
        if len(polls) <= 3:
            return Reply(json=job(job_id_of(request), "PROCESSING", result=None,
                                  progress=30 * len(polls)))
        return None

    scripted_server.on(POLL, processing_for_a_while)
    scripted_server.on(GENERATE, lambda _r: Reply(429, json={"error": "Too many requests"},
                                                 headers={"Retry-After": "600"}))

    async def scenario() -> tuple[Generation, Generation, float | None]:
        engine = scripted_engine()
        await engine.start()
        new = engine.submit(GenerationSettings("a new one", seed=9))
        [paid] = await settle(engine, [paid_id], timeout=10)
        problem = engine.problem
        waiting = engine.get(new.id)
        await engine.stop()
        assert waiting is not None
        return paid, waiting, problem.until if problem else None

    started = time.time()
    paid, waiting, until = run(scenario())
    assert paid.stage == Stage.DONE
    assert is_mp4(paid.video_path)
    assert paid.job_id == paid_job
    assert waiting.stage == Stage.SUBMITTING  # still waiting its turn, key kept
    assert len(scripted_server.seen(GENERATE)) == 1
    assert until is not None
    assert started + 590 < until < time.time() + 601  # a ten-minute countdown for the banner


# -- 6. Jobs that take far longer than usual -------------------------------------------------

@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_job_stuck_in_the_queue_is_flagged_and_polled_less_then_handed_over(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    scripted_server.on(POLL, lambda r: Reply(json=job(job_id_of(r), "QUEUED", result=None)))
    notes: list[tuple[float, str | None]] = []
    schedule = PollSchedule(first=0.02, factor=1.0, cap=0.02, slow_after=0.3,
                            slow_interval=0.4, give_up_after=1.5)

    async def scenario() -> Generation:
        engine = scripted_engine(poll=schedule)
        engine.subscribe(lambda e: notes.append((time.monotonic(), e.note))
                         if isinstance(e, GenerationUpdated) else None)
        await engine.start()
        generation = engine.submit(SETTINGS)
        [row] = await settle(engine, [generation.id], timeout=10)
        assert engine.note(generation.id) is None
        await engine.stop()
        return row

    row = run(scenario())
    flagged = [at for at, note in notes if note and "unusually long" in note]
    assert flagged, notes
    polls = scripted_server.seen(POLL)
    fast = [p for p in polls if p.at < flagged[0]]
    slow = [p for p in polls if p.at >= flagged[0]]
    assert len(fast) >= 3  # every 20 ms before
    assert 1 <= len(slow) <= 4  # every 400 ms after, for about a second
    assert row.stage == Stage.ATTENTION
    assert row.action == Action.RETRY
    assert "far longer than usual" in (row.error or "")
    assert row.job_id
    assert notes[-1][1] is None  # the remark goes with the handing over
    assert len(scripted_server.seen(GENERATE)) == 1


def test_a_poll_that_trickles_is_cut_at_the_deadline_and_polled_again(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    scripted_server.on(POLL, lambda r: Reply(json=job(job_id_of(r), "PROCESSING", result=None),
                                             trickle=0.05)
                       if len(scripted_server.seen(POLL)) == 1 else None)

    async def scenario() -> Generation:
        engine = scripted_engine(request_deadline=0.3)
        await engine.start()
        generation = engine.submit(SETTINGS)
        [row] = await settle(engine, [generation.id], timeout=10)
        await engine.stop()
        return row

    row = run(scenario())
    assert row.stage == Stage.DONE
    assert is_mp4(row.video_path)
    polls = scripted_server.seen(POLL)
    assert len(polls) == 2
    assert polls[1].at - polls[0].at < 2  # cut after 0.3 s, not after the ~15 s trickle


# -- 7. An API address the client refuses ------------------------------------------------------

@pytest.mark.parametrize("base_url", ["ftp://x", "not a url at all", "http://example.com"])
def test_a_refused_api_address_is_a_clear_error_and_leaves_nothing_locked(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, base_url: str
) -> None:
    async def start_with(url: str) -> None:
        engine = scripted_engine(base_url=url)
        await engine.start()

    async def scenario() -> None:
        with pytest.raises(api.InvalidRequestError) as refused:
            await start_with(base_url)
        assert refused.value.field == "base_url"
        assert "API address" in refused.value.message
        engine = scripted_engine()  # the next start is not told "already running"
        await engine.start()
        await engine.stop()

    run(scenario())
