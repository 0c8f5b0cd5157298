"""A download whose process stops mid-body (a debugger, `kill -STOP`, a frozen VM) while its
lease runs out and another process takes the generation over (engine/leases.py).

The stopped process is modelled faithfully in one test process: its progress callback — run
on its event loop between two chunks — runs the other process's whole download, so nothing of
the first runs meanwhile, exactly as if it were stopped; then it "wakes"."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runway_desktop.engine.downloads import Progress, UrlPolicy, download_video
from runway_desktop.engine.leases import LeaseExpired, held_context
from runway_desktop.engine.part_origin import part_path
from tests.helpers.scripted_server import CLIP, Reply, Request, ScriptedServer

CHUNK = 1000  # what a slow network delivers at a time: far below a file buffer


def _slowly(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        time.sleep(0.001)  # each piece its own read on the other side
        yield data[start:start + CHUNK]


def _in_small_pieces(video: bytes, request: Request) -> Reply:
    """The CDN: the video (or the rest of it, for a Range) in small pieces, with an ETag."""
    start = int(request.headers.get("range", "bytes=0-")[6:-1] or 0)
    headers = {"Content-Type": "video/mp4", "ETag": '"v1"',
               "Content-Length": str(len(video) - start)}
    if start:
        headers["Content-Range"] = f"bytes {start}-{len(video) - 1}/{len(video)}"
    return Reply(206 if start else 200, headers=headers,
                 chunks=lambda: _slowly(video[start:]))


async def _download(url: str, dest: Path, progress: Progress | None = None) -> Path:
    async with httpx.AsyncClient() as client:
        return await download_video(client, url, dest, progress=progress,
                                    policy=UrlPolicy(allow_loopback=True))


def _another_process_downloads(url: str, dest: Path) -> None:
    """The process that took the generation over: its own loop, thread and context (no lease
    of the stopped one), run to the end while the first one can't move."""
    def run() -> None:
        contextvars.Context().run(asyncio.run, _download(url, dest))

    other = threading.Thread(target=run)
    other.start()
    other.join()


def test_a_download_stopped_past_its_lease_adds_nothing_to_the_video_another_process_saved(
        scripted_server: ScriptedServer, tmp_path: Path) -> None:
    """The stopped process had received bytes it had not yet put on disk; on waking its lease
    was gone and it stopped — but closing its file still wrote them, after the other process
    had finished the same part and saved the video: the video got bytes of the stopped one
    appended (or laid over it), a file written by two processes."""
    video = CLIP.read_bytes()
    scripted_server.on("GET /cdn/*", lambda request: _in_small_pieces(video, request))
    url = scripted_server.video_url("job-1")
    dest = tmp_path / "kite.mp4"
    held = {"yes": True}

    def cut_off(done: int, _total: int | None) -> None:
        if done >= len(video) // 3:
            held["yes"] = False  # its first attempt: stopped a third of the way in

    with pytest.raises(LeaseExpired):
        held_context(lambda: held["yes"]).run(asyncio.run, _download(url, dest,
                                                                     progress=cut_off))
    resumed_from = part_path(dest).stat().st_size
    assert 0 < resumed_from < len(video)
    held["yes"] = True  # leased again: the part resumes (appended to, from here on)
    chunks: list[int] = []

    def stopped_after_a_chunk(done: int, _total: int | None) -> None:
        if done > resumed_from and not chunks:
            chunks.append(done)
            held["yes"] = False  # stopped here, past its lease…
            _another_process_downloads(url, dest)  # …while another process finishes it

    with pytest.raises(LeaseExpired) as stopped:
        held_context(lambda: held["yes"], 7).run(asyncio.run, _download(
            url, dest, progress=stopped_after_a_chunk))
    assert stopped.value.generation_id == 7  # its log names it (it said "generation 0")
    assert chunks[0] > resumed_from  # it had taken bytes of its own before it stopped
    assert dest.read_bytes() == video  # the other process's video, nothing added
    assert not part_path(dest).exists()
