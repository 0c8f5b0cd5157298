"""Demo clips: with `image_clips` on, a job's video is its start image framed as Runway frames
it, then a slow push-in or pan, at the requested ratio and duration (issue 13, Deliver 6).

Everything goes over real HTTP: upload, generate, poll, download from the CDN; the MP4 is read
by tests/simulator/mjpeg_reader.py and its frames decoded by Pillow.
"""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from runway_desktop.simulator import Simulator
from runway_desktop.simulator.image_clip import render_clip
from runway_desktop.simulator.media import clips_dir
from tests.helpers.scene import scene, scene_bytes
from tests.simulator.mjpeg_reader import MjpegClip, read_mjpeg
from tests.simulator.sim_helpers import StartSim, body, client_for, poll, submit, upload


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0–255."""
    assert a.size == b.size
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def framed(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The start image as a Runway output of `size` frames it: scaled to cover, centred."""
    return ImageOps.fit(picture, size, Image.Resampling.BICUBIC)


def generate(sim: Simulator, image: bytes | None, **params: object) -> httpx.Response:
    """Upload `image` (if any), make a job with it, wait for it, download its video."""
    with client_for(sim) as api, httpx.Client(timeout=30) as cdn:
        if image is not None:
            uploaded = upload(api, image)
            assert uploaded.status_code == 201, uploaded.text
            params["image"] = uploaded.json()["url"]
        job = poll(api, submit(api, body(**params)), timeout=30)
        assert job["status"] == "COMPLETED", job
        response = cdn.get(job["result"]["videoUrl"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "video/mp4"
        return response


@pytest.fixture
def demo(start_sim: StartSim) -> Simulator:
    return start_sim(seconds_per_job=0.2, image_clips=True, seed=7)


@pytest.mark.parametrize(
    ("ratio", "seconds", "size"),
    [("16:9", 5, (1280, 720)), ("9:16", 10, (720, 1280))],
)
def test_the_clip_is_the_start_image_framed_then_moving(
    demo: Simulator, ratio: str, seconds: int, size: tuple[int, int]
) -> None:
    picture = scene()
    response = generate(demo, scene_bytes(), aspect_ratio=ratio, duration=seconds, seed=seconds)
    clip = read_mjpeg(response.content)

    assert clip.top_level == [b"ftyp", b"moov", b"mdat"]  # index first: plays while loading
    assert clip.entry == b"jpeg"  # Motion-JPEG, which FFmpeg (QtMultimedia) decodes
    assert (clip.width, clip.height) == size
    assert clip.seconds == seconds
    assert len(clip.frames) == seconds * 12  # the configured frame rate
    assert set(clip.frame_ticks) == {clip.timescale // 12}
    first, last = clip.picture(0), clip.picture(-1)
    assert first.size == size
    # The first frame is the picture framed like a Runway output (JPEG quality 90: close)...
    assert difference(first, framed(picture, size)) < 2.5
    # ...and by the last frame the camera has moved (whichever move the seed chose).
    assert difference(last, first) > 4


def test_moves_differ_by_seed_and_repeat_for_the_same_seed(demo: Simulator) -> None:
    image = scene_bytes(1200, 900)
    lasts = [
        read_mjpeg(generate(demo, image, seed=seed).content).picture(-1) for seed in (1, 2, 1)
    ]

    assert difference(lasts[0], lasts[2]) == 0
    assert difference(lasts[0], lasts[1]) > 3


def test_the_next_shot_starts_where_the_last_one_ended(demo: Simulator) -> None:
    """Extend: shot 2's start image is shot 1's last frame, so its first frame is that frame."""
    shot1 = read_mjpeg(generate(demo, scene_bytes(), aspect_ratio="16:9", seed=4).content)
    handoff = io.BytesIO()
    shot1.picture(-1).save(handoff, "PNG")

    shot2 = read_mjpeg(generate(demo, handoff.getvalue(), aspect_ratio="16:9", seed=5).content)

    assert difference(shot2.picture(0), shot1.picture(-1)) < 2.5
    assert difference(shot2.picture(-1), shot1.picture(-1)) > 4  # and moves on from there


def test_the_same_video_is_served_the_same_every_time_and_by_ranges(demo: Simulator) -> None:
    with client_for(demo) as api, httpx.Client(timeout=30) as cdn:
        url = upload(api, scene_bytes(800, 600)).json()["url"]
        job = poll(api, submit(api, body(image=url, aspect_ratio="1:1")), timeout=30)
        video = job["result"]["videoUrl"]
        whole = cdn.get(video)
        again = cdn.get(video)
        part = cdn.get(video, headers={"Range": "bytes=100-199"})

    assert whole.content == again.content
    assert whole.headers["etag"] == again.headers["etag"]
    assert part.status_code == 206
    assert part.content == whole.content[100:200]
    assert (read_mjpeg(whole.content).width, read_mjpeg(whole.content).height) == (960, 960)


def test_a_text_only_job_gets_the_stock_clip(demo: Simulator) -> None:
    response = generate(demo, None, aspect_ratio="9:16")

    assert response.content == (clips_dir() / "9x16.mp4").read_bytes()


def test_an_image_pillow_cannot_read_gets_the_stock_clip(demo: Simulator) -> None:
    # PNG magic (so the upload is accepted as an image), then nothing a decoder can use.
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200

    response = generate(demo, broken, aspect_ratio="4:3")

    assert response.content == (clips_dir() / "4x3.mp4").read_bytes()


def test_without_image_clips_every_job_gets_the_stock_clip(start_sim: StartSim) -> None:
    sim = start_sim(seconds_per_job=0.2)

    response = generate(sim, scene_bytes(640, 360), aspect_ratio="21:9")

    assert response.content == (clips_dir() / "21x9.mp4").read_bytes()


def test_an_upright_photo_is_filmed_upright(demo: Simulator) -> None:
    """A phone photo stored sideways with an EXIF orientation is framed the way it is seen."""
    seen = scene(600, 900)
    stored = seen.transpose(Image.Transpose.ROTATE_90)  # what the camera wrote
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90° clockwise to view"
    data = io.BytesIO()
    stored.save(data, "JPEG", quality=95, exif=exif)

    clip: MjpegClip = read_mjpeg(generate(demo, data.getvalue(), aspect_ratio="9:16").content)

    assert difference(clip.picture(0), framed(seen, (720, 1280))) < 3.5


def test_a_big_photo_is_decoded_small_but_framed_as_sharp() -> None:
    """A 24 MP JPEG is read at half size (both sides still twice the output's longer side)."""
    picture = scene(6000, 4000)
    data = io.BytesIO()
    picture.save(data, "JPEG", quality=92)

    clip = read_mjpeg(render_clip(data.getvalue(), (1280, 720), 5, 12, seed=2))

    assert difference(clip.picture(0), framed(picture, (1280, 720))) < 2.5
