"""A generation's life, in one table: what each stage means and what may happen in it.

Everything else asks this module: the engine (which step to run next, where an outcome leads,
whether a command may act), the window (which menu entries are enabled, what counts as running,
which rows show a percentage) and the CLI (when a generation is settled). No other module keeps
its own list of stages.

Three parts:

- `TRAITS`: one row per stage with the properties everyone needs (settled, holds a concurrency
  slot, resumed at start, shows progress, is a problem, nothing has left the machine …);
- `TABLE`: `(stage, trigger) → alternatives`, each a `Transition` (guard, next stage, effects).
  A trigger is an `Event` (an outcome the engine observed) or a `Command` (what a person asked);
- `allowed_commands(generation)`: the commands whose row in `TABLE` matches the generation.

Safety rules the table encodes (the stateful tests in tests/engine/test_lifecycle_table.py
check them over random sequences of events and commands):

- a generation is submitted once: nothing leads from a stage where the POST may have left back
  to a stage before it; SUBMITTING re-sends the same body with the same idempotency key;
- a Retry pays again only for a job the server failed and refunded (credit cost 0); a job the
  server did not refund is followed again, never sent anew;
- a generation that has a job on the server leaves the history only when the person removes it;
- every stage has a way out for a person (cancel or stop following while it runs; remove always).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runway_desktop.engine.records import Generation


class Stage(enum.StrEnum):
    """Where a generation is in its life. Stored as text in the journal."""

    PENDING = "pending"  # waiting locally; nothing has left the machine
    PREPARING = "preparing"  # checking / converting the image
    UPLOADING = "uploading"  # POST /v2/uploads
    SUBMITTING = "submitting"  # POST /v2/videos/generate may be in flight: resend with the same key
    QUEUED = "queued"  # accepted by the server, waiting for a worker
    PROCESSING = "processing"  # generating on the server
    DOWNLOADING = "downloading"  # the MP4 is streaming to disk
    DONE = "done"
    FAILED = "failed"  # the server failed the job (credits refunded)
    ATTENTION = "attention"  # needs the person: key, credits, input, disk
    CANCELLED = "cancelled"  # cancelled before it reached the server: nothing charged
    ABANDONED = "abandoned"  # the person stopped following it; the server may still charge

    @property
    def traits(self) -> StageTraits:
        return TRAITS[self]

    @property
    def is_terminal(self) -> bool:
        """Finished for good: nothing happens to it unless the person asks."""
        return TRAITS[self].terminal

    @property
    def is_settled(self) -> bool:
        """Nothing moves by itself: finished, or waiting for the person (ATTENTION)."""
        return TRAITS[self].settled

    @property
    def is_local(self) -> bool:
        """True while nothing about this generation has reached the server."""
        return TRAITS[self].local

    @property
    def is_on_server(self) -> bool:
        """Accepted by the server and not finished there yet."""
        return TRAITS[self].on_server

    @property
    def is_running(self) -> bool:
        """Work is under way (totals, timers, the Active filter)."""
        return TRAITS[self].running

    @property
    def holds_slot(self) -> bool:
        return TRAITS[self].holds_slot

    @property
    def resumes_at_start(self) -> bool:
        return TRAITS[self].resumes_at_start

    @property
    def shows_percent(self) -> bool:
        return TRAITS[self].shows_percent

    @property
    def is_problem(self) -> bool:
        return TRAITS[self].problem

    @property
    def waits_for_slot(self) -> bool:
        return TRAITS[self].waits_for_slot

    @property
    def is_announced(self) -> bool:
        return TRAITS[self].announced

    @property
    def is_quiet(self) -> bool:
        return TRAITS[self].quiet

    @property
    def is_timed(self) -> bool:
        return TRAITS[self].timed

    @property
    def progress_span(self) -> tuple[float, float]:
        return TRAITS[self].progress_span


@dataclass(frozen=True)
class StageTraits:
    terminal: bool = False  # finished for good (DONE, FAILED, CANCELLED, ABANDONED)
    settled: bool = False  # nothing moves by itself (terminal, or waiting for the person)
    local: bool = False  # nothing has reached the server: cancelling costs nothing
    on_server: bool = False  # the server has the job and is not finished with it
    running: bool = False  # work under way (counted as running, elapsed time ticks)
    holds_slot: bool = False  # counts against the team's concurrent jobs
    resumes_at_start: bool = False  # driven again at start without waiting for a slot
    waits_for_slot: bool = False  # started when a slot is free, in `position` order
    restarts_from_scratch: bool = False  # after a crash: prepared again (Event.RESTARTED)
    shows_percent: bool = False  # `progress` is a meaningful percentage
    problem: bool = False  # shown as a problem (its `error` is the message)
    quiet: bool = False  # nothing is happening and nothing came of it (shown muted)
    timed: bool = True  # its elapsed time means something (it started)
    announced: bool = False  # worth a desktop notification when reached (a video, a failure)
    # Its POST may have left with the answer lost (no job id journaled): `import` matches it.
    may_lack_answer: bool = False
    # Where the stage sits in one item's overall progress, 0..1 (the total bar).
    progress_span: tuple[float, float] = (1.0, 1.0)


TRAITS: Mapping[Stage, StageTraits] = {
    Stage.PENDING: StageTraits(local=True, waits_for_slot=True, quiet=True, timed=False,
                               progress_span=(0.0, 0.0)),
    Stage.PREPARING: StageTraits(local=True, running=True, holds_slot=True,
                                 restarts_from_scratch=True, progress_span=(0.0, 0.02)),
    Stage.UPLOADING: StageTraits(local=True, running=True, holds_slot=True,
                                 restarts_from_scratch=True, progress_span=(0.02, 0.05)),
    Stage.SUBMITTING: StageTraits(running=True, holds_slot=True, resumes_at_start=True,
                                  may_lack_answer=True, progress_span=(0.05, 0.07)),
    Stage.QUEUED: StageTraits(on_server=True, running=True, holds_slot=True,
                              resumes_at_start=True, progress_span=(0.07, 0.10)),
    Stage.PROCESSING: StageTraits(on_server=True, running=True, holds_slot=True,
                                  resumes_at_start=True, shows_percent=True,
                                  progress_span=(0.10, 0.90)),
    Stage.DOWNLOADING: StageTraits(running=True, resumes_at_start=True, shows_percent=True,
                                   progress_span=(0.90, 1.0)),
    Stage.DONE: StageTraits(terminal=True, settled=True, announced=True),
    Stage.FAILED: StageTraits(terminal=True, settled=True, problem=True, announced=True),
    Stage.ATTENTION: StageTraits(settled=True, problem=True, may_lack_answer=True),
    Stage.CANCELLED: StageTraits(terminal=True, settled=True, quiet=True, timed=False),
    Stage.ABANDONED: StageTraits(terminal=True, settled=True, quiet=True, may_lack_answer=True),
}


def stages_where(trait: Callable[[StageTraits], bool]) -> frozenset[Stage]:
    """The stages with a trait, e.g. `stages_where(lambda t: t.holds_slot)` (for SQL queries)."""
    return frozenset(stage for stage in Stage if trait(TRAITS[stage]))


TERMINAL_STAGES = stages_where(lambda t: t.terminal)
SETTLED_STAGES = stages_where(lambda t: t.settled)
UNFINISHED_STAGES = stages_where(lambda t: not t.terminal)
SLOT_STAGES = stages_where(lambda t: t.holds_slot)
# Holding a slot with nothing on the server yet (counted only while a process leases them).
LOCAL_SLOT_STAGES = stages_where(lambda t: t.holds_slot and t.local)
RESUMABLE_STAGES = stages_where(lambda t: t.resumes_at_start)
RESTART_STAGES = stages_where(lambda t: t.restarts_from_scratch)
RUNNING_STAGES = stages_where(lambda t: t.running)
ON_SERVER_STAGES = stages_where(lambda t: t.on_server)
# Under way with apiframe: its POST may have left, or the job is there or is being fetched.
SENT_RUNNING_STAGES = stages_where(lambda t: t.running and not t.local)
WAITING_STAGES = stages_where(lambda t: t.waits_for_slot)
# Waiting for a slot or for the person: what a balance must cover before it can go on.
AWAITING_CREDITS_STAGES = WAITING_STAGES | {Stage.ATTENTION}
LOST_ANSWER_STAGES = stages_where(lambda t: t.may_lack_answer)


# -- triggers and effects -------------------------------------------------------------------------


class Event(enum.StrEnum):
    """An outcome the engine observed (a step's result, the server's answer, a restart)."""

    PREPARE = "prepare"  # a slot is free and the image must be prepared and uploaded
    SEND = "send"  # a slot is free and nothing needs uploading (URL given, upload fresh)
    PREPARED = "prepared"  # the image is checked and converted
    UPLOADED = "uploaded"  # POST /v2/uploads answered: the request can be sent
    ACCEPTED = "accepted"  # POST /v2/videos/generate answered with a job id
    JOB_QUEUED = "job_queued"  # a poll: waiting for a worker
    JOB_PROCESSING = "job_processing"  # a poll: generating (or finished, link not there yet)
    JOB_COMPLETED = "job_completed"  # a poll: finished, with a video link
    JOB_FAILED = "job_failed"  # a poll: failed or cancelled on the server (refunded)
    LINK_GONE = "link_gone"  # the job, re-read for a fresh link, has none right now
    DOWNLOADED = "downloaded"  # the MP4 is whole on disk
    NEEDS_PERSON = "needs_person"  # a problem only the person can fix (or retries ran out)
    RESTARTED = "restarted"  # the engine started and found it mid-way after a crash
    UNBLOCKED = "unblocked"  # what paused it (key, credits) is fixed
    COMPLETED_ELSEWHERE = "completed_elsewhere"  # import: the server finished a job we had failed


class Command(enum.StrEnum):
    """What a person can ask for one generation (menus, shortcuts, the CLI)."""

    PLAY = "play"
    OPEN = "open"
    REVEAL = "reveal"
    COPY_URL = "copy_url"
    COPY_SEED = "copy_seed"
    COPY_PROMPT = "copy_prompt"
    FAVOURITE = "favourite"
    REUSE = "reuse"  # re-run with the same settings (filled into the compose panel)
    RERUN = "rerun"  # re-run with a new seed: a new generation, paid anew
    RETRY = "retry"  # carry on where it stopped
    SHOW_SENT_AGAIN = "show_sent_again"  # a failure Retry sent anew: show the one it made
    STOP_FOLLOWING = "stop_following"  # the server may still finish (and charge) it
    CANCEL = "cancel"  # nothing reached the server: nothing is charged
    REMOVE = "remove"
    REMOVE_WITH_FILE = "remove_with_file"
    REORDER = "reorder"
    REDOWNLOAD = "redownload"  # the video file is gone: fetch it again (never paid again)
    SET_OUTPUT_FOLDER = "set_output_folder"
    EXTEND = "extend"  # a new generation from its exact last frame: a new, paid job


Trigger = Event | Command


class Effect(enum.StrEnum):
    """Work that follows a transition; the engine's runner performs it."""

    PREPARE = "prepare"  # check / convert the image
    UPLOAD = "upload"  # POST /v2/uploads
    SUBMIT = "submit"  # POST /v2/videos/generate with the row's own idempotency key
    POLL = "poll"  # GET /v2/jobs/{id} until it settles
    FRESH_LINK = "fresh_link"  # re-read the job for a new video link
    DOWNLOAD = "download"  # stream the MP4 (resuming its .part)
    THUMBNAIL = "thumbnail"
    STOP = "stop"  # stop the work in flight for it (its task)
    SUBMIT_COPY = "submit_copy"  # a NEW generation, same settings (a new, paid job)
    SUBMIT_NEW_SEED = "submit_new_seed"  # a NEW generation, same settings and a new seed
    SUBMIT_EXTENSION = "submit_extension"  # a NEW generation starting from its last frame
    FORGET = "forget"  # take the row out of the history
    DELETE_FILES = "delete_files"  # the video (to the trash, in the window) and its thumbnail
    SHOW = "show"  # nothing changes in the engine (play, open, reveal, copy, compose)
    WRITE = "write"  # a field only (favourite, position, output folder)


# -- guards: facts of the row the stage alone doesn't tell ---------------------------------------


def _always(_g: Generation) -> bool:
    return True


def has_job(g: Generation) -> bool:
    return g.job_id is not None


def refunded(g: Generation) -> bool:
    """The server failed this job and gave the credits back (or it never reached the server).
    A job that ever sent a video link was completed: never counted as refunded."""
    return (g.job_id is None or g.credit_cost == 0) and not g.video_url


def paid_not_refunded(g: Generation) -> bool:
    return not refunded(g)


def sent_again(g: Generation) -> bool:
    """Retry sent this refunded failure anew already (`sent_again_as`, while that row is in
    the history): another Retry would pay again without the person meaning it."""
    return g.sent_again_as is not None


def refunded_not_sent_again(g: Generation) -> bool:
    return refunded(g) and not sent_again(g)


def job_known(g: Generation) -> bool:
    """apiframe still knows the job: after a 404 ("no such job") following it again can only
    meet another 404 (the row's way on is a new job with the same settings, or Remove)."""
    return g.action != "run_again"  # Action.RUN_AGAIN (records imports this module)


def has_video_file(g: Generation) -> bool:
    return bool(g.video_path)


def has_video_url(g: Generation) -> bool:
    return bool(g.video_url)


def video_file_present(g: Generation) -> bool:
    """Its video is on disk now (what Extend takes the last frame from)."""
    from pathlib import Path

    return bool(g.video_path) and Path(g.video_path or "").is_file()


def video_file_missing(g: Generation) -> bool:
    """A finished video whose file is gone (deleted, moved, a drive unplugged)."""
    from pathlib import Path

    return g.job_id is not None and not (g.video_path and Path(g.video_path).exists())


def resume_stage(g: Generation) -> Stage:
    """Where a stopped generation carries on, never paying twice: a job the server has is
    followed (or its video fetched); a POST that may have left is re-sent with the same key."""
    if g.job_id:
        return Stage.DOWNLOADING if g.video_url else Stage.QUEUED
    if g.submitted_at:
        return Stage.SUBMITTING
    return Stage.PENDING


# What a row that carries on (`resume_stage`) starts without: the last stop's reason, its fix,
# its end time and its retry count.
CARRY_ON: Mapping[str, object] = {"error": None, "action": None, "finished_at": None,
                                  "attempts": 0}

NextStage = Stage | Callable[["Generation"], Stage] | None  # None: the stage stays


@dataclass(frozen=True)
class Transition:
    next: NextStage
    effects: tuple[Effect, ...] = ()
    guard: Callable[[Generation], bool] = _always
    removes: bool = False  # the row leaves the history

    def target(self, g: Generation) -> Stage:
        """The stage after this transition (the row's own stage for `next=None`)."""
        if self.next is None:
            return g.stage
        if isinstance(self.next, Stage):
            return self.next
        return self.next(g)


def _t(next_: NextStage, *effects: Effect, guard: Callable[[Generation], bool] = _always,
       removes: bool = False) -> Transition:
    return Transition(next_, effects, guard, removes)


_LOCAL = (Stage.PENDING, Stage.PREPARING, Stage.UPLOADING)
_SENT = (Stage.SUBMITTING, Stage.QUEUED, Stage.PROCESSING, Stage.DOWNLOADING)
_ON_SERVER = (Stage.QUEUED, Stage.PROCESSING)

_Table = dict[tuple[Stage, Trigger], tuple[Transition, ...]]


def _build() -> _Table:
    table: _Table = {}

    def row(stages: Stage | tuple[Stage, ...], trigger: Trigger, *alternatives: Transition) -> None:
        for stage in (stages,) if isinstance(stages, Stage) else stages:
            table[(stage, trigger)] = table.get((stage, trigger), ()) + alternatives

    # The automatic path: each outcome written before the work it leads to.
    row(Stage.PENDING, Event.PREPARE, _t(Stage.PREPARING, Effect.PREPARE))
    row(Stage.PENDING, Event.SEND, _t(Stage.SUBMITTING, Effect.SUBMIT))
    row((Stage.PREPARING, Stage.UPLOADING), Event.PREPARE, _t(Stage.PREPARING, Effect.PREPARE))
    row((Stage.PREPARING, Stage.UPLOADING), Event.SEND, _t(Stage.SUBMITTING, Effect.SUBMIT))
    row(Stage.PREPARING, Event.PREPARED, _t(Stage.UPLOADING, Effect.UPLOAD))
    row(Stage.UPLOADING, Event.UPLOADED, _t(Stage.SUBMITTING, Effect.SUBMIT))
    row(Stage.SUBMITTING, Event.ACCEPTED, _t(Stage.QUEUED, Effect.POLL))
    row((Stage.SUBMITTING, *_ON_SERVER), Event.JOB_QUEUED, _t(Stage.QUEUED, Effect.POLL))
    row((Stage.SUBMITTING, *_ON_SERVER), Event.JOB_PROCESSING,
        _t(Stage.PROCESSING, Effect.POLL))
    row((*_ON_SERVER, Stage.DOWNLOADING), Event.JOB_COMPLETED,
        _t(Stage.DOWNLOADING, Effect.DOWNLOAD))
    row(_ON_SERVER, Event.JOB_FAILED, _t(Stage.FAILED))
    row(Stage.DOWNLOADING, Event.LINK_GONE, _t(Stage.PROCESSING, Effect.POLL))
    row(Stage.DOWNLOADING, Event.DOWNLOADED, _t(Stage.DONE, Effect.THUMBNAIL))
    row((*_LOCAL, *_SENT), Event.NEEDS_PERSON, _t(Stage.ATTENTION))
    # After a crash: local work starts over; a POST that may have left is re-sent as it was.
    row(_LOCAL[1:], Event.RESTARTED, _t(Stage.PENDING))
    row(Stage.FAILED, Event.RESTARTED, _t(resume_stage, guard=paid_not_refunded))
    row(Stage.ATTENTION, Event.UNBLOCKED, _t(resume_stage))
    row(Stage.FAILED, Event.COMPLETED_ELSEWHERE, _t(resume_stage, guard=paid_not_refunded))

    # What a person can do. Showing and copying change nothing in the engine.
    every = tuple(Stage)
    row(Stage.DONE, Command.PLAY, _t(None, Effect.SHOW, guard=has_video_file))
    row(Stage.DONE, Command.OPEN, _t(None, Effect.SHOW, guard=has_video_file))
    row(every, Command.REVEAL, _t(None, Effect.SHOW, guard=has_video_file))
    row(every, Command.COPY_URL, _t(None, Effect.SHOW, guard=has_video_url))
    row(every, Command.COPY_SEED, _t(None, Effect.SHOW))
    row(every, Command.COPY_PROMPT, _t(None, Effect.SHOW))
    row(every, Command.FAVOURITE, _t(None, Effect.WRITE))
    row(every, Command.REUSE, _t(None, Effect.SHOW))
    row(every, Command.RERUN, _t(None, Effect.SUBMIT_NEW_SEED))
    row(Stage.PENDING, Command.REORDER, _t(None, Effect.WRITE))
    # Extend: a finished clip whose file is there has a last frame to start from; one still
    # downloading is paid for and nearly there, so the extension waits for its file.
    row(Stage.DONE, Command.EXTEND, _t(None, Effect.SUBMIT_EXTENSION, guard=video_file_present))
    row(Stage.DOWNLOADING, Command.EXTEND, _t(None, Effect.SUBMIT_EXTENSION))
    row(tuple(s for s in Stage if s not in (Stage.DONE, Stage.CANCELLED)),
        Command.SET_OUTPUT_FOLDER, _t(None, Effect.WRITE))

    # Ways out while it runs: nothing charged before the server has it; after, stop following.
    row(_LOCAL, Command.CANCEL, _t(Stage.CANCELLED, Effect.STOP))
    row(_SENT, Command.STOP_FOLLOWING, _t(Stage.ABANDONED, Effect.STOP))
    # Retry carries on; only a refunded failure is sent anew (a new generation, paid once:
    # once sent, the row shows the one it made instead).
    row((Stage.ATTENTION, Stage.ABANDONED), Command.RETRY, _t(resume_stage, guard=job_known))
    row(Stage.FAILED, Command.RETRY,
        _t(resume_stage, guard=paid_not_refunded),
        _t(None, Effect.SUBMIT_COPY, guard=refunded_not_sent_again))
    row(Stage.FAILED, Command.SHOW_SENT_AGAIN, _t(None, Effect.SHOW, guard=sent_again))
    row(Stage.DONE, Command.REDOWNLOAD, _t(Stage.DOWNLOADING, Effect.DOWNLOAD,
                                           guard=video_file_missing))
    # Remove: always possible, and always the person's explicit choice.
    row(every, Command.REMOVE, _t(None, Effect.STOP, Effect.FORGET, removes=True))
    row(every, Command.REMOVE_WITH_FILE,
        _t(None, Effect.STOP, Effect.DELETE_FILES, Effect.FORGET, guard=has_video_file,
           removes=True))
    return table


TABLE: Mapping[tuple[Stage, Trigger], tuple[Transition, ...]] = _build()


def step(generation: Generation, trigger: Trigger) -> Transition | None:
    """The transition `trigger` takes from this generation, or None when it may not happen."""
    for transition in TABLE.get((generation.stage, trigger), ()):
        if transition.guard(generation):
            return transition
    return None


def allows(generation: Generation, command: Command) -> bool:
    return step(generation, command) is not None


def allowed_commands(generation: Generation) -> frozenset[Command]:
    """Everything a person may do with this generation now."""
    return frozenset(c for c in Command if step(generation, c) is not None)


def clearable(generation: Generation) -> bool:
    """What "Clear finished" takes from the list: finished for good, and not a favourite."""
    return generation.stage.is_terminal and not generation.favourite


class NoSuchTransition(Exception):
    """The engine observed an outcome the table has no row for (a bug, not a server fault)."""

    def __init__(self, stage: Stage, trigger: Trigger) -> None:
        super().__init__(f"No transition for {trigger!r} in stage {stage.value}")
        self.stage = stage
        self.trigger = trigger


def next_stage(generation: Generation, trigger: Trigger) -> Stage:
    """Where `trigger` leads; raises NoSuchTransition when the table has no such move."""
    transition = step(generation, trigger)
    if transition is None:
        raise NoSuchTransition(generation.stage, trigger)
    return transition.target(generation)


def imported_stage(job_status: str) -> Stage:
    """Where a job made elsewhere (import) starts, by the server's status (QUEUED, …)."""
    return _IMPORTED.get(job_status.upper(), Stage.QUEUED)


_IMPORTED: Mapping[str, Stage] = {
    "COMPLETED": Stage.DOWNLOADING,
    "FAILED": Stage.FAILED,
    "CANCELLED": Stage.FAILED,
    "PROCESSING": Stage.PROCESSING,
}


def first_effect(stage: Stage) -> Effect | None:
    """The step the runner performs for a row found in `stage` (None: nothing automatic)."""
    return _DRIVE.get(stage)


_DRIVE: Mapping[Stage, Effect] = {
    Stage.PENDING: Effect.PREPARE,  # PREPARE decides whether anything must be uploaded
    Stage.PREPARING: Effect.PREPARE,
    Stage.UPLOADING: Effect.PREPARE,
    Stage.SUBMITTING: Effect.SUBMIT,
    Stage.QUEUED: Effect.POLL,
    Stage.PROCESSING: Effect.POLL,
    Stage.DOWNLOADING: Effect.DOWNLOAD,
}
