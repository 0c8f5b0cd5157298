"""Logging to a rotating file in the user log dir, with API keys redacted from every record."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
from pathlib import Path

from runway_desktop.api.redact import redact_secrets

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Rewrites the final message (and any traceback text) so no key reaches a log file.

    Redacts the keys this process loaded (the literal strings, whatever their shape) and
    anything shaped like a key or a key-carrying header (see `api/redact.py`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_secrets(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True


class _LogFile(logging.handlers.RotatingFileHandler):
    """A log file whose drive is full or failing drops its records quietly: logging's default
    prints a traceback on stderr for each one, in a terminal over the command's own words
    (which already say what is wrong with the disk, where it matters)."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass

    def flush(self) -> None:
        with contextlib.suppress(OSError):
            super().flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            super().close()


def setup_logging(folder: Path, *, verbose: bool = False, to_stderr: bool = False) -> Path | None:
    """Configure the root logger once. Returns the log file, or None if it couldn't be created."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    redacting = RedactingFilter()
    log_file: Path | None = folder / "runway-desktop.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = _LogFile(
            folder / "runway-desktop.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        log_file = None
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(redacting)
    root.addHandler(handler)
    if to_stderr or verbose:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.DEBUG if verbose else logging.WARNING)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        console.addFilter(redacting)
        root.addHandler(console)
    # httpx logs every request URL at INFO; keep those out of the user's log unless debugging.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)
    return log_file
