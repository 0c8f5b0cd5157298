"""The real app in this process — `AppController`, `MainWindow`, the engine — driven through one
benchmark scenario, with probes the app itself doesn't have.

    python benchmarks/app_driver.py SCENARIO --data-dir D --out result.json [options]

The app is started exactly as `runway_desktop.app.main` starts it (QApplication, qasync loop,
AppController, show, start), against the simulator named by APIFRAME_BASE_URL with the key in
APIFRAME_API_KEY. Scenarios:

- `responsiveness`: an event-loop lag probe (a 10 ms single-shot timer measuring how late it
  fires) while the window polls 200 jobs, streams 10 downloads of 100 MB, prepares and uploads a
  24-megapixel image, and holds the history it was started with. A watchdog thread samples the
  GUI thread's stack whenever the probe is late by more than 20 ms, to name the culprits.
- `scale`: time from process start to the history painted, RSS, then scrolling the list from
  top to bottom one step at a time (each step painted), with the thumbnail cache's numbers.
- `efficiency`: 100 generations of varied length, half with an image; per job the client's
  added latency (server completed → video saved and thumbnailed, i.e. playable in the app).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from benchmarks._common import percentile, rss_mb

PROCESS_START = float(os.environ.get("RUNWAY_BENCH_SPAWNED_AT", time.time()))


class LagProbe(QObject):
    """A single-shot timer re-armed on every tick: how late each tick fires is the lag."""

    def __init__(self, interval_ms: int = 10) -> None:
        super().__init__()
        self.interval = interval_ms / 1000
        self.samples: list[float] = []  # ms late
        self.active = False
        self.heartbeat = time.perf_counter()
        self._expected = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.active = True
        self._arm(time.perf_counter())

    def stop(self) -> None:
        self.active = False
        self._timer.stop()

    def _arm(self, now: float) -> None:
        self._expected = now + self.interval
        self.heartbeat = now
        self._timer.start(round(self.interval * 1000))

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.active:
            self.samples.append(max(0.0, (now - self._expected) * 1000))
            self._arm(now)

    def summary(self) -> dict[str, Any]:
        s = self.samples
        return {
            "samples": len(s),
            "p50_ms": percentile(s, 50),
            "p90_ms": percentile(s, 90),
            "p99_ms": percentile(s, 99),
            "p999_ms": percentile(s, 99.9),
            "max_ms": max(s),
            "over_16ms": sum(v > 16 for v in s),
            "over_50ms": sum(v > 50 for v in s),
        }


class StallWatch(threading.Thread):
    """Samples the GUI thread's stack every 4 ms while the probe is overdue by more than
    `threshold_ms`: a time-weighted profile of where the loop was stuck. The longest stalls
    keep their whole stack."""

    def __init__(self, probe: LagProbe, threshold_ms: float = 20.0) -> None:
        super().__init__(daemon=True)
        self.probe = probe
        self.threshold = threshold_ms / 1000
        self.main_id = threading.main_thread().ident
        self.sites: Counter[str] = Counter()  # site → samples (× 4 ms)
        self.long: list[list[Any]] = []  # [ms overdue, Counter of sites] per stall > 40 ms
        self.stop_event = threading.Event()

    def run(self) -> None:
        long_beat = None
        while not self.stop_event.wait(0.004):
            beat = self.probe.heartbeat
            late = time.perf_counter() - beat - self.probe.interval
            if not self.probe.active or late < self.threshold:
                continue
            frame = sys._current_frames().get(self.main_id)  # type: ignore[arg-type]
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)
            ours = [
                f for f in stack if "runway_desktop" in f.filename or "benchmarks" in f.filename
            ]
            top = stack[-1]
            where = " <- ".join(
                f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(ours[-3:])
            )
            self.sites[f"{Path(top.filename).name}:{top.lineno} {top.name} | {where}"] += 1
            if late > 0.04:  # each long stall: its length and where its samples fell
                site = f"{Path(top.filename).name}:{top.lineno} {top.name} | {where}"
                if beat != long_beat:
                    long_beat = beat
                    self.long.append([late * 1000, Counter()])
                self.long[-1][0] = late * 1000
                self.long[-1][1][site] += 1


class App:
    """The app, started the way `runway_desktop.app.main` starts it."""

    def __init__(self, data_dir: Path) -> None:
        import qasync

        from runway_desktop import APP_NAME
        from runway_desktop.ui.controller import AppController

        QCoreApplication.setOrganizationName(APP_NAME)
        QCoreApplication.setApplicationName(APP_NAME)
        existing = QApplication.instance()
        self.qapp = (existing if isinstance(existing, QApplication)
                     else QApplication(["runway-desktop"]))
        self.loop = qasync.QEventLoop(self.qapp)
        asyncio.set_event_loop(self.loop)
        self.controller = AppController(self.qapp, data_dir)
        self.window = self.controller.window
        from runway_desktop.ui.gc_guard import GuiThreadCollector
        from runway_desktop.ui.gui_thread import favour_gui_thread

        self.collector = GuiThreadCollector(self.qapp)  # as app.main: GC on the GUI thread
        favour_gui_thread()
        self.controller.show()

    def run(self, scenario: Any) -> Any:
        with self.loop:
            self.loop.call_soon(self.controller.start)
            try:
                return self.loop.run_until_complete(scenario)
            finally:
                self.loop.run_until_complete(self.controller.shutdown())

    async def engine_ready(self, history: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while True:
            engine = self.controller.engine
            if (
                engine is not None
                and engine.account is not None
                and self.window.queue.model.rowCount() >= history
            ):
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the engine did not start")
            await asyncio.sleep(0.01)

    async def thumbnails_idle(self, timeout: float = 30) -> None:
        cache = self.window.queue.model.thumbnails
        deadline = time.monotonic() + timeout
        await asyncio.sleep(0.05)
        while cache.is_busy() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def settled(self, ids: list[int], timeout: float) -> list[Any]:
        """Until every generation is finished or needs the person, watching the window's model
        (what the person sees), twice a second."""
        model = self.window.queue.model
        deadline = time.monotonic() + timeout
        while True:
            rows = [model.generation(i) for i in ids]
            if all(g is None or g.stage.is_settled for g in rows):
                return [g for g in rows if g is not None]
            if time.monotonic() > deadline:
                raise TimeoutError("generations did not settle")
            await asyncio.sleep(0.5)


# -- scenarios --------------------------------------------------------------------------------


async def responsiveness(app: App, args: argparse.Namespace) -> dict[str, Any]:
    from runway_desktop.engine.lifecycle_table import ON_SERVER_STAGES
    from runway_desktop.engine.records import GenerationSettings

    await app.engine_ready(args.history)
    await app.thumbnails_idle()
    probe = LagProbe(10)
    watch = StallWatch(probe)
    watch.start()
    window = app.window
    engine = app.controller.engine
    assert engine is not None
    started = time.perf_counter()
    probe.start()
    if os.environ.get("RUNWAY_BENCH_MARK_START"):  # the floor probe beside us starts now too
        Path(os.environ["RUNWAY_BENCH_MARK_START"]).touch()
    # The person: types a prompt, drops a 24-megapixel photo, presses Generate...
    compose = window.compose
    compose.prompt_edit.setPlainText("a harbour at dusk, slow dolly-in")
    if not os.environ.get("RUNWAY_BENCH_NO_IMAGE"):  # experiments: the run without the photo
        compose.drop_zone.set_images([args.image])
    compose.aspect_picker.set_value("16:9")
    before = {g.id for g in window.queue.model.generations()}
    compose.generate()
    await window.folder_gate.passed()  # the output folder is checked before paying
    first = [g.id for g in window.queue.model.generations() if g.id not in before]
    # ...then more, as a person drops batches of 20 pictures: 189 at 16:9 (small clips) and 10
    # at 21:9 (the 100 MB clips), a batch every half second, until 200 are in flight.
    work = [GenerationSettings(f"batch {i} a red kite over dunes", aspect_ratio="16:9", seed=i)
            for i in range(189)]
    work += [GenerationSettings(f"big {i} a slow pan over a glacier", aspect_ratio="21:9",
                                seed=1000 + i) for i in range(10)]
    work.sort(key=lambda item: item.seed % 20)  # the big ones spread over the batches
    for start in range(0, len(work), args.batch):
        window._on_generate(work[start:start + args.batch])
        await asyncio.sleep(0.5)
    await window.folder_gate.passed()
    ids = first + [g.id for g in window.queue.model.generations()
                   if g.id not in before and g.id not in first]
    window.queue.select_generation(ids[0])
    in_flight_peak = 0
    rss_peak = rss_mb()
    wait = asyncio.ensure_future(app.settled(ids, args.timeout))
    while not wait.done():
        on_server = window.queue.model.count(*ON_SERVER_STAGES)
        in_flight_peak = max(in_flight_peak, on_server)
        rss_peak = max(rss_peak, rss_mb())
        await asyncio.sleep(0.25)
    rows = wait.result()
    probe.stop()
    watch.stop_event.set()
    elapsed = time.perf_counter() - started
    stages = Counter(r.stage.value for r in rows)
    big = [r for r in rows if r.settings.aspect_ratio == "21:9" and r.video_path]
    return {
        "lag": probe.summary(),
        "lag_samples_ms": [round(v, 3) for v in probe.samples],
        "stall_sites": watch.sites.most_common(15),
        "long_stalls": [[ms, sites.most_common(6)] for ms, sites in
                        sorted(watch.long, key=lambda item: -item[0])[:10]],
        "seconds": elapsed,
        "generations": len(ids),
        "stages": dict(stages),
        "polled_at_once_peak": in_flight_peak,
        "big_downloads": len(big),
        "big_download_bytes": [
            Path(r.video_path).stat().st_size for r in big if Path(r.video_path).exists()
        ],
        "history_rows": window.queue.model.rowCount(),
        "rss_peak_mb": rss_peak,
    }


async def scale(app: App, args: argparse.Namespace) -> dict[str, Any]:
    await app.engine_ready(args.history)
    view = app.window.queue.list_view
    view.viewport().repaint()
    opened = time.time() - PROCESS_START
    await app.thumbnails_idle()
    gc.collect()
    await asyncio.sleep(1.0)
    rss_open = rss_mb()
    cache = app.window.queue.model.thumbnails
    loads_before = cache.load_count
    bar = view.verticalScrollBar()
    page = max(1, bar.pageStep())
    step = max(page, (bar.maximum() - bar.minimum()) // args.max_steps + 1)
    frames: list[float] = []
    started = time.perf_counter()
    value = bar.minimum()
    bar.setValue(value)
    while value < bar.maximum():
        value = min(bar.maximum(), value + step)
        t = time.perf_counter()
        bar.setValue(value)
        view.viewport().repaint()  # a synchronous paint of the rows now on screen
        app.qapp.processEvents()  # what the event loop does between two frames
        frames.append((time.perf_counter() - t) * 1000)
    scroll_seconds = time.perf_counter() - started
    await app.thumbnails_idle()
    gc.collect()
    await asyncio.sleep(1.0)
    rows = app.window.queue.model.rowCount()
    return {
        "rows": rows,
        "open_seconds": opened,
        "rss_open_mb": rss_open,
        "rss_after_scroll_mb": rss_mb(),
        "scroll": {
            "steps": len(frames),
            "step_px": step,
            "page_px": page,
            "seconds": scroll_seconds,
            "frame_p50_ms": percentile(frames, 50) if frames else 0.0,
            "frame_p99_ms": percentile(frames, 99) if frames else 0.0,
            "frame_max_ms": max(frames) if frames else 0.0,
        },
        "thumbnail_cache": {
            "capacity": cache.capacity,
            "held": len(cache),
            "reads_during_scroll": cache.load_count - loads_before,
            "reads_total": cache.load_count,
        },
    }


async def efficiency(app: App, args: argparse.Namespace) -> dict[str, Any]:
    from runway_desktop.engine.records import GenerationSettings

    await app.engine_ready(args.history)
    batch = [
        GenerationSettings(
            f"efficiency {i} a fox in the snow",
            seed=i,
            duration=(5, 10)[i % 2],
            image_path=args.image if i % 2 == 0 else None,
        )
        for i in range(args.jobs)
    ]
    before = {g.id for g in app.window.queue.model.generations()}
    app.window._on_generate(batch)
    await app.window.folder_gate.passed()  # the output folder is checked before paying
    ids = [g.id for g in app.window.queue.model.generations() if g.id not in before]
    rows = await app.settled(ids, args.timeout)
    return {
        "rows": [
            {
                "id": r.id,
                "job_id": r.job_id,
                "stage": r.stage.value,
                "finished_at": r.finished_at,
                "thumbnail": bool(r.thumbnail_path),
                "image": bool(r.settings.image_path),
            }
            for r in rows
        ],
    }


async def batch(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """One batch of `--jobs` generations submitted at once (a big drop): the stall it causes."""
    from runway_desktop.engine.records import GenerationSettings

    await app.engine_ready(args.history)
    await app.thumbnails_idle()
    probe = LagProbe(10)
    probe.start()
    await asyncio.sleep(0.5)
    work = [GenerationSettings(f"drop {i} a red kite over dunes", seed=i)
            for i in range(args.jobs)]
    started = time.perf_counter()
    app.window._on_generate(work)
    await app.window.folder_gate.passed()  # the output folder is checked before paying
    call_ms = (time.perf_counter() - started) * 1000
    await asyncio.sleep(3.0)
    probe.stop()
    return {"lag": probe.summary(), "call_ms": call_ms, "jobs": args.jobs}


SCENARIOS = {"responsiveness": responsiveness, "scale": scale, "efficiency": efficiency,
             "batch": batch}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--history", type=int, default=0, help="rows already in the journal")
    parser.add_argument("--image", help="an image to drop (responsiveness, efficiency)")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--batch", type=int, default=20, help="responsiveness: batch size")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--max-steps", type=int, default=2500, help="scale: scroll steps cap")
    args = parser.parse_args(argv)
    if os.environ.get("RUNWAY_BENCH_JOURNAL_SYNC"):  # experiments only: the journal's fsync mode
        from runway_desktop.engine import journal

        original = journal.Journal.__init__

        def patched(self: Any, path: Path) -> None:
            original(self, path)
            self._db.execute(f"PRAGMA synchronous={os.environ['RUNWAY_BENCH_JOURNAL_SYNC']}")

        journal.Journal.__init__ = patched  # type: ignore[method-assign]
    app = App(args.data_dir)
    if os.environ.get("RUNWAY_BENCH_PROFILE"):  # experiments only: where the GUI thread's time goes
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
        result = app.run(SCENARIOS[args.scenario](app, args))
        profile.disable()
        profile.dump_stats(os.environ["RUNWAY_BENCH_PROFILE"])
    else:
        result = app.run(SCENARIOS[args.scenario](app, args))
    args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
