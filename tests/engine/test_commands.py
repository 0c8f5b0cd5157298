"""The typed command service does what the lifecycle table says, in every stage, and a running
generation in SUBMITTING or DOWNLOADING can be stopped or removed against a real server."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from runway_desktop.engine import lifecycle_table as table
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.events import EngineEvent, GenerationRemoved
from runway_desktop.engine.lifecycle_table import Command, Stage
from runway_desktop.engine.records import Action, Generation, GenerationSettings
from runway_desktop.engine.scheduler import Engine
from tests.conftest import run
from tests.engine.conftest import EngineFactory
from tests.helpers.scripted_server import Reply, ScriptedServer

SETTINGS = GenerationSettings("a kite over dunes", seed=7)

# A row in each stage with the facts it has there (a job once the server has it, …).
ROWS: dict[Stage, dict[str, object]] = {
    Stage.PENDING: {},
    Stage.PREPARING: {},
    Stage.UPLOADING: {},
    Stage.SUBMITTING: {"submitted_at": 1.0},
    Stage.QUEUED: {"submitted_at": 1.0, "job_id": "job-q", "credit_cost": 8},
    Stage.PROCESSING: {"submitted_at": 1.0, "job_id": "job-p", "credit_cost": 8},
    Stage.DOWNLOADING: {"submitted_at": 1.0, "job_id": "job-d", "credit_cost": 8,
                        "video_url": "https://cdn.example/d.mp4"},
    Stage.DONE: {"submitted_at": 1.0, "job_id": "job-done", "credit_cost": 8},
    Stage.FAILED: {"submitted_at": 1.0, "job_id": "job-f", "credit_cost": 0},
    Stage.ATTENTION: {"action": Action.RETRY},
    Stage.CANCELLED: {},
    Stage.ABANDONED: {"submitted_at": 1.0, "job_id": "job-a", "credit_cost": 8},
}


def journaled(engine: Engine, stage: Stage) -> Generation:
    return engine.journal.add(SETTINGS, stage=stage, **ROWS[stage])


@pytest.mark.parametrize("stage", list(Stage))
@pytest.mark.parametrize("command", [Command.CANCEL, Command.STOP_FOLLOWING, Command.RETRY,
                                     Command.REMOVE, Command.REORDER, Command.REDOWNLOAD])
def test_each_command_does_what_the_table_says(make_engine: EngineFactory, stage: Stage,
                                               command: Command) -> None:
    engine = make_engine()  # not started: the journal and the table only, nothing runs
    service = GenerationService(engine)
    row = journaled(engine, stage)
    other = engine.journal.add(GenerationSettings("another", seed=1))
    transition = table.step(row, command)
    removed: list[int] = []
    service.subscribe(lambda e: removed.append(e.generation_id)
                      if isinstance(e, GenerationRemoved) else None)
    made_before = {g.id for g in service.generations()}

    act = {
        Command.CANCEL: lambda: service.cancel([row.id]),
        Command.STOP_FOLLOWING: lambda: service.stop_following(row.id),
        Command.RETRY: lambda: service.retry(row.id),
        Command.REMOVE: lambda: service.remove(row.id),
        Command.REORDER: lambda: service.reorder(other.id, row.id),
        Command.REDOWNLOAD: lambda: service.redownload(row.id),
    }[command]
    act()

    after = service.get(row.id)
    made = [g for g in service.generations() if g.id not in made_before]
    if transition is None:
        if command is Command.STOP_FOLLOWING and table.step(row, Command.CANCEL):
            assert after is not None
            assert after.stage is Stage.CANCELLED  # nothing charged
        elif command is not Command.REORDER:
            assert after == row  # a command the table doesn't offer changes nothing
        assert not made
    elif transition.removes:
        assert after is None
        assert removed == [row.id]
    elif table.Effect.SUBMIT_COPY in transition.effects:
        assert after is not None
        assert after.stage is stage
        assert [g.settings for g in made] == [row.settings]  # a new generation, same settings
    else:
        assert after is not None
        assert after.stage is transition.target(row)
        assert not made
    assert Command.REMOVE in service.allowed(row)


@pytest.mark.parametrize("stage", [Stage.SUBMITTING, Stage.DOWNLOADING])
@pytest.mark.parametrize("way_out", [Command.STOP_FOLLOWING, Command.REMOVE])
def test_a_running_submit_or_download_can_be_left(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, stage: Stage,
    way_out: Command, output_dir: Path,
) -> None:
    """The POST (or the video) never answers: the person can still stop following it or remove
    it, at once; nothing is submitted again."""
    if stage is Stage.SUBMITTING:
        scripted_server.script("POST /v2/videos/generate", Reply(hang=True))
    else:
        scripted_server.script("GET /cdn/*.mp4", Reply(hang=True))
    seen: list[Stage] = []

    async def scenario() -> Generation | None:
        engine = scripted_engine()
        service = GenerationService(engine)

        def watch(event: EngineEvent) -> None:
            generation = getattr(event, "generation", None)
            if generation is not None:
                seen.append(generation.stage)

        service.subscribe(watch)
        await engine.start()
        g = service.submit(SETTINGS)
        deadline = time.monotonic() + 10
        while service.get(g.id).stage is not stage:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, seen
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the request is in flight
        row = service.get(g.id)
        assert row is not None
        assert {Command.STOP_FOLLOWING, Command.REMOVE} <= service.allowed(row)
        assert Command.CANCEL not in service.allowed(row)
        if way_out is Command.STOP_FOLLOWING:
            service.stop_following(g.id)
        else:
            service.remove(g.id)
        assert not engine.busy  # its work stopped at once
        after = service.get(g.id)
        await engine.stop()
        return after

    after = run(scenario())
    if way_out is Command.REMOVE:
        assert after is None
    else:
        assert after is not None
        assert after.stage is Stage.ABANDONED
        assert Command.RETRY in table.allowed_commands(after)
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 1
    assert not list(output_dir.glob("*.mp4"))


def test_retry_waiting_carries_on_what_waits_for_retry_only(make_engine: EngineFactory) -> None:
    engine = make_engine()
    service = GenerationService(engine)
    retry = journaled(engine, Stage.ATTENTION)
    edit = engine.journal.add(SETTINGS, stage=Stage.ATTENTION, action=Action.EDIT_INPUT)
    hidden = engine.journal.add(SETTINGS, stage=Stage.ATTENTION, action=Action.RETRY)
    assert service.retry_waiting(skip=lambda gid: gid == hidden.id) == 1
    stages = {g.id: g.stage for g in service.generations()}
    assert stages == {retry.id: Stage.PENDING, edit.id: Stage.ATTENTION,
                      hidden.id: Stage.ATTENTION}


def test_redownload_fetches_a_missing_file_again_without_a_new_job(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer,
) -> None:
    async def scenario() -> tuple[Generation, Generation]:
        engine = scripted_engine()
        service = GenerationService(engine)
        await engine.start()
        g = service.submit(SETTINGS)
        (done,) = await asyncio.wait_for(service.wait_settled([g.id]), 20)
        assert Command.REDOWNLOAD not in service.allowed(done)  # the file is there
        Path(done.video_path or "").unlink()
        assert Command.REDOWNLOAD in service.allowed(done)
        service.redownload(g.id)
        (again,) = await asyncio.wait_for(service.wait_settled([g.id]), 20)
        await engine.stop()
        return done, again

    done, again = run(scenario())
    assert again.stage is Stage.DONE
    assert again.job_id == done.job_id
    assert Path(again.video_path or "").read_bytes()[4:8] == b"ftyp"
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 1


def test_the_service_reads_what_the_window_needs(make_engine: EngineFactory) -> None:
    engine = make_engine()
    service = GenerationService(engine)
    done = dataclasses.replace(journaled(engine, Stage.DONE))
    waiting = journaled(engine, Stage.PENDING)
    assert [g.id for g in service.without_thumbnail()] == [done.id]
    assert [g.id for g in service.unfinished()] == [waiting.id]
    assert service.has_api_key


def test_a_failure_sent_again_shows_its_copy_instead_of_paying_again(
        make_engine: EngineFactory) -> None:
    """Retry of a failure apiframe refunded sends it anew once: the row keeps the link (in its
    settings JSON, through a reopen), and its Retry shows the copy from then on instead of
    paying a second time; once the copy is removed, Retry may send anew."""
    engine = make_engine()  # not started: the journal and the table only
    service = GenerationService(engine)
    failed = journaled(engine, Stage.FAILED)
    assert table.allowed_commands(failed) >= {Command.RETRY, Command.COPY_PROMPT}
    copy = service.retry(failed.id)
    assert copy.id != failed.id
    row = service.get(failed.id)
    assert row is not None
    assert row.sent_again_as == copy.id
    assert row.stage is Stage.FAILED
    assert row.settings == failed.settings
    assert Command.RETRY not in service.allowed(row)
    assert Command.SHOW_SENT_AGAIN in service.allowed(row)
    made_before = len(service.generations())
    assert service.retry(failed.id) == service.get(copy.id)  # sends nothing: gives the copy
    assert len(service.generations()) == made_before
    assert service.sent_again(failed.id) == service.get(copy.id)
    # Other writes (an error, a favourite) keep the link.
    engine.journal.update(failed.id, error="apiframe failed it (refunded)", favourite=True)
    assert service.get(failed.id).sent_again_as == copy.id  # type: ignore[union-attr]
    service.remove(copy.id)
    row = service.get(failed.id)
    assert row is not None
    assert row.sent_again_as is None
    assert Command.RETRY in service.allowed(row)
    assert service.sent_again(failed.id) is None


@pytest.mark.parametrize("command", ["cancel", "stop_following"])
def test_a_command_never_writes_over_a_send_made_elsewhere_meanwhile(
        make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    """The window (another process) sends a waiting generation between this process's read of
    the row and its write: the POST may have left and been charged. A 'cancelled' written over
    'submitting' freed its lease, so the sender's next write (the job id) failed and the paid
    job was lost from the history. The command's write is made only if the row is still where
    it was read: cancel then cancels nothing, and stop following (Remove's first step) stops
    following the send it now is (Retry follows it again)."""
    from runway_desktop.engine.journal import Journal

    engine = make_engine()  # not started: the journal and the table only
    service = GenerationService(engine)
    row = journaled(engine, Stage.UPLOADING)
    window = Journal(engine.journal.path)  # the other process's connection
    read = Journal.get
    sent: list[int] = []

    def sent_by_the_window_right_after(self: Journal, generation_id: int) -> Generation | None:
        seen = read(self, generation_id)
        if self is engine.journal and not sent:
            sent.append(generation_id)
            window.update(generation_id, stage=Stage.SUBMITTING, submitted_at=time.time())
        return seen

    monkeypatch.setattr(Journal, "get", sent_by_the_window_right_after)
    monkeypatch.setattr(Journal, "require", lambda self, i: read(self, i))
    try:
        if command == "cancel":
            assert service.cancel([row.id]) == 0
            after = service.get(row.id)
            assert after is not None
            assert after.stage is Stage.SUBMITTING  # the window carries on: its job is kept
        else:
            getattr(service, command)(row.id)
            after = read(engine.journal, row.id)
            if command == "stop_following":
                assert after is not None
                assert after.stage is not Stage.CANCELLED  # not "nothing charged"
                assert table.step(after, Command.RETRY) is not None  # followed again at will
    finally:
        window.close()
    assert sent == [row.id]


def test_a_refunded_failure_retried_in_two_processes_at_once_is_sent_again_once(
        make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window and `runway-desktop retry` (two processes, two engines on one history) retry
    the same refunded failure at the same moment: the window's copy is journaled between the
    command's read of the failed row and its own send. Each journaled a copy (two new paid
    jobs) and the link kept the last; now the copy and the link are one write, made only if
    the row has no copy yet: the command sends nothing and gives the window's copy."""
    from runway_desktop.engine.journal import Journal

    window, command = GenerationService(make_engine()), GenerationService(make_engine())
    failed = journaled(window._engine, Stage.FAILED)
    read = Journal.require
    sent_by_the_window: list[Generation] = []

    def window_retries_right_after(self: Journal, generation_id: int) -> Generation:
        seen = read(self, generation_id)
        if self is command._journal and not sent_by_the_window:
            sent_by_the_window.append(window.retry(failed.id))
        return seen

    monkeypatch.setattr(Journal, "require", window_retries_right_after)
    given = command.retry(failed.id)
    monkeypatch.undo()
    assert [g.id for g in sent_by_the_window] == [given.id]
    rows = command.generations()
    assert len(rows) == 2  # the failure and one copy: paid once
    assert command.get(failed.id).sent_again_as == given.id  # type: ignore[union-attr]
