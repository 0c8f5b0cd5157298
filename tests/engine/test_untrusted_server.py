"""The engine against a simulator that hands out hostile data (issue 11, items 2 and 3).

What the server says is data: a job's `error` is shown without terminal escapes and without
the key, and a `videoUrl` pointing at a cloud metadata service is refused without connecting.
Every connection is watched by the network guard, so nothing can leave the machine even if
the engine got it wrong.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.simulator import Account, Simulator
from tests.conftest import run
from tests.engine.conftest import EngineFactory
from tests.helpers.network_guard import guard, off_machine

METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/x.mp4"
# A key with no "afk_" prefix and `-`/`.` in it: only the literal-key net can catch it.
ODD_KEY = "sk-live.Zq9-Hx7.Tp2w"


def generate_one(make_engine: EngineFactory, sim: Simulator, png: Path,
                 api_key: str = "afk_test") -> Generation:
    async def scenario() -> Generation:
        engine = make_engine(api_key, sim=sim)
        await engine.start()
        gid = engine.submit(GenerationSettings("a red kite", image_path=str(png))).id
        [row] = await asyncio.wait_for(engine.wait_settled([gid]), 30)
        await engine.stop()
        return row

    return run(scenario())


@pytest.mark.expect_log_warnings(r"needs attention .*169\.254\.169\.254")
def test_a_metadata_video_link_is_refused_without_connecting(
    make_engine: EngineFactory, simulator: Simulator, png: Path, output_dir: Path
) -> None:
    simulator.faults.video_url_override = METADATA_URL

    with guard() as connections:
        row = generate_one(make_engine, simulator, png)

    assert off_machine(connections) == []  # not even an attempt
    assert row.stage == Stage.ATTENTION  # paid for and kept; not retried by itself
    assert row.error is not None
    assert "169.254.169.254" in row.error
    assert "security-credentials" not in row.error  # the host only, never the whole URL
    assert not [r for r in simulator.requests if r.host_role == "cdn" and "/videos/" in r.path]
    assert simulator.jobs_created("afk_test") == 1
    assert list(output_dir.iterdir()) == []


@pytest.mark.expect_log_warnings(r"failed: Provider returned an error: bad key afk_…redacted")
def test_a_job_error_is_stored_without_escapes_or_the_key(
    make_engine: EngineFactory, make_simulator: object, png: Path, data_dir: Path
) -> None:
    sim = make_simulator(accounts=[Account(ODD_KEY)], seed=3)  # type: ignore[operator]
    sim.faults.fail_jobs_next = 1
    sim.faults.fail_message = (
        "Provider returned an error:\x1b[2J\x1b]0;pwned\x07 bad key "
        f"{ODD_KEY}\x07\r\nretry\u202e later " + "padding " * 200
    )

    row = generate_one(make_engine, sim, png, api_key=ODD_KEY)

    assert row.stage == Stage.FAILED
    error = row.error or ""
    assert error.startswith("Provider returned an error: bad key afk_…redacted retry later")
    assert ODD_KEY not in error
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in error)
    assert "\u202e" not in error
    assert len(error) < 600
    journal_bytes = b"".join(p.read_bytes() for p in data_dir.glob("journal.sqlite3*"))
    assert ODD_KEY.encode() not in journal_bytes
    assert b"pwned" not in journal_bytes  # the terminal-title sequence went whole
