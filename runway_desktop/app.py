"""Start the window: Qt application, qasync loop, the engine (real or demo), and shutdown.

First paint comes first: the engine, httpx, QtMultimedia and the simulator load after the window
is on screen.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from runway_desktop import APP_ID, APP_NAME, __version__, paths
from runway_desktop.logs import setup_logging
from runway_desktop.resources import resource_path

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="runway-desktop", description=f"{APP_NAME} {__version__}")
    parser.add_argument("--demo", action="store_true",
                        help="run against the built-in simulator (no key, no credits)")
    parser.add_argument("--data-dir", help="where the history lives")
    parser.add_argument("--quit-after-paint", action="store_true",
                        help="exit with status 0 right after the first paint (startup timing)")
    parser.add_argument("--demo-seconds-per-job", type=float, default=10.0,
                        help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="log debug details to stderr")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return parser.parse_args(list(argv))


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 48, 64, 128, 256):
        candidate = resource_path("icons", f"runway-desktop-{size}.png")
        if candidate.exists():
            icon.addFile(str(candidate))
    return icon


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    data_dir = paths.data_dir(args.data_dir)
    setup_logging(paths.log_dir(data_dir), verbose=args.verbose)
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from runway_desktop.ui.controller import AppController

    controller = AppController(app, data_dir, demo=args.demo,
                               demo_seconds_per_job=args.demo_seconds_per_job)
    sys.excepthook = controller.report_unexpected
    if args.quit_after_paint:
        controller.window.first_painted.connect(controller.quit)
    controller.show()
    with loop:
        if not args.quit_after_paint:
            loop.call_soon(controller.start)
        try:
            loop.run_until_complete(controller.run_until_closed())
        finally:
            loop.run_until_complete(controller.shutdown())
    return 0
