"""`runway-desktop export seq:N --format mp4`: a sequence's chosen takes joined into one MP4 by
the real command in a subprocess — without re-encoding when the clips allow it, re-encoded
(MPEG-4 Part 2) when they differ or for a cross-fade; refusals are one line, exit 2."""

from __future__ import annotations

import concurrent.futures
import shutil
from pathlib import Path

import pytest

from runway_desktop.engine.journal import Journal
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.sequence_store import SequenceStore
from runway_desktop.engine.settings_changes import SettingsChanges
from runway_desktop.engine.video.mp4_join import read_clip
from tests.helpers.cli import CliResult, assert_one_line_message, cli_env, journal_file, run_cli

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "resources" / "clips" / "16x9.mp4"  # 2 s, 48 frames, 320×180
NEXT = ROOT / "tests" / "engine" / "video" / "data" / "16x9-next.mp4"  # its continuation
SQUARE = ROOT / "resources" / "clips" / "1x1.mp4"  # 240×240: joining it needs re-encoding


def make_sequence(data: Path, videos: Path, clips: list[Path | None], name: str) -> int:
    """A sequence whose shots' chosen takes are finished generations with these clips (None:
    a shot with no take yet); its number."""
    videos.mkdir(exist_ok=True)
    journal = Journal(journal_file(data))
    try:
        store = SequenceStore(journal)
        sequence = store.create(name, [(f"shot {i}", SettingsChanges()) for i in range(len(clips))],
                                output_dir=str(videos))
        for index, (shot, clip) in enumerate(zip(sequence.shots, clips, strict=True)):
            if clip is None:
                continue
            video = videos / f"{name}-take-{index}.mp4"
            shutil.copyfile(clip, video)
            take = journal.add(GenerationSettings(f"shot {index}", seed=index), stage=Stage.DONE,
                               video_path=str(video), job_id=f"{name}-job-{index}")
            store.link_take(shot.id, take.id)
        return sequence.id
    finally:
        journal.close()


def export(data: Path, home: Path, *args: str | Path) -> CliResult:
    return run_cli("export", *args, env=cli_env(None, data, home), timeout=180)


def video_track(path: Path) -> tuple[float, int, bytes]:
    """(seconds, samples, codec four-character code) of the MP4's video track."""
    clip = read_clip(path)
    [track] = [t for t in clip.tracks if t.handler == b"vide"]
    return clip.movie_duration / clip.movie_timescale, track.sample_count, track.sample_entry[12:16]


def test_three_shots_join_without_re_encoding_into_the_sequence_folder(tmp_path: Path) -> None:
    data, videos = tmp_path / "data", tmp_path / "videos"
    data.mkdir()
    number = make_sequence(data, videos, [CLIP, NEXT, CLIP], "Dusk: the lighthouse")

    result = export(data, tmp_path / "home", f"seq:{number}", "--format", "mp4", "--json")

    assert result.code == 0, str(result)
    path = Path(result.one()["path"])
    assert path == videos / "Dusk the lighthouse.mp4"  # no ':' in a file name
    seconds, frames, codec = video_track(path)
    assert (seconds, frames, codec) == (6.0, 144, b"avc1")  # H.264 as shot, 3 × 48 frames
    assert result.stderr == ""


def test_clips_that_differ_are_re_encoded_and_a_crossfade_overlaps(tmp_path: Path) -> None:
    data, videos = tmp_path / "data", tmp_path / "videos"
    data.mkdir()
    mixed = make_sequence(data, videos, [CLIP, SQUARE], "mixed")
    faded = make_sequence(data, videos, [CLIP, NEXT], "faded")

    # The two exports run at the same time (re-encoding decodes at playback speed).
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        reencoding = pool.submit(export, data, tmp_path / "home", f"seq:{mixed}", "--format",
                                 "mp4")
        crossfading = pool.submit(export, data, tmp_path / "home", f"sequence:{faded}",
                                  "--format", "mp4", "--crossfade", "0.5", "--to",
                                  tmp_path / "film.mp4")
        reencoded, crossfaded = reencoding.result(), crossfading.result()

    assert reencoded.code == 0, str(reencoded)
    assert_one_line_message(reencoded, "re-encoding (MPEG-4)", "240×240")  # says why
    seconds, frames, codec = video_track(videos / "mixed.mp4")
    assert codec == b"mp4v"
    assert frames == 96
    assert seconds == pytest.approx(4.0, abs=0.05)
    assert crossfaded.code == 0, str(crossfaded)
    seconds, frames, codec = video_track(tmp_path / "film.mp4")
    assert codec == b"mp4v"
    assert frames == 84  # 96 less the 12 frames (0.5 s) the two shots share
    assert seconds == pytest.approx(3.5, abs=0.05)


@pytest.mark.parametrize(
    ("clips", "args", "words"),
    [
        ([CLIP], ["seq:7", "--format", "mp4"], "no sequence 7"),
        ([CLIP, None], ["seq:{n}", "--format", "mp4"], "Shot 2 of sequence {n} has no take"),
        ([CLIP], ["seq:{n}", "--format", "gif"], "exports as one MP4"),
        ([CLIP], ["seq:{n}", "--format", "mp4", "--crossfade", "-1"],
         "--crossfade wants a length in seconds, like 0.5"),
        # A clip's mp4 (generation {n}): the cross-fade is only for a sequence's.
        ([CLIP], ["{n}", "--format", "mp4", "--crossfade", "1"],
         "--crossfade is only for a sequence's mp4 (seq:N)"),
    ],
)
def test_sequence_refusals_are_one_line_exit_2(
    tmp_path: Path, clips: list[Path | None], args: list[str], words: str
) -> None:
    data, videos = tmp_path / "data", tmp_path / "videos"
    data.mkdir()
    number = make_sequence(data, videos, clips, "s")
    before = sorted(videos.iterdir())

    result = export(data, tmp_path / "home", *(a.format(n=number) for a in args))

    assert result.code == 2, str(result)
    assert_one_line_message(result, words.format(n=number))
    assert sorted(videos.iterdir()) == before


def test_a_take_whose_video_is_gone_is_named(tmp_path: Path) -> None:
    data, videos = tmp_path / "data", tmp_path / "videos"
    data.mkdir()
    number = make_sequence(data, videos, [CLIP, NEXT], "gone")
    (videos / "gone-take-1.mp4").unlink()

    result = export(data, tmp_path / "home", f"seq:{number}", "--format", "mp4")

    assert result.code == 2, str(result)
    assert_one_line_message(result, f"Shot 2 of sequence {number}", "isn't there any more")


@pytest.mark.parametrize("sidecar", [True, False], ids=["sidecar", "setting-off"])
def test_the_film_gets_its_settings_sidecar_as_the_setting_says(tmp_path: Path,
                                                                 sidecar: bool) -> None:
    """Like every saved MP4 (and the window's film): the shots' settings inside the film
    and in `<film>.json` beside it, unless the `settings_sidecar` setting is off."""
    import dataclasses
    import json

    from runway_desktop import settings
    from runway_desktop.engine.video.metadata import (
        VideoSettings,
        read_video_settings,
        save_video_settings,
    )

    data, videos = tmp_path / "data", tmp_path / "videos"
    data.mkdir()
    settings.save(data, dataclasses.replace(settings.load(data), settings_sidecar=sidecar))
    number = make_sequence(data, videos, [CLIP, NEXT], "Kite")
    for index, video in enumerate(sorted(videos.glob("Kite-take-*.mp4"))):
        save_video_settings(video, VideoSettings(GenerationSettings(f"shot {index}"),
                                                 generation_id=index + 1), sidecar=False)

    result = export(data, tmp_path / "home", f"seq:{number}", "--format", "mp4", "--json")

    assert result.code == 0, str(result)
    film = Path(result.one()["path"])
    carried = read_video_settings(film)
    assert carried is not None
    assert [s.generation_id for s in carried.shots] == [1, 2]
    beside = film.with_suffix(".json")
    if sidecar:
        assert VideoSettings.from_json(json.loads(beside.read_text(encoding="utf-8"))) == carried
    else:
        assert not beside.exists()
