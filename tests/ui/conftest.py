"""UI fixtures: a qasync loop over pytest-qt's QApplication, and the app wired to the simulator.

Keep qtbot waits in sync tests: `qtbot.waitUntil` inside an `async def` test never progresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_timeout  # type: ignore[import-untyped]
import qasync
from PySide6.QtCore import QCoreApplication, QSettings
from pytestqt.qtbot import QtBot

from runway_desktop.loop_hooks import close_async_generators_on
from runway_desktop.simulator import Simulator

UI_TESTS = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    """A UI test out of time prints every thread's stack and ends the process (pytest-timeout's
    thread method), not an exception raised by SIGALRM wherever the GUI thread is: there it lands
    in a paintEvent or an event filter, where PySide prints it and Qt carries on (the test runs
    past its time), with the event's QPainter left open on the window's paint device; a later
    paint or collection then crashed the process (segmentation fault, e.g. in MainWindow.event's
    super().event())."""
    if settings.method != "signal" or UI_TESTS not in item.path.parents:
        return None
    return bool(pytest_timeout.pytest_timeout_set_timer(item, settings._replace(method="thread")))


@pytest.fixture
def qasync_loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    restore_hooks = close_async_generators_on(loop)  # as the app does (runway_desktop/app.py)
    try:
        yield loop
    finally:
        restore_hooks()
        # "Already running" means Qt's loop, which pytest-qt keeps: mark ours stopped, then close.
        # (not loop.stop(): that calls QApplication.exit(), which breaks the next test's loop)
        loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
        asyncio.events._set_running_loop(None)
        loop.close()
        asyncio.set_event_loop(None)
        # Collect the closed loop's Qt timer object here, on the GUI thread: left to chance,
        # the cyclic GC may run in a later test's worker thread ("Timers cannot be stopped
        # from another thread").
        gc.collect()


@pytest.fixture
def trash_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home trash inside tmp_path: nothing reaches the real (or the session's) home."""
    data_home = tmp_path / "xdg-data"
    data_home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    if sys.platform not in ("darwin", "win32"):
        # send2trash's own freedesktop code reads XDG_DATA_HOME once, when imported.
        import send2trash.plat_other as plat_other  # type: ignore[import-untyped]

        monkeypatch.setattr(plat_other, "XDG_DATA_HOME", bytes(data_home))
        monkeypatch.setattr(plat_other, "HOMETRASH_B", bytes(data_home / "Trash"))
    return data_home / "Trash"


def drive(qtbot: QtBot, coroutine: Coroutine[Any, Any, Any], timeout: int = 20_000) -> Any:
    """Run a coroutine on the qasync loop while Qt keeps processing events."""
    future = asyncio.ensure_future(coroutine)
    qtbot.waitUntil(future.done, timeout=timeout)
    return future.result()


def stop_app(qtbot: QtBot, controller: Any) -> None:
    """Shut a started AppController down and close its window (no quit question)."""
    drive(qtbot, controller.shutdown())
    controller.window._quit_confirmed = True
    controller.window.close()
    controller.window.deleteLater()


@contextlib.contextmanager
def started_app(qtbot: QtBot, qapp: Any, data_dir: Path, **options: Any) -> Iterator[Any]:
    """An AppController of its own (not `app_controller`'s set-up: a test's own env, keyring
    or history), shown and started; stopped at the end however the test went. `options`:
    AppController's (e.g. demo_seconds_per_job)."""
    from runway_desktop.ui.controller import AppController

    controller = AppController(qapp, data_dir, **options)
    controller.show()
    controller.start()
    try:
        yield controller
    finally:
        stop_app(qtbot, controller)


@pytest.fixture
def qt_image_limit_mb() -> Iterator[int]:
    """Qt's image allocation limit (256 MB) brought down to 16 MB: a 3000 × 3000 picture is then
    over it as a 9000 × 9000 one is over the real limit, at a test's cost."""
    from PySide6.QtGui import QImageReader

    before = QImageReader.allocationLimit()
    QImageReader.setAllocationLimit(16)
    try:
        yield 16
    finally:
        QImageReader.setAllocationLimit(before)


@pytest.fixture
def api_base_url(simulator: Simulator) -> str:
    """Where `app_controller` sends its API calls; a module may override it (e.g. with the
    misbehaving `scripted_server`)."""
    return simulator.base_url


@pytest.fixture
def before_app_start() -> Callable[[Path], None]:
    """Called with the data dir just before `app_controller` starts the app (after the test
    settings are written); a module may override it to leave odd files there."""
    return lambda _data_dir: None


@pytest.fixture
def app_controller(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, api_base_url: str,
                   monkeypatch: pytest.MonkeyPatch, data_dir: Path, output_dir: Path,
                   qapp: Any, trash_dir: Path,
                   before_app_start: Callable[[Path], None]) -> Iterator[Any]:
    """The real window and engine against the simulator, with a fast polling pace; videos the
    window deletes go to a trash inside tmp_path. When the start can't build an engine (a
    damaged journal, a refused address) the fixture yields once the start is over."""
    from runway_desktop import settings
    from runway_desktop.ui.controller import AppController

    QCoreApplication.setOrganizationName("Runway Desktop Tests")
    # Each test's window starts as a first start: QSettings live as long as the test process,
    # so an earlier test's saved composition (a ratio picked, a frame) would leak in.
    QSettings().clear()
    monkeypatch.setenv("APIFRAME_API_KEY", "afk_test")
    monkeypatch.setenv("APIFRAME_BASE_URL", api_base_url)
    monkeypatch.setenv("RUNWAY_DESKTOP_POLL_SECONDS", "0.05")
    monkeypatch.setenv("RUNWAY_DESKTOP_RETRY_SECONDS", "0.02")
    settings.save(data_dir, settings.Settings(output_dir=str(output_dir)))
    before_app_start(data_dir)
    controller = AppController(qapp, data_dir)
    # Not qtbot.addWidget: pytest-qt would close the window before this fixture shuts down.
    controller.show()
    controller.start()
    qtbot.waitUntil(lambda: controller.engine is not None or controller.start_finished,
                    timeout=10_000)
    try:
        yield controller
    finally:
        stop_app(qtbot, controller)
