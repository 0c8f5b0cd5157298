"""Every video the engine saves carries its generation's settings (against the simulator)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

from PIL import Image

from runway_desktop import api
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.mp4_check import check_mp4
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.video.metadata import read_video_settings, sidecar_path
from runway_desktop.engine.video.mp4_comment import read_comment
from runway_desktop.simulator import Simulator
from tests.conftest import run
from tests.engine.conftest import EngineFactory


def _generate(make_engine: EngineFactory, settings: GenerationSettings,
              **config: object) -> tuple[int, Path]:
    async def scenario() -> tuple[int, Path]:
        engine = make_engine(**config)
        await engine.start()
        try:
            generation = engine.submit(settings)
            [done] = await asyncio.wait_for(engine.wait_settled([generation.id]), 30)
        finally:
            await engine.stop()
        assert done.stage == Stage.DONE
        assert done.video_path
        return done.id, Path(done.video_path)

    return run(scenario())


def test_the_saved_mp4_and_its_sidecar_hold_every_setting(
        make_engine: EngineFactory, simulator: Simulator, png: Path, output_dir: Path) -> None:
    settings = GenerationSettings("a red kite over the dunes", duration=10, aspect_ratio="9:16",
                                  seed=123_456, image_path=str(png))
    generation_id, video = _generate(make_engine, settings)
    found = read_video_settings(video)
    assert found is not None
    [job_id] = simulator.job_ids("afk_test")
    [upload] = simulator._state.uploads.values()  # the bytes apiframe received
    assert found.settings == GenerationSettings(
        "a red kite over the dunes", duration=10, aspect_ratio="9:16", seed=123_456,
        image_path=str(png), model=settings.model,
        image_sha256=hashlib.sha256(upload.data).hexdigest(),
        image_source_sha256=hashlib.sha256(png.read_bytes()).hexdigest())  # the picture framed
    assert (found.job_id, found.generation_id, found.parent_id) == (job_id, generation_id, None)
    # The MP4 holds them itself (not only the sidecar), and is whole.
    comment = read_comment(video)
    assert comment is not None
    assert json.loads(comment) == found.to_json()
    assert check_mp4(video).whole
    sidecar = sidecar_path(video)
    assert json.loads(sidecar.read_text(encoding="utf-8")) == found.to_json()
    assert sorted(p.name for p in output_dir.iterdir()) == sorted([video.name, sidecar.name])


def test_a_framed_generation_records_the_picture_it_was_framed_on(
        make_engine: EngineFactory, simulator: Simulator, png: Path) -> None:
    """What is uploaded is the crop; what re-using the settings must find again at the path is
    the whole picture the frame was chosen on: its fingerprint is kept (with the crop's)."""
    settings = GenerationSettings("the corner moves", aspect_ratio="1:1", image_path=str(png),
                                  frame=ImageFrame(0.0, 0.0, 0.5, 0.5))
    _id, video = _generate(make_engine, settings)
    found = read_video_settings(video)
    assert found is not None
    [upload] = simulator._state.uploads.values()
    assert found.settings.frame == settings.frame
    assert found.settings.image_source_sha256 == hashlib.sha256(png.read_bytes()).hexdigest()
    assert found.settings.image_sha256 == hashlib.sha256(upload.data).hexdigest()
    assert found.settings.image_sha256 != found.settings.image_source_sha256


def test_with_the_sidecar_setting_off_only_the_mp4_holds_them(
        make_engine: EngineFactory, output_dir: Path) -> None:
    _id, video = _generate(make_engine, GenerationSettings("text only", seed=5),
                           settings_sidecar=False)
    assert [p.name for p in output_dir.iterdir()] == [video.name]
    found = read_video_settings(video)
    assert found is not None
    assert found.settings.prompt == "text only"
    assert found.settings.seed == 5
    assert found.image_sha256 is None


def test_removing_a_video_with_its_file_takes_its_sidecar(
        make_engine: EngineFactory, output_dir: Path) -> None:
    async def scenario() -> list[Path]:
        engine = make_engine()
        await engine.start()
        try:
            service = GenerationService(engine)
            made = [service.submit(GenerationSettings(p, seed=1)) for p in ("mine", "theirs")]
            done = await asyncio.wait_for(engine.wait_settled([g.id for g in made]), 30)
            videos = [Path(g.video_path or "") for g in done]
            sidecar_path(videos[1]).write_text('{"someone": "else"}')  # not ours: stays
            for generation in done:
                service.remove(generation.id, delete_file=True)
        finally:
            await engine.stop()
        return videos

    mine, theirs = run(scenario())
    assert [p.name for p in output_dir.iterdir()] == [sidecar_path(theirs).name]
    assert not mine.exists()


def test_an_imported_video_carries_the_settings_its_job_echoes(
        make_engine: EngineFactory, simulator: Simulator) -> None:
    async def scenario() -> tuple[str, Path]:
        async with api.ApiClient("afk_test", simulator.base_url) as client:
            accepted = await client.generate_video(
                api.GenerateVideoRequest(prompt="made elsewhere", duration=10,
                                         aspect_ratio="9:16", seed=77),
                idempotency_key="elsewhere-1")
        simulator.wait_for_job(accepted.job_id)
        engine = make_engine()
        await engine.start()
        try:
            await GenerationService(engine).import_jobs()
            imported = engine.journal.by_job_id(accepted.job_id)
            assert imported is not None
            [row] = await asyncio.wait_for(engine.wait_settled([imported.id]), 30)
        finally:
            await engine.stop()
        assert row.video_path
        return accepted.job_id, Path(row.video_path)

    job_id, video = run(scenario())
    found = read_video_settings(video)
    assert found is not None
    assert (found.settings.prompt, found.settings.duration, found.settings.aspect_ratio,
            found.settings.seed, found.job_id) == ("made elsewhere", 10, "9:16", 77, job_id)
    assert sidecar_path(video).is_file()


def test_an_extension_carries_its_parent(make_engine: EngineFactory, tmp_path: Path) -> None:
    async def first_frame(_video: Path, dest: Path) -> Path:  # the last frame, as a test PNG
        dest.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (320, 180), (90, 120, 30)).save(dest)
        return dest

    async def scenario() -> tuple[int, str | None, Path]:
        engine = make_engine()
        await engine.start()
        try:
            service = GenerationService(engine)
            parent = service.submit(GenerationSettings("the kite rises", seed=3))
            [parent] = await asyncio.wait_for(engine.wait_settled([parent.id]), 30)
            child = await service.extend(parent.id, "and lands", take_frame=first_frame)
            [child] = await asyncio.wait_for(engine.wait_settled([child.id]), 30)
        finally:
            await engine.stop()
        return parent.id, parent.job_id, Path(child.video_path or "")

    parent_id, parent_job_id, video = run(scenario())
    found = read_video_settings(video)
    assert found is not None
    assert (found.parent_id, found.parent_job_id) == (parent_id, parent_job_id)
    assert found.settings.prompt == "and lands"
    assert found.image_sha256 is not None  # the uploaded last frame's
