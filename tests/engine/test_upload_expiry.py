"""An upload past apiframe's `expiresAt` is uploaded again before a POST is sent again (contract
§5, §15.4: uploads live 1-2 h), and that never makes a second job. The simulator reaps uploads
after 2 s here, so the Retry comes "hours" later in a few seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.simulator import FaultPlan, Simulator
from tests.conftest import run
from tests.engine.conftest import EngineFactory
from tests.engine.test_engine import settle

KEY = "afk_test"
UPLOAD_SECONDS = 2.0


def uploads(sim: Simulator) -> int:
    return sum(1 for r in sim.requests if r.path == "/v2/uploads" and r.status == 201)


def retry_after_the_upload_expired(make_engine: EngineFactory, sim: Simulator,
                                   png: Path) -> Generation:
    """Every POST of the first attempt fails (as `sim.faults` says), the generation waits for
    the person; they press Retry once apiframe has reaped the upload."""

    async def scenario() -> Generation:
        engine = make_engine(sim=sim)
        await engine.start()
        generation = engine.submit(GenerationSettings("a kite", image_path=str(png), seed=3))
        (stuck,) = await settle(engine, [generation.id])
        assert stuck.stage is Stage.ATTENTION, stuck
        assert stuck.submitted_at is not None  # a POST may have left: Retry sends it again
        await asyncio.sleep(UPLOAD_SECONDS + 0.3)  # apiframe reaps the upload meanwhile
        sim.faults = FaultPlan()
        engine.retry(generation.id)
        (row,) = await settle(engine, [generation.id])
        await engine.stop()
        return row

    return run(scenario())


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_post_sent_again_after_the_upload_expired_uploads_the_image_again(
    make_simulator: Callable[..., Simulator], make_engine: EngineFactory, png: Path
) -> None:
    sim = make_simulator(upload_ttl_seconds=UPLOAD_SECONDS,
                         faults=FaultPlan(error_next=1000, error_statuses=(503,),
                                          routes={"generate"}))
    start = sim.credits(KEY)
    row = retry_after_the_upload_expired(make_engine, sim, png)
    # Before: the old link went out again, apiframe couldn't fetch the image, the job FAILED.
    assert row.stage is Stage.DONE, (row.stage, row.error)
    assert uploads(sim) == 2
    assert sim.jobs_created(KEY) == 1
    assert start - sim.credits(KEY) == 8


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_when_the_first_post_did_reach_apiframe_its_job_is_followed_not_paid_again(
    make_simulator: Callable[..., Simulator], make_engine: EngineFactory, png: Path
) -> None:
    # The first POST makes the job, but no answer ever comes back: the key is apiframe's only
    # trace of it. After the new upload the body differs: 409, and the earlier body gets it.
    sim = make_simulator(upload_ttl_seconds=UPLOAD_SECONDS,
                         faults=FaultPlan(lose_response_next=1000, routes={"generate"}))
    start = sim.credits(KEY)
    row = retry_after_the_upload_expired(make_engine, sim, png)
    assert row.stage is Stage.DONE, (row.stage, row.error)
    # At least once more: on a loaded machine the first attempt's own sends can outlast the
    # 2 s upload too (each then re-uploads, and draws a 409).
    assert uploads(sim) >= 2
    assert sim.jobs_created(KEY) == 1
    assert row.job_id == sim.job_ids(KEY)[0]
    assert start - sim.credits(KEY) == 8
    conflicts = [r for r in sim.requests if r.path == "/v2/videos/generate" and r.status == 409]
    assert conflicts


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_job_made_from_an_older_upload_than_the_last_is_followed_not_paid_again(
    make_simulator: Callable[..., Simulator], make_engine: EngineFactory, png: Path
) -> None:
    """The first POST made the job (its answer lost); a Retry after the upload expired sent
    a body with a new image link, whose 409 was lost too; a second Retry, after that upload
    expired as well, re-sent only the body before it — which apiframe never stored either:
    409 again, and the row told the person to submit it again as a new generation (a second
    payment beside the first job). Any 409 proves a job was made with this key: it is found
    in apiframe's history and followed."""
    sim = make_simulator(upload_ttl_seconds=UPLOAD_SECONDS,
                         faults=FaultPlan(lose_response_next=1000, routes={"generate"}))
    start = sim.credits(KEY)

    async def scenario() -> Generation:
        engine = make_engine(sim=sim)
        await engine.start()
        generation = engine.submit(GenerationSettings("a kite", image_path=str(png), seed=3))
        for faults in (FaultPlan(lose_response_next=1000, routes={"generate"}), FaultPlan()):
            (stuck,) = await settle(engine, [generation.id])
            assert stuck.stage is Stage.ATTENTION, stuck
            await asyncio.sleep(UPLOAD_SECONDS + 0.3)  # apiframe reaps the upload meanwhile
            sim.faults = faults
            engine.retry(generation.id)
        (row,) = await settle(engine, [generation.id])
        await engine.stop()
        return row

    row = run(scenario())
    assert row.stage is Stage.DONE, (row.stage, row.error)
    assert sim.jobs_created(KEY) == 1
    assert row.job_id == sim.job_ids(KEY)[0]
    assert start - sim.credits(KEY) == 8
