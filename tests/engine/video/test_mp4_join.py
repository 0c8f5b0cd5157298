"""Joining real H.264 MP4s without re-encoding: the index is right, the bytes are the clips'
own, QtMultimedia plays the result for the sum of the durations and decodes across the seams.
"""

from __future__ import annotations

import asyncio
import shutil
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from runway_desktop.engine.video import join_task, mp4_join
from runway_desktop.engine.video.frames import duration_ms, frame_at, last_frame, sample_frames
from runway_desktop.engine.video.join_task import join_clips
from runway_desktop.engine.video.mp4_join import (
    JoinCancelled,
    JoinError,
    NeedsReencode,
    join_mp4,
    read_clip,
)
from runway_desktop.engine.video.mp4_tables import Edit, Track, read_mdhd, with_duration
from tests.helpers.video import CLIP, CLIPS, DATA, FRAME_US, NEXT, Drive, mean_difference


def samples(track: Track, path: Path) -> list[bytes]:
    """Every sample's bytes, in decode order, found through the track's own tables."""
    out: list[bytes] = []
    index = 0
    with path.open("rb") as f:
        for offset, _length in track.chunks():
            chunk_no = track.chunk_offsets.index(offset) + 1
            per_chunk = next(n for first, n, _ in reversed(track.stsc) if first <= chunk_no)
            f.seek(offset)
            for size in track.sizes[index : index + per_chunk]:
                out.append(f.read(size))
            index += per_chunk
    return out


def test_two_clips_join_into_one_index_over_their_own_bytes(tmp_path: Path) -> None:
    dest = tmp_path / "film.mp4"

    result = join_mp4([CLIP, NEXT], dest)

    assert result.path == dest
    assert result.clips == 2
    assert result.duration_s == pytest.approx(4.0)
    joined = read_clip(dest)
    a, b = read_clip(CLIP).tracks[0], read_clip(NEXT).tracks[0]
    track = joined.tracks[0]
    assert track.sample_count == a.sample_count + b.sample_count == 96
    assert track.stts == [(96, 512)]  # 24 fps at 1/12288
    assert track.sync == [1, 49]  # each clip's key frame, renumbered
    assert track.ctts is not None
    assert sum(n for n, _ in track.ctts) == 96
    # One edit: skip the B-frame delay once, then play 4 s (the clips' edits continue each other).
    assert track.edits == [Edit(4000, 1024)]
    assert read_mdhd(joined.moov.child(b"mvhd").payload) == (1000, 4000)
    assert read_mdhd(track.box.child(b"mdia").child(b"mdhd").payload)[1] == 96 * 512
    # Not re-encoded: every sample is byte for byte the clip's own.
    assert samples(track, dest) == samples(a, CLIP) + samples(b, NEXT)
    # Laid out for streaming: ftyp, moov, then the media.
    with dest.open("rb") as f:
        data = f.read()
    first_boxes = [data[4:8]]
    at = struct.unpack(">I", data[:4])[0]
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        first_boxes.append(kind)
        at += size
    assert first_boxes == [b"ftyp", b"moov", b"mdat"]
    assert not [p for p in tmp_path.iterdir() if p != dest]  # no partial file left beside it


def test_the_joined_film_plays_for_the_sum_and_decodes_at_the_seam(
    drive: Drive[Any], tmp_path: Path
) -> None:
    dest = join_mp4([CLIP, NEXT], tmp_path / "film.mp4").path

    assert drive(duration_ms(dest)) == 4000
    before = drive(frame_at(dest, 1990))  # the first clip's last frame
    after = drive(frame_at(dest, 2010))  # the second clip's first frame
    end = drive(last_frame(dest))

    assert before.start_us == pytest.approx(47 * FRAME_US, abs=1000)
    assert after.start_us == pytest.approx(48 * FRAME_US, abs=1000)
    assert end.start_us == pytest.approx(95 * FRAME_US, abs=1000)
    assert end.end_us == pytest.approx(4_000_000, abs=1000)
    # The pictures are the right ones (an independent decoder's frames, within rounding) ...
    assert mean_difference(before.image, DATA / "16x9-last.png") < 1.5
    assert mean_difference(after.image, DATA / "16x9-next-first.png") < 1.5
    # ... and the seam really changes picture (the comparison above can tell frames apart).
    assert mean_difference(before.image, after.image) > 4


def test_three_shots_and_a_clip_joined_to_itself(drive: Drive[Any], tmp_path: Path) -> None:
    dest = tmp_path / "three.mp4"

    join_mp4([CLIP, NEXT, CLIP], dest)

    assert drive(duration_ms(dest)) == 6000
    third_first = drive(frame_at(dest, 4010))
    clip_first = drive(frame_at(CLIP, 0))
    assert third_first.start_us == pytest.approx(96 * FRAME_US, abs=1000)
    assert mean_difference(third_first.image, clip_first.image) < 0.5  # the same decoder


def test_clips_of_another_size_need_re_encoding_and_nothing_is_written(tmp_path: Path) -> None:
    dest = tmp_path / "film.mp4"

    with pytest.raises(NeedsReencode) as caught:
        join_mp4([CLIP, CLIPS / "1x1.mp4"], dest)

    assert "1x1.mp4" in caught.value.message
    assert "re-encoding" in caught.value.message
    assert "240×240" in caught.value.message
    assert "320×180" in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_other_encoder_settings_need_re_encoding(tmp_path: Path) -> None:
    # Same size, other SPS: one byte of the avcC changed in a copy of the clip.
    other = tmp_path / "other.mp4"
    data = bytearray(CLIP.read_bytes())
    at = data.index(b"avcC") + 4 + 3  # configurationVersion, profile, compatibility, *level*
    data[at] ^= 0x01
    other.write_bytes(bytes(data))

    with pytest.raises(NeedsReencode, match="encoder settings"):
        join_mp4([CLIP, other], tmp_path / "film.mp4")


def test_a_cut_or_foreign_file_is_refused_in_words(tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(CLIP.read_bytes()[:20_000])
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n")

    with pytest.raises(JoinError, match=r"“cut\.mp4”.*isn't a whole MP4"):
        join_mp4([CLIP, cut], tmp_path / "film.mp4")
    with pytest.raises(JoinError, match=r"“notes\.mp4”"):
        join_mp4([text, CLIP], tmp_path / "film.mp4")
    with pytest.raises(JoinError, match="doesn't exist"):
        join_mp4([CLIP, tmp_path / "gone.mp4"], tmp_path / "film.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4", "notes.mp4"]


def test_progress_rises_to_the_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mp4_join, "COPY_BLOCK", 4096)
    seen: list[tuple[int, int]] = []

    join_mp4(
        [CLIP, NEXT], tmp_path / "film.mp4", progress=lambda done, total: seen.append((done, total))
    )

    assert len(seen) > 10
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    total = seen[-1][1]
    assert seen[-1] == (total, total)
    assert total == sum(read_clip(p).tracks[0].chunks()[0][1] for p in (CLIP, NEXT))


def test_a_cancelled_join_leaves_the_old_file_and_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mp4_join, "COPY_BLOCK", 4096)
    dest = tmp_path / "film.mp4"
    shutil.copy(CLIP, dest)  # an earlier export under the same name
    calls = [0]

    def cancelled() -> bool:
        calls[0] += 1
        return calls[0] > 3  # part-way through the copy

    with pytest.raises(JoinCancelled):
        join_mp4([CLIP, NEXT], dest, cancelled=cancelled)

    assert dest.read_bytes() == CLIP.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["film.mp4"]


def test_join_task_reports_progress_and_cancels_its_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mp4_join, "COPY_BLOCK", 512)
    dest = tmp_path / "long.mp4"
    gate = threading.Event()

    def gated_join(*args: Any, progress: Any, **kwargs: Any) -> Any:
        def held(done: int, total: int) -> None:
            progress(done, total)
            assert gate.wait(30), "the test never let the worker go on"

        return join_mp4(*args, progress=held, **kwargs)

    async def run_and_cancel() -> list[float]:
        seen: list[float] = []
        started = asyncio.Event()

        def progress(fraction: float) -> None:
            seen.append(fraction)
            started.set()

        task = asyncio.ensure_future(join_clips([CLIP, NEXT] * 4, dest, progress=progress))
        await started.wait()  # the worker is part-way, held after its first block
        task.cancel()
        await asyncio.sleep(0)  # the task sees the cancel and tells the worker to stop
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        return seen

    with monkeypatch.context() as patch:
        patch.setattr(join_task, "join_mp4", gated_join)
        seen = asyncio.run(run_and_cancel())
    assert seen
    assert seen[-1] < 1.0
    assert list(tmp_path.iterdir()) == []  # the worker removed its partial file before the end

    async def run() -> tuple[float, list[float]]:
        fractions: list[float] = []
        result = await join_clips([CLIP, NEXT], dest, progress=fractions.append)
        return result.duration_s, fractions

    duration, fractions = asyncio.run(run())
    assert duration == pytest.approx(4.0)
    assert fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert dest.is_file()


def test_a_duration_past_32_bits_turns_a_header_into_version_1() -> None:
    # mvhd v0: version/flags, created, modified, timescale, duration, then the rest.
    v0 = struct.pack(">IIIII", 0, 7, 8, 1000, 2000) + b"rest"
    assert read_mdhd(with_duration(v0, 3000)) == (1000, 3000)
    v1 = with_duration(v0, 1 << 33)
    assert v1[0] == 1
    assert read_mdhd(v1) == (1000, 1 << 33)
    assert v1.endswith(b"rest")
    # tkhd v0: version/flags, created, modified, track id, reserved, duration.
    tkhd = struct.pack(">IIIIII", 7, 1, 2, 1, 0, 2000) + b"matrix"
    wide = with_duration(tkhd, 1 << 33, timescale_field=False)
    assert wide[0] == 1
    assert struct.unpack_from(">Q", wide, 28)[0] == 1 << 33
    assert struct.unpack_from(">I", wide, 20)[0] == 1
    assert wide.endswith(b"matrix")


def test_clips_with_sound_join_with_each_clips_priming_skipped(
    drive: Drive[Any], tmp_path: Path
) -> None:
    # The two encodes differ in their bit-rate notes (btrt, esds) only: still one decoder set-up.
    first, second = DATA / "sound-0.mp4", DATA / "sound-1.mp4"
    dest = tmp_path / "film.mp4"

    join_mp4([first, second], dest)

    video, audio = read_clip(dest).tracks
    assert (video.handler, audio.handler) == (b"vide", b"soun")
    assert video.edits == [Edit(4000, 1024)]
    # AAC starts 1024 samples early in each clip: the second clip's priming is skipped too, so
    # the sound stays with the picture (one edit per clip, 2 s each).
    clip_audio = read_clip(first).tracks[1].media_duration
    assert audio.edits == [Edit(2000, 1024), Edit(2000, clip_audio + 1024)]
    assert samples(audio, dest) == samples(read_clip(first).tracks[1], first) + samples(
        read_clip(second).tracks[1], second
    )
    assert drive(duration_ms(dest)) == 4000
    assert drive(last_frame(dest)).end_us == pytest.approx(4_000_000, abs=1000)


def test_other_sound_settings_or_tracks_need_re_encoding(tmp_path: Path) -> None:
    # The AAC configuration (object type, sample rate, channels) of a copy changed.
    other = tmp_path / "other.mp4"
    data = bytearray((DATA / "sound-1.mp4").read_bytes())
    at = data.index(bytes.fromhex("0580808005")) + 5  # AudioSpecificConfig: 11 88 56 e5 00
    data[at + 1] ^= 0x10  # channel configuration 1 (mono) becomes 3
    other.write_bytes(bytes(data))

    with pytest.raises(NeedsReencode, match="encoder settings"):
        join_mp4([DATA / "sound-0.mp4", other], tmp_path / "film.mp4")
    with pytest.raises(NeedsReencode, match=r"other tracks \(video\) than .* \(video \+ audio\)"):
        join_mp4([DATA / "sound-0.mp4", CLIP], tmp_path / "film.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["other.mp4"]


def test_headers_that_leave_lengths_out_still_join(tmp_path: Path) -> None:
    # A copy whose movie header says 0 and whose edit says "0 = the rest of the media".
    sparse = tmp_path / "sparse.mp4"
    data = bytearray(CLIP.read_bytes())
    mvhd = data.index(b"mvhd") + 4
    data[mvhd + 16 : mvhd + 20] = bytes(4)  # v0: version/flags, created, modified, scale, *dur*
    elst = data.index(b"elst") + 4
    data[elst + 8 : elst + 12] = bytes(4)  # the one entry's segment duration
    sparse.write_bytes(bytes(data))
    assert read_clip(sparse).tracks[0].edits == [Edit(0, 1024)]

    result = join_mp4([sparse, NEXT], tmp_path / "film.mp4")

    assert result.duration_s == pytest.approx(4.0, abs=0.1)
    # The rest of the media after the 1024-tick delay: 2 s less 2 frames, then the next clip.
    assert read_clip(result.path).tracks[0].edits == [Edit(1917, 1024), Edit(2000, 24576 + 1024)]


def test_the_joined_film_plays_through_both_shots(drive: Drive[Any], tmp_path: Path) -> None:
    dest = join_mp4([CLIP, NEXT], tmp_path / "film.mp4").path
    times = [(k + 0.5) * FRAME_US / 1000 for k in range(96)]  # the middle of every frame

    frames = drive(sample_frames(dest, times))

    starts = [frame.start_us for frame in frames]
    assert starts == sorted(starts)
    for time_ms, start in zip(times, starts, strict=True):
        # the frame on screen then (or one shortly before, had the renderer skipped any)
        assert start <= time_ms * 1000 < start + 3 * FRAME_US
    assert frames[-1].end_us == pytest.approx(4_000_000, abs=1000)
    assert len(set(starts)) > 80  # it really played, frame after frame, across the seam


def test_a_join_cancelled_after_its_worker_finished_leaves_no_film(tmp_path: Path) -> None:
    """The cancel can land after the worker renamed the whole film into place (a short join on a
    fast machine): the caller is told it stopped, so the film must not be there (it was: the
    window said the export stopped beside a finished film.mp4)."""
    dest = tmp_path / "film.mp4"

    async def cancel_once_written() -> bool:
        task = asyncio.ensure_future(join_clips([CLIP, NEXT], dest))
        while not dest.exists() and not task.done():
            await asyncio.sleep(0)
        cancelled = task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return cancelled and task.cancelled()

    landed_late = 0
    for _ in range(20):
        dest.unlink(missing_ok=True)
        if asyncio.run(cancel_once_written()):
            landed_late += 1
            assert not dest.exists()
    assert landed_late > 0  # the late cancel did happen (else this test checks nothing)
