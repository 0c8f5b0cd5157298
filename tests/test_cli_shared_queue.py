"""Many processes, one queue: real `runway-desktop` processes on one data dir against one
simulator, with and without an engine in this process standing in for the window (the window's
engine is this same Engine class; its queue list is fed by the events recorded here)."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from runway_desktop.engine.events import AccountUpdated, EngineEvent, GenerationUpdated
from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.simulator import Simulator, SimulatorConfig
from runway_desktop.simulator.media import load_clips
from tests.conftest import run
from tests.helpers.cli import (
    CLI,
    assert_complete_mp4,
    cli_env,
    journal_file,
    journal_rows,
    run_cli,
    start_cli,
)
from tests.helpers.window_engine import until, window_engine

pytestmark = pytest.mark.timeout(300)

KEY = "afk_test"
CLIP = load_clips()["16:9"]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(seconds_per_job=0.5, seed=10)) as simulator:
        yield simulator



def _generate(n: int, env: dict[str, str], out: Path) -> subprocess.Popen[str]:
    return start_cli("generate", f"kite number {n}", "--seed", str(n), "--out", out, "--json",
                     env=env)


def _one_post_per_key(sim: Simulator) -> Counter[str]:
    posts = [r for r in sim.requests if r.path == "/v2/videos/generate" and r.status == 202]
    return Counter(r.headers.get("idempotency-key", "") for r in posts)


def _assert_one_video_each(rows: list[dict[str, object]], out: Path) -> None:
    assert [r["stage"] for r in rows] == ["done"] * len(rows)
    videos = sorted(out.glob("*.mp4"))
    assert sorted(Path(str(r["video_path"])) for r in rows) == videos
    for video in videos:
        assert_complete_mp4(video, CLIP)
    assert not list(out.glob("*.part"))


def test_four_parallel_generates_on_one_data_dir_all_finish(
        sim: Simulator, folders: tuple[Path, Path, Path]) -> None:
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)
    processes = [_generate(n, env, out) for n in range(4)]
    outputs = [p.communicate(timeout=120) for p in processes]
    codes = [p.returncode for p in processes]
    assert codes == [0, 0, 0, 0], outputs  # was: three of them exit 7, "already running"
    assert all("Traceback" not in err for _out, err in outputs)
    rows = journal_rows(data)
    assert sorted(r["seed"] for r in rows) == [0, 1, 2, 3]
    _assert_one_video_each(rows, out)
    assert sim.jobs_created(KEY) == 4  # one server job per generation
    assert sorted(_one_post_per_key(sim).values()) == [1, 1, 1, 1]
    # Each command reports its own generation.
    import json

    reported = sorted(json.loads(o)["seed"] for o, _err in outputs)
    assert reported == [0, 1, 2, 3]
    with sqlite3.connect(journal_file(data)) as db:  # every lease handed back
        assert db.execute("SELECT COUNT(*) FROM generations WHERE lease_owner IS NOT NULL"
                          ).fetchone()[0] == 0




async def _cli(*args: str | Path, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *CLI, *map(str, args), env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_with_the_window_open_four_generates_finish_and_the_window_shows_them_live(
        sim: Simulator, folders: tuple[Path, Path, Path]) -> None:
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)
    seen: dict[int, list[Stage]] = defaultdict(list)

    def shown(event: EngineEvent) -> None:
        if isinstance(event, GenerationUpdated):
            seen[event.generation.id].append(event.generation.stage)

    async def scenario() -> tuple[list[tuple[int, str, str]], list[int], str]:
        window = window_engine(data, out, sim, KEY)
        window.subscribe(shown)
        await window.start()
        mine = window.submit(GenerationSettings("made in the window", seed=99))
        results = await asyncio.gather(*(
            _cli("generate", f"kite number {n}", "--seed", str(n), "--out", out, "--json",
                 env=env) for n in range(4)))
        code, listed, _err = await _cli("jobs", "--json", env=env)  # the CLI sees the window's
        assert code == 0
        await asyncio.wait_for(window.wait_settled([mine.id]), 60)
        ids = [g.id for g in window.generations()]
        await until(lambda: all(seen[i] and seen[i][-1] == Stage.DONE for i in ids))
        await window.stop()
        window.journal.close()
        return results, ids, listed

    results, ids, listed = run(scenario(), timeout=200)
    assert [code for code, _out, _err in results] == [0, 0, 0, 0], results
    assert len(ids) == 5
    assert 99 in {json.loads(line)["seed"] for line in listed.splitlines()}
    for generation_id in ids:  # each one shown on its way, not only once finished
        assert seen[generation_id][-1] == Stage.DONE
        assert any(not stage.is_settled for stage in seen[generation_id]), seen[generation_id]
    _assert_one_video_each(journal_rows(data), out)
    assert sim.jobs_created(KEY) == 5
    assert sorted(_one_post_per_key(sim).values()) == [1] * 5


def _kill_at(process: subprocess.Popen[str], data: Path, stage: str) -> dict[str, object]:
    """SIGKILL the command as soon as its generation reaches `stage`; the row then."""
    while True:
        assert process.poll() is None, process.communicate()
        rows = journal_rows(data)
        if rows and rows[0]["stage"] == stage:
            process.send_signal(signal.SIGKILL)
            process.communicate()
            return journal_rows(data)[0]
        time.sleep(0.01)


@pytest.fixture
def slow_sim() -> Iterator[Simulator]:
    """Slow enough to be killed while the job is on the server."""
    with Simulator(SimulatorConfig(seconds_per_job=2.0, seed=11)) as simulator:
        yield simulator


def test_a_killed_generate_is_finished_by_the_next_resume_with_one_job(
        slow_sim: Simulator, folders: tuple[Path, Path, Path]) -> None:
    data, home, out = folders
    env = cli_env(slow_sim.base_url, data, home)
    process = _generate(1, env, out)
    row = _kill_at(process, data, "processing")
    assert str(row["lease_owner"]).split(":")[1] == str(process.pid)  # it held the lease
    result = run_cli("resume", "--json", env=env)  # its process is gone: taken over at once
    assert result.code == 0, str(result)
    assert result.one()["status"] == "done"
    _assert_one_video_each(journal_rows(data), out)
    assert slow_sim.jobs_created(KEY) == 1


def test_a_lease_held_elsewhere_is_taken_over_only_once_it_expires(
        slow_sim: Simulator, folders: tuple[Path, Path, Path]) -> None:
    """A process on another machine (a shared folder) can't be checked: its generation waits
    for the lease to expire, then the next `resume` carries it on with the same job."""
    data, home, out = folders
    env = cli_env(slow_sim.base_url, data, home, RUNWAY_DESKTOP_LEASE_SECONDS="2")
    process = _generate(1, env, out)
    _kill_at(process, data, "processing")
    expires = time.time() + 3
    with sqlite3.connect(journal_file(data)) as db:  # as if held by a live process elsewhere
        db.execute("UPDATE generations SET lease_owner = 'another-host:4242:cafe', "
                   "lease_expires = ?", (expires,))
    result = run_cli("resume", "--json", env=env)
    assert result.code == 0, str(result)
    assert result.one()["status"] == "done"
    rows = journal_rows(data)
    _assert_one_video_each(rows, out)
    assert float(str(rows[0]["updated_at"])) >= expires  # not touched before the expiry
    assert slow_sim.jobs_created(KEY) == 1


def test_the_window_finishes_what_a_killed_command_left(
        slow_sim: Simulator, folders: tuple[Path, Path, Path]) -> None:
    data, home, out = folders
    env = cli_env(slow_sim.base_url, data, home)

    async def scenario() -> None:
        window = window_engine(data, out, slow_sim, KEY)
        await window.start()
        process = _generate(1, env, out)
        await asyncio.to_thread(_kill_at, process, data, "processing")
        await until(lambda: [g.stage for g in window.generations()] == [Stage.DONE])
        await window.stop()
        window.journal.close()

    run(scenario(), timeout=120)
    _assert_one_video_each(journal_rows(data), out)
    assert slow_sim.jobs_created(KEY) == 1


def test_reset_history_never_moves_a_history_an_engine_has_open(
        sim: Simulator, folders: tuple[Path, Path, Path]) -> None:
    """With the single-owner lock gone, engines say they use the folder with a shared lock:
    any number run together, and `reset-history` waits until none does."""
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)

    async def scenario() -> tuple[int, int, str]:
        window = window_engine(data, out, sim, KEY)
        other = window_engine(data, out, sim, KEY)
        await window.start()
        await other.start()  # a second engine is no obstacle
        busy, _out, err = await _cli("reset-history", env=env)
        await window.stop()
        still, _out, _err = await _cli("reset-history", env=env)
        await other.stop()
        window.journal.close()
        other.journal.close()
        return busy, still, err

    busy, still, err = run(scenario(), timeout=120)
    assert (busy, still) == (7, 7), err
    assert "is using" in err
    result = run_cli("reset-history", env=env)
    assert result.code == 0, str(result)
    assert "readable: left as it is" in result.stderr
    assert journal_file(data).exists()


@pytest.mark.parametrize("command", ["stop_following", "remove"])
def test_a_command_in_the_window_stops_the_cli_driving_that_generation(
        slow_sim: Simulator, folders: tuple[Path, Path, Path], command: str) -> None:
    """Stop following (or remove) a generation a command is driving: the command lets go at
    once and never writes over what the person chose; nothing is paid twice."""
    data, home, out = folders
    env = cli_env(slow_sim.base_url, data, home)

    async def scenario() -> tuple[int | None, str, str, list[dict[str, object]]]:
        window = window_engine(data, out, slow_sim, KEY)
        await window.start()
        process = _generate(1, env, out)
        await until(lambda: any(g.stage == Stage.PROCESSING for g in window.generations()))
        generation = window.generations()[0]
        getattr(window, command)(generation.id)
        # It ends: its generation is settled (here, by the person).
        said, told = await asyncio.to_thread(process.communicate, timeout=30)
        code = process.returncode
        await asyncio.sleep(1.0)  # time for a stray write, had there been one
        rows = journal_rows(data)
        await window.stop()
        window.journal.close()
        return code, said, told, rows

    code, said, told, rows = run(scenario(), timeout=120)
    assert code == 0  # what the person chose elsewhere: no error here
    if command == "remove":
        assert rows == []
        assert said == ""  # no result; but never silent (it said nothing before)
        assert told == ("runway-desktop: #1 “kite number 1” was removed from the history "
                        "elsewhere (in the window or by `runway-desktop remove`) before it "
                        "finished: its video isn't saved.\n")
    else:
        assert [r["stage"] for r in rows] == ["abandoned"]
        assert rows[0]["lease_owner"] is None
        assert json.loads(said)["status"] == "abandoned"
    assert slow_sim.jobs_created(KEY) == 1
    assert not list(out.glob("*.mp4"))


def test_parallel_generates_keep_to_the_teams_limit_from_their_start(
        folders: tuple[Path, Path, Path]) -> None:
    """The limit a command read from apiframe holds for the commands that start after it, from
    their first claim (before their own balance check answers): counted over all of them."""
    from runway_desktop.simulator import Account

    data, home, out = folders
    accounts = [Account(api_key=KEY, credits=1000, max_concurrent_jobs=2)]
    config = SimulatorConfig(seconds_per_job=1.0, seed=12, accounts=accounts,
                             over_concurrency="reject")  # a 429 past the limit
    with Simulator(config) as sim:
        env = cli_env(sim.base_url, data, home)
        assert run_cli("generate", "the first one", "--out", out, env=env).code == 0
        processes = [_generate(n, env, out) for n in range(4)]
        outputs = [p.communicate(timeout=120) for p in processes]
        assert [p.returncode for p in processes] == [0, 0, 0, 0], outputs
        refused = [r for r in sim.requests
                   if r.path == "/v2/videos/generate" and r.status == 429]
        assert refused == []  # never more than 2 on the server at once
        assert sim.jobs_created(KEY) == 5
    _assert_one_video_each(journal_rows(data), out)


def test_commands_stopped_mid_send_and_mid_download_are_finished_by_the_window_and_wake_to_it(
        folders: tuple[Path, Path, Path]) -> None:
    """`kill -STOP` (a debugger, a frozen VM) of commands whose leases then run out: one just
    after its POST left, one in the middle of its video's body. The window takes both over and
    finishes them, showing it live; woken, each command finds its generation done by then:
    its video, exit 0, and that another process finished it: one job and one whole video each,
    no stray part, nothing written over what the window did."""
    data, home, out = folders
    seen: dict[int, list[Stage]] = defaultdict(list)

    def shown(event: EngineEvent) -> None:
        if isinstance(event, GenerationUpdated):
            seen[event.generation.id].append(event.generation.stage)

    def last_row_is(stage: str) -> bool:
        rows = journal_rows(data)
        return bool(rows) and rows[-1]["stage"] == stage

    with Simulator(SimulatorConfig(seconds_per_job=0.5, seed=13)) as sim:
        env = cli_env(sim.base_url, data, home, RUNWAY_DESKTOP_LEASE_SECONDS="1")

        async def scenario() -> list[tuple[subprocess.Popen[str], str, str]]:
            sim.faults.routes, sim.faults.slow_seconds = {"generate"}, 1.0  # the POST is held
            sending = _generate(1, env, out)
            await until(lambda: any(r.path == "/v2/videos/generate" for r in sim.requests))
            sending.send_signal(signal.SIGSTOP)  # its POST is at apiframe, the answer not read
            assert last_row_is("submitting")
            sim.faults.slow_seconds = 0.0
            sim.faults.cdn_slow_bytes_per_second = len(CLIP) / 2
            downloading = _generate(2, env, out)
            await until(lambda: last_row_is("downloading") and any(
                part.stat().st_size > 2000 for part in out.glob("*.part")))
            downloading.send_signal(signal.SIGSTOP)  # mid-body
            sim.faults.cdn_slow_bytes_per_second = None
            window = window_engine(data, out, sim, KEY)
            window.subscribe(shown)
            await window.start()  # their leases run out: the window carries both on
            await until(lambda: [g.stage for g in window.generations()] == [Stage.DONE] * 2)
            woken = []
            for process in (sending, downloading):
                process.send_signal(signal.SIGCONT)
                said, told = await asyncio.to_thread(process.communicate, timeout=60)
                woken.append((process, said, told))
            await asyncio.sleep(0.5)  # time for a stray write, had there been one
            await window.stop()
            window.journal.close()
            return woken

        woken = run(scenario(), timeout=120)
        assert sim.jobs_created(KEY) == 2  # the held POST's job, found again by its key
    rows = journal_rows(data)
    _assert_one_video_each(rows, out)
    assert [r["lease_owner"] for r in rows] == [None, None]
    for (process, said, told), row in zip(woken, rows, strict=True):
        assert (process.returncode, told) == (0, (
            f"runway-desktop: #{row['id']} “{row['prompt']}” was finished by another Runway "
            "Desktop process sharing this queue (the window or another command).\n")), said
        reported = json.loads(said)
        assert (reported["status"], reported["video_path"]) == ("done", row["video_path"])
    for generation_id in (1, 2):  # the window showed them on their way, then done
        assert seen[generation_id][-1] == Stage.DONE
        assert any(not stage.is_settled for stage in seen[generation_id]), seen
    assert not list(out.glob(".*"))  # no settings half-written by a woken command
    assert not list((data / "work").glob("*/*"))


def test_a_generation_another_process_moves_on_loses_the_windows_taking_long_remark(
        slow_sim: Simulator, folders: tuple[Path, Path, Path]) -> None:
    """The window's "Taking unusually long …; you can stop following it" is its own remark on
    the job it follows. Stopped following from a terminal (or finished by a command while the
    window was stopped), the row went on saying it under 'abandoned' or 'done'."""
    data, home, out = folders
    env = cli_env(slow_sim.base_url, data, home)
    notes: dict[int, list[str | None]] = defaultdict(list)

    def shown(event: EngineEvent) -> None:
        if isinstance(event, GenerationUpdated):
            notes[event.generation.id].append(event.note)

    async def scenario() -> Generation | None:
        window = window_engine(data, out, slow_sim, KEY, slow_after=0.2)
        window.subscribe(shown)
        await window.start()
        generation = window.submit(GenerationSettings("a slow kite", seed=3))
        await until(lambda: window.note(generation.id) is not None)  # the remark is shown
        code, _said, told = await _cli("cancel", str(generation.id), "--stop-following",
                                       env=env)
        assert code == 0, told
        await until(lambda: [g.stage for g in window.generations()] == [Stage.ABANDONED])
        await asyncio.sleep(0.3)  # the window has seen the change (it watches every 0.1 s)
        abandoned = window.get(generation.id)
        await window.stop()
        window.journal.close()
        return abandoned

    abandoned = run(scenario(), timeout=60)
    assert abandoned is not None
    assert abandoned.stage == Stage.ABANDONED
    assert any(notes[abandoned.id]), "the remark was never shown"
    assert notes[abandoned.id][-1] is None  # the row as the window shows it now


def test_the_window_shows_the_balance_a_command_spent_and_got_back(
        slow_sim: Simulator, folders: tuple[Path, Path, Path]) -> None:
    """The window's balance (and Generate's '… left', its 'Not enough credits') followed only
    the jobs it sent or drove itself: a `generate` in a terminal charged 8 credits, or had them
    refunded when its job failed, and the window went on saying 10000 until its own next job."""
    data, home, out = folders
    env = cli_env(slow_sim.base_url, data, home)
    balances: list[int | None] = []

    def shown(event: EngineEvent) -> None:
        if isinstance(event, AccountUpdated):
            balances.append(event.account.credits)

    async def scenario() -> tuple[int, str]:
        window = window_engine(data, out, slow_sim, KEY)
        window.subscribe(shown)
        await window.start()
        await until(lambda: balances == [10_000])
        slow_sim.faults.fail_jobs_next = 1  # midway through its 2 s: refunded
        generating = asyncio.ensure_future(_cli("generate", "a kite", "--out", out, env=env))
        await until(lambda: balances[-1] == 10_000 - 8)  # charged, while apiframe makes it
        code, _said, told = await generating
        await until(lambda: balances[-1] == 10_000)  # refunded
        await window.stop()
        window.journal.close()
        return code, told

    code, told = run(scenario(), timeout=60)
    assert code == 5, told  # the job failed
    assert slow_sim.credits(KEY) == 10_000
