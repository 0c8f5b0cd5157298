"""Bring jobs made elsewhere with this API key (`GET /v2/jobs`) into the journal.

Two steps, so a front end can ask before downloading a whole account: `plan_import` reads the
server's list and says what importing would do (nothing changes yet); `apply_import` does it.

- A job the journal doesn't know becomes a row in the stage the lifecycle table gives its server
  status, saved in the chosen output folder.
- A job whose POST answer was lost (the row has an idempotency key but no job id) is matched
  back to its own row — by the idempotency key when the server echoes it, else by its echoed
  input (prompt, seed, model) and a creation time near the row's `submitted_at` — and that row
  is followed again with its own seed, settings and folder (never a second "(imported)" row).
- A job the person stopped following (ABANDONED) is followed again: the Stop-following dialog
  promises it can be imported later.
- A row the journal failed although the server finished its job is followed again (the table's
  COMPLETED_ELSEWHERE, never paid again).
- A job whose row the person removed is skipped (the journal keeps removed job ids).

Nothing is submitted here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runway_desktop import api
from runway_desktop.api.catalog import BUILT_IN_CATALOG
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.lifecycle_table import (
    CARRY_ON,
    LOST_ANSWER_STAGES,
    Command,
    Event,
    Trigger,
    imported_stage,
    step,
)
from runway_desktop.engine.records import Generation, GenerationSettings, Stage

# (generation, trigger, **fields) → the row after it; None if it moved on since it was read
Feed = Callable[..., Generation | None]

# Importing more videos than this asks the person first (the CLI's --yes, the window's question).
ASK_ABOVE_VIDEOS = 5
# How far a job's `createdAt` may be from the row's `submitted_at` to count as its job (a POST
# re-sent with the same key later returns the first job; clocks differ a little).
MATCH_WINDOW_S = 15 * 60
_SERVER_GAVE_UP = (api.JobStatus.FAILED, api.JobStatus.CANCELLED)


@dataclass(frozen=True)
class ImportPlan:
    """What importing would do, read from the server's list; nothing changed yet."""

    new: tuple[api.Job, ...] = ()  # jobs the journal doesn't know: new rows
    matched: tuple[tuple[int, api.Job], ...] = ()  # own rows followed again with their job
    skipped_removed: int = 0  # jobs whose rows the person removed

    @property
    def jobs(self) -> int:
        return len(self.new) + len(self.matched)

    @property
    def videos(self) -> int:
        """How many videos importing would download (jobs the server completed)."""
        return sum(1 for job in (*self.new, *(j for _, j in self.matched))
                   if job.status == api.JobStatus.COMPLETED)


@dataclass(frozen=True)
class ImportResult:
    added: int = 0  # new rows
    matched: int = 0  # own rows followed again
    skipped_removed: int = 0


async def plan_import(client: api.ApiClient, journal: Journal) -> ImportPlan:
    """Read every job of this key and sort it: new, one of ours to follow again, or removed."""
    removed = journal.removed_job_ids()
    orphans = [g for g in journal.with_stages(LOST_ANSWER_STAGES)
               if g.job_id is None and g.submitted_at is not None]
    new: list[api.Job] = []
    matched: list[tuple[int, api.Job]] = []
    skipped = 0
    async for job in client.iter_jobs():
        if known := journal.by_job_id(job.id):
            if _follow_again(known, job, lost_answer=False) is not None:
                matched.append((known.id, job))
            continue
        if owner := _lost_answer_row(job, orphans):
            orphans.remove(owner)
            matched.append((owner.id, job))
        elif job.id in removed:
            skipped += 1
        else:
            new.append(job)
    return ImportPlan(tuple(new), tuple(matched), skipped)


async def find_lost_answer(client: api.ApiClient, journal: Journal,
                           generation: Generation) -> api.Job | None:
    """The job an earlier POST of `generation` made although its answer never came back, if
    apiframe lists one (a job no other row has, nor one the person removed)."""
    removed = journal.removed_job_ids()
    async for job in client.iter_jobs():
        if (job.id not in removed and journal.by_job_id(job.id) is None
                and _lost_answer_row(job, [generation]) is not None):
            return job
    return None


def apply_import(plan: ImportPlan, journal: Journal, *, feed: Feed,
                 added: Callable[[Generation], None], output_dir: Path | None,
                 stop: Callable[[int], None] = lambda _id: None) -> ImportResult:
    """Do what `plan` says (checking each row again: it may have moved meanwhile). New rows
    save into `output_dir`; `added` hears each new row, `feed` moves known rows on after
    `stop` ends this process's work in flight for them (a POST re-sent that may hang)."""
    followed = 0
    for generation_id, job in plan.matched:
        row = journal.get(generation_id)
        if row is None or (row.job_id is not None and row.job_id != job.id):
            continue
        fields = _job_fields(job)
        with_job = dataclasses.replace(row, **fields)  # where it goes depends on its job
        trigger = _follow_again(with_job, job, lost_answer=row.job_id is None)
        if trigger is not None:
            stop(generation_id)
            if feed(with_job, trigger, **CARRY_ON, **fields) is not None:
                followed += 1
    count = 0
    # Oldest first, so the newest job becomes the newest row (on top), as if made here.
    for job in sorted(plan.new, key=_made_at):
        if journal.by_job_id(job.id):
            continue  # another process brought it in meanwhile
        generation = journal.add(
            settings_from_job_input(job), stage=imported_stage(job.status.value),
            error=job.error, output_dir=str(output_dir) if output_dir else None,
            submitted_at=job.created_at.timestamp() if job.created_at else time.time(),
            # When the server finished it (its elapsed time, the gallery's day), not the import.
            finished_at=job.completed_at.timestamp() if job.completed_at else None,
            **_job_fields(job),
        )
        added(generation)
        count += 1
    return ImportResult(count, followed, plan.skipped_removed)


def _made_at(job: api.Job) -> float:
    return job.created_at.timestamp() if job.created_at else float("inf")


def _job_fields(job: api.Job) -> dict[str, Any]:
    return {"job_id": job.id, "video_url": job.video_url, "credit_cost": job.credit_cost,
            "progress": job.progress or 0}


def _follow_again(row: Generation, job: api.Job, *, lost_answer: bool) -> Trigger | None:
    """The trigger that follows `row` (which has, or will have, `job`) again; None: leave it.
    `lost_answer`: the row never heard of its job (its POST's answer was lost)."""
    if row.stage == Stage.FAILED:
        if job.status == api.JobStatus.COMPLETED and step(
                row, Event.COMPLETED_ELSEWHERE) is not None:
            return Event.COMPLETED_ELSEWHERE  # finished on the server after all
        return None
    if row.job_id is None:
        return None  # only a row with its job (set by `apply_import`) is followed again
    trigger: Trigger
    if row.stage == Stage.SUBMITTING and lost_answer:
        trigger = Event.ACCEPTED  # the answer that was lost: poll it from here
    elif row.stage == Stage.ATTENTION and lost_answer:
        trigger = Event.UNBLOCKED
    elif row.stage == Stage.ABANDONED and job.status not in _SERVER_GAVE_UP:
        trigger = Command.RETRY
    else:
        return None
    return trigger if step(row, trigger) is not None else None


def _lost_answer_row(job: api.Job, orphans: list[Generation]) -> Generation | None:
    """The row whose POST made `job` although its answer never came back, if any."""
    data: dict[str, Any] = job.input if isinstance(job.input, dict) else {}
    key = data.get("idempotencyKey") or data.get("idempotency_key")
    if isinstance(key, str) and key:
        return next((g for g in orphans if g.idempotency_key == key), None)
    if not job.created_at or not data:
        return None
    settings = settings_from_job_input(job)
    created = job.created_at.timestamp()
    candidates = [
        g for g in orphans
        if g.submitted_at is not None and abs(created - g.submitted_at) <= MATCH_WINDOW_S
        and g.settings.prompt == settings.prompt and g.settings.seed == settings.seed
        and g.settings.model == settings.model
    ]
    return min(candidates, key=lambda g: abs(created - (g.submitted_at or 0)), default=None)


def settings_from_job_input(job: api.Job) -> GenerationSettings:
    """Rebuild settings for a job made elsewhere, from the `input` apiframe echoes back."""
    data: dict[str, Any] = job.input if isinstance(job.input, dict) else {}
    raw_params = data.get("runwayParams")
    params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
    duration = params.get("duration", 5)
    model = data.get("model") or job.model
    return GenerationSettings(
        model=model if isinstance(model, str) and model else BUILT_IN_CATALOG.default.id,
        prompt=str(data.get("prompt") or f"(imported job {job.id[:8]})"),
        duration=duration if duration in (5, 10) else 5,
        aspect_ratio=str(params.get("aspect_ratio") or "16:9"),
        seed=int(params.get("seed") or 0),
        image_url=params.get("image") if isinstance(params.get("image"), str) else None,
    )
