"""Makes each job's demo clip from its start image, off the HTTP threads, once per job.

A job is ordered when it is accepted (`order`); one worker thread renders clips in order while
the job is QUEUED and PROCESSING, and writes each to a private temporary folder, so memory stays
small however many clips a session makes. The CDN asks for a finished job's clip (`clip`) and
waits, bounded, if rendering isn't done yet (only when a test makes jobs faster than rendering).
A job without a clip of its own (text-only, someone else's image URL, an image Pillow can't
read) gets None: the CDN serves the stock clip of its ratio.
"""

from __future__ import annotations

import concurrent.futures
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from runway_desktop.simulator.image_clip import NotAPicture, Stopped, render_clip

log = logging.getLogger(__name__)

# Longest a download waits for its clip before the stock clip is served: well inside the
# app's 60 s read timeout, and far longer than a clip takes (about 1–3 s).
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05  # how often that wait checks whether the simulator is stopping


class Cancelled(Exception):
    """The simulator stopped while a clip was being made."""


@dataclass(frozen=True)
class ClipOrder:
    image: bytes
    size: tuple[int, int]
    seconds: int
    fps: int
    seed: int


class ClipMaker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._folder: Path | None = None
        self._clips: dict[str, concurrent.futures.Future[Path | None]] = {}

    def order(self, job_id: str, order: ClipOrder) -> None:
        """Start making the job's clip (in the background; a second order is ignored)."""
        with self._lock:
            if job_id in self._clips:
                return
            if self._executor is None or self._folder is None:
                self._stopping.clear()
                self._folder = Path(tempfile.mkdtemp(prefix="runway-simulator-clips-"))
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="simulator-clips")
            dest = self._folder / f"{job_id}.mp4"
            self._clips[job_id] = self._executor.submit(self._make, dest, order)

    def clip(self, job_id: str, stopping: threading.Event) -> bytes | None:
        """The job's clip, waiting for it if needed; None: serve the stock clip instead."""
        with self._lock:
            future = self._clips.get(job_id)
        if future is None:
            return None
        waited = 0.0
        while waited < WAIT_SECONDS and not stopping.is_set():
            try:
                path = future.result(timeout=POLL_SECONDS)
            except concurrent.futures.TimeoutError:
                waited += POLL_SECONDS
                continue
            except (Cancelled, concurrent.futures.CancelledError):
                return None
            except Exception:
                log.exception("couldn't make the demo clip of job %s; serving a stock clip", job_id)
                return None
            try:
                return path.read_bytes() if path is not None else None
            except OSError:
                return None  # the folder went away with a stop
        if not stopping.is_set():
            log.warning("the demo clip of job %s took too long; serving a stock clip", job_id)
        return None

    def close(self) -> None:
        """Stop making clips (the one in progress stops at its next frame) and delete them."""
        with self._lock:
            executor, folder = self._executor, self._folder
            self._executor, self._folder = None, None
            self._clips.clear()
        self._stopping.set()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _make(self, dest: Path, order: ClipOrder) -> Path | None:
        try:
            data = render_clip(
                order.image, order.size, order.seconds, order.fps, order.seed,
                stop=self._stopping,
            )
        except NotAPicture:
            return None
        except Stopped:
            raise Cancelled from None
        dest.write_bytes(data)
        return dest
