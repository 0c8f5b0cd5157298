"""What a PROCESSING job reports as `progress` (contract §4.1: int 0..100, updated live).

The plain shape is a straight line from 0 at the start of processing to 99 just before the end.
Real renders are less tidy, and clients that plan their polls by the progress should meet that:

- `refresh_seconds`: the value changes only every so many seconds of processing (upstream
  Runway refreshes a task's state no more often than every 5 s, contract §4.5), a staircase;
  the job's status still turns COMPLETED at its real end.
- `wobble`: the pace varies over the job (0: steady; 0.5: between half and one and a half times
  the mean pace), the same way for one job on every read, differently between jobs.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressShape:
    refresh_seconds: float = 0.0  # 0: the value follows the clock continuously
    wobble: float = 0.0  # 0..1: how much the pace varies within one job

    def __post_init__(self) -> None:
        if self.refresh_seconds < 0 or not 0 <= self.wobble <= 1:
            raise ValueError("refresh_seconds must be ≥ 0 and wobble within 0..1")


def progress_at(shape: ProgressShape, job_id: str, start: float, span: float, now: float) -> int:
    """The progress a job processing from `start` for `span` seconds shows at `now`."""
    if span <= 0:
        return 99
    elapsed = max(0.0, now - start)
    if shape.refresh_seconds > 0:
        elapsed = math.floor(elapsed / shape.refresh_seconds) * shape.refresh_seconds
    done = min(1.0, elapsed / span)
    if shape.wobble:
        # done + w·sin(2π·done + φ)/2π - (the same at 0): starts at 0, never goes back (its
        # slope 1 + w·cos(…) stays ≥ 0), and a per-job phase φ puts slow and fast parts apart.
        phase = (uuid.UUID(job_id).int % 3600) / 3600 * 2 * math.pi if _is_uuid(job_id) else 0.0
        bend = shape.wobble / (2 * math.pi)
        done = done + bend * (math.sin(2 * math.pi * done + phase) - math.sin(phase))
        done = min(1.0, max(0.0, done))
    return min(99, int(100 * done))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
