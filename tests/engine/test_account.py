"""The balance as the engine reads it: a /v2/me that leaves out the credits must not stop it."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from runway_desktop.engine.events import EngineEvent, GenerationUpdated, ProblemKind
from runway_desktop.engine.records import Action, GenerationSettings, Stage
from tests.conftest import run
from tests.engine.conftest import EngineFactory
from tests.helpers.scripted_server import Reply, Request, ScriptedServer

ME_WITHOUT_CREDITS = {
    "user": {"id": "u1", "email": "t@example.com", "role": "ADMIN"},
    "team": {"id": "t1", "name": "T", "plan": "pro", "maxConcurrentJobs": 10},
    "apiKey": {"id": "k1", "name": "test", "prefix": "afk_"},
}


def not_enough_credits() -> Reply:
    """apiframe refusing a generate for credits."""
    return Reply(402, json={"error": "Insufficient credits", "creditsRequired": 8,
                            "creditsAvailable": 0})


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_an_unknown_balance_keeps_work_waiting_for_credits_and_the_engine_running(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    """Before: `account.credits >= price` compared None with an int, the balance check died
    with a TypeError and the credits problem could never clear itself."""
    scripted_server.on("GET /v2/me", lambda request: Reply(json=ME_WITHOUT_CREDITS))
    scripted_server.script("POST /v2/videos/generate", not_enough_credits())

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


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_a_402_before_the_first_balance_check_answers_is_not_sent_again(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    """The start-up balance check was still on its way when the 402 came; its answer (the
    balance that had just been refused) counted as a top-up, and the engine sent the work again
    — a second paid submit had apiframe taken it, and `generate` exited 0 on a row still
    submitting (seen on a fresh root, in the hostile table)."""
    refused = threading.Event()

    def slow_me(request: Request) -> Reply:
        refused.wait(10)
        time.sleep(0.2)  # the 402 has been handled by the time the balance arrives
        return scripted_server.default(request)

    def refuse(_request: Request) -> Reply:
        refused.set()
        return not_enough_credits()

    scripted_server.on("GET /v2/me", slow_me)
    scripted_server.on("POST /v2/videos/generate", refuse)

    async def scenario() -> None:
        engine = scripted_engine()
        await engine.start()
        try:
            generation = engine.submit(GenerationSettings("a kite", seed=3))
            [row] = await asyncio.wait_for(engine.wait_settled([generation.id]), 20)
            assert row.stage == Stage.ATTENTION
            task = engine._accounts.task
            if task is not None:
                await asyncio.wait_for(task, 10)
            await asyncio.sleep(0.3)  # what a resume would have started by now
            assert engine.account is not None
            assert engine.account.credits == 1000
            assert engine.journal.require(generation.id).stage == Stage.ATTENTION
        finally:
            await engine.stop()

    run(scenario())
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 1


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_waiting_for_settled_rows_returns_them_settled_even_if_one_moves_on_at_once(
    scripted_engine: EngineFactory, scripted_server: ScriptedServer
) -> None:
    """`wait_settled` woke on "settled" and read the journal a turn later: a row sent again in
    between (a top-up resuming a 402) came back unsettled, and `generate` reported it as its
    result with exit 0."""
    scripted_server.script("POST /v2/videos/generate", not_enough_credits())

    async def scenario() -> None:
        engine = scripted_engine()
        await engine.start()
        try:
            generation = engine.submit(GenerationSettings("a kite", seed=3))
            sent_again: list[int] = []

            def send_again_once(event: EngineEvent) -> None:
                if (isinstance(event, GenerationUpdated) and not sent_again
                        and event.generation.stage == Stage.ATTENTION):
                    sent_again.append(event.generation.id)
                    asyncio.get_running_loop().call_soon(engine.retry, generation.id)

            engine.subscribe(send_again_once)
            rows = await asyncio.wait_for(engine.wait_settled([generation.id]), 30)
            assert sent_again
            assert [row.stage for row in rows] == [Stage.DONE]
        finally:
            await engine.stop()

    run(scenario())
