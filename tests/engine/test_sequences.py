"""Sequences against the simulator, on a qasync loop (real last frames through QtMultimedia):
a plan runs shot after shot from each shot's last frame, costs what the preview said, resumes
after a crash without a second job, and lets a person re-take, swap, reorder and extend."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from runway_desktop import paths
from runway_desktop.engine.extension import ExtendError
from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.engine.scheduler import Engine
from runway_desktop.engine.sequence_plan import Plan, plan_from_data
from runway_desktop.engine.sequences import (
    RunState,
    SequenceChanged,
    SequenceEvent,
    SequenceRefused,
    SequenceRemoved,
    SequenceRunning,
    SequenceService,
    outdated_shots,
)
from runway_desktop.engine.settings_changes import SettingsChanges
from runway_desktop.simulator import Simulator
from tests.engine.conftest import EngineFactory
from tests.engine.test_extension import uploaded_start_image
from tests.helpers import qt_loop
from tests.helpers.video import Drive, mean_difference, rgb

loop = pytest.fixture(qt_loop.loop)
drive = pytest.fixture(qt_loop.drive)

KEY = "afk_test"
PRICE = {5: 8, 10: 15}  # Gen-4 Turbo, by duration (the simulator's catalog)


def three_shots(png: Path) -> Plan:
    return plan_from_data({
        "name": "Lighthouse", "ratio": "16:9", "seed": 11,
        "shots": [{"prompt": "the cliff at dawn", "image": str(png)},
                  {"prompt": "the beam sweeps the sea", "duration": 10},
                  "the storm rolls in"],
    }, base_dir=png.parent, source="plan.yaml#sha256:test")


async def started(make_engine: EngineFactory, **kwargs: object) -> Engine:
    engine = make_engine(**kwargs)
    await engine.start()
    return engine


def check_chain(service: SequenceService, sequence_id: int, data_dir: Path,
                sim: Simulator) -> list[Generation]:
    """Each shot's chosen take is DONE; each after the first names the shot before as its
    parent and started from that shot's last frame, which is what the simulator received."""
    sequence = service.get(sequence_id)
    assert sequence is not None
    takes = [service.chosen(shot) for shot in sequence.shots]
    assert all(t is not None and t.stage is Stage.DONE for t in takes), takes
    chain = [t for t in takes if t is not None]
    for before, after in itertools.pairwise(chain):
        assert after.parent_id == before.id
        start = paths.last_frames_dir(data_dir) / f"{before.id}.png"
        assert after.settings.image_path == str(start)
        assert after.job_id is not None
        assert mean_difference(uploaded_start_image(sim, after.job_id), rgb(start)) < 1.0
    return chain


def test_a_three_shot_plan_runs_from_each_last_frame_at_the_previewed_cost(
        drive: Drive[None], make_engine: EngineFactory, simulator: Simulator, png: Path,
        data_dir: Path) -> None:
    async def scenario() -> None:
        engine = await started(make_engine)
        try:
            service = SequenceService(engine)
            await engine.wait_catalog()
            while service.generations.account is None:  # the balance is read at start
                await asyncio.sleep(0.02)
            plan = three_shots(png)
            preview = service.preview_plan(plan)
            assert (preview.shots_to_make, preview.credits, preview.unpriced) == (
                3, PRICE[5] + PRICE[10] + PRICE[10], 0)  # shot 3 keeps shot 2's 10 s
            assert preview.balance == simulator.credits(KEY)
            assert preview.balance_after == simulator.credits(KEY) - preview.credits
            events: list[SequenceEvent] = []
            service.subscribe(events.append)
            balance = simulator.credits(KEY)

            sequence = await service.run_plan(plan)

            assert sequence.run_state is RunState.DONE, sequence.error
            assert [s.prompt for s in sequence.shots] == [
                "the cliff at dawn", "the beam sweeps the sea", "the storm rolls in"]
            chain = check_chain(service, sequence.id, data_dir, simulator)
            assert [t.settings.duration for t in chain] == [5, 10, 10]
            assert {t.settings.seed for t in chain} == {11}
            assert chain[0].settings.image_path == str(png)
            assert simulator.jobs_created(KEY) == 3
            assert balance - simulator.credits(KEY) == preview.credits
            states = [e.sequence.run_state for e in events if isinstance(e, SequenceChanged)]
            assert states[:2] == [RunState.IDLE, RunState.RUNNING]  # made, then running
            assert states[-1] is RunState.DONE
            assert service.cost_preview(sequence.id).shots_to_make == 0
            # The same plan file again: the finished film is not carried on, a new one is made.
            assert service.unfinished_from(plan) is None
        finally:
            await engine.stop()

    drive(scenario())


def test_a_run_cut_off_during_shot_two_resumes_without_a_second_job(
        drive: Drive[None], make_engine: EngineFactory,
        make_simulator: Callable[..., Simulator], png: Path, data_dir: Path) -> None:
    """In-process version of the CLI's SIGKILL test: the run task and the engine stop while
    shot 2 is on the server; a new engine on the same journal resumes the running sequence."""
    sim = make_simulator(seconds_per_job=0.8)

    async def scenario() -> None:
        engine = await started(make_engine, sim=sim)
        service = SequenceService(engine)
        sequence = service.create_from_plan(three_shots(png))
        run = asyncio.ensure_future(service.run(sequence.id))
        while True:  # until shot 2's job is on the server
            second = service.chosen(service.get(sequence.id).shots[1])  # type: ignore[union-attr]
            if second is not None and second.job_id:
                break
            await asyncio.sleep(0.02)
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        await engine.stop()
        assert service.get(sequence.id).run_state is RunState.RUNNING  # type: ignore[union-attr]
        sim.config.seconds_per_job = 0.3  # shot 3 (made by the resume) can be quick

        engine = await started(make_engine, sim=sim)
        try:
            again = SequenceService(engine)
            (finished,) = await again.resume_running()
            assert finished.run_state is RunState.DONE, finished.error
            check_chain(again, sequence.id, data_dir, sim)
            assert sim.jobs_created(KEY) == 3
        finally:
            await engine.stop()

    drive(scenario())


def test_two_processes_running_one_sequence_make_each_shot_once(
        drive: Drive[None], make_engine: EngineFactory, simulator: Simulator, png: Path,
        data_dir: Path) -> None:
    async def scenario() -> None:
        one, two = await started(make_engine), await started(make_engine)
        try:
            first, second = SequenceService(one), SequenceService(two)
            sequence = first.create_from_plan(three_shots(png))
            ends = await asyncio.gather(first.run(sequence.id), second.run(sequence.id))
            assert [e.run_state for e in ends] == [RunState.DONE, RunState.DONE]
            check_chain(first, sequence.id, data_dir, simulator)
            assert simulator.jobs_created(KEY) == 3
            assert all(len(shot.takes) == 1 for shot in ends[0].shots)
        finally:
            await one.stop()
            await two.stop()

    drive(scenario())


def test_takes_swaps_reorders_and_extending_from_the_end(
        drive: Drive[None], make_engine: EngineFactory, simulator: Simulator, png: Path,
        data_dir: Path) -> None:
    async def scenario() -> None:
        engine = await started(make_engine)
        try:
            service = SequenceService(engine)
            gens = service.generations
            clip = gens.submit(GenerationSettings("a boat", seed=4, image_path=str(png)))
            sequence = service.create_from_clip(clip.id)
            assert [s.chosen_id for s in sequence.shots] == [clip.id]
            assert sequence.name == "a boat"
            # Extend from the end waits for the clip and makes shot 2 from its last frame.
            second = await service.extend_from_end(sequence.id, "the boat sails away")
            assert second.parent_id == clip.id
            # Plan two more shots ahead; the preview prices only those not made yet.
            planned = service.plan_shots(sequence.id, ["night falls", "the moon"],
                                         [SettingsChanges(duration=10), None])
            assert [s.prompt for s in planned.shots][2:] == ["night falls", "the moon"]
            preview = service.cost_preview(sequence.id)
            assert (preview.shots_to_make, preview.credits) == (2, 2 * PRICE[10])
            with pytest.raises(ExtendError, match="Shot 4 has no take yet"):
                await service.extend_from_end(sequence.id, "too far ahead")
            assert len(service.get(sequence.id).shots) == 4  # type: ignore[union-attr]
            # A new take of shot 2: a new seed, chosen; the first take can be chosen back.
            (await gens.wait_settled([second.id]))
            take = await service.add_take(planned.shots[1].id, prompt="the boat sails faster")
            assert take.parent_id == clip.id
            assert take.settings.prompt == "the boat sails faster"
            shot2 = service.get(sequence.id).shots[1]  # type: ignore[union-attr]
            assert shot2.takes == (second.id, take.id)
            assert shot2.chosen_id == take.id
            service.choose_take(shot2.id, second.id)
            assert service.get(sequence.id).shots[1].chosen_id == second.id  # type: ignore[union-attr]
            # Reorder the two planned shots, then run: they are made in the new order.
            shots = service.get(sequence.id).shots  # type: ignore[union-attr]
            service.move_shot(shots[3].id, shots[2].id)
            done = await service.run(sequence.id)
            assert done.run_state is RunState.DONE, done.error
            assert [s.prompt for s in done.shots][2:] == ["the moon", "night falls"]
            chain = check_chain(service, sequence.id, data_dir, simulator)
            assert chain[1].id == second.id
            assert simulator.jobs_created(KEY) == 5  # clip, shot 2, its re-take, two planned
            # The other take of shot 2 chosen again: shots 3 and 4 were made after the one
            # chosen before. Named and priced; a plain run (as a resume) redoes nothing; a run
            # asked to redo them makes each again from the take before it.
            assert service.outdated_shots(done) == {}
            now = service.choose_take(shot2.id, take.id)
            assert service.outdated_shots(now) == {2: 1, 3: 1}
            redo = service.cost_preview(sequence.id, redo_outdated=True)
            assert (redo.shots_to_make, redo.credits) == (2, PRICE[5] + PRICE[10])
            assert service.cost_preview(sequence.id).shots_to_make == 0
            again = await service.run(sequence.id)
            assert service.outdated_shots(again) == {2: 1, 3: 1}
            assert simulator.jobs_created(KEY) == 5
            redone = await service.run(sequence.id, redo_outdated=True)
            assert redone.run_state is RunState.DONE, redone.error
            assert service.outdated_shots(redone) == {}
            chain = check_chain(service, sequence.id, data_dir, simulator)
            assert chain[1].id == take.id
            assert [len(s.takes) for s in redone.shots] == [1, 2, 2, 2]
            assert simulator.jobs_created(KEY) == 7
            # The first take of shot 2 chosen back: shots 3 and 4 have takes made from it
            # already. The redo chooses them again, and pays for nothing.
            back = service.choose_take(shot2.id, second.id)
            assert service.outdated_shots(back) == {2: 1, 3: 1}
            assert service.redo_plan(back) == ([], [2, 3])
            assert service.cost_preview(sequence.id, redo_outdated=True).shots_to_make == 0
            restored = await service.run(sequence.id, redo_outdated=True)
            assert restored.chosen_ids == done.chosen_ids
            assert service.outdated_shots(restored) == {}
            assert simulator.jobs_created(KEY) == 7
            # A redo stopped says so (not "Run carries on": Run has nothing to make).
            await service.add_take(shot2.id)
            assert service.redo_plan(service.get(sequence.id)) == ([2, 3], [])  # type: ignore[arg-type]
            redoing = asyncio.ensure_future(service.run(sequence.id, redo_outdated=True))
            while service.get(sequence.id).run_state is not RunState.RUNNING:  # type: ignore[union-attr]
                await asyncio.sleep(0.01)
            stopped = await service.stop_run(sequence.id)
            await asyncio.gather(redoing, return_exceptions=True)
            assert stopped.run_state is RunState.STOPPED
            assert (stopped.error or "").startswith("Stopped: nothing further is made")
        finally:
            await engine.stop()

    drive(scenario())


@pytest.mark.expect_log_warnings(r"failed: Provider returned an error")
def test_a_failed_shot_stops_the_run_saying_what_to_do(
        drive: Drive[None], make_engine: EngineFactory,
        make_simulator: Callable[..., Simulator], png: Path) -> None:
    sim = make_simulator(seconds_per_job=0.6)

    async def scenario() -> None:
        engine = await started(make_engine, sim=sim)
        try:
            service = SequenceService(engine)
            sequence = service.create_from_plan(three_shots(png))
            run = asyncio.ensure_future(service.run(sequence.id))
            while True:
                current = service.get(sequence.id)
                assert current is not None
                second = service.chosen(current.shots[1])
                if second is not None and second.job_id:
                    break
                await asyncio.sleep(0.02)
            sim.set_job_outcome(second.job_id, "FAILED",
                                error="Provider returned an error: content policy violation")
            ended = await run
            assert ended.run_state is RunState.STOPPED
            assert ended.error is not None
            assert "Shot 2" in ended.error
            assert "content policy" in ended.error
            assert "Make a new take of it" in ended.error
            assert sim.jobs_created(KEY) == 2  # shot 3 was never made
            assert ended.shots[2].chosen_id is None
            # Running it again as it is stops at the same shot, sending nothing.
            assert (await service.run(sequence.id)).run_state is RunState.STOPPED
            assert sim.jobs_created(KEY) == 2
            # The person asks for a new take of what failed: the preview counts it.
            preview = service.cost_preview(sequence.id, retake_failed=True)
            assert (preview.shots_to_make, preview.credits) == (2, 2 * PRICE[10])
            done = await service.run(sequence.id, retake_failed=True)
            assert done.run_state is RunState.DONE, done.error
            retake = service.chosen(done.shots[1])
            assert retake is not None
            assert done.shots[1].takes == (second.id, retake.id)
            assert (retake.settings, retake.parent_id) == (second.settings, second.parent_id)
            assert sim.jobs_created(KEY) == 4  # the failed one (refunded), its retake, shot 3
        finally:
            await engine.stop()

    drive(scenario())


@pytest.mark.expect_log_warnings(r"failed: Provider returned an error")
def test_a_failed_take_retried_from_the_history_is_the_shots_take_and_the_run_follows_it(
        drive: Drive[None], make_engine: EngineFactory,
        make_simulator: Callable[..., Simulator], png: Path, data_dir: Path) -> None:
    """Retry on a failed take's row in the history (the window's queue, `runway-desktop
    retry`) sent it anew outside the sequence: the shot kept showing its failed take and
    asked to pay for a new one, and a run with the retake paid a second time beside the
    copy. The copy is the shot's take now: a run waits for it and carries on from it."""
    sim = make_simulator(seconds_per_job=0.6)

    async def scenario() -> None:
        engine = await started(make_engine, sim=sim)
        try:
            service = SequenceService(engine)
            sequence = service.create_from_plan(three_shots(png))
            run = asyncio.ensure_future(service.run(sequence.id))
            while (second := service.chosen(service.get(sequence.id).shots[1])  # type: ignore[union-attr]
                   ) is None or second.job_id is None:
                await asyncio.sleep(0.02)
            sim.set_job_outcome(second.job_id, "FAILED",
                                error="Provider returned an error: content policy violation")
            stopped = await run
            assert "Make a new take of it" in (stopped.error or "")
            assert service.cost_preview(sequence.id, retake_failed=True).shots_to_make == 2
            sim.config.seconds_per_job = 0.3  # nothing is cut off from here on

            copy = service.generations.retry(second.id)  # the row's Retry in the history

            now = service.get(sequence.id)
            assert now is not None
            assert now.shots[1].takes == (second.id, copy.id)
            assert now.shots[1].chosen_id == copy.id
            assert (copy.settings, copy.parent_id) == (second.settings, second.parent_id)
            assert now.run_state is RunState.STOPPED
            assert now.error == (f"Shot 2's failed take #{second.id} was sent again as "
                                 f"#{copy.id}, now its take: Run carries on from there.")
            retake = service.cost_preview(sequence.id, retake_failed=True)
            assert (retake.shots_to_make, retake.credits) == (1, PRICE[10])  # shot 3 only
            assert service.generations.retry(second.id).id == copy.id  # nothing sent again

            done = await service.run(sequence.id)

            assert done.run_state is RunState.DONE, done.error
            chain = check_chain(service, sequence.id, data_dir, sim)
            assert chain[1].id == copy.id
            assert done.shots[1].takes == (second.id, copy.id)
            assert sim.jobs_created(KEY) == 4  # the failed one (refunded), its copy, shot 3
        finally:
            await engine.stop()

    drive(scenario())


def test_a_take_sent_again_before_its_copy_was_adopted_is_adopted_by_the_run(
        make_engine: EngineFactory) -> None:
    """A failure Retry sent anew by a version that left the copy outside the sequence: the
    run makes the copy the shot's take (waiting for it) instead of stopping for a new take,
    and a retake isn't priced beside it."""
    engine = make_engine()  # not started: nothing is sent
    service = SequenceService(engine, wait_s=0.05)
    sequence = service.create_from_plan(plan_from_data(["a quiet bay"], base_dir=Path(".")))
    settings = GenerationSettings("a quiet bay", seed=1)
    failed, _ = service._store.add_take(sequence.shots[0].id, settings)
    engine.journal.update(failed.id, stage=Stage.FAILED, error="Provider returned an error.")
    copy = engine.journal.add(settings)
    engine.journal.update(failed.id, sent_again_as=copy.id)

    assert service.cost_preview(sequence.id, retake_failed=True).shots_to_make == 0
    ended = asyncio.run(service.run(sequence.id, retake_failed=True))

    assert ended.shots[0].takes == (failed.id, copy.id)
    assert ended.shots[0].chosen_id == copy.id
    assert f"Shot 1 (#{copy.id}) didn't finish within" in (ended.error or "")  # its copy
    assert len(engine.journal.all()) == 2  # no retake


def test_a_cancelled_take_stops_the_run_until_a_new_take_is_asked_for(
        make_engine: EngineFactory) -> None:
    engine = make_engine()  # not started: nothing is sent
    service = SequenceService(engine)
    sequence = service.create_from_plan(plan_from_data(["a quiet bay"], base_dir=Path(".")))
    shot = sequence.shots[0]
    cancelled, _ = service._store.add_take(shot.id, GenerationSettings("a quiet bay", seed=1))
    engine.journal.update(cancelled.id, stage=Stage.CANCELLED)

    assert service.cost_preview(sequence.id).shots_to_make == 0
    assert service.cost_preview(sequence.id, retake_failed=True).shots_to_make == 1
    ended = asyncio.run(service.run(sequence.id))
    assert ended.run_state is RunState.STOPPED
    assert ended.error is not None
    assert "Shot 1" in ended.error
    assert "Make a new take of it" in ended.error


def test_a_subscriber_hears_what_another_process_does_to_sequences(
        drive: Drive[None], make_engine: EngineFactory, simulator: Simulator,
        png: Path) -> None:
    """The window (one engine) sees a CLI's `sequence run` (another engine on the same
    journal) move shot after shot, finish, and the sequence removed."""

    async def scenario() -> None:
        window, command = await started(make_engine), await started(make_engine)
        try:
            seen: list[SequenceEvent] = []
            finished = asyncio.Event()

            def hear(event: SequenceEvent) -> None:
                seen.append(event)
                if (isinstance(event, SequenceChanged)
                        and event.sequence.run_state is RunState.DONE):
                    finished.set()

            watching = SequenceService(window)
            unsubscribe = watching.subscribe(hear)
            running = SequenceService(command)
            sequence = await running.run_plan(three_shots(png))
            assert sequence.run_state is RunState.DONE
            await asyncio.wait_for(finished.wait(), 30)
            last = [e for e in seen if isinstance(e, SequenceChanged)][-1].sequence
            assert last == running.get(sequence.id)
            running.remove(sequence.id)
            await asyncio.wait_for(_until(lambda: any(
                isinstance(e, SequenceRemoved) for e in seen)), 30)
            unsubscribe()
        finally:
            await window.stop()
            await command.stop()

    drive(scenario())


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.05)


def test_a_done_sequence_extended_from_the_end_runs_again_until_the_new_shot_is_made(
        drive: Drive[None], make_engine: EngineFactory, simulator: Simulator,
        png: Path) -> None:
    """DONE means every shot is made: a new last shot (or a new take) on a finished sequence
    makes it RUNNING until that take has finished, then DONE again; planning shots ahead
    makes it no longer DONE (they aren't made)."""

    async def scenario() -> None:
        engine = await started(make_engine)
        try:
            service = SequenceService(engine)
            clip = service.generations.submit(
                GenerationSettings("a boat", seed=4, image_path=str(png)))
            sequence = service.create_from_clip(clip.id)
            assert (await service.run(sequence.id)).run_state is RunState.DONE
            states: list[RunState] = []
            service.subscribe(lambda e: states.append(e.sequence.run_state)
                              if isinstance(e, SequenceChanged) else None)

            extending = asyncio.ensure_future(
                service.extend_from_end(sequence.id, "the boat sails away"))
            await asyncio.sleep(0)  # the new shot is there; its last frame is being taken
            waiting = service.get(sequence.id)
            assert waiting is not None
            assert waiting.shots[-1].chosen_id is None
            assert waiting.run_state is RunState.RUNNING  # not DONE with a shot not made
            with pytest.raises(ExtendError, match="Shot 2 is still being made"):
                await service.extend_from_end(sequence.id, "too soon")
            second = await extending

            assert service.get(sequence.id).run_state is RunState.RUNNING  # type: ignore[union-attr]
            await service.generations.wait_settled([second.id])
            while service.get(sequence.id).run_state is RunState.RUNNING:  # type: ignore[union-attr]
                await asyncio.sleep(0.02)
            assert service.get(sequence.id).run_state is RunState.DONE  # type: ignore[union-attr]
            assert states[-1] is RunState.DONE
            # A new take of shot 2: running again while it is made, then done.
            take = await service.add_take(service.get(sequence.id).shots[1].id)  # type: ignore[union-attr]
            assert service.get(sequence.id).run_state is RunState.RUNNING  # type: ignore[union-attr]
            await service.generations.wait_settled([take.id])
            while service.get(sequence.id).run_state is RunState.RUNNING:  # type: ignore[union-attr]
                await asyncio.sleep(0.02)
            assert service.get(sequence.id).run_state is RunState.DONE  # type: ignore[union-attr]
            assert simulator.jobs_created(KEY) == 3  # the clip, shot 2, its new take
            # Shots planned ahead aren't made: the sequence isn't done any more.
            planned = service.plan_shots(sequence.id, ["night falls"])
            assert planned.run_state is RunState.IDLE
            assert simulator.jobs_created(KEY) == 3
        finally:
            await service.stop()
            await engine.stop()

    drive(scenario())


def test_extending_a_done_sequence_that_cannot_take_the_last_frame_leaves_it_idle(
        drive: Drive[None], make_engine: EngineFactory, tmp_path: Path) -> None:
    """The new shot stays, not made, and says so: IDLE (Run makes it), not DONE or RUNNING."""
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a video")

    async def refuse(_video: Path, _dest: Path) -> Path:
        raise ExtendError("the clip can't be decoded")

    async def scenario() -> None:
        engine = make_engine()  # not started: nothing is sent
        service = SequenceService(engine, take_frame=refuse)
        clip = engine.journal.add(GenerationSettings("a boat", seed=4), stage=Stage.DONE,
                                  video_path=str(video))
        sequence = service.create_from_clip(clip.id)
        service._store.set_run_state(sequence.id, RunState.DONE)
        with pytest.raises(ExtendError, match="can't be decoded"):
            await service.extend_from_end(sequence.id, "the boat sails away")
        after = service.get(sequence.id)
        assert after is not None
        assert after.run_state is RunState.IDLE
        assert [s.chosen_id for s in after.shots] == [clip.id, None]

    drive(scenario())


def test_a_running_sequence_is_not_removed_until_stopped_and_its_takes_stay(
        drive: Drive[None], make_engine: EngineFactory, simulator: Simulator,
        png: Path) -> None:
    """Removing never stops paid work: refused while this process runs the sequence (even
    before the run has journaled RUNNING) and while another process runs it; once stopped it
    goes, its takes stay generations in the history with their videos, and restore (Undo)
    brings it back under its own id, announced to both processes."""

    async def scenario() -> None:
        window, command = await started(make_engine), await started(make_engine)
        try:
            here, there = SequenceService(window), SequenceService(command)
            heard: list[SequenceEvent] = []
            unsubscribe = there.subscribe(heard.append)
            sequence = here.create_from_plan(three_shots(png))
            run = asyncio.ensure_future(here.run(sequence.id))
            await asyncio.sleep(0)  # `run` has made its task; the task hasn't started yet
            assert here.get(sequence.id).run_state is RunState.IDLE  # type: ignore[union-attr]
            with pytest.raises(SequenceRunning, match="Stop it first"):
                here.remove(sequence.id)
            while (take := here.chosen(here.get(sequence.id).shots[0])) is None:  # type: ignore[union-attr]
                await asyncio.sleep(0.02)
            with pytest.raises(SequenceRunning):
                there.remove(sequence.id)  # another process runs it
            assert here.get(sequence.id) is not None

            stopped = await here.stop_run(sequence.id)
            await asyncio.gather(run, return_exceptions=True)
            assert stopped.run_state is RunState.STOPPED
            await here.generations.wait_settled([take.id])
            # The other process has seen it (its watch looks every WATCH_SECONDS).
            await asyncio.wait_for(_until(lambda: any(
                isinstance(e, SequenceChanged) for e in heard)), 30)
            kept = here.kept_takes(here.get(sequence.id))  # type: ignore[arg-type]
            assert (kept.takes, kept.videos, kept.making) == (1, 1, 0)
            events: list[SequenceEvent] = []
            here.subscribe(events.append)

            removed = here.remove(sequence.id)

            assert events == [SequenceRemoved(sequence.id)]
            assert here.get(sequence.id) is None
            assert there.get(sequence.id) is None
            done = here.generations.get(take.id)
            assert done is not None
            assert done.stage is Stage.DONE
            assert done.video_path is not None
            assert Path(done.video_path).is_file()
            assert simulator.jobs_created(KEY) == 1
            await asyncio.wait_for(_until(lambda: SequenceRemoved(sequence.id) in heard), 30)

            back = here.restore(removed)

            assert back.id == sequence.id
            assert back.shots[0].chosen_id == take.id
            assert isinstance(events[-1], SequenceChanged)
            assert events[-1].sequence == back
            await asyncio.wait_for(_until(lambda: isinstance(heard[-1], SequenceChanged)), 30)
            unsubscribe()
        finally:
            await window.stop()
            await command.stop()

    drive(scenario())


def test_rename_cleans_the_name_and_refuses_an_empty_one(
        drive: Drive[None], make_engine: EngineFactory, png: Path) -> None:
    async def scenario() -> None:
        service = SequenceService(make_engine())  # not started: nothing is sent
        sequence = service.create_from_plan(three_shots(png))
        events: list[SequenceEvent] = []
        service.subscribe(events.append)

        renamed = service.rename(sequence.id, "  The\nlighthouse  ")

        assert renamed.name == "The lighthouse"
        assert events == [SequenceChanged(renamed)]
        with pytest.raises(SequenceRefused, match="needs a name"):
            service.rename(sequence.id, " \t ")
        assert service.get(sequence.id).name == "The lighthouse"  # type: ignore[union-attr]
        with pytest.raises(KeyError):
            service.rename(sequence.id + 1, "gone")

    drive(scenario())


def test_a_new_take_stopped_before_it_was_sent_is_cancelled_and_the_shot_keeps_its_take(
        make_engine: EngineFactory) -> None:
    """Ctrl+C on `sequence take` kept a take never sent (chosen, the sequence RUNNING), which
    the next command or the window then paid for. cancel_take cancels it, chooses the take
    before it again and puts the run state back; a take apiframe has stays (paid). Also: a
    new take's price beforehand (take_preview), and the shots made from an older take read
    from the journal alone (`sequence show` has no engine)."""
    engine = make_engine()  # not started: nothing is sent
    service = SequenceService(engine)
    sequence = service.create_from_plan(
        plan_from_data(["a quiet bay", "the tide turns"], base_dir=Path(".")))
    first, second = sequence.shots
    old, _ = service._store.add_take(first.id, GenerationSettings("a quiet bay", seed=1))
    later, _ = service._store.add_take(second.id, GenerationSettings("the tide turns", seed=1),
                                       parent_id=old.id)
    for take in (old, later):
        engine.journal.update(take.id, stage=Stage.DONE)
    service._store.set_run_state(sequence.id, RunState.DONE)
    before = service.get(sequence.id)
    assert before is not None
    preview = service.take_preview(second.id)
    assert (preview.shots_to_make, preview.credits) == (
        1, later.settings.price_in(service.generations.catalog))
    assert outdated_shots(before, engine.journal.get) == {}

    new, _ = service._store.add_take(first.id, GenerationSettings("a quiet bay", seed=2),
                                     only_if_unchosen=False)
    service._store.set_run_state(sequence.id, RunState.RUNNING)  # following the new take
    now = service.get(sequence.id)
    assert now is not None
    assert outdated_shots(now, engine.journal.get) == {1: 0} == service.outdated_shots(now)

    assert asyncio.run(service.cancel_take(new.id, before)) is True
    after = service.get(sequence.id)
    assert after is not None
    assert engine.journal.require(new.id).stage is Stage.CANCELLED
    assert after.shots[0].chosen_id == old.id
    assert after.run_state is RunState.DONE
    assert service.outdated_shots(after) == {}

    sent, _ = service._store.add_take(first.id, GenerationSettings("a quiet bay", seed=3))
    engine.journal.update(sent.id, stage=Stage.QUEUED, job_id="job-1")
    assert asyncio.run(service.cancel_take(sent.id, after)) is False  # paid: kept
    assert engine.journal.require(sent.id).stage is Stage.QUEUED
    kept = service.get(sequence.id)
    assert kept is not None
    assert kept.shots[0].chosen_id == sent.id
