"""Fail the test that made the app log an unexpected WARNING or worse (after qutebrowser's logfail).

The app's own loggers (`runway_desktop.*`) warn when something went wrong: a test that causes one
without saying so hides a defect. A test that expects warnings says so with
`@pytest.mark.expect_log_warnings("regex", ...)` (each record must match one pattern; no pattern
allows any), or takes the `caplog` fixture and inspects the records itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

APP_LOGGER = "runway_desktop"


class WarningCollector(logging.Handler):
    """Keeps every WARNING+ record of the app's loggers, from any thread."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def unexpected(records: list[logging.LogRecord], patterns: list[str]) -> list[str]:
    """The formatted records no pattern allows; with no patterns, none."""
    if not patterns:
        return []
    compiled = [re.compile(p) for p in patterns]
    lines = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in records]
    return [line for line in lines if not any(c.search(line) for c in compiled)]


@pytest.fixture(autouse=True)
def _fail_on_app_warnings(request: pytest.FixtureRequest) -> Iterator[None]:
    collector = WarningCollector()
    logger = logging.getLogger(APP_LOGGER)
    logger.addHandler(collector)
    try:
        yield
    finally:
        logger.removeHandler(collector)
    if not collector.records or "caplog" in request.fixturenames:
        return
    marker = request.node.get_closest_marker("expect_log_warnings")
    if marker is None:
        lines = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in collector.records]
    else:
        lines = unexpected(collector.records, list(marker.args))
    if lines:
        pytest.fail("the app logged unexpected warnings (mark the test with "
                    "expect_log_warnings if they are intended):\n  " + "\n  ".join(lines[:20]),
                    pytrace=False)
