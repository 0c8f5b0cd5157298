"""Converted images in the data folder's work/ (engine/work_files.py): each process keeps its
own, a killed process's are swept at the next start and after every upload, and a generation's
image is prepared once, by the CLI's check, not again by the engine."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from runway_desktop import paths
from runway_desktop.engine import work_files
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.images import PreparedImage
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.simulator import Simulator
from tests.conftest import run
from tests.engine.conftest import EngineFactory
from tests.helpers.cli import cli_env, journal_rows, run_cli, start_cli
from tests.helpers.scripted_server import Reply, ScriptedServer
from tests.helpers.small_disk import tmpfs

UPLOAD = "POST /v2/uploads"


def leftovers(data: Path) -> list[Path]:
    """Converted images left in work/ (the pictures pasted into the window are the person's)."""
    work = paths.work_dir(data)
    return sorted(p for p in work.rglob("*") if p.is_file() and p.name != work_files.LOCK_NAME
                  and "pasted" not in p.relative_to(work).parts)


def wait_for(check: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def gif(tmp_path: Path) -> Path:
    """A GIF: Runway takes none, so every upload of it is a converted PNG in work/."""
    path = tmp_path / "start.gif"
    Image.new("RGB", (640, 360), (30, 120, 200)).save(path)
    return path


@pytest.fixture
def holder(data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process with its own run folder and a converted image in it; killed at the end."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from runway_desktop.engine import work_files
        run = work_files.own_dir(Path({str(data_dir)!r}))
        (run / "photo-1a2b3c4d.png").write_bytes(b"converted")
        print(run, flush=True)
        sys.stdin.read()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    with proc:  # closes its pipes
        yield proc
        if proc.poll() is None:
            proc.kill()


def test_a_killed_process_folder_goes_at_the_next_sweep_a_living_one_stays(
    data_dir: Path, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdout is not None
    theirs = Path(holder.stdout.readline().strip())
    mine = work_files.own_dir(data_dir)
    (mine / "mine.png").write_bytes(b"in use")
    pasted = paths.work_dir(data_dir) / "pasted" / "clipboard.png"
    pasted.parent.mkdir()
    pasted.write_bytes(b"the person's")
    old_loose = paths.work_dir(data_dir) / "kite-0a1b2c3d.png"  # left by an older version
    old_loose.write_bytes(b"old")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old_loose, (two_days_ago, two_days_ago))
    new_loose = paths.work_dir(data_dir) / "fox-9f8e7d6c.png"
    new_loose.write_bytes(b"maybe being uploaded by an older version")

    assert work_files.sweep(data_dir) == 1  # the old loose file only: both processes live
    assert (theirs / "photo-1a2b3c4d.png").exists()
    assert (mine / "mine.png").exists()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert work_files.sweep(data_dir) == 1
    assert not theirs.exists()
    assert (mine / "mine.png").exists()
    assert pasted.exists()
    assert new_loose.exists()
    assert not old_loose.exists()


def test_a_preparation_is_handed_over_once_and_only_for_the_same_file(
    data_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "start.gif"
    source.write_bytes(b"GIF89a")
    converted = work_files.own_dir(data_dir) / "start-00000000.png"
    converted.write_bytes(b"png")
    prepared = PreparedImage(converted, 640, 360, "image/png", 3, converted=True)
    work_files.remember(source, prepared)
    assert work_files.take(source, keep_metadata=True) is None  # prepared without metadata
    assert work_files.take(source) == prepared
    assert work_files.take(source) is None  # once
    work_files.remember(source, prepared)
    time.sleep(0.01)
    source.write_bytes(b"GIF89a, changed")
    assert work_files.take(source) is None  # the file changed since the check


def test_a_sigkill_during_upload_leaves_no_converted_image_behind(
    scripted_server: ScriptedServer, tmp_path: Path, gif: Path
) -> None:
    """Issue 10, measured item 8: 5 of 5 kills during the upload left the PNG in work/."""
    data, home, out = tmp_path / "data", tmp_path / "home", tmp_path / "out"
    out.mkdir()
    scripted_server.on(UPLOAD, lambda r: Reply(hang=True)
                       if len(scripted_server.seen(UPLOAD)) == 1 else None)
    env = cli_env(scripted_server.base_url, data, home)
    cli = start_cli("generate", "a kite over the dunes", "--image", gif, "--out", out, env=env)
    try:
        wait_for(lambda: scripted_server.seen(UPLOAD))
        assert leftovers(data)  # the converted PNG, on its way
        cli.send_signal(signal.SIGKILL)
        cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert leftovers(data)

    result = run_cli("resume", "--out", out, env=env)
    assert result.code == 0, str(result)
    assert [row["stage"] for row in journal_rows(data)] == ["done"]
    assert len(scripted_server.seen(UPLOAD)) == 2
    assert leftovers(data) == []


def test_an_engine_start_sweeps_what_a_killed_process_left(
    scripted_engine: EngineFactory, data_dir: Path, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdout is not None
    theirs = Path(holder.stdout.readline().strip())
    holder.send_signal(signal.SIGKILL)
    holder.wait()

    async def scenario() -> None:
        engine = scripted_engine()
        await engine.start()
        assert not theirs.exists()
        await engine.stop()

    run(scenario())


def test_the_cli_prepares_a_generation_image_once(
    scripted_server: ScriptedServer, tmp_path: Path, gif: Path
) -> None:
    """The CLI checks the image by preparing it; the engine used to prepare it again."""
    data, home, out = tmp_path / "data", tmp_path / "home", tmp_path / "out"
    out.mkdir()
    counted = tmp_path / "preparations.txt"
    code = textwrap.dedent(f"""
        import atexit, sys
        from runway_desktop.engine import images
        calls = []
        original = images.prepare_image
        def counting(*args, **kwargs):
            calls.append(args[0])
            return original(*args, **kwargs)
        images.prepare_image = counting
        atexit.register(lambda: open({str(counted)!r}, "w").write(str(len(calls))))
        from runway_desktop.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    env = cli_env(scripted_server.base_url, data, home)
    done = subprocess.run(
        [sys.executable, "-c", code, "generate", "a kite", "--image", str(gif), "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
        stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert counted.read_text() == "1"
    assert len(scripted_server.seen(UPLOAD)) == 1
    assert leftovers(data) == []


@pytest.mark.expect_log_warnings(r"needs attention \(retry\): The picture couldn't be prepared")
def test_a_full_work_folder_says_so_and_the_generation_carries_on_once_there_is_room(
    make_engine: EngineFactory, simulator: Simulator, data_dir: Path, tmp_path: Path
) -> None:
    """The data folder's drive is full when a picture must be converted: the row said
    'Something unexpected went wrong (OSError) … Details are in the log'. A real full drive:
    a 64 KB tmpfs as the work folder, too small for the converted picture (root only)."""
    bmp = tmp_path / "noise.bmp"  # a BMP is always converted (to PNG: noise stays big)
    Image.frombytes("RGB", (600, 400), os.urandom(600 * 400 * 3)).save(bmp)
    work = paths.work_dir(data_dir)
    with tmpfs(work, "size=64k"):

        async def scenario() -> tuple[Generation, Generation]:
            engine = make_engine()
            await engine.start()
            generation = engine.submit(GenerationSettings("noise", image_path=str(bmp)))
            [stopped] = await asyncio.wait_for(engine.wait_settled([generation.id]), 30)
            subprocess.run(["mount", "-o", "remount,size=4m", str(work)], check=True)
            GenerationService(engine).retry(generation.id)
            [done] = await asyncio.wait_for(engine.wait_settled([generation.id]), 30)
            await engine.stop()
            return stopped, done

        stopped, done = run(scenario())
        assert (stopped.stage, stopped.action) == (Stage.ATTENTION, Action.RETRY)
        assert stopped.error == (
            f"The picture couldn't be prepared for upload: the drive holding {work} is full. "
            "Free some space on it, then press Retry. The generation is kept.")
        assert done.stage is Stage.DONE, done.error
        assert simulator.jobs_created("afk_test") == 1
