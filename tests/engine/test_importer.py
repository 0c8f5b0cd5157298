"""`import` against the misbehaving-server fixture: rows whose POST answer was lost get their job
back, what it brings saves into the chosen folder, removed jobs stay removed, and a job no
longer followed can be imported later (issue 10 measured 3, issue 12 defect 4)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.importer import ImportPlan, ImportResult
from runway_desktop.engine.journal import SCHEMA_VERSION, Journal
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.engine.scheduler import Engine
from tests.conftest import run
from tests.engine.conftest import EngineFactory
from tests.helpers.old_journal import old_schema
from tests.helpers.scripted_server import Reply, ScriptedServer, job

SETTINGS = GenerationSettings("a heron lands on ice", seed=4242, duration=10,
                              aspect_ratio="9:16")
GENERATE = "POST /v2/videos/generate"
LIST = "GET /v2/jobs"
VIDEO = "GET /cdn/*.mp4"
JOB_ID = "7d0c2a4e-0000-4000-8000-0000000c0ffe"


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def listed(server: ScriptedServer, job_id: str, settings: GenerationSettings, created: float,
           status: str = "COMPLETED", **extra: Any) -> dict[str, Any]:
    """A job as `GET /v2/jobs` lists it, echoing the input it was made with."""
    server.jobs[job_id] = job(job_id, "QUEUED", result=None)
    result = {"videoUrl": server.video_url(job_id)} if status == "COMPLETED" else None
    return job(job_id, status, result=result, createdAt=iso(created), model=settings.model,
               input={"model": settings.model, "prompt": settings.prompt,
                      "runwayParams": {"seed": settings.seed, "duration": settings.duration,
                                       "aspect_ratio": settings.aspect_ratio}}, **extra)


def serve_list(server: ScriptedServer, *jobs: dict[str, Any]) -> None:
    server.on(LIST, lambda _req: Reply(json={"jobs": list(jobs), "nextCursor": None,
                                              "hasMore": False}))


async def settle(engine: Engine, ids: list[int]) -> list[Generation]:
    return await asyncio.wait_for(engine.wait_settled(ids), 20)


def is_mp4(path: str | None) -> bool:
    return bool(path) and Path(path).read_bytes()[4:8] == b"ftyp"  # type: ignore[arg-type]


# -- 1. a POST whose answer was lost -----------------------------------------------------------

@pytest.mark.parametrize("stage", [Stage.ATTENTION, Stage.ABANDONED])
def test_import_gives_a_row_whose_post_answer_was_lost_its_job(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path,
    tmp_path: Path, stage: Stage,
) -> None:
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    submitted = time.time() - 30
    journal = Journal(data_dir / "journal.sqlite3")
    row = journal.add(SETTINGS, stage=stage, submitted_at=submitted, output_dir=str(chosen),
                      error="Couldn't reach apiframe", action=Action.RETRY)
    journal.close()
    # The POST reached the server (which keeps its key), the answer never came back.
    scripted_server._by_key[row.idempotency_key] = JOB_ID
    serve_list(scripted_server, listed(scripted_server, JOB_ID, SETTINGS, submitted + 2))

    async def scenario() -> tuple[int, Generation, list[Generation]]:
        engine = scripted_engine()
        await engine.start()
        added = await engine.import_remote_jobs()
        await settle(engine, [row.id])
        retried = engine.retry(row.id)  # nothing left to do: never an IntegrityError
        rows = engine.generations()
        await engine.stop()
        return added, retried, rows

    added, after, rows = run(scenario())
    assert added == 0  # the row's own job, never an "(imported)" copy
    assert [g.id for g in rows] == [row.id]
    assert after.stage == Stage.DONE, after.error
    assert after.job_id == JOB_ID
    assert after.settings == SETTINGS  # its own seed and settings, not seed 0
    assert after.video_path
    assert Path(after.video_path).parent == chosen
    assert is_mp4(after.video_path)
    assert scripted_server.seen(GENERATE) == []


def test_a_job_with_other_input_or_far_in_time_is_not_taken_for_the_lost_one(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path,
) -> None:
    submitted = time.time() - 3600
    journal = Journal(data_dir / "journal.sqlite3")
    row = journal.add(SETTINGS, stage=Stage.ATTENTION, submitted_at=submitted)
    journal.close()
    other_seed = GenerationSettings(SETTINGS.prompt, seed=1, model=SETTINGS.model)
    serve_list(scripted_server,
               listed(scripted_server, "a" * 8 + JOB_ID[8:], other_seed, submitted + 1),
               listed(scripted_server, "b" * 8 + JOB_ID[8:], SETTINGS, submitted + 3 * 3600))

    async def scenario() -> tuple[int, Generation]:
        engine = scripted_engine()
        await engine.start()
        added = await engine.import_remote_jobs()
        mine = engine.get(row.id)
        await engine.stop()
        assert mine is not None
        return added, mine

    added, mine = run(scenario())
    assert added == 2
    assert mine.job_id is None
    assert mine.stage == Stage.ATTENTION


# -- 2. into the chosen folder -------------------------------------------------------------------

def test_import_saves_into_the_folder_given(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, tmp_path: Path,
    output_dir: Path,
) -> None:
    chosen = tmp_path / "given"
    chosen.mkdir()
    serve_list(scripted_server, listed(scripted_server, JOB_ID, SETTINGS, time.time() - 60))

    async def scenario() -> Generation:
        engine = scripted_engine()
        await engine.start()
        result = await GenerationService(engine).import_jobs(output_dir=chosen)
        assert result.added == 1
        [new] = engine.generations()
        [done] = await settle(engine, [new.id])
        await engine.stop()
        return done

    done = run(scenario())
    assert done.stage == Stage.DONE, done.error
    assert done.video_path
    assert Path(done.video_path).parent == chosen
    assert done.settings.seed == SETTINGS.seed
    assert not any(output_dir.iterdir())


# -- 3. removed jobs stay removed ----------------------------------------------------------------

def test_a_removed_job_is_not_downloaded_again_by_a_later_import(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer,
) -> None:
    serve_list(scripted_server, listed(scripted_server, JOB_ID, SETTINGS, time.time() - 60))

    async def scenario() -> tuple[ImportPlan, ImportResult]:
        engine = scripted_engine()
        await engine.start()
        service = GenerationService(engine)
        await service.import_jobs()
        [new] = engine.generations()
        await settle(engine, [new.id])
        service.remove(new.id, delete_file=True)
        plan = await service.plan_import()
        result = service.import_planned(plan)
        await settle(engine, [g.id for g in engine.generations()])
        await engine.stop()
        return plan, result

    downloads_before = len(scripted_server.seen(VIDEO))
    plan, result = run(scenario())
    assert (result.added, result.skipped_removed) == (0, 1)
    assert (plan.jobs, plan.videos, plan.skipped_removed) == (0, 0, 1)
    assert len(scripted_server.seen(VIDEO)) - downloads_before == 1  # the first import only


def test_clear_finished_keeps_its_jobs_out_of_later_imports(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer,
) -> None:
    serve_list(scripted_server, listed(scripted_server, JOB_ID, SETTINGS, time.time() - 60))

    async def scenario() -> ImportPlan:
        engine = scripted_engine()
        await engine.start()
        service = GenerationService(engine)
        await service.import_jobs()
        [new] = engine.generations()
        await settle(engine, [new.id])
        assert service.clear_finished() == 1
        plan = await service.plan_import()
        await engine.stop()
        return plan

    assert run(scenario()).skipped_removed == 1


def test_a_v5_journal_gains_the_removed_jobs_record(data_dir: Path) -> None:
    path = data_dir / "journal.sqlite3"
    db = old_schema(path, 5)  # a journal as version 5 wrote it
    db.execute("INSERT INTO generations (settings_json, idempotency_key, stage, created_at, "
               "updated_at, job_id) VALUES (?, 'k1', 'done', 1, 2, ?)",
               (json.dumps(SETTINGS.to_json()), JOB_ID))
    db.commit()
    db.close()

    journal = Journal(path)
    try:
        version = journal._db.execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION
        (kept,) = journal.all()
        assert kept.job_id == JOB_ID
        assert kept.settings == SETTINGS
        assert journal.removed_job_ids() == set()
        journal.remove(kept.id)
        assert journal.removed_job_ids() == {JOB_ID}
    finally:
        journal.close()


# -- 5. a job no longer followed can be imported later --------------------------------------------

def test_a_job_no_longer_followed_is_imported_later_into_its_own_row(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path,
) -> None:
    submitted = time.time() - 120
    journal = Journal(data_dir / "journal.sqlite3")
    row = journal.add(SETTINGS, stage=Stage.ABANDONED, job_id=JOB_ID, credit_cost=16,
                      submitted_at=submitted, finished_at=time.time(),
                      error="No longer followed.")
    journal.close()
    serve_list(scripted_server, listed(scripted_server, JOB_ID, SETTINGS, submitted + 1))

    async def scenario() -> tuple[ImportPlan, Generation]:
        engine = scripted_engine()
        await engine.start()
        service = GenerationService(engine)
        plan = await service.plan_import()
        result = service.import_planned(plan)
        assert (result.added, result.matched) == (0, 1)
        [done] = await settle(engine, [row.id])
        await engine.stop()
        return plan, done

    plan, done = run(scenario())
    assert (plan.jobs, plan.videos) == (1, 1)
    assert done.stage == Stage.DONE, done.error
    assert is_mp4(done.video_path)
    assert done.settings == SETTINGS
    assert scripted_server.seen(GENERATE) == []


def test_import_gives_a_row_still_submitting_its_job_while_the_post_hangs(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, data_dir: Path,
) -> None:
    submitted = time.time() - 30
    journal = Journal(data_dir / "journal.sqlite3")
    row = journal.add(SETTINGS, stage=Stage.SUBMITTING, submitted_at=submitted)
    journal.close()
    scripted_server._by_key[row.idempotency_key] = JOB_ID
    scripted_server.script(GENERATE, Reply(hang=True))  # the re-sent POST never answers
    serve_list(scripted_server, listed(scripted_server, JOB_ID, SETTINGS, submitted + 2))

    async def scenario() -> tuple[int, Generation, int]:
        engine = scripted_engine()
        await engine.start()
        while not scripted_server.seen(GENERATE):  # the row is being sent again
            await asyncio.sleep(0.01)
        added = await engine.import_remote_jobs()
        [done] = await settle(engine, [row.id])
        count = len(engine.generations())
        await engine.stop()
        return added, done, count

    added, done, count = run(scenario())
    assert (added, count) == (0, 1)
    assert done.stage == Stage.DONE, done.error
    assert done.job_id == JOB_ID
    assert done.settings == SETTINGS


# -- imported rows keep the server's times and order (issue 12 defect 4) -------------------------

def test_imported_jobs_list_newest_on_top_with_the_servers_own_times(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, output_dir: Path,
) -> None:
    now = time.time()
    older, newer = "0a0c2a4e-0000-4000-8000-00000000000a", "0b0c2a4e-0000-4000-8000-00000000000b"
    # As apiframe lists them: newest first. Made 2 h and 1 h ago, each in 40 s.
    serve_list(scripted_server,
               listed(scripted_server, newer, SETTINGS, now - 3600,
                      completedAt=iso(now - 3560)),
               listed(scripted_server, older, SETTINGS, now - 7200,
                      completedAt=iso(now - 7160)))

    async def scenario() -> list[Generation]:
        engine = scripted_engine()
        await engine.start()
        await GenerationService(engine).import_jobs()
        done = await settle(engine, [g.id for g in engine.generations()])
        await engine.stop()
        return done

    done = {g.job_id: g for g in run(scenario())}
    assert {g.stage for g in done.values()} == {Stage.DONE}
    # The newer job is the newer row: above the older one in the queue, like any generation.
    assert done[newer].position > done[older].position
    assert done[newer].id > done[older].id
    for job_id, made in ((newer, now - 3600), (older, now - 7200)):
        row = done[job_id]
        assert row.submitted_at == pytest.approx(made, abs=1)
        # Finished when the server finished it, not when this import downloaded it: the queue
        # shows 0:40, not the hours since, and the gallery files it under that day.
        assert row.finished_at == pytest.approx(made + 40, abs=1)
