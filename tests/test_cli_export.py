"""`runway-desktop export`: the real command in a subprocess, on clips made by the simulator or
kept in a history; what it wrote is opened again (Pillow, the EBML reader), and every refusal is
one line with exit code 2 and nothing written."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest
from PIL import Image

from runway_desktop.engine.journal import Journal
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.video.mp4_join import join_mp4
from runway_desktop.simulator import Simulator
from tests.helpers import ebml
from tests.helpers.cli import (
    CliResult,
    assert_one_line_message,
    cli_env,
    journal_file,
    run_cli,
    start_cli,
)

CLIP = Path(__file__).resolve().parents[1] / "resources" / "clips" / "16x9.mp4"  # 2 s, 320×180


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, Path, dict[str, int]]:
    """A data dir whose history has a finished clip (a copy of 16x9.mp4), one still running,
    and one finished whose video was deleted; the folder of the videos; their ids."""
    data, videos = tmp_path / "data", tmp_path / "videos"
    data.mkdir()
    videos.mkdir()
    shutil.copyfile(CLIP, videos / "clip.mp4")
    journal = Journal(journal_file(data))
    try:
        done = journal.add(GenerationSettings("a clip", seed=1), stage=Stage.DONE,
                           video_path=str(videos / "clip.mp4"), job_id="job-1")
        running = journal.add(GenerationSettings("on its way", seed=2), stage=Stage.PROCESSING,
                              job_id="job-2", submitted_at=1.0)
        gone = journal.add(GenerationSettings("deleted", seed=3), stage=Stage.DONE,
                           video_path=str(videos / "gone.mp4"), job_id="job-3")
    finally:
        journal.close()
    return data, videos, {"done": done.id, "running": running.id, "gone": gone.id}


def export(data: Path, home: Path, *args: str | Path) -> CliResult:
    return run_cli("export", *args, env=cli_env(None, data, home), timeout=120)


def test_a_clip_the_simulator_made_exports_as_webm_beside_it(
    simulator: Simulator, tmp_path: Path
) -> None:
    data, home, out = tmp_path / "data", tmp_path / "home", tmp_path / "out"
    out.mkdir()
    made = run_cli("generate", "a lighthouse at dusk", "--out", out, "--json",
                   env=cli_env(simulator.base_url, data, home), timeout=120)
    assert made.code == 0, str(made)
    row = made.one()

    result = export(data, home, str(row["id"]), "--format", "webm", "--size", "small", "--json")

    assert result.code == 0, str(result)
    written = result.one()
    path = Path(written["path"])
    assert path.parent == Path(row["video_path"]).parent
    assert path.name == Path(row["video_path"]).stem + ".webm"
    assert written["bytes"] == path.stat().st_size
    _, segment = ebml.read(path)
    assert segment.one("Tracks").one("TrackEntry").one("CodecID").payload == b"V_VP8"
    assert result.stderr == ""  # Qt's and FFmpeg's chatter went to the log, not the terminal
    assert "Input #0" in (data / "logs" / "video-export.log").read_text(errors="replace")


def test_every_clip_format_with_its_options(
    history: tuple[Path, Path, dict[str, int]], tmp_path: Path
) -> None:
    data, videos, ids = history
    home = tmp_path / "home"
    clip = str(ids["done"])

    gif = export(data, home, clip, "--format", "gif", "--size", "small", "--in", "0.5",
                 "--out-point", "1.5")
    assert gif.code == 0, str(gif)
    assert Path(gif.stdout.strip()) == videos / "clip.gif"
    with Image.open(videos / "clip.gif") as image:
        assert getattr(image, "n_frames", 1) == 10  # 1 s at the small preset's 10 fps
        assert image.size == (320, 180)

    webp = export(data, home, f"#{clip}", "--format", "webp", "--quality", "50",
                  "--to", tmp_path / "loop.webp")
    assert webp.code == 0, str(webp)
    with Image.open(tmp_path / "loop.webp") as image:
        assert image.format == "WEBP"
        assert getattr(image, "n_frames", 1) == 24  # 2 s at medium's 12 fps

    webm = export(data, home, clip, "--format", "webm", "--out-point", "1", "--to", tmp_path)
    assert webm.code == 0, str(webm)
    _, segment = ebml.read(tmp_path / "clip.webm")
    assert segment.one("Info").one("Duration").float == pytest.approx(1000)

    still = export(data, home, clip, "--format", "png", "--at", "1.5")
    last = export(data, home, clip, "--format", "png", "--at", "last")
    for result, name in ((still, "clip-at-1.5s.png"), (last, "clip-last.png")):
        assert result.code == 0, str(result)
        assert Path(result.stdout.strip()) == videos / name
        with Image.open(videos / name) as image:
            assert (image.format, image.size) == ("PNG", (320, 180))

    mp4 = export(data, home, clip, "--format", "mp4")
    again = export(data, home, clip, "--format", "mp4")
    assert (mp4.code, again.code) == (0, 0), str(mp4) + str(again)
    # The clip itself is never overwritten: a free name each time, the same bytes.
    assert Path(mp4.stdout.strip()) == videos / "clip-2.mp4"
    assert Path(again.stdout.strip()) == videos / "clip-3.mp4"
    assert (videos / "clip-3.mp4").read_bytes() == CLIP.read_bytes()
    assert not [p for p in videos.iterdir() if p.name.startswith(".")]  # no partial files


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["99", "--format", "gif"], "no generation #99"),
        (["{running}", "--format", "gif"], "isn't finished (it is processing)"),
        (["{gone}", "--format", "png"], "isn't there any more"),
        (["{done}", "--format", "gif", "--in", "3"], "isn't inside the clip (0–2 s)"),
        (["{done}", "--format", "webm", "--in", "1.5", "--out-point", "1"], "at or before --in"),
        (["{done}", "--format", "gif", "--in", "soon"], "--in wants seconds"),
        (["{done}", "--format", "png", "--at", "9"], "past the clip's end"),
        (["{done}", "--format", "gif", "--at", "1"], "--at doesn't go with --format gif"),
        (["{done}", "--format", "mp4", "--in", "1"], "--in doesn't go with --format mp4"),
        (["{done}", "--format", "webm", "--quality", "101"], "isn't between 0 and 100"),
        (["{done}", "--format", "gif", "--to", "{videos}/clip.mp4"], "doesn't end in .gif"),
        (["{done}", "--format", "mp4", "--to", "{videos}/clip.mp4"], "already exists"),
        (["{done}", "--format", "gif", "--to", "{videos}/no/such.gif"], "doesn't exist"),
        (["clip", "--format", "gif"], "names no clip or sequence"),
    ],
)
def test_refusals_are_one_line_exit_2_and_write_nothing(
    history: tuple[Path, Path, dict[str, int]], tmp_path: Path, args: list[str], words: str
) -> None:
    data, videos, ids = history
    before = sorted(videos.iterdir())
    filled = [a.format(videos=videos, **ids) for a in args]

    result = export(data, tmp_path / "home", *filled)

    assert result.code == 2, str(result)
    assert_one_line_message(result, words)
    assert result.stdout == ""
    assert sorted(videos.iterdir()) == before


def test_help_names_the_formats_and_the_sequence_form(tmp_path: Path) -> None:
    result = run_cli("export", "--help", env=cli_env(None, tmp_path / "data", tmp_path / "home"))
    assert result.code == 0, str(result)
    for words in ("mp4,gif,webm,webp,png", "seq:3", "--out-point", "--crossfade", "last"):
        assert words in result.stdout


def test_ctrl_c_stops_an_export_at_once_and_leaves_no_file(tmp_path: Path) -> None:
    data, videos = tmp_path / "data", tmp_path / "videos"
    data.mkdir()
    videos.mkdir()
    long_clip = videos / "long.mp4"
    join_mp4([CLIP] * 20, long_clip)  # 40 s: a WebM of it takes several seconds here
    journal = Journal(journal_file(data))
    try:
        row = journal.add(GenerationSettings("long", seed=1), stage=Stage.DONE,
                          video_path=str(long_clip), job_id="job-long")
    finally:
        journal.close()

    process = start_cli("export", str(row.id), "--format", "webm", "--size", "small",
                        env=cli_env(None, data, tmp_path / "home"))
    try:
        deadline = time.monotonic() + 60
        while not [p for p in videos.iterdir() if p.name.endswith(".partial")]:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no partial file appeared in 60 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=15)  # not the whole export's time
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 130, stderr
    assert stdout == ""
    assert stderr.strip() == "runway-desktop: stopped: nothing was written."
    assert [p.name for p in videos.iterdir()] == ["long.mp4"]
