"""The balance as the engine reads it: a /v2/me that leaves out the credits must not stop it."""

from __future__ import annotations

import asyncio

import pytest

from runway_desktop.engine.events import ProblemKind
from runway_desktop.engine.records import Action, GenerationSettings, Stage
from tests.conftest import run
from tests.engine.conftest import EngineFactory
from tests.helpers.scripted_server import Reply, ScriptedServer

ME_WITHOUT_CREDITS = {
    "user": {"id": "u1", "email": "t@example.com", "role": "ADMIN"},
    "team": {"id": "t1", "name": "T", "plan": "pro", "maxConcurrentJobs": 10},
    "apiKey": {"id": "k1", "name": "test", "prefix": "afk_"},
}


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_an_unknown_balance_keeps_work_waiting_for_credits_and_the_engine_running(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    """Before: `account.credits >= price` compared None with an int, the balance check died
    with a TypeError and the credits problem could never clear itself."""
    scripted_server.on("GET /v2/me", lambda request: Reply(json=ME_WITHOUT_CREDITS))
    scripted_server.script("POST /v2/videos/generate", Reply(402, json={
        "error": "Insufficient credits", "creditsRequired": 8, "creditsAvailable": 0}))

    async def scenario() -> None:
        engine = scripted_engine()
        await engine.start()
        try:
            generation = engine.submit(GenerationSettings("a kite", seed=3))
            [row] = await asyncio.wait_for(engine.wait_settled([generation.id]), 20)
            assert row.stage == Stage.ATTENTION
            assert row.action == Action.BUY_CREDITS
            assert engine.problem is not None
            assert engine.problem.kind == ProblemKind.CREDITS
            engine.refresh_account_soon()  # e.g. the window regained focus after a top-up
            # The background check has no public handle; awaiting it re-raises what it hit.
            task = engine._accounts.task
            assert task is not None
            await asyncio.wait_for(task, 10)
            assert engine.account is not None
            assert engine.account.credits is None
            assert engine.journal.require(generation.id).stage == Stage.ATTENTION
        finally:
            await engine.stop()

    run(scenario())
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 1
