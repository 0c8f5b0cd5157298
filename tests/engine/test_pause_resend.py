"""Work taken up again after a pause (the lid closed, the process stopped or killed, a VM
snapshot kept) at the step where it stopped: neither paid for nor fetched twice.

A POST whose answer never came back, sent again a day later: apiframe recognises a re-sent POST
by its idempotency key for 24 h only; past that, the same key makes — and charges — a second
job."""

from __future__ import annotations

import time
from pathlib import Path

from runway_desktop import api
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.leases import LeaseTiming
from runway_desktop.engine.lifecycle import EngineConfig, request_for
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.retry import Backoff, PollSchedule
from runway_desktop.engine.scheduler import Engine
from runway_desktop.simulator import Simulator, SimulatorConfig
from runway_desktop.simulator.media import load_clips
from tests.conftest import run
from tests.helpers.cli import assert_complete_mp4

KEY = "afk_test"


def test_a_post_sent_again_after_apiframe_forgot_its_key_follows_the_first_job(
        tmp_path: Path) -> None:
    """Here apiframe keeps keys 1 s and the engine counts a POST older than 1 s as past it
    (for 24 h and 23 h): one row's POST reached apiframe 2 s ago and its answer was lost;
    another's never got there (it is sent, once)."""
    with Simulator(SimulatorConfig(seconds_per_job=0.3, seed=21,
                                   idempotency_window_seconds=1.0)) as sim:
        journal = Journal(tmp_path / "journal.sqlite3")
        config = EngineConfig(
            data_dir=tmp_path / "data", output_dir=tmp_path / "videos", base_url=sim.base_url,
            poll=PollSchedule(first=0.05, cap=0.2), backoff=Backoff(base=0.02, cap=0.2),
            leases=LeaseTiming(seconds=3.0, renew_every=0.3, watch_every=0.1),
            resend_within=1.0)
        row = journal.add(GenerationSettings("a kite over the dunes", seed=8))
        unsent = journal.add(GenerationSettings("a kite over the dunes", seed=9))

        async def scenario() -> str:
            async with api.ApiClient(KEY, sim.base_url) as client:  # the POST that got through
                first = await client.generate_video(request_for(row),
                                                    idempotency_key=row.idempotency_key)
            for sent in (row, unsent):
                journal.update(sent.id, stage=Stage.SUBMITTING, submitted_at=time.time() - 2.0)
            sim.advance_clock(2.0)  # asleep meanwhile: apiframe has forgotten the key
            engine = Engine(journal, config, KEY)
            await engine.start()
            settled, other = await engine.wait_settled([row.id, unsent.id])
            await engine.stop()
            assert (settled.stage, other.stage) == (Stage.DONE, Stage.DONE)
            assert settled.job_id == first.job_id  # the job the first POST made
            return first.job_id

        run(scenario())
        journal.close()
        assert sim.jobs_created(KEY) == 2  # one each: none paid twice


def test_a_video_saved_whole_before_its_process_stopped_is_not_downloaded_again(
        tmp_path: Path) -> None:
    """Stopped (or killed) after its video was saved and before its row said so — while
    writing the settings into it, or its thumbnail — the generation was taken over and its
    whole video fetched again over the one on disk (a 100 MB video: minutes), and written by
    two processes. A video at the row's path with no part beside it was saved whole (only a
    proven part is renamed to it): it is finished from there."""
    clip = load_clips()["16:9"]
    with Simulator(SimulatorConfig(seconds_per_job=0.3, seed=22)) as sim:
        journal = Journal(tmp_path / "journal.sqlite3")
        config = EngineConfig(
            data_dir=tmp_path / "data", output_dir=tmp_path / "videos", base_url=sim.base_url,
            poll=PollSchedule(first=0.05, cap=0.2), backoff=Backoff(base=0.02, cap=0.2),
            leases=LeaseTiming(seconds=3.0, renew_every=0.3, watch_every=0.1))
        row = journal.add(GenerationSettings("a kite over the dunes", seed=8))
        saved = tmp_path / "videos" / "kite.mp4"
        saved.parent.mkdir()
        saved.write_bytes(clip)  # renamed from its whole part, settings not yet in
        origin = saved.with_name(saved.name + ".part.origin")  # not yet cleared up either
        origin.write_text("{}")

        async def scenario() -> None:
            async with api.ApiClient(KEY, sim.base_url) as client:
                accepted = await client.generate_video(request_for(row),
                                                       idempotency_key=row.idempotency_key)
            job = sim.wait_for_job(accepted.job_id)
            journal.update(row.id, stage=Stage.DOWNLOADING, job_id=accepted.job_id,
                           submitted_at=time.time(), video_url=job["result"]["videoUrl"],
                           video_path=str(saved))
            engine = Engine(journal, config, KEY)
            await engine.start()
            [settled] = await engine.wait_settled([row.id])
            await engine.stop()
            assert settled.stage == Stage.DONE, settled.error
            assert settled.video_path == str(saved)

        run(scenario())
        journal.close()
        assert [r.path for r in sim.requests if r.host_role == "cdn"] == []  # not fetched again
    assert_complete_mp4(saved, clip)  # with its settings now
    assert sorted(p.name for p in saved.parent.iterdir()) == ["kite.json", "kite.mp4"]
