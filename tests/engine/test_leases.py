"""Per-generation leases in the journal (schema 5): real processes claiming one SQLite file."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from runway_desktop.engine.journal import SCHEMA_VERSION, Journal, LeaseLost
from runway_desktop.engine.journal_watch import JournalWatch
from runway_desktop.engine.leases import Leases, LeaseTiming, left_running, owner_is_dead
from runway_desktop.engine.lifecycle_table import SLOT_STAGES, WAITING_STAGES, Stage
from runway_desktop.engine.records import GenerationSettings
from tests.helpers.old_journal import old_schema

LOCAL = (Stage.PREPARING, Stage.UPLOADING)


def _settings(n: int) -> GenerationSettings:
    return GenerationSettings(f"prompt {n}", seed=n)


def _v4_journal(path: Path) -> None:
    """A journal exactly as schema 4 wrote it (settings JSON, no leases)."""
    db = old_schema(path, 4)
    settings = json.dumps(_settings(7).to_json())
    db.executemany(
        "INSERT INTO generations (settings_json, idempotency_key, stage, created_at, updated_at,"
        " position, job_id, video_path, favourite) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(settings, "k1", "done", 1.0, 2.0, 1.0, "job-1", "/v/a.mp4", 1),
         (settings, "k2", "processing", 3.0, 4.0, 2.0, "job-2", None, 0),
         (settings, "k3", "pending", 5.0, 5.0, 3.0, None, None, 0)])
    db.commit()
    db.close()


def test_a_version_4_journal_gains_free_leases_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite3"
    _v4_journal(path)
    journal = Journal(path)
    try:
        version = journal._db.execute("PRAGMA user_version").fetchone()[0]
        rows = journal.all()
        leases = [journal.lease_of(g.id) for g in rows]
    finally:
        journal.close()
    assert version == SCHEMA_VERSION >= 5
    assert [(g.idempotency_key, g.stage, g.job_id, g.video_path, g.favourite) for g in rows] == [
        ("k1", Stage.DONE, "job-1", "/v/a.mp4", True),
        ("k2", Stage.PROCESSING, "job-2", None, False),
        ("k3", Stage.PENDING, None, None, False)]
    assert {g.settings for g in rows} == {_settings(7)}
    assert leases == [(None, None)] * 3


_CLAIMER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from runway_desktop.engine.journal import Journal
    from runway_desktop.engine.leases import Leases
    from runway_desktop.engine.lifecycle_table import SLOT_STAGES, WAITING_STAGES, Stage
    path, limit, start = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    journal = Journal(path)
    leases = Leases(journal)
    while time.time() < start:  # every process claims at the same moment
        time.sleep(0.001)
    claimed = []
    for _ in range(200):
        claimed += leases.claim_waiting(limit=limit, waiting=WAITING_STAGES,
                                        holding=SLOT_STAGES,
                                        local=(Stage.PREPARING, Stage.UPLOADING))
    print(json.dumps({"owner": leases.owner, "claimed": claimed}))
    journal.close()
""")


def _claim_in_processes(path: Path, processes: int, limit: int) -> list[dict[str, object]]:
    import time

    start = time.time() + 1.5  # after every interpreter has started
    running = [subprocess.Popen([sys.executable, "-c", _CLAIMER, str(path), str(limit),
                                 str(start)], stdout=subprocess.PIPE, text=True)
               for _ in range(processes)]
    results = []
    for process in running:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        results.append(json.loads(out))
    return results


def test_processes_claiming_at_once_never_lease_one_row_twice(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    journal.add_many(_settings(n) for n in range(60))
    results = _claim_in_processes(path, processes=4, limit=1000)
    claimed = [gid for r in results for gid in r["claimed"]]  # type: ignore[attr-defined]
    assert sorted(claimed) == [g.id for g in journal.all()]  # every row, each exactly once
    owners = {g.id: journal.lease_of(g.id)[0] for g in journal.all()}
    for result in results:
        assert {gid for gid, owner in owners.items() if owner == result["owner"]} == set(
            result["claimed"])  # type: ignore[call-overload]
    journal.close()


def test_the_concurrency_limit_is_counted_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    added = journal.add_many(_settings(n) for n in range(20))
    # One generation already on the server (no live lease: its process died) holds a slot.
    journal.update(added[0].id, stage=Stage.PROCESSING, job_id="job-0")
    results = _claim_in_processes(path, processes=4, limit=4)
    claimed = [gid for r in results for gid in r["claimed"]]  # type: ignore[attr-defined]
    assert len(claimed) == 3 == len(set(claimed))  # 4 running in all, not 4 per process
    assert sorted(claimed) == [g.id for g in added[1:4]]  # in queue order
    journal.close()


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_expired_lease_is_taken_over_and_the_old_holder_can_no_longer_write(
        tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    clock = _Clock()
    first_journal, second_journal = Journal(path), Journal(path)
    timing = LeaseTiming(seconds=20)
    other_host = "elsewhere:4242:abc"  # a process we can't check: only expiry frees its rows
    first = Leases(first_journal, timing, owner=other_host, clock=clock)
    second = Leases(second_journal, timing, clock=clock)
    generation = first_journal.add(_settings(1), stage=Stage.DOWNLOADING, job_id="j")
    assert first.claim([Stage.DOWNLOADING]) == [generation.id]
    assert second.claim([Stage.DOWNLOADING]) == []  # live: never two downloads of one job
    first_journal.update(generation.id, held_by=first.owner, progress=40)

    clock.now += 15
    assert first.renew() == set()  # the heartbeat keeps it
    clock.now += 15
    assert second.claim([Stage.DOWNLOADING]) == []
    clock.now += 25  # no heartbeat for 25 s: expired
    assert second.claim([Stage.DOWNLOADING]) == [generation.id]
    with pytest.raises(LeaseLost):
        first_journal.update(generation.id, held_by=first.owner, progress=50)
    assert first.renew() == {generation.id}  # the old holder learns it lost it
    assert second_journal.require(generation.id).progress == 40
    first_journal.close()
    second_journal.close()


def test_a_dead_process_on_this_machine_is_taken_over_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    generation = journal.add(_settings(1), stage=Stage.QUEUED, job_id="j")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    dead_owner = f"{socket.gethostname()}:{dead.pid}:feed"
    assert owner_is_dead(dead_owner)
    assert not owner_is_dead(f"{socket.gethostname()}:{1}:feed")  # init lives
    assert not owner_is_dead(f"other-host:{dead.pid}:feed")
    Leases(journal, owner=dead_owner).claim([Stage.QUEUED])
    mine = Leases(journal)
    assert mine.claim([Stage.QUEUED]) == []
    mine.look_for_dead()
    assert mine.claim([Stage.QUEUED]) == [generation.id]
    journal.close()


def test_a_command_frees_the_lease_and_the_holder_stops_at_its_next_write(
        tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    holder_journal, window_journal = Journal(path), Journal(path)
    holder = Leases(holder_journal)
    generation = holder_journal.add(_settings(1))
    assert holder.claim_waiting(limit=4, waiting=WAITING_STAGES, holding=SLOT_STAGES,
                                local=LOCAL) == [generation.id]
    holder_journal.update(generation.id, held_by=holder.owner, stage=Stage.UPLOADING)
    window_journal.update(generation.id, free_lease=True, stage=Stage.CANCELLED)  # Cancel
    with pytest.raises(LeaseLost):  # the upload's outcome would have submitted it: it doesn't
        holder_journal.update(generation.id, held_by=holder.owner, stage=Stage.SUBMITTING)
    assert window_journal.require(generation.id).stage == Stage.CANCELLED
    assert holder.renew() == {generation.id}
    holder_journal.close()
    window_journal.close()


def test_released_leases_are_free_and_a_release_never_frees_anothers(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    a, b = journal.add_many([_settings(1), _settings(2)])
    mine, theirs = Leases(journal), Leases(journal)
    mine.claim([Stage.PENDING]) and None
    assert theirs.claim([Stage.PENDING]) == []
    mine.release(a.id)
    assert theirs.claim([Stage.PENDING]) == [a.id]
    mine.release_all()
    assert journal.lease_of(a.id)[0] == theirs.owner
    assert journal.lease_of(b.id) == (None, None)
    journal.close()


def test_the_watch_reports_other_processes_changes_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    mine, other = Journal(path), Journal(path)
    kept, gone = mine.add_many([_settings(1), _settings(2)])
    watch = JournalWatch(mine)
    assert watch.poll().moved is False
    mine.update(kept.id, progress=5)  # our own write: our engine said so already
    assert watch.poll().updated == []

    added = other.add(_settings(3))
    other.update(kept.id, stage=Stage.QUEUED, job_id="j")
    other.remove(gone.id)
    changes = watch.poll()
    assert changes.moved
    assert sorted(g.id for g in changes.updated) == [kept.id, added.id]
    assert {g.id: g.stage for g in changes.updated}[kept.id] == Stage.QUEUED
    assert changes.removed == [gone.id]
    assert watch.poll().moved is False

    mine.remove(added.id)  # removed here: not reported again
    other.update(kept.id, progress=60)
    changes = watch.poll()
    assert changes.removed == []
    assert [(g.id, g.progress) for g in changes.updated] == [(kept.id, 60)]
    mine.close()
    other.close()


def test_a_lease_is_surely_held_only_until_its_last_renewal_runs_out(tmp_path: Path) -> None:
    """After a sleep past the lease, the holder can't know whether it was taken over: it
    counts it as lost until a renewal (atomic in the journal) says it is still its own."""
    clock = _Clock()
    journal = Journal(tmp_path / "journal.sqlite3")
    leases = Leases(journal, LeaseTiming(seconds=20), clock=clock)
    generation = journal.add(_settings(1))
    assert leases.claim_waiting(limit=4, waiting=WAITING_STAGES, holding=SLOT_STAGES,
                                local=LOCAL) == [generation.id]
    assert leases.still_held(generation.id)
    clock.now += 17.5  # 2 s of margin before the expiry
    assert leases.still_held(generation.id)
    clock.now += 1
    assert not leases.still_held(generation.id)
    assert leases.renew() == set()  # nobody took it meanwhile: it is ours again
    assert leases.still_held(generation.id)
    leases.release(generation.id)
    assert not leases.still_held(generation.id)
    journal.close()


def test_the_watch_reports_a_row_added_here_and_removed_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    mine, other = Journal(path), Journal(path)
    watch = JournalWatch(mine)
    added = mine.add(_settings(1))  # after the watch began: it knows the row from our write
    assert watch.poll().moved is False
    other.remove(added.id)  # the window removes what a command made
    assert watch.poll().removed == [added.id]
    mine.close()
    other.close()


@pytest.mark.expect_log_warnings(r"Stopping the queue")
def test_an_engine_that_stopped_by_itself_lets_another_carry_its_work_on(
        make_simulator: Any, data_dir: Path, output_dir: Path) -> None:
    """An engine whose history couldn't be written stops (one clear message); it must stop
    renewing its leases too, or no other process could ever finish its generations."""
    from runway_desktop.engine.journal import journal_error
    from runway_desktop.engine.lifecycle import EngineConfig
    from runway_desktop.engine.scheduler import Engine
    from tests.conftest import run
    from tests.engine.conftest import FAST_BACKOFF, FAST_POLL

    sim = make_simulator(seconds_per_job=30.0, seed=4)  # it stays on the server meanwhile
    fast = LeaseTiming(seconds=1.0, renew_every=0.1, watch_every=0.05)

    def engine() -> Engine:
        config = EngineConfig(data_dir=data_dir, output_dir=output_dir, base_url=sim.base_url,
                              poll=FAST_POLL, backoff=FAST_BACKOFF, leases=fast)
        return Engine(Journal(data_dir / "journal.sqlite3"), config, "afk_test")

    async def scenario() -> tuple[str | None, str]:
        first = engine()
        await first.start()
        generation = first.submit(_settings(1))
        while first.journal.require(generation.id).stage is not Stage.QUEUED:
            await asyncio.sleep(0.02)
        real_update = first.journal.update

        def disk_full(*args: Any, **kwargs: Any) -> Any:  # the next write of the first fails
            first.journal.update = real_update  # type: ignore[method-assign]
            raise journal_error(first.journal.path, OSError(28, "No space left on device"))

        first.journal.update = disk_full  # type: ignore[method-assign]
        while first.halted is None:
            await asyncio.sleep(0.02)
        second = engine()
        await second.start()
        for _ in range(200):  # ~4 s: the first's lease (1 s) must have expired by then
            owner = second.journal.lease_of(generation.id)[0]
            if owner == second._leases.owner:
                break
            await asyncio.sleep(0.02)
        taken_by = second.journal.lease_of(generation.id)[0]
        mine = second._leases.owner
        await second.stop()
        await first.stop()
        second.journal.close()
        first.journal.close()
        return taken_by, mine

    taken_by, second_owner = run(scenario())
    assert taken_by == second_owner
    assert sim.jobs_created("afk_test") == 1


def test_work_left_running_counts_dead_and_expired_holders_not_live_or_released(
        tmp_path: Path) -> None:
    """What the window's crash notice counts (engine.leases.left_running): rows under way whose
    holder is a process gone from this machine, or whose lease ran out; not a row a live
    process holds, nor one released (a quit), nor one waiting."""
    import socket

    journal = Journal(tmp_path / "journal.sqlite3")
    rows = [journal.add(_settings(n), stage=Stage.QUEUED, job_id=f"j{n}") for n in range(5)]
    journal.add(_settings(9))  # pending: not under way
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    journal.claim(f"{socket.gethostname()}:{dead.pid}:feed", until=2_000.0, now=0.0,
                  stages=[Stage.QUEUED])  # all five, for a process that's gone
    alive = Leases(journal)  # this process: alive
    journal.update(rows[1].id, free_lease=True)
    journal.claim(alive.owner, until=2_000.0, now=0.0, stages=[Stage.QUEUED])  # row 1 only
    journal.update(rows[2].id, free_lease=True)  # released: a quit

    assert left_running(journal, now=1_000.0) == 3  # rows 0, 3, 4
    journal.update(rows[3].id, free_lease=True)
    assert left_running(journal, now=1_000.0) == 2
    assert left_running(journal, now=3_000.0) == 3  # row 1's lease ran out too
    journal.close()


def test_work_of_a_stopped_process_is_not_counted_as_left_by_one_that_ended(
        tmp_path: Path) -> None:
    """A `generate` stopped with Ctrl+Z (or `kill -STOP`, a debugger) lets its leases run out,
    and the window carries its work on; but its start notice said the work was left 'when
    Runway Desktop last ended without closing (a crash, the app killed…)' of a process that
    is still there and goes on once continued (`fg`). Killed, it is counted again."""
    import signal
    import socket

    journal = Journal(tmp_path / "journal.sqlite3")
    journal.add(_settings(1), stage=Stage.PROCESSING, job_id="j1")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        journal.claim(f"{socket.gethostname()}:{holder.pid}:feed", until=2_000.0, now=0.0,
                      stages=[Stage.PROCESSING])
        holder.send_signal(signal.SIGSTOP)
        while (holder_state := _state_of(holder.pid)) not in ("T", "t"):
            assert holder_state is not None
        assert left_running(journal, now=3_000.0) == 0  # stopped, its lease run out
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert left_running(journal, now=1_000.0) == 1  # gone, its lease still running
    finally:
        holder.kill()
        holder.wait()
        journal.close()


def _state_of(pid: int) -> str | None:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[-1].split()[0]
