"""Bring jobs made elsewhere with this API key (`GET /v2/jobs`) into the journal.

One job: a job the journal doesn't know becomes a row in the stage the lifecycle table gives its
server status; a row the journal failed although the server finished its job is followed again
(the table's COMPLETED_ELSEWHERE, never paid again). Nothing is submitted here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from runway_desktop import api
from runway_desktop.api.catalog import BUILT_IN_CATALOG
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.lifecycle_table import CARRY_ON, Event, imported_stage, step
from runway_desktop.engine.records import Generation, GenerationSettings

Feed = Callable[..., Generation]  # (generation, trigger, **fields) → the row after it


async def import_jobs(client: api.ApiClient, journal: Journal, *, feed: Feed,
                      added: Callable[[Generation], None]) -> int:
    """How many new rows were made; `added` hears each one, `feed` moves known rows on."""
    count = 0
    async for job in client.iter_jobs():
        if known := journal.by_job_id(job.id):
            if (job.status == api.JobStatus.COMPLETED
                    and step(known, Event.COMPLETED_ELSEWHERE) is not None):
                # Finished on the server after all: fetch it (never paid again).
                feed(known, Event.COMPLETED_ELSEWHERE, **CARRY_ON)
            continue
        generation = journal.add(
            settings_from_job_input(job), stage=imported_stage(job.status.value),
            job_id=job.id, video_url=job.video_url, credit_cost=job.credit_cost,
            error=job.error, progress=job.progress or 0,
            submitted_at=job.created_at.timestamp() if job.created_at else time.time(),
        )
        added(generation)
        count += 1
    return count


def settings_from_job_input(job: api.Job) -> GenerationSettings:
    """Rebuild settings for a job made elsewhere, from the `input` apiframe echoes back."""
    data: dict[str, Any] = job.input if isinstance(job.input, dict) else {}
    raw_params = data.get("runwayParams")
    params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
    duration = params.get("duration", 5)
    model = data.get("model")
    return GenerationSettings(
        model=model if isinstance(model, str) and model else BUILT_IN_CATALOG.default.id,
        prompt=str(data.get("prompt") or f"(imported job {job.id[:8]})"),
        duration=duration if duration in (5, 10) else 5,
        aspect_ratio=str(params.get("aspect_ratio") or "16:9"),
        seed=int(params.get("seed") or 0),
        image_url=params.get("image") if isinstance(params.get("image"), str) else None,
    )
