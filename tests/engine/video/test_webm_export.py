"""WebM exports: VP8 key frames from Pillow's libwebp in a WebM written by our own EBML writer.

QtMultimedia (Qt's FFmpeg: matroska demuxer, vp8 decoder) plays them back for the right length
and with the source's pictures; the container is checked element by element with an EBML reader
of the tests' own (tests/helpers/ebml.py); ffprobe, where this machine has it, is an extra
opinion (CI has no ffmpeg).
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import subprocess
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from runway_desktop.engine.video import exports
from runway_desktop.engine.video.exports import (
    SIZE_PRESETS,
    AnimationFormat,
    ExportError,
    SizePreset,
    Trim,
    export_animation,
)
from runway_desktop.engine.video.frames import duration_ms, frame_at, last_frame, sample_frames
from runway_desktop.engine.video.webm_writer import (
    Vp8Error,
    WebmWriter,
    frame_size,
    vp8_key_frame,
    vp8_payload,
)
from tests.helpers import ebml
from tests.helpers.video import CLIP, CLIPS, DATA, Drive, mean_difference

FULL_RATE = SizePreset("full", 320, 24)  # the clip's own size and rate: frame for frame


def test_a_webm_plays_in_qtmultimedia_with_the_sources_pictures(
    drive: Drive[Any], tmp_path: Path
) -> None:
    dest = tmp_path / "clip.webm"
    progress: list[float] = []

    drive(
        export_animation(
            CLIP, dest, preset=FULL_RATE, fmt=AnimationFormat.WEBM, progress=progress.append
        )
    )

    assert drive(duration_ms(dest)) == 2000
    first, source_first = drive(frame_at(dest, 0)), drive(frame_at(CLIP, 0))
    assert (first.image.width(), first.image.height()) == (320, 180)
    assert mean_difference(first.image, source_first.image) < 3
    end = drive(last_frame(dest))
    assert mean_difference(end.image, DATA / "16x9-last.png") < 3  # ffmpeg's frame 47
    assert end.start_us == round(47 * 1_000_000 / 24, -3)  # whole milliseconds in WebM
    # Every one of the 48 pictures is there, in order, each its own.
    frames = drive(sample_frames(dest, [(k + 0.5) * 1000 / 24 for k in range(48)]))
    assert len({frame.start_us for frame in frames}) == 48
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["clip.webm"]


def test_the_webm_container_is_complete(drive: Drive[Any], tmp_path: Path) -> None:
    dest = tmp_path / "clip.webm"
    drive(export_animation(CLIP, dest, preset=SIZE_PRESETS["small"], fmt=AnimationFormat.WEBM))

    header, segment = ebml.read(dest)
    assert header.one("DocType").payload == b"webm"
    assert header.one("DocTypeReadVersion").uint == 2  # SimpleBlock needs version 2
    assert segment.data_offset + len(segment.payload) == dest.stat().st_size
    info = segment.one("Info")
    assert info.one("TimestampScale").uint == 1_000_000
    assert info.one("Duration").float == pytest.approx(2000)
    track = segment.one("Tracks").one("TrackEntry")
    assert track.one("CodecID").payload == b"V_VP8"
    assert track.one("TrackType").uint == 1
    assert track.one("DefaultDuration").uint == 100_000_000  # 10 fps
    video = track.one("Video")
    assert (video.one("PixelWidth").uint, video.one("PixelHeight").uint) == (320, 180)

    clusters = segment.find("Cluster")
    blocks = [(c.one("Timestamp").uint, b.payload) for c in clusters for b in c.find("SimpleBlock")]
    assert len(blocks) == 20
    times = [start + int.from_bytes(p[1:3], "big", signed=True) for start, p in blocks]
    assert times == [k * 100 for k in range(20)]
    assert all(p[0] == 0x81 and p[3] & 0x80 for _, p in blocks)  # track 1, key frames
    assert all(frame_size(p[4:]) == (320, 180) for _, p in blocks)

    # The SeekHead and the Cues point at what they name (positions within the Segment).
    at = {e.offset - segment.data_offset: e for e in segment.children}
    for seek in segment.one("SeekHead").find("Seek"):
        target = at[seek.one("SeekPosition").uint]
        assert target.id == int.from_bytes(seek.one("SeekID").payload, "big")
    cues = segment.one("Cues").find("CuePoint")
    assert len(cues) == len(clusters) == 2  # a cluster (and a cue) a second
    for cue, cluster in zip(cues, clusters, strict=True):
        position = cue.one("CueTrackPositions").one("CueClusterPosition").uint
        assert at[position] is cluster
        assert cue.one("CueTime").uint == cluster.one("Timestamp").uint


def test_a_trimmed_webm_starts_at_the_in_point(drive: Drive[Any], tmp_path: Path) -> None:
    dest = tmp_path / "trim.webm"

    drive(
        export_animation(
            CLIPS / "9x16.mp4",
            dest,
            preset=SizePreset("narrow", 90, 24),
            fmt=AnimationFormat.WEBM,
            trim=Trim(1000, 1500),
        )
    )

    assert drive(duration_ms(dest)) == 500
    first = drive(frame_at(dest, 0)).image
    assert (first.width(), first.height()) == (90, 160)
    in_point = drive(sample_frames(CLIPS / "9x16.mp4", [1000], max_width=90))[0].image
    start = drive(sample_frames(CLIPS / "9x16.mp4", [0], max_width=90))[0].image
    before, after = (
        drive(sample_frames(CLIPS / "9x16.mp4", [t], max_width=90))[0].image for t in (958, 1042)
    )
    # VP8 loses more of testsrc2's fine detail at 90 px (Pillow's own WebP of the in-point frame
    # differs by 10.6), but the picture is the in-point's, not its neighbours'.
    assert mean_difference(first, in_point) < 12
    assert mean_difference(first, in_point) < mean_difference(first, before) - 2
    assert mean_difference(first, in_point) < mean_difference(first, after) - 2
    assert mean_difference(first, in_point) < mean_difference(first, start) - 6


def test_quality_trades_size_for_picture(drive: Drive[Any], tmp_path: Path) -> None:
    low, high = tmp_path / "low.webm", tmp_path / "high.webm"
    for dest, quality in ((low, 20), (high, 95)):
        drive(
            export_animation(
                CLIP, dest, preset=SIZE_PRESETS["small"], fmt=AnimationFormat.WEBM, quality=quality
            )
        )
    assert low.stat().st_size < high.stat().st_size / 2
    with pytest.raises(ExportError, match="between 0 and 100"):
        drive(export_animation(CLIP, tmp_path / "x.webm", fmt=AnimationFormat.WEBM, quality=101))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["high.webm", "low.webm"]


def test_a_cancelled_webm_export_leaves_no_file(drive: Drive[Any], tmp_path: Path) -> None:
    async def start_then_cancel() -> bool:
        task: asyncio.Task[Path] | None = None

        def on_progress(fraction: float) -> None:
            if task is not None and 0 < fraction < 0.5:
                task.cancel()

        task = asyncio.ensure_future(
            export_animation(
                CLIP, tmp_path / "x.webm", fmt=AnimationFormat.WEBM, progress=on_progress
            )
        )
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert drive(start_then_cancel())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="no ffprobe here (CI has none)")
def test_ffprobe_reads_every_frame(drive: Drive[Any], tmp_path: Path) -> None:
    dest = tmp_path / "clip.webm"
    drive(export_animation(CLIP, dest, preset=FULL_RATE, fmt=AnimationFormat.WEBM))

    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-of",
            "json",
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames:format=format_name,duration",
            str(dest),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert probe.stderr == ""  # no complaint about the container or the frames
    found = json.loads(probe.stdout)
    [stream] = found["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("vp8", 320, 180)
    assert stream["nb_read_frames"] == "48"
    assert found["format"]["format_name"] == "matroska,webm"
    assert float(found["format"]["duration"]) == pytest.approx(2.0)


# -- the pieces -------------------------------------------------------------------------------


def test_a_picture_with_alpha_is_flattened_on_black() -> None:
    picture = Image.new("RGBA", (64, 48), (255, 255, 255, 0))
    picture.paste((255, 0, 0, 255), (0, 0, 32, 48))

    frame = vp8_key_frame(picture, 90)

    webp = b"RIFF" + (len(frame) + 12).to_bytes(4, "little") + b"WEBPVP8 "
    webp += len(frame).to_bytes(4, "little") + frame
    with Image.open(io.BytesIO(webp)) as decoded:
        rgb = decoded.convert("RGB")
    assert rgb.size == (64, 48)
    red, black = rgb.getpixel((8, 24)), rgb.getpixel((56, 24))
    assert isinstance(red, tuple)
    assert isinstance(black, tuple)
    assert red[0] > 200
    assert red[1] < 50
    assert max(black) < 30


def test_a_lossless_or_transparent_webp_is_refused() -> None:
    lossless = io.BytesIO()
    Image.new("RGB", (8, 8)).save(lossless, format="WEBP", lossless=True)
    with pytest.raises(Vp8Error, match="VP8L"):
        vp8_payload(lossless.getvalue())
    alpha = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 0, 10)).save(alpha, format="WEBP", quality=80)
    with pytest.raises(Vp8Error, match="ALPH"):
        vp8_payload(alpha.getvalue())
    with pytest.raises(Vp8Error, match="not a WebP"):
        vp8_payload(b"GIF89a")


def test_the_writer_refuses_a_frame_of_another_size(tmp_path: Path) -> None:
    with (tmp_path / "x.webm").open("wb") as file:
        writer = WebmWriter(file, 16, 16, Fraction(10))
        writer.add(vp8_key_frame(Image.new("RGB", (16, 16))))
        with pytest.raises(Vp8Error, match="track"):
            writer.add(vp8_key_frame(Image.new("RGB", (32, 16))))
        writer.close()
    assert ebml.read(tmp_path / "x.webm")[1].one("Info").one("Duration").float == 100


def test_a_cancel_stops_the_encoder_without_finishing_its_backlog(
    drive: Drive[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoding outruns a slow encoder, so frames queue up; a cancel must not wait for them."""
    encoded: list[int] = []
    at_cancel: list[int] = []
    real = vp8_key_frame

    def slow(picture: Image.Image, quality: int = 80) -> bytes:
        time.sleep(0.05)  # slower than decoding at 4x: a backlog builds
        encoded.append(1)
        return real(picture, quality)

    monkeypatch.setattr(exports, "vp8_key_frame", slow)

    async def start_then_cancel() -> bool:
        task: asyncio.Task[Path] | None = None

        def on_progress(fraction: float) -> None:
            if task is not None and fraction >= 0.6 and not at_cancel:
                at_cancel.append(len(encoded))
                task.cancel()

        task = asyncio.ensure_future(
            export_animation(
                CLIP,
                tmp_path / "x.webm",
                preset=FULL_RATE,
                fmt=AnimationFormat.WEBM,
                progress=on_progress,
            )
        )
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert drive(start_then_cancel())
    assert len(encoded) - at_cancel[0] <= 1  # at most the frame it was encoding
    assert list(tmp_path.iterdir()) == []
