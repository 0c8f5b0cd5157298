"""The engine with the model catalog: Gen-4.5 end to end, priced from apiframe's /v2/models."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from runway_desktop import api
from runway_desktop.api.catalog import BUILT_IN_CATALOG
from runway_desktop.engine.events import CatalogChanged, EngineEvent
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.scheduler import Engine
from runway_desktop.simulator import Simulator, SimulatorConfig
from tests.conftest import run
from tests.engine.conftest import EngineFactory
from tests.helpers.scripted_server import Reply, ScriptedServer

KEY = "afk_test"
PRICES = {"runway-gen4-turbo": {5: 8, 10: 15}, "runway-gen4.5": {5: 31, 10: 62}}


async def settle(engine: Engine, ids: list[int], timeout: float = 30) -> list:
    return await asyncio.wait_for(engine.wait_settled(ids), timeout)


def test_gen45_generates_and_costs_what_v2_models_says(
    make_engine: EngineFactory, png: Path, data_dir: Path
) -> None:
    with Simulator(SimulatorConfig(seconds_per_job=0.3, prices=PRICES)) as sim:
        events: list[EngineEvent] = []

        async def scenario() -> tuple[list, int | None, int | None]:
            engine = make_engine(sim=sim)
            engine.subscribe(events.append)
            before = engine.catalog.require("runway-gen4.5").price(10)
            await engine.start()
            catalog = await engine.wait_catalog()
            price = catalog.require("runway-gen4.5").price(10)
            generation = engine.submit(GenerationSettings(
                "a heron lifts off", image_path=str(png), duration=10, seed=9,
                model="runway-gen4.5"))
            assert generation.settings.price_in(engine.catalog) == 62
            rows = await settle(engine, [generation.id])
            await engine.stop()
            return rows, before, price

        start = sim.credits(KEY)
        (row,), before, price = run(scenario())
        assert before is None  # nothing cached yet: the built-in table doesn't know Gen-4.5
        assert price == 62
        assert row.stage == Stage.DONE
        assert row.settings.model == "runway-gen4.5"
        assert start - sim.credits(KEY) == 62
        assert row.credit_cost == 62
        assert sim.job(row.job_id)["model"] == "runway-gen4.5"
        body = sim.job(row.job_id)["input"]  # the request as the simulator received it
        assert (body["model"], body["runwayParams"]["duration"]) == ("runway-gen4.5", 10)
        changed = [e.catalog for e in events if isinstance(e, CatalogChanged)]
        assert [c.require("runway-gen4.5").prices for c in changed] == [{5: 31, 10: 62}]

    # The next start, offline, still knows the price (the disk cache).
    async def offline() -> int | None:
        engine = make_engine(base_url="http://127.0.0.1:9")
        return engine.catalog.require("runway-gen4.5").price(5)

    assert run(offline()) == 31


def test_the_catalog_refresh_never_holds_up_a_generation(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer, png: Path
) -> None:
    scripted_server.script("GET /v2/models", Reply(hang=True))

    async def scenario() -> list:
        engine = scripted_engine()
        await engine.start()
        generation = engine.submit(GenerationSettings(
            "a heron", image_path=str(png), model="runway-gen4.5"))
        rows = await settle(engine, [generation.id])
        catalog = engine.catalog
        await engine.stop()
        assert catalog is BUILT_IN_CATALOG  # still asking apiframe
        return rows

    (row,) = run(scenario())
    assert row.stage == Stage.DONE
    assert row.credit_cost == 8  # what the job said it cost
    (sent,) = scripted_server.seen("POST /v2/videos/generate")
    assert sent.json()["model"] == "runway-gen4.5"


@pytest.mark.expect_log_warnings(r"failed: Provider returned an error")
def test_rerun_and_retry_keep_the_model(make_engine: EngineFactory, png: Path) -> None:
    with Simulator(SimulatorConfig(seconds_per_job=0.2, prices=PRICES)) as sim:
        sim.faults.fail_jobs_next = 1

        async def scenario() -> list:
            engine = make_engine(sim=sim)
            await engine.start()
            first = engine.submit(GenerationSettings(
                "a heron", image_path=str(png), seed=3, model="runway-gen4.5"))
            (failed,) = await settle(engine, [first.id])
            assert failed.stage == Stage.FAILED  # refunded: Retry sends it anew
            retried = engine.retry(first.id)
            rerun = engine.rerun_with_new_seed(first.id)
            rows = await settle(engine, [retried.id, rerun.id])
            await engine.stop()
            return rows

        rows = run(scenario())
        assert [r.stage for r in rows] == [Stage.DONE, Stage.DONE]
        assert [r.settings.model for r in rows] == ["runway-gen4.5"] * 2
        assert {sim.job(r.job_id)["model"] for r in rows} == {"runway-gen4.5"}


def test_an_unknown_model_is_refused_before_it_is_kept(make_engine: EngineFactory) -> None:
    async def scenario() -> int:
        engine = make_engine()
        with pytest.raises(api.InvalidRequestError) as info:
            engine.submit(GenerationSettings("a heron", model="kling-v9"))
        assert info.value.field == "model"
        assert "Gen-4 Turbo, Gen-4.5" in info.value.message
        return len(engine.generations())

    assert run(scenario()) == 0


def test_an_imported_gen45_job_keeps_its_model(make_engine: EngineFactory,
                                               simulator: Simulator) -> None:
    async def scenario() -> tuple[str, str]:
        async with api.ApiClient(KEY, simulator.base_url) as client:
            accepted = await client.generate_video(
                api.GenerateVideoRequest("made elsewhere", duration=10, seed=77,
                                         model=BUILT_IN_CATALOG.require("runway-gen4.5")),
                idempotency_key="elsewhere-45")
        simulator.wait_for_job(accepted.job_id)
        engine = make_engine()
        await engine.start()
        assert await engine.import_remote_jobs() == 1
        imported = engine.journal.by_job_id(accepted.job_id)
        assert imported is not None
        (row,) = await settle(engine, [imported.id])
        rerun = engine.rerun_with_new_seed(row.id)
        (again,) = await settle(engine, [rerun.id])
        await engine.stop()
        assert (row.stage, again.stage) == (Stage.DONE, Stage.DONE)
        assert (row.settings.duration, row.settings.seed) == (10, 77)
        return row.settings.model, str(again.job_id)

    model, rerun_job = run(scenario())
    assert model == "runway-gen4.5"
    assert simulator.job(rerun_job)["model"] == "runway-gen4.5"
