"""Extend against the simulator, on a qasync loop (QtMultimedia decodes the real last frame):
the new generation starts from the clip's exact last frame, keeps its settings, records its
parent, waits for a clip still on its way, and refuses (saying why) what can't be extended."""

from __future__ import annotations

import dataclasses
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from runway_desktop import paths
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.extension import ExtendError, forget_unused_last_frames
from runway_desktop.engine.lifecycle_table import Command, Stage, allowed_commands
from runway_desktop.engine.records import Generation, GenerationSettings
from runway_desktop.engine.settings_changes import SettingsChanges
from runway_desktop.engine.video.frames import last_frame
from runway_desktop.simulator import Simulator
from tests.engine.conftest import EngineFactory
from tests.helpers import qt_loop
from tests.helpers.video import Drive, mean_difference, rgb

loop = pytest.fixture(qt_loop.loop)
drive = pytest.fixture(qt_loop.drive)

KEY = "afk_test"


def uploaded_start_image(sim: Simulator, job_id: str) -> Image.Image:
    """The start image the simulator received for a job (the bytes of its upload)."""
    state = sim._state
    with state.lock:
        url = state.jobs[job_id.lower()].request.image
        assert url is not None
        upload = state.uploads[url.rsplit("/", 1)[-1].split(".")[0]]
        data = upload.data
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


async def _done(service: GenerationService, generation: Generation) -> Generation:
    (settled,) = await service.wait_settled([generation.id])
    assert settled.stage is Stage.DONE, settled
    return settled


def test_extend_starts_from_the_exact_last_frame_and_records_its_parent(
        drive: Drive[None], make_engine: EngineFactory, simulator: Simulator, png: Path,
        data_dir: Path) -> None:
    async def scenario() -> None:
        engine = make_engine()
        await engine.start()
        try:
            service = GenerationService(engine)
            first = await _done(service, service.submit(GenerationSettings(
                "a red field", duration=10, aspect_ratio="9:16", seed=77, image_path=str(png))))
            assert Command.EXTEND in service.allowed(first)
            extended = await service.extend(first.id, "  the wind rises  ")
            assert extended.parent_id == first.id
            start = paths.last_frames_dir(data_dir) / f"{first.id}.png"
            made, parent = extended.settings.to_json(), first.settings.to_json()
            assert made["params"] == {**parent["params"], "prompt": "the wind rises"}
            assert made["model"] == parent["model"]
            assert extended.settings.image_path == str(start)
            child = await _done(service, extended)
            assert engine.journal.require(child.id).parent_id == first.id
            # The PNG is the parent's exact last frame (decoded again here), and it is what
            # the simulator received as the new job's start image.
            assert first.video_path is not None
            final = await last_frame(Path(first.video_path))
            assert mean_difference(rgb(start), final.image) < 1.0
            assert child.job_id is not None
            received = uploaded_start_image(simulator, child.job_id)
            assert received.size == rgb(start).size
            assert mean_difference(received, rgb(start)) < 1.0
            assert simulator.jobs_created(KEY) == 2
            # Changed settings win; the seed stays unless changed.
            again = await service.extend(first.id, "slower",
                                         changes=SettingsChanges(duration=5, seed=5))
            assert (again.settings.duration, again.settings.seed,
                    again.settings.aspect_ratio) == (5, 5, "9:16")
            await _done(service, again)
        finally:
            await engine.stop()

    drive(scenario())


def test_extending_a_clip_still_on_its_way_waits_for_it(
        drive: Drive[None], make_engine: EngineFactory, make_simulator: Callable[..., Simulator],
        png: Path) -> None:
    async def scenario() -> None:
        sim = make_simulator(seconds_per_job=1.0)
        engine = make_engine(sim=sim)
        await engine.start()
        try:
            service = GenerationService(engine)
            first = service.submit(GenerationSettings("a slow one", seed=1,
                                                      image_path=str(png)))
            assert Command.EXTEND not in service.allowed(first)  # not finished: the table says no
            extended = await service.extend(first.id, "then this")
            assert service.get(first.id).stage is Stage.DONE  # type: ignore[union-attr]
            assert extended.parent_id == first.id
            await _done(service, extended)
            assert sim.jobs_created(KEY) == 2
        finally:
            await engine.stop()

    drive(scenario())


def test_the_wait_is_bounded_and_says_so(
        drive: Drive[None], make_engine: EngineFactory,
        make_simulator: Callable[..., Simulator], png: Path) -> None:
    async def scenario() -> None:
        sim = make_simulator(seconds_per_job=30.0)
        engine = make_engine(sim=sim)
        await engine.start()
        try:
            service = GenerationService(engine)
            first = service.submit(GenerationSettings("a very slow one", seed=1,
                                                      image_path=str(png)))
            started = time.monotonic()
            with pytest.raises(ExtendError, match=r"still .* after 0.5 s; extend it once"):
                await service.extend(first.id, "too soon", wait_s=0.5)
            assert time.monotonic() - started < 10
            assert [g.id for g in service.generations()] == [first.id]  # nothing journaled
        finally:
            await engine.stop()

    drive(scenario())


@pytest.mark.qt_log_ignore("Could not open media", "Invalid data found")
def test_what_cannot_be_extended_is_refused_with_the_way_on(
        drive: Drive[None], make_engine: EngineFactory, simulator: Simulator,
        png: Path) -> None:
    async def scenario() -> None:
        engine = make_engine()
        await engine.start()
        try:
            service = GenerationService(engine)
            with pytest.raises(ExtendError, match="no generation #999"):
                await service.extend(999, "nothing")
            failed = engine.journal.add(GenerationSettings("x", seed=1), stage=Stage.FAILED,
                                        job_id="job-f", credit_cost=0,
                                        error="content policy violation")
            with pytest.raises(ExtendError, match=r"didn't finish .*content policy.* Retry it"):
                await service.extend(failed.id, "after")
            done = await _done(service, service.submit(GenerationSettings(
                "gone later", seed=2, image_path=str(png))))
            assert done.video_path is not None
            Path(done.video_path).unlink()
            assert Command.EXTEND not in service.allowed(engine.journal.require(done.id))
            with pytest.raises(ExtendError, match=r"not on disk .*Download Again"):
                await service.extend(done.id, "after")
            broken = await _done(service, service.submit(GenerationSettings(
                "broken file", seed=3, image_path=str(png))))
            assert broken.video_path is not None
            Path(broken.video_path).write_bytes(b"not a video at all")
            with pytest.raises(ExtendError, match="Couldn't take the last frame"):
                await service.extend(broken.id, "after")
            assert len(service.generations()) == 3  # nothing new journaled
        finally:
            await engine.stop()

    drive(scenario())


def test_only_a_finished_clip_with_its_file_or_one_downloading_can_be_extended(
        tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    base = Generation(1, GenerationSettings("p"), "key", Stage.DONE, 0.0, 0.0, job_id="j",
                      video_path=str(video))
    assert Command.EXTEND in allowed_commands(base)
    # Still downloading: paid for and nearly there; the extension waits for its file.
    downloading = dataclasses.replace(base, stage=Stage.DOWNLOADING, video_path=None)
    assert Command.EXTEND in allowed_commands(downloading)
    for stage in Stage:
        if stage not in (Stage.DONE, Stage.DOWNLOADING):
            assert Command.EXTEND not in allowed_commands(dataclasses.replace(base, stage=stage))
    video.unlink()
    assert Command.EXTEND not in allowed_commands(base)


def test_a_last_frame_is_kept_while_a_generation_names_it(
        make_engine: EngineFactory, data_dir: Path) -> None:
    engine = make_engine()  # not started: the journal and the files only
    service = GenerationService(engine)
    folder = paths.last_frames_dir(data_dir)
    folder.mkdir(parents=True)
    frames = {name: folder / f"{name}.png" for name in ("used", "rerun", "unused", "fresh")}
    for path in frames.values():
        Image.new("RGB", (8, 8)).save(path)
        if path.stem != "fresh":
            os.utime(path, (time.time() - 7200, time.time() - 7200))
    child = engine.journal.add(GenerationSettings("next", image_path=str(frames["used"])))
    rerun = engine.journal.add(GenerationSettings("again", image_path=str(frames["rerun"])))
    other = engine.journal.add(GenerationSettings("unrelated", seed=3))

    service.remove(other.id)  # removing anything tidies up what nobody names

    assert sorted(p.stem for p in folder.iterdir()) == ["fresh", "rerun", "used"]
    service.remove(child.id)
    assert sorted(p.stem for p in folder.iterdir()) == ["fresh", "rerun"]
    assert engine.journal.require(rerun.id).settings.image_path == str(frames["rerun"])
    # A frame written a moment ago (an extension being made elsewhere) is left alone.
    assert forget_unused_last_frames(engine.journal, data_dir) == 0
    assert forget_unused_last_frames(engine.journal, data_dir, min_age_s=0) == 1
    assert [p.stem for p in folder.iterdir()] == ["rerun"]


def test_a_last_frame_left_by_an_earlier_history_under_the_same_number_is_taken_anew(
        tmp_path: Path) -> None:
    """A history started afresh (the old one moved aside) numbers from #1 again while the
    last frames of the old one stay in the folder: extending the new #1 reused the old #1's
    frame, a picture from another clip, and paid for a shot from it."""
    import asyncio

    from runway_desktop.engine.extension import last_frame_png

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"the new #1's video")
    now = time.time()
    clip = Generation(id=1, settings=GenerationSettings("new"), idempotency_key="k1",
                      stage=Stage.DONE, created_at=now, updated_at=now, finished_at=now,
                      video_path=str(video))
    folder = paths.last_frames_dir(tmp_path)
    folder.mkdir(parents=True)
    stale = folder / "1.png"
    Image.new("RGB", (8, 8), (0, 0, 255)).save(stale)
    os.utime(stale, (now - 86400, now - 86400))  # taken a day ago, from the old #1
    taken: list[Path] = []

    async def take(source: Path, dest: Path) -> Path:
        taken.append(source)
        Image.new("RGB", (8, 8), (255, 0, 0)).save(dest)
        return dest

    assert asyncio.run(last_frame_png(clip, tmp_path, take)) == stale
    assert taken == [video]
    with Image.open(stale) as picture:
        assert picture.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    assert asyncio.run(last_frame_png(clip, tmp_path, take)) == stale  # now reused
    assert taken == [video]
