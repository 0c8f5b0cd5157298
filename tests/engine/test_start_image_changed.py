"""A frame is never put on a picture it wasn't chosen on (against the simulator).

A generation records the fingerprint of its start image file as read for the upload. Run again
(a new seed) or Retry sends the same settings, frame included, from the same path: when the file
there is another picture now, the frame would crop it blindly, so the engine stops before the
upload and hands it to the person (Edit and retry frames the new picture).
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from PIL import Image

from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.simulator import Simulator
from tests.conftest import run
from tests.engine.conftest import EngineFactory

FRAMED = ImageFrame(0.0, 0.0, 0.5, 0.5)


@pytest.mark.expect_log_warnings(r"needs attention")
def test_run_again_stops_before_cropping_another_picture_at_the_path(
        make_engine: EngineFactory, simulator: Simulator, png: Path) -> None:
    settings = GenerationSettings("the corner moves", aspect_ratio="16:9", image_path=str(png),
                                  frame=FRAMED)

    async def scenario() -> tuple[Generation, Generation, Generation]:
        engine = make_engine()
        await engine.start()
        try:
            first = engine.submit(settings)
            [made] = await asyncio.wait_for(engine.wait_settled([first.id]), 30)
            again = engine.rerun_with_new_seed(made.id)  # the very picture: framed as before
            [same] = await asyncio.wait_for(engine.wait_settled([again.id]), 30)
            Image.new("RGB", (640, 360), (20, 140, 90)).save(png)  # another picture, same size
            other = engine.rerun_with_new_seed(made.id)
            [stopped] = await asyncio.wait_for(engine.wait_settled([other.id]), 30)
        finally:
            await engine.stop()
        return made, same, stopped

    made, same, stopped = run(scenario())
    assert (made.stage, same.stage) == (Stage.DONE, Stage.DONE)
    assert same.settings.image_source_sha256 == made.settings.image_source_sha256
    assert stopped.stage == Stage.ATTENTION
    assert stopped.action == Action.EDIT_INPUT
    assert stopped.error == (
        f"The start image at {png} is no longer the picture its frame was chosen on: the file "
        "has been replaced since. Nothing was uploaded or paid. Edit and retry to frame the "
        "picture it holds now.")
    assert stopped.job_id is None
    assert len(simulator._state.uploads) == 2  # the first two only
    assert len(simulator.job_ids("afk_test")) == 2
    # Its settings still name the picture the frame was chosen on (Edit and retry checks it).
    assert stopped.settings.image_source_sha256 == made.settings.image_source_sha256
    assert stopped.settings.image_source_sha256 != hashlib.sha256(png.read_bytes()).hexdigest()


def test_without_a_frame_the_picture_at_the_path_is_sent_as_it_is(
        make_engine: EngineFactory, simulator: Simulator, png: Path) -> None:
    """Nothing to crop wrongly: Run again sends what the file holds now, as it always did."""
    settings = GenerationSettings("the whole picture", image_path=str(png))

    async def scenario() -> Generation:
        engine = make_engine()
        await engine.start()
        try:
            first = engine.submit(settings)
            [made] = await asyncio.wait_for(engine.wait_settled([first.id]), 30)
            Image.new("RGB", (640, 360), (20, 140, 90)).save(png)
            again = engine.rerun_with_new_seed(made.id)
            [done] = await asyncio.wait_for(engine.wait_settled([again.id]), 30)
        finally:
            await engine.stop()
        return done

    done = run(scenario())
    assert done.stage == Stage.DONE
    assert done.settings.image_source_sha256 == hashlib.sha256(png.read_bytes()).hexdigest()
