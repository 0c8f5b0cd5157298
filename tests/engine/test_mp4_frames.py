"""The frames of a downloaded MP4 must be a real bitstream before the download counts as done."""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path

import pytest
from PIL import Image

from runway_desktop.engine.mp4_frames import UnplayableVideo, check_video_frames
from runway_desktop.simulator.mp4_writer import mjpeg_mp4

CLIPS = Path(__file__).resolve().parents[2] / "resources" / "clips"


def with_media(mp4: bytes, media: bytes | None = None, *, at: int = 0) -> bytes:
    """`mp4` with its `mdat` payload overwritten from byte `at` on by `media` (noise if None);
    every box keeps its size, so the box walk still adds up."""
    offset = 0
    while offset < len(mp4):
        size, kind = struct.unpack(">I4s", mp4[offset:offset + 8])
        if kind == b"mdat":
            start, end = offset + 8 + at, offset + size
            fill = media if media is not None else hashlib.shake_256(b"noise").digest(end - start)
            return mp4[:start] + fill[: end - start] + mp4[start + len(fill[: end - start]):]
        offset += size
    raise AssertionError("no mdat")


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("clip", sorted(p.name for p in CLIPS.glob("*.mp4")))
def test_every_stock_clip_decodes(clip: str) -> None:
    check_video_frames(CLIPS / clip)


def test_noise_inside_good_boxes_is_refused(tmp_path: Path) -> None:
    video = _write(tmp_path, with_media((CLIPS / "16x9.mp4").read_bytes()))
    with pytest.raises(UnplayableVideo, match="frame 1 isn't a sequence of NAL units"):
        check_video_frames(video)


def test_a_later_frame_whose_units_overrun_it_is_refused(tmp_path: Path) -> None:
    """Frame 10's first NAL length claims more bytes than the frame has."""
    from runway_desktop.engine.video.mp4_boxes import read_moov
    from runway_desktop.engine.video.mp4_tables import read_track

    _ftyp, moov, _size = read_moov(CLIPS / "16x9.mp4")
    track = read_track(moov.child(b"trak"))
    [(chunk, _length)] = track.chunks()  # the stock clip keeps its frames in one chunk
    tenth = chunk + sum(track.sizes[:9])
    data = bytearray((CLIPS / "16x9.mp4").read_bytes())
    data[tenth:tenth + 4] = struct.pack(">I", track.sizes[9])  # 4 bytes too long
    with pytest.raises(UnplayableVideo, match="frame 10 isn't a sequence of NAL units"):
        check_video_frames(_write(tmp_path, bytes(data)))


def test_a_first_frame_of_parameter_sets_only_is_refused(tmp_path: Path) -> None:
    """A well-framed first sample holding no picture (an SPS, NAL type 7, filling it)."""
    clip = (CLIPS / "16x9.mp4").read_bytes()
    from runway_desktop.engine.video.mp4_boxes import read_moov
    from runway_desktop.engine.video.mp4_tables import read_track

    _ftyp, moov, _size = read_moov(CLIPS / "16x9.mp4")
    [first] = read_track(moov.child(b"trak")).sizes[:1]
    sps = struct.pack(">I", first - 4) + b"\x67" + b"\x00" * (first - 5)
    video = _write(tmp_path, with_media(clip, sps))
    with pytest.raises(UnplayableVideo, match="first frame holds no picture"):
        check_video_frames(video)


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 36), colour).save(out, "JPEG")
    return out.getvalue()


def test_motion_jpeg_clips_decode_and_noise_in_them_does_not(tmp_path: Path) -> None:
    good = mjpeg_mp4([_jpeg((200, 60, 30)), _jpeg((30, 60, 200))], 64, 36, 12)
    check_video_frames(_write(tmp_path, good))
    with pytest.raises(UnplayableVideo, match="frame 1 isn't a JPEG picture"):
        check_video_frames(_write(tmp_path, with_media(good)))


def test_a_jpeg_frame_with_good_markers_and_noise_inside_does_not_decode(tmp_path: Path) -> None:
    frame = _jpeg((200, 60, 30))
    broken = frame[:2] + b"\xff\xc0" + b"\x00" * (len(frame) - 6) + b"\xff\xd9"
    video = _write(tmp_path, mjpeg_mp4([broken, frame], 64, 36, 12))
    with pytest.raises(UnplayableVideo, match="frame 1 doesn't decode"):
        check_video_frames(video)


def test_a_file_without_a_video_track_is_refused(tmp_path: Path) -> None:
    clip = (CLIPS / "16x9.mp4").read_bytes()
    video = _write(tmp_path, clip.replace(b"vide", b"soun", 1))
    with pytest.raises(UnplayableVideo, match="no video track"):
        check_video_frames(video)
