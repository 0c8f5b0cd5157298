"""Settings inside the MP4 (its comment) and beside it (a JSON sidecar): written, read back,
still played, and a reader that survives whatever file a person drops."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.mp4_check import check_mp4
from runway_desktop.engine.records import GenerationSettings
from runway_desktop.engine.video import frames
from runway_desktop.engine.video.metadata import (
    VideoSettings,
    joined,
    read_video_settings,
    save_video_settings,
    sidecar_path,
)
from runway_desktop.engine.video.mp4_boxes import Box, Mp4FormatError, read_box, top_level
from runway_desktop.engine.video.mp4_comment import (
    _placed,
    _shift,
    read_comment,
    with_comment,
    write_comment,
)
from runway_desktop.engine.video.mp4_join import join_mp4
from runway_desktop.engine.video.reencode import reencode_join
from tests.helpers.video import CLIP, NEXT, Drive, mean_difference

SETTINGS = VideoSettings(
    settings=GenerationSettings(
        "a red kite över the dunes — “quoted”", duration=10, aspect_ratio="9:16",
        seed=4_294_967_295,
        image_path="/home/ana/Pictures/kite.png", model="gen4_turbo",
        frame=ImageFrame(0.25, 0.0, 0.5, 1.0), image_sha256="ab" * 32,
    ),
    job_id="job_42", generation_id=7, parent_id=3, parent_job_id="job_41",
    created_at="2026-11-29T14:00:00+00:00",
)


def moov_last(source: Path, dest: Path) -> Path:
    """`source` laid out ftyp, mdat, moov (as FFmpeg and QMediaRecorder write without
    faststart): the media moves up, its chunk offsets with it."""
    data = source.read_bytes()
    with source.open("rb") as f:
        layout = top_level(f, len(data))
        moov_at = layout.first(b"moov")
        mdat_at = layout.first(b"mdat")
        ftyp_at = layout.first(b"ftyp")
        assert moov_at
        assert mdat_at
        assert ftyp_at
        moov = read_box(f, *moov_at)
    ftyp = data[ftyp_at[0]:ftyp_at[0] + ftyp_at[1]]
    mdat = data[mdat_at[0]:mdat_at[0] + mdat_at[1]]
    moved = _shift(moov, -1, len(ftyp) - mdat_at[0])
    dest.write_bytes(ftyp + mdat + moved.to_bytes())
    return dest


@pytest.fixture(params=["moov-first", "moov-last"])
def clip(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "moov-first":
        return Path(shutil.copy(CLIP, tmp_path / "clip.mp4"))
    return moov_last(CLIP, tmp_path / "clip.mp4")


def test_every_setting_comes_back_from_the_mp4(clip: Path) -> None:
    saved = save_video_settings(clip, SETTINGS, sidecar=False)
    assert saved.embedded
    assert not saved.problems
    assert saved.sidecar is None
    assert not sidecar_path(clip).exists()
    back = read_video_settings(clip)
    assert back == SETTINGS
    assert back is not None
    assert back.image_sha256 == "ab" * 32
    assert check_mp4(clip).whole
    assert [p.name for p in clip.parent.iterdir()] == ["clip.mp4"]  # no temp file left


def test_the_video_is_unchanged_and_still_plays(clip: Path, tmp_path: Path,
                                                 drive: Drive[frames.Frame]) -> None:
    before = Path(shutil.copy(clip, tmp_path / "before.mp4"))
    save_video_settings(clip, SETTINGS, sidecar=False)
    first_before = drive(frames.frame_at(before, 0))
    first_after = drive(frames.frame_at(clip, 0))
    last_before = drive(frames.last_frame(before))
    last_after = drive(frames.last_frame(clip))
    assert mean_difference(first_before.image, first_after.image) == 0
    assert mean_difference(last_before.image, last_after.image) == 0
    assert last_after.end_us == last_before.end_us


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="no ffprobe here (dev tool only)")
def test_ffprobe_shows_the_settings_as_the_comment(clip: Path) -> None:
    save_video_settings(clip, SETTINGS, sidecar=False)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format_tags=comment:stream=nb_read_frames",
         "-count_frames", "-of", "json", str(clip)],
        capture_output=True, text=True, check=True, timeout=60)
    probed = json.loads(out.stdout)
    assert json.loads(probed["format"]["tags"]["comment"]) == SETTINGS.to_json()
    assert probed["streams"][0]["nb_read_frames"] == "48"
    assert out.stderr == ""


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="no exiftool here (dev tool only)")
def test_exiftool_shows_the_settings_as_the_comment(clip: Path) -> None:
    save_video_settings(clip, SETTINGS, sidecar=False)
    out = subprocess.run(["exiftool", "-j", "-G1", "-Comment", str(clip)],
                         capture_output=True, text=True, check=True, timeout=60)
    [tags] = json.loads(out.stdout)
    assert json.loads(tags["ItemList:Comment"]) == SETTINGS.to_json()


def test_writing_again_replaces_and_none_removes(clip: Path) -> None:
    write_comment(clip, "first")
    write_comment(clip, "second")
    assert read_comment(clip) == "second"
    write_comment(clip, None)
    assert read_comment(clip) is None
    assert check_mp4(clip).whole


def test_other_user_data_is_kept() -> None:
    encoder = Box(b"\xa9too", payload=Box(b"data", payload=struct.pack(">II", 1, 0)
                                          + b"Lavf61").to_bytes())
    hdlr = Box(b"hdlr", payload=struct.pack(">II4s4sII", 0, 0, b"mdir", b"appl", 0, 0) + b"\0")
    meta = Box(b"meta", payload=b"\0\0\0\0" + hdlr.to_bytes()
               + Box(b"ilst", payload=encoder.to_bytes()).to_bytes())
    other = Box(b"\xa9xyz", payload=b"\0\x0512345+0000")
    moov = Box(b"moov", children=[Box(b"mvhd", payload=b"\0" * 100),
                                  Box(b"udta", payload=other.to_bytes() + meta.to_bytes())])
    changed = with_comment(moov, "hello")
    udta = changed.child(b"udta").payload
    assert other.to_bytes() in udta
    assert encoder.to_bytes() in udta
    assert udta.count(b"meta") == 1
    assert b"hello" in udta
    assert with_comment(changed, None).to_bytes() == moov.to_bytes()


def test_a_file_that_cant_take_it_is_left_as_it_was(tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(CLIP.read_bytes()[:-100])
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\0\0\0\x08free" + os.urandom(200))
    for path in (cut, garbage):
        before = path.read_bytes()
        saved = save_video_settings(path, SETTINGS, sidecar=False)
        assert not saved.embedded
        assert saved.problems
        assert path.read_bytes() == before
        with pytest.raises(Mp4FormatError):
            write_comment(path, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4", "garbage.mp4"]


def test_the_sidecar_holds_the_same_settings_for_people(clip: Path) -> None:
    saved = save_video_settings(clip, SETTINGS)
    assert saved.sidecar == clip.with_name("clip.json")
    text = saved.sidecar.read_text(encoding="utf-8")
    assert "\n  " in text
    assert "över" in text
    assert json.loads(text) == SETTINGS.to_json() == json.loads(read_comment(clip) or "")
    # A video that lost its own metadata (re-saved by another program) still has its sidecar.
    write_comment(clip, None)
    assert read_video_settings(clip) == SETTINGS


def test_a_sidecar_is_never_written_over_someone_elses_file(clip: Path) -> None:
    theirs = clip.with_name("clip.json")
    theirs.write_text('{"mine": true}')
    saved = save_video_settings(clip, SETTINGS)
    assert saved.embedded
    assert saved.sidecar is None
    assert theirs.read_text() == '{"mine": true}'
    save_video_settings(clip, None)
    assert theirs.exists()
    assert read_comment(clip) is None


def test_a_joined_film_lists_its_shots(tmp_path: Path) -> None:
    shots = [SETTINGS, VideoSettings(GenerationSettings("and then it lands", seed=2),
                                     job_id="job_43", generation_id=8, parent_id=7)]
    film = joined(shots)
    assert film is not None
    assert film.shots == tuple(shots)
    assert film.settings == shots[-1].settings  # "Use these settings" continues the film
    path = Path(shutil.copy(CLIP, tmp_path / "film.mp4"))
    save_video_settings(path, film)
    assert read_video_settings(path) == film
    assert joined([]) is None


# -- a reader that never breaks -----------------------------------------------------------------


def test_odd_paths_give_none(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.mp4"
    os.mkfifo(fifo)  # opening it would block for ever
    empty = tmp_path / "empty.mp4"
    empty.touch()
    plain = Path(shutil.copy(CLIP, tmp_path / "plain.mp4"))
    for path in (tmp_path, fifo, empty, plain, tmp_path / "missing.mp4", "", "\0"):
        assert read_video_settings(path) is None


_VALID = None


def _valid_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    global _VALID
    if _VALID is None:
        path = Path(shutil.copy(CLIP, tmp_path_factory.mktemp("valid") / "v.mp4"))
        save_video_settings(path, SETTINGS, sidecar=False)
        _VALID = path.read_bytes()
    return _VALID


FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.data())
def test_a_damaged_file_gives_none_or_the_settings(
        data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    valid = bytearray(_valid_bytes(tmp_path_factory))
    udta = valid.find(b"udta") - 4
    for _ in range(data.draw(st.integers(1, 8))):
        # Most damage lands in the index and the settings, where the reader looks.
        at = data.draw(st.integers(max(0, udta - 64), min(len(valid), udta + 600) - 1)
                       | st.integers(0, len(valid) - 1))
        valid[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        del valid[data.draw(st.integers(0, len(valid))):]
    path = tmp_path_factory.mktemp("fuzz") / "v.mp4"
    path.write_bytes(bytes(valid))
    found = read_video_settings(path)
    assert found is None or isinstance(found, VideoSettings)


@FUZZ
@given(blob=st.binary(max_size=4096))
def test_random_bytes_give_none(blob: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "r.mp4"
    path.write_bytes(blob)
    assert read_video_settings(path) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=6),
    max_leaves=30,
)
OURS = st.fixed_dictionaries(
    {"app": st.just("Runway Desktop"), "settings": JSON | st.dictionaries(
        st.sampled_from(["model", "params", "images"]), JSON)},
    optional={key: JSON for key in ("job_id", "generation_id", "parent_id", "shots", "format")},
)


@FUZZ
@given(content=JSON | OURS, raw=st.none() | st.binary(max_size=300))
def test_any_comment_or_sidecar_gives_none_or_settings(
        content: object, raw: bytes | None, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("json")
    video = Path(shutil.copy(CLIP, folder / "v.mp4"))
    text = json.dumps(content) if raw is None else raw.decode("utf-8", "replace")
    write_comment(video, text)
    found = read_video_settings(video)
    assert found is None or isinstance(found, VideoSettings)
    write_comment(video, None)
    sidecar_path(video).write_bytes(text.encode() if raw is None else raw)
    found = read_video_settings(video)
    assert found is None or isinstance(found, VideoSettings)


def test_deeply_nested_json_gives_none(tmp_path: Path) -> None:
    video = Path(shutil.copy(CLIP, tmp_path / "v.mp4"))
    write_comment(video, '{"app": "Runway Desktop", "settings": ' + "[" * 100_000)
    assert read_video_settings(video) is None
    # An integer longer than Python converts (4,300 digits) makes the JSON unreadable.
    write_comment(video, '{"app": "Runway Desktop", "settings": {}, "generation_id": '
                  + "9" * 5000 + "}")
    assert read_video_settings(video) is None
    write_comment(video, json.dumps({"app": "Runway Desktop", "settings": {"params": []},
                                     "generation_id": True, "shots": [{"shots": []}, 5]}))
    found = read_video_settings(video)
    assert found is not None
    assert found.generation_id is None
    assert found.shots == ()


# -- joined films ---------------------------------------------------------------------------------

SHOT_2 = VideoSettings(GenerationSettings("and then it lands", seed=2), job_id="job_43",
                       generation_id=8, parent_id=7, parent_job_id="job_42")


def two_shots(tmp_path: Path) -> list[Path]:
    first = Path(shutil.copy(CLIP, tmp_path / "shot1.mp4"))
    second = Path(shutil.copy(NEXT, tmp_path / "shot2.mp4"))
    save_video_settings(first, SETTINGS, sidecar=False)  # in the MP4
    save_video_settings(second, SHOT_2)  # and in a sidecar, which is all that is left:
    write_comment(second, None)
    return [first, second]


def test_a_film_joined_without_reencoding_lists_its_shots(tmp_path: Path,
                                                          drive: Drive[int]) -> None:
    dest = tmp_path / "film.mp4"
    join_mp4(two_shots(tmp_path), dest)
    film = read_video_settings(dest)
    assert film is not None
    assert film.shots == (SETTINGS, SHOT_2)  # not the first shot's own settings
    assert film.settings == SHOT_2.settings
    assert check_mp4(dest).whole
    assert drive(frames.duration_ms(dest)) == 4000


def test_a_joined_film_of_clips_without_settings_carries_none(tmp_path: Path) -> None:
    first = Path(shutil.copy(CLIP, tmp_path / "a.mp4"))
    save_video_settings(first, SETTINGS, sidecar=False)
    plain = Path(shutil.copy(NEXT, tmp_path / "b.mp4"))
    join_mp4([plain, plain], tmp_path / "film.mp4")
    assert read_video_settings(tmp_path / "film.mp4") is None
    join_mp4([first, plain], tmp_path / "film2.mp4")
    film = read_video_settings(tmp_path / "film2.mp4")
    assert film is not None
    assert film.shots == (SETTINGS,)


@pytest.mark.qt_log_ignore("Invalid frameRate 0")  # see test_reencode.py
def test_a_reencoded_film_lists_its_shots(tmp_path: Path, drive: Drive[Path]) -> None:
    dest = tmp_path / "film.mp4"
    drive(reencode_join(two_shots(tmp_path), dest, crossfade_ms=250))
    film = read_video_settings(dest)
    assert film is not None
    assert film.shots == (SETTINGS, SHOT_2)
    assert check_mp4(dest).whole
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "film.mp4", "shot1.mp4", "shot2.json", "shot2.mp4"]


def test_a_file_of_countless_tiny_boxes_is_given_up_on(tmp_path: Path) -> None:
    path = tmp_path / "boxes.mp4"
    path.write_bytes(b"\0\0\0\x08free" * 200_000)  # 1.6 MB of empty boxes, no moov
    with pytest.raises(Mp4FormatError, match="top-level boxes"):
        read_comment(path)
    assert read_video_settings(path) is None


def test_offsets_past_4_gb_move_into_a_co64_box() -> None:
    stco = Box(b"stco", payload=struct.pack(">IIII", 0, 2, 50, 0xFFFFFFF0))
    stbl = Box(b"stbl", children=[stco])
    moov = Box(b"moov", children=[Box(b"trak", children=[Box(b"mdia", children=[
        Box(b"minf", children=[stbl])])])])
    grown = with_comment(moov, "x" * 40)  # the index grows; the media after it moves along
    old_size = len(moov.to_bytes())
    placed = _placed(grown, 60, old_size)  # the index starts at byte 60, chunk 1 is before it
    table = placed.child(b"trak").child(b"mdia").child(b"minf").child(b"stbl").child(b"co64")
    delta = len(placed.to_bytes()) - old_size
    assert struct.unpack(">IIQQ", table.payload) == (0, 2, 50, 0xFFFFFFF0 + delta)


def test_what_an_interrupted_rewrite_left_is_cleared_next_time(clip: Path) -> None:
    old = [clip.with_name(".clip.mp4.k3j2.partial"), clip.with_name(".clip.json.x9.partial")]
    fresh = clip.with_name(".clip.mp4.a1b2.partial")  # another rewrite, just begun: kept
    for leftover in (*old, fresh):
        leftover.write_bytes(b"half a video")
    for leftover in old:
        os.utime(leftover, (1_000_000_000, 1_000_000_000))
    save_video_settings(clip, SETTINGS)
    assert sorted(p.name for p in clip.parent.iterdir()) == sorted(
        ["clip.mp4", "clip.json", fresh.name])
