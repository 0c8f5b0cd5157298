"""The lifecycle table: its safety rules over every stage, and over random sequences of events
and commands (hypothesis stateful), against a small model of the server."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from runway_desktop.engine import lifecycle_table as table
from runway_desktop.engine.lifecycle_table import Command, Effect, Event, Stage
from runway_desktop.engine.records import Generation, GenerationSettings

# Stages after which the POST may have left / the server has a job: never gone back from.
BEFORE_POST = frozenset({Stage.PENDING, Stage.PREPARING, Stage.UPLOADING, Stage.CANCELLED})
BEFORE_JOB = BEFORE_POST | {Stage.SUBMITTING}


def make(stage: Stage, **fields: Any) -> Generation:
    return dataclasses.replace(
        Generation(1, GenerationSettings("a kite"), "key-1", stage, 0.0, 0.0), **fields
    )


def _id(g: Generation) -> str:
    return f"{g.stage}-{g.job_id}-{g.credit_cost}-{bool(g.video_url)}-{bool(g.video_path)}"


def rows_for_every_stage() -> list[Generation]:
    """Each stage with the facts a row there can have (job or not, paid or refunded, file)."""
    out = []
    for stage, job, cost, url, path in itertools.product(
        Stage, (None, "job-1"), (None, 8, 0), (None, "https://cdn/v.mp4"), (None, "/no/v.mp4")
    ):
        if job is None and stage in (Stage.QUEUED, Stage.PROCESSING, Stage.DOWNLOADING):
            continue  # the server has these by definition
        if job is not None and stage in BEFORE_JOB:
            continue  # a job exists only once the POST was answered
        out.append(make(stage, job_id=job, credit_cost=cost, video_url=url, video_path=path,
                        submitted_at=1.0 if job or stage is Stage.SUBMITTING else None))
    return out


@pytest.mark.parametrize("generation", rows_for_every_stage(), ids=_id)
def test_every_stage_has_a_way_out(generation: Generation) -> None:
    allowed = table.allowed_commands(generation)
    assert Command.REMOVE in allowed
    if not generation.stage.is_settled:
        assert allowed & {Command.CANCEL, Command.STOP_FOLLOWING}


@pytest.mark.parametrize("stage", [Stage.SUBMITTING, Stage.DOWNLOADING])
def test_submitting_and_downloading_rows_can_be_left(stage: Stage) -> None:
    allowed = table.allowed_commands(make(stage, job_id="job-1", submitted_at=1.0))
    assert {Command.STOP_FOLLOWING, Command.REMOVE} <= allowed
    assert Command.CANCEL not in allowed  # the POST may have left: nothing is "not charged"


@pytest.mark.parametrize("generation", rows_for_every_stage(), ids=_id)
def test_no_transition_goes_back_before_the_post(generation: Generation) -> None:
    for trigger in (*Event, *Command):
        transition = table.step(generation, trigger)
        if transition is None or transition.removes:
            continue
        target = transition.target(generation)
        if generation.job_id:
            assert target not in BEFORE_JOB, (generation.stage, trigger)
        if generation.submitted_at:
            assert target not in BEFORE_POST, (generation.stage, trigger)


def test_retry_pays_again_only_after_a_refund() -> None:
    refunded = make(Stage.FAILED, job_id="job-1", credit_cost=0, submitted_at=1.0)
    charged = make(Stage.FAILED, job_id="job-1", credit_cost=8, submitted_at=1.0)
    unknown = make(Stage.FAILED, job_id="job-1", credit_cost=None, submitted_at=1.0)
    paying = table.step(refunded, Command.RETRY)
    assert paying is not None
    assert paying.effects == (Effect.SUBMIT_COPY,)
    for row in (charged, unknown):
        transition = table.step(row, Command.RETRY)
        assert transition is not None
        assert Effect.SUBMIT_COPY not in transition.effects
        assert transition.target(row) is Stage.QUEUED  # follow the job it has
    with_link = dataclasses.replace(charged, video_url="https://cdn/v.mp4")
    assert table.next_stage(with_link, Command.RETRY) is Stage.DOWNLOADING
    # Sent anew once: a second Retry shows the copy, never pays again.
    sent = dataclasses.replace(refunded, sent_again_as=2)
    assert table.step(sent, Command.RETRY) is None
    assert Command.SHOW_SENT_AGAIN in table.allowed_commands(sent)
    assert Command.SHOW_SENT_AGAIN not in table.allowed_commands(refunded)


def test_no_command_repays_a_job_the_server_completed() -> None:
    """A row whose job completed (a link, a file, or DONE) never leads to a new paid job except
    by the person's explicit Re-run (a new generation with a new seed)."""
    for row in rows_for_every_stage():
        if not (row.video_url or row.stage is Stage.DONE) or not row.job_id:
            continue
        for command in Command:
            transition = table.step(row, command)
            if transition is not None and command is not Command.RERUN:
                assert Effect.SUBMIT_COPY not in transition.effects, (row.stage, command)
                assert Effect.SUBMIT not in transition.effects


def test_stage_traits_agree_with_each_other() -> None:
    for stage in Stage:
        traits = stage.traits
        assert traits.terminal <= traits.settled
        assert not (traits.settled and traits.running)
        assert not (traits.local and traits.on_server)
        assert traits.holds_slot <= traits.running
        assert traits.on_server <= traits.holds_slot
    assert table.first_effect(Stage.PENDING) is Effect.PREPARE
    assert all(table.first_effect(s) is None for s in table.SETTLED_STAGES)


def test_a_missing_transition_is_an_error_not_a_guess() -> None:
    with pytest.raises(table.NoSuchTransition):
        table.next_stage(make(Stage.DONE, job_id="job-1"), Event.ACCEPTED)


# -- random sequences ----------------------------------------------------------------------------


@dataclasses.dataclass
class ServerJob:
    id: str
    status: str = "queued"  # queued, processing, completed, failed (refunded)

    @property
    def paid(self) -> bool:
        return self.status != "failed"


CARRY_ON = {"error": None, "action": None, "finished_at": None, "attempts": 0}


class LifecycleMachine(RuleBasedStateMachine):
    """Rows driven only through `lifecycle_table.step`; the model does what the engine does with
    each transition (fields, new rows, removal) and what a consistent server would answer."""

    rows = Bundle("rows")

    def __init__(self) -> None:
        super().__init__()
        self.generations: dict[int, Generation] = {}
        self.jobs: dict[str, ServerJob] = {}  # by idempotency key: the server's replay map
        self.lineage: dict[int, int] = {}  # row → the person's original request
        self.first_job: dict[int, str] = {}
        self.removed_by_person: set[int] = set()
        self.copies: dict[int, list[int]] = {}  # row → the rows its Retry sent anew
        self.ids = itertools.count(1)

    # -- the model's engine -----------------------------------------------------------------

    def _add(self, settings: GenerationSettings, lineage: int | None) -> int:
        gid = next(self.ids)
        self.generations[gid] = Generation(gid, settings, f"key-{gid}", Stage.PENDING, 0.0, 0.0)
        self.lineage[gid] = gid if lineage is None else lineage
        return gid

    def _feed(self, gid: int, trigger: Event | Command) -> list[int]:
        g = self.generations[gid]
        transition = table.step(g, trigger)
        if transition is None:
            return []
        if isinstance(trigger, Command):
            assert trigger in table.allowed_commands(g)
        fields: dict[str, Any] = {"stage": transition.target(g)}
        job = self.jobs.get(g.idempotency_key)
        new: list[int] = []
        if transition.removes:
            del self.generations[gid]
            self.removed_by_person.add(gid)
            for other, row in self.generations.items():  # its link goes (commands.remove)
                if row.sent_again_as == gid:
                    self.generations[other] = dataclasses.replace(row, sent_again_as=None)
            return []
        if Effect.SUBMIT_COPY in transition.effects:
            new.append(self._add(g.settings, self.lineage[gid]))
            fields["sent_again_as"] = new[-1]
            self.copies.setdefault(gid, []).append(new[-1])
        if Effect.SUBMIT_NEW_SEED in transition.effects:
            new.append(self._add(g.settings.with_seed(g.settings.seed + 1), None))
        if fields["stage"] is Stage.SUBMITTING:
            fields["submitted_at"] = 1.0
        if trigger in (Event.ACCEPTED, Event.JOB_QUEUED, Event.JOB_PROCESSING) and (
            g.stage is Stage.SUBMITTING
        ):
            if job is None:  # the POST creates (and charges) a job once per key
                job = self.jobs[g.idempotency_key] = ServerJob(f"job-{gid}")
            fields.update(job_id=job.id, credit_cost=8)
        if trigger is Event.JOB_COMPLETED:
            fields["video_url"] = f"https://cdn/{gid}.mp4"
        if trigger is Event.LINK_GONE:
            fields["video_url"] = None
        if trigger is Event.JOB_FAILED:
            fields["credit_cost"] = 0
        if trigger is Event.DOWNLOADED:
            fields["video_path"] = f"/videos/{gid}.mp4"
        if trigger is Command.REDOWNLOAD:
            fields["video_path"] = None
        if trigger in (Command.RETRY, Event.UNBLOCKED, Event.COMPLETED_ELSEWHERE):
            fields.update(CARRY_ON)
        if trigger is Command.FAVOURITE:
            fields["favourite"] = not g.favourite
        self.generations[gid] = dataclasses.replace(g, **fields)
        return new

    def _server_allows(self, g: Generation, event: Event) -> bool:
        """A consistent server: a job that failed never completes, and the other way round."""
        job = self.jobs.get(g.idempotency_key)
        if event in (Event.JOB_QUEUED, Event.JOB_PROCESSING) and g.stage is not Stage.SUBMITTING:
            return job is not None and job.status in ("queued", "processing")
        if event in (Event.JOB_COMPLETED, Event.LINK_GONE, Event.COMPLETED_ELSEWHERE):
            return job is not None and job.status != "failed"
        if event is Event.JOB_FAILED:
            return job is not None and job.status != "completed"
        return True

    def _server_moves(self, g: Generation, event: Event) -> None:
        job = self.jobs.get(g.idempotency_key)
        if job is None:
            return
        if event is Event.JOB_PROCESSING and g.stage is not Stage.SUBMITTING:
            job.status = "processing"
        elif event in (Event.JOB_COMPLETED, Event.COMPLETED_ELSEWHERE):
            job.status = "completed"
        elif event is Event.JOB_FAILED:
            job.status = "failed"

    # -- rules ------------------------------------------------------------------------------

    @initialize(target=rows)
    def first(self) -> int:
        return self._add(GenerationSettings("a kite"), None)

    @rule(target=rows, seed=st.integers(0, 2**32 - 1))
    def generate(self, seed: int) -> int:
        return self._add(GenerationSettings("a kite", seed=seed), None)

    def _possible(self, g: Generation) -> list[Event]:
        return [e for e in Event if table.step(g, e) is not None and self._server_allows(g, e)]

    def _observe(self, gid: int, event: Event) -> list[int]:
        g = self.generations[gid]
        self._server_moves(g, event)
        hypothesis.event(f"{g.stage} --{event}-->")
        return self._feed(gid, event)

    @rule(target=rows, status=st.sampled_from(["queued", "processing", "completed", "failed"]),
          legacy=st.booleans())
    def imported(self, status: str, legacy: bool) -> int:
        """A job from the server's list (import), or a row an older version wrote: FAILED
        although its job completed (the link was missing once), credit cost unknown."""
        gid = self._add(GenerationSettings("imported"), None)
        job = self.jobs[f"key-{gid}"] = ServerJob(f"job-{gid}", status)
        stage = table.imported_stage(status)
        cost: int | None = 0 if status == "failed" else 8
        if legacy:
            job.status, stage, cost = "completed", Stage.FAILED, None
        self.generations[gid] = dataclasses.replace(
            self.generations[gid], stage=stage, job_id=job.id, credit_cost=cost, submitted_at=1.0,
            video_url=f"https://cdn/{gid}.mp4" if stage is Stage.DOWNLOADING else None)
        return gid

    @rule(target=rows, gid=rows, data=st.data())
    def outcome(self, gid: int, data: st.DataObject) -> object:
        """Something the engine can observe for this row now (a step's result, a poll)."""
        g = self.generations.get(gid)
        possible = self._possible(g) if g is not None else []
        if not possible:
            return multiple()
        return multiple(*self._observe(gid, data.draw(st.sampled_from(possible))))

    @rule(target=rows, gid=rows, data=st.data())
    def runs_on(self, gid: int, data: st.DataObject) -> object:
        """Several outcomes in a row, mostly forward (so long paths are explored too)."""
        new: list[int] = []
        for _ in range(data.draw(st.integers(1, 8))):
            g = self.generations.get(gid)
            possible = self._possible(g) if g is not None else []
            forward = [e for e in possible if e not in (Event.NEEDS_PERSON, Event.RESTARTED)]
            if not possible:
                break
            event = data.draw(st.sampled_from(forward) if forward else st.sampled_from(possible))
            new += self._observe(gid, event)
        return multiple(*new)

    @rule(target=rows, gid=rows, data=st.data())
    def person(self, gid: int, data: st.DataObject) -> object:
        """Whatever the window's menu or the CLI offers for this row now."""
        g = self.generations.get(gid)
        if g is None:
            return multiple()
        command = data.draw(st.sampled_from(sorted(table.allowed_commands(g))))
        hypothesis.event(f"{g.stage} --{command}-->")
        return multiple(*self._feed(gid, command))

    @rule(gid=rows, command=st.sampled_from(Command))
    def anything(self, gid: int, command: Command) -> None:
        """A command the table doesn't offer changes nothing."""
        g = self.generations.get(gid)
        if g is not None and command not in table.allowed_commands(g):
            assert table.step(g, command) is None

    @rule(gid=consumes(rows))
    def remove(self, gid: int) -> None:
        if gid in self.generations:
            self._feed(gid, Command.REMOVE)

    @rule()
    def crash_and_restart(self) -> None:
        for gid, g in list(self.generations.items()):
            if g.stage in table.RESTART_STAGES:
                self._feed(gid, Event.RESTARTED)

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def a_failure_is_sent_anew_once_while_its_copy_is_there(self) -> None:
        """A second Retry (the person unsure the first worked) shows the copy, never pays
        again; only once the person removed the copy may Retry send another."""
        for copies in self.copies.values():
            assert len([c for c in copies if c in self.generations]) <= 1

    @invariant()
    def never_two_submissions_for_one_generation(self) -> None:
        paid: dict[int, list[str]] = {}
        for gid, lineage in self.lineage.items():
            job = self.jobs.get(f"key-{gid}")
            if job is not None and job.paid:
                paid.setdefault(lineage, []).append(job.id)
        assert all(len(jobs) <= 1 for jobs in paid.values()), paid
        for gid, g in self.generations.items():
            if g.job_id:
                assert self.first_job.setdefault(gid, g.job_id) == g.job_id
                assert g.stage not in BEFORE_JOB, g
            if g.submitted_at:
                assert g.stage not in BEFORE_POST, g

    @invariant()
    def never_a_submitted_generation_dropped(self) -> None:
        for gid in self.first_job:
            assert gid in self.generations or gid in self.removed_by_person

    @invariant()
    def never_a_stage_without_a_command(self) -> None:
        for g in self.generations.values():
            allowed = table.allowed_commands(g)
            assert Command.REMOVE in allowed
            if not g.stage.is_settled:
                assert allowed & {Command.CANCEL, Command.STOP_FOLLOWING}, g


LifecycleMachine.TestCase.settings = settings(
    max_examples=400, stateful_step_count=50, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_lifecycle_random_sequences = LifecycleMachine.TestCase


def test_video_file_missing_reads_the_disk(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    done = make(Stage.DONE, job_id="job-1", video_path=str(video), credit_cost=8)
    assert Command.REDOWNLOAD not in table.allowed_commands(done)
    video.unlink()
    assert table.next_stage(done, Command.REDOWNLOAD) is Stage.DOWNLOADING
