"""Qt's own messages go to the app's log, not to a terminal nobody reads.

Qt prints its warnings to stderr: run from a desktop launcher they were lost, and the log
("details are in the log") never had them. (FFmpeg, inside QtMultimedia, prints to file
descriptor 2 itself, not through Qt: `native_stderr` keeps that off the terminal.)
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

LOGGER = "runway_desktop.qt"


def route_qt_messages_to_log(*, level: int | None = None) -> None:
    """Send every Qt message to the `runway_desktop.qt` logger: at its own severity, or all at
    `level` (the command line logs them as DEBUG: its stderr is for the person)."""
    log = logging.getLogger(LOGGER)
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: QtMsgType, context: QMessageLogContext, text: str) -> None:
        category = context.category or ""
        prefix = f"[{category}] " if category and category != "default" else ""
        log.log(level if level is not None else levels.get(kind, logging.WARNING),
                "%s%s", prefix, text)

    qInstallMessageHandler(handler)
