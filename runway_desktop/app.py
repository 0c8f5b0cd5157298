"""Start the window: Qt application, qasync loop, the engine (real or demo), and shutdown.

First paint comes first: the window's outline (ui/startup_shell.py) paints before the app's own
modules load; the window, then the engine, httpx, QtMultimedia and the simulator follow.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from runway_desktop import APP_ID, APP_NAME
from runway_desktop.import_speed import skip_pyside_feature_scan
from runway_desktop.resources import resource_path

log = logging.getLogger(__name__)
_WAKEUP: list[Any] = []  # the socket pair a stop signal wakes Qt's loop through
NATIVE_LOG = "native-output.log"  # what native libraries print (FFmpeg's banners, …)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="runway-desktop", description=APP_NAME)
    parser.add_argument("--demo", action="store_true",
                        help="run against the built-in simulator (no key, no credits)")
    parser.add_argument("--demo-if-no-key", action="store_true",
                        help="demo mode unless an API key is stored (what scripts/run uses)")
    parser.add_argument("--data-dir", help="where the history lives")
    parser.add_argument("--quit-after-paint", action="store_true",
                        help="exit with status 0 once the window has painted, built and ready "
                             "(startup timing)")
    parser.add_argument("--quit-after-first-paint", action="store_true",
                        help="exit with status 0 right after the first paint: the window's "
                             "outline, shown while the window is built (startup timing)")
    parser.add_argument("--demo-seconds-per-job", type=float, default=10.0,
                        help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true", help="log debug details to stderr")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation (Qt, video, keyring, TLS, a demo "
                             "generation) without opening a window, and exit")
    parser.add_argument("--self-test-keyring-roundtrip", action="store_true",
                        help="with --self-test: also store, read and delete a test secret")
    parser.add_argument("--version", action=_VersionAction)
    return parser.parse_args(list(argv))


class _VersionAction(argparse.Action):
    """`--version`: reads the package metadata only when asked (not on every start)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        from runway_desktop import __version__

        print(f"{APP_NAME} {__version__}")  # stdout, like argparse's own version action
        parser.exit()


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 32, 48, 64, 128, 256):
        candidate = resource_path("icons", f"runway-desktop-{size}.png")
        if candidate.exists():
            icon.addFile(str(candidate))
    return icon


def close_on_stop_signals(app: QApplication, close: Callable[[], None]) -> Callable[[], None]:
    """Ctrl+C in the terminal, SIGTERM (a logout, `kill`) and SIGHUP close the window as Quit
    does, without its question: the state saved, leases released, a removal made final, and
    the work under way carried on at the next start. Ctrl+C raised KeyboardInterrupt in
    whatever Qt callback ran ("Something unexpected went wrong (KeyboardInterrupt)" and the
    app went on); SIGTERM ended it on the spot. A second signal ends it as it would have.
    Returns what puts the previous handlers back.

    Python runs a handler only when it gets control: the signal's byte on a socket wakes Qt's
    loop (`set_wakeup_fd`), which hands it over at once."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier, QTimer

    from runway_desktop.loop_signals import stop_signals

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    _WAKEUP[:] = [reader, writer]  # open as long as the app runs
    woken_by = -1
    with contextlib.suppress(ValueError):  # not the main thread (tests): the handlers alone
        woken_by = signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(256)

    notifier.activated.connect(drain)

    def stop(signum: int, _frame: object) -> None:
        log.info("Signal %s: quitting", signum)
        for sig in stop_signals():  # a second one ends the app as it would have
            signal.signal(sig, signal.SIG_DFL)
        QTimer.singleShot(0, close)

    previous = {sig: signal.signal(sig, stop) for sig in stop_signals()}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(woken_by)
        notifier.setEnabled(False)
        for end in _WAKEUP:
            end.close()
        _WAKEUP.clear()

    return restore


def main(argv: Sequence[str] | None = None) -> int:
    skip_pyside_feature_scan()  # before the app's own ~170 modules load: ~15 ms
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test or args.self_test_keyring_roundtrip:
        from runway_desktop.selftest import run as self_test

        return self_test(keyring_roundtrip=args.self_test_keyring_roundtrip)
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    app.setDesktopFileName(APP_ID)
    from runway_desktop.ui.startup_shell import StartupShell, shell_scheme

    shell = StartupShell("Starting…", shell_scheme(app))  # the outline, while the rest loads
    shell.show_and_wait_painted()
    if args.quit_after_first_paint:
        return 0
    app.setWindowIcon(app_icon())  # the outline is a splash screen: no icon shown
    from runway_desktop import paths
    from runway_desktop.logs import setup_logging

    data_dir = paths.data_dir(args.data_dir)
    setup_logging(paths.log_dir(data_dir), verbose=args.verbose)
    from runway_desktop.qt_log import route_qt_messages_to_log

    route_qt_messages_to_log()  # Qt's warnings into the same log
    from runway_desktop.ui import theme

    theme.install(app)  # Fusion, our palette and style sheet, following light/dark

    import asyncio  # ~30 ms with its ssl and socket: after the outline has painted

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from runway_desktop.loop_hooks import close_async_generators_on

    close_async_generators_on(loop)  # e.g. a download's response stream left by an error
    from runway_desktop.ui.controller import AppController

    controller = AppController(app, data_dir, demo=args.demo,
                               demo_if_no_key=args.demo_if_no_key,
                               demo_seconds_per_job=args.demo_seconds_per_job)
    sys.excepthook = controller.report_unexpected
    shell.hand_over_when(controller.window.first_painted)  # painted over the outline
    if args.quit_after_paint:
        controller.window.first_painted.connect(controller.quit)
    from runway_desktop.ui.gc_guard import GuiThreadCollector
    from runway_desktop.ui.gui_thread import favour_gui_thread

    GuiThreadCollector(app)  # owned by the app: lives as long as the window does
    favour_gui_thread()  # worker threads hand the GIL back within 1 ms, not 5
    controller.show()
    restore_signals = close_on_stop_signals(app, controller.window.quit_without_asking)
    from runway_desktop.native_stderr import native_stderr_to

    # FFmpeg (inside QtMultimedia) prints to fd 2 itself, "Input #0 …" for every video opened:
    # into the log folder, while Python's own stderr stays the terminal's.
    with native_stderr_to(paths.log_dir(data_dir) / NATIVE_LOG), loop:
        if not args.quit_after_paint:
            loop.call_soon(controller.start)
        try:
            loop.run_until_complete(controller.run_until_closed())
        finally:
            loop.run_until_complete(controller.shutdown())
            restore_signals()
    return 0
