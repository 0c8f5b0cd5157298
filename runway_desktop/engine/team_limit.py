"""The team's limit on jobs at once (`maxConcurrentJobs`), as last read from apiframe, kept in
the data folder: a process that starts (four `generate` commands at once) counts against the
real limit from its first claim, not the default, while its own balance check is on the way."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "team.json"


def load(data_dir: Path) -> int | None:
    try:
        data = json.loads((data_dir / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    limit = data.get("max_concurrent_jobs") if isinstance(data, dict) else None
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else None


def save(data_dir: Path, limit: int) -> None:
    """Atomic (a reader never sees half a file); a folder that can't be written is no error."""
    path = data_dir / FILE_NAME
    tmp = path.with_name(f"{FILE_NAME}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"max_concurrent_jobs": limit}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.info("Couldn't keep the team's job limit in %s: %s", path, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()
