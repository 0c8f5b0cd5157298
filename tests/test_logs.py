from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

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


def test_the_literal_key_and_key_headers_are_redacted(tmp_path: Path) -> None:
    """Issue 11: a key of any shape the app was given, `AFK_…`, keys with `-`/`.`, and
    header lines (`api-key:`, `x-api-key:`, `Authorization:`) never reach the log."""
    from runway_desktop.api.redact import remember_secret

    literal = "Zk-91.prod.Hq7-xx"  # nothing about it looks like a key
    remember_secret(literal)
    secrets = [literal, "AFK_UPPER_CASE_1234", "afk_dash-and.dot-99", "hdr-s3cret.1"]
    root = logging.getLogger()
    before = list(root.handlers)
    log_file = setup_logging(tmp_path)
    try:
        log = logging.getLogger("test.redaction")
        log.warning("configured key %s", literal)
        log.warning("upper %s and dashed %s", "AFK_UPPER_CASE_1234", "afk_dash-and.dot-99")
        log.warning("request headers:\napi-key: hdr-s3cret.1\nx-api-key: hdr-s3cret.1\n"
                    "Authorization: Bearer hdr-s3cret.1")  # fmt: skip
        log.warning("stack of a failure", stack_info=True, extra={"k": literal})
        try:
            raise ValueError(f"server echoed {literal}")
        except ValueError:
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
    for secret in secrets:
        assert secret not in text
    assert "configured key afk_…redacted" in text
    assert "api-key: …redacted" in text
    assert "Authorization: Bearer …redacted" in text


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_log_file_on_a_full_drive_prints_no_tracebacks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each record the full drive refused printed '--- Logging error ---' and a traceback
    on stderr: a command run on a full data drive buried its one-line message in them.
    /dev/full refuses every write with ENOSPC, as root too."""
    (tmp_path / "runway-desktop.log").symlink_to("/dev/full")
    root = logging.getLogger()
    before = list(root.handlers)
    setup_logging(tmp_path)
    try:
        log = logging.getLogger("test.full_drive")
        log.info("one")
        log.info("two")
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
    assert "Logging error" not in capsys.readouterr().err
