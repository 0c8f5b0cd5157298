from __future__ import annotations

import logging
from pathlib import Path

from runway_desktop.logs import setup_logging


def test_keys_are_redacted_from_messages_and_tracebacks(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    log_file = setup_logging(tmp_path)
    try:
        log = logging.getLogger("test.redaction")
        log.info("using key %s", "afk_secret_abcdef123456")
        try:
            raise RuntimeError("boom with afk_secret_abcdef123456 inside")
        except RuntimeError:
            log.exception("failed")
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
    assert log_file is not None
    text = log_file.read_text()
    assert "afk_secret_abcdef123456" not in text
    assert "using key" in text
    assert "boom with" in text
