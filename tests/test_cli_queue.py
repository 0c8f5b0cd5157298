"""`runway-desktop cancel`, `remove` and `retry`: the window's ways out of a generation, from a
terminal, against the simulator over loopback, with the window's engine open on the same
history (it must show each change live and keep driving what is its own)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runway_desktop.engine import team_limit
from runway_desktop.engine.events import EngineEvent, GenerationRemoved, GenerationUpdated
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.sequence_store import SequenceStore
from runway_desktop.engine.settings_changes import SettingsChanges
from runway_desktop.simulator import Simulator, SimulatorConfig
from runway_desktop.simulator.config import Account
from tests.conftest import run
from tests.helpers.cli import CLI, CliResult, cli_env, journal_file, journal_rows, run_cli
from tests.helpers.window_engine import until, window_engine

KEY = "afk_test"



@pytest.fixture
def one_at_a_time() -> Iterator[Simulator]:
    """A team that runs one job at a time, each slow: the second generation waits its turn."""
    config = SimulatorConfig(seconds_per_job=120.0, seed=5,
                             accounts=[Account(KEY, max_concurrent_jobs=1)])
    with Simulator(config) as simulator:
        yield simulator




async def _cli(*args: str | int | Path, env: dict[str, str]) -> CliResult:
    """The real command in a subprocess, stdin not a terminal, while this loop runs on."""
    process = await asyncio.create_subprocess_exec(
        *CLI, *map(str, args), env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return CliResult(process.returncode, out.decode(), err.decode(), 0.0)


def test_with_the_window_open_cancel_and_remove_act_and_the_window_shows_it(
        one_at_a_time: Simulator, folders: tuple[Path, Path, Path]) -> None:
    data, home, out = folders
    env = cli_env(one_at_a_time.base_url, data, home)
    team_limit.save(data, 1)
    shown: list[EngineEvent] = []

    def stage_shown(generation_id: int, stage: Stage) -> bool:
        return any(isinstance(e, GenerationUpdated) and e.generation.id == generation_id
                   and e.generation.stage is stage for e in shown)

    def removal_shown(generation_id: int) -> bool:
        return any(isinstance(e, GenerationRemoved) and e.generation_id == generation_id
                   for e in shown)

    async def scenario() -> dict[str, CliResult]:
        window = window_engine(data, out, one_at_a_time, KEY, max_concurrent=1)
        window.subscribe(shown.append)
        await window.start()
        try:
            made = window.submit(GenerationSettings("a heron lifts off the lake", seed=1))
            waiting = window.submit(GenerationSettings("rain on a tin roof", seed=2))
            await until(lambda: (g := window.get(made.id)) is not None and g.stage in (
                Stage.QUEUED, Stage.PROCESSING))
            assert window.get(waiting.id).stage is Stage.PENDING  # type: ignore[union-attr]
            results = {"cancel": await _cli("cancel", made.id, f"#{waiting.id}", "--json",
                                            env=env)}
            await until(lambda: stage_shown(waiting.id, Stage.CANCELLED))
            results["asked"] = await _cli("remove", made.id, env=env)  # no terminal, no --yes
            results["stop"] = await _cli("cancel", made.id, "--stop-following", env=env)
            await until(lambda: stage_shown(made.id, Stage.ABANDONED))
            results["remove"] = await _cli("remove", made.id, "--yes", env=env)
            await until(lambda: removal_shown(made.id))
            await until(lambda: not window.busy)  # its task for the removed one stopped
            results["jobs"] = await _cli("jobs", "--json", env=env)
            return results
        finally:
            await window.stop()
            window.journal.close()

    results = run(scenario(), timeout=200)
    cancel = results["cancel"]
    assert cancel.code == 2, str(cancel)  # one of the two couldn't be cancelled
    paid, cancelled = cancel.json_lines()
    assert (paid["id"], paid["cancelled"], cancelled["id"], cancelled["cancelled"],
            cancelled["status"]) == (1, False, 2, True, "cancelled")
    assert paid["status"] in ("queued", "processing")
    said = cancel.stderr
    for words in ("#1 “a heron lifts off the lake” is with apiframe already", "it is paid",
                  "apiframe has no cancel, so it wasn't cancelled",
                  "`runway-desktop cancel 1 --stop-following` stops following it"):
        assert words in said, str(cancel)
    assert one_at_a_time.jobs_created(KEY) == 1  # the cancelled one was never sent

    asked = results["asked"]
    assert asked.code == 2, str(asked)
    assert ("#1 “a heron lifts off the lake” (queued); apiframe may still be making it and has "
            "no cancel: it may still finish and charge the credits") in asked.stderr.replace(
                "(processing)", "(queued)")
    assert asked.stderr.endswith("runway-desktop: Nothing was removed: `remove` asks first and "
                                 "there is no terminal to ask at. Add --yes to remove 1 "
                                 "generation without asking.\n"), str(asked)
    assert "Traceback" not in asked.stderr

    stop = results["stop"]
    assert stop.code == 0, str(stop)
    assert stop.stdout.startswith("Stopped following #1 “a heron lifts off the lake”: apiframe "
                                  "has no cancel, so it may still finish it and charge it")

    removed = results["remove"]
    assert removed.code == 0, str(removed)
    assert removed.stdout.startswith("Removed #1 “a heron lifts off the lake” from the history")
    assert [r["id"] for r in results["jobs"].json_lines()] == [2]
    assert [(r["id"], r["stage"]) for r in journal_rows(data)] == [(2, "cancelled")]
    assert one_at_a_time.jobs_created(KEY) == 1


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(seconds_per_job=0.3, seed=6)) as simulator:
        yield simulator


def test_retry_resends_a_refunded_failure_once_and_remove_trashes_only_when_asked(
        sim: Simulator, folders: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    data, home, out = folders
    trash = home / ".local" / "share" / "Trash" / "files"
    env = cli_env(sim.base_url, data, home, XDG_DATA_HOME=str(home / ".local" / "share"))
    kept = run_cli("generate", "a kite over the dunes", "--out", out, "--json", env=env)
    assert kept.code == 0, str(kept)
    sim.faults.fail_jobs_next = 1
    failed = run_cli("generate", "a storm at sea", "--out", out, "--json", env=env)
    assert failed.code == 5, str(failed)
    assert sim.jobs_created(KEY) == 2

    retried = run_cli("retry", "2", "--json", env=env)
    assert retried.code == 0, str(retried)
    assert ("#2 failed and apiframe refunded it: retrying sends it again as a new job, paid: "
            "Runway Gen-4 Turbo · 5 s · 8 credits.") in retried.stderr, str(retried)
    [copy] = retried.json_lines()
    assert (copy["id"], copy["status"]) == (3, "done")
    said = _in_process(monkeypatch, capsys, env, ("retry", "#2"), ("retry", "1"),
                       ("cancel", "1"), ("cancel", "1", "7"), ("remove", "1", "x2", "--yes"))
    assert said == [  # unsure it worked, retried again: never a second payment
        (2, "runway-desktop: #2 “a storm at sea” was sent again already, as #3 (done): "
            "retrying it again would pay a second time. `runway-desktop jobs` shows it."),
        (2, "runway-desktop: #1 “a kite over the dunes” is finished: nothing to retry."),
        (2, "runway-desktop: #1 “a kite over the dunes” has already ended (done): nothing to "
            "cancel."),
        (2, "runway-desktop: There is no generation #7 in the history (`runway-desktop jobs` "
            "lists them); nothing was changed."),
        (2, "runway-desktop: 'x2' is not a generation number; `runway-desktop jobs` lists "
            "them.")]
    assert sim.jobs_created(KEY) == 3
    assert [(r["id"], r["stage"]) for r in journal_rows(data)] == [
        (1, "done"), (2, "failed"), (3, "done")]  # nothing changed by those

    first = Path(kept.one()["video_path"])
    made = Path(copy["video_path"])
    journal = Journal(journal_file(data))
    try:  # the first clip is the take of a sequence's shot
        SequenceStore(journal).create("Dunes", [("a kite", SettingsChanges())], first_take=1)
    finally:
        journal.close()
    stays = run_cli("remove", "1", "--yes", env=env)
    assert stays.code == 0, str(stays)
    assert (f"#1 “a kite over the dunes” (done); its video stays in the folder: {first}; it is "
            "a take of a sequence: its shot loses it (`runway-desktop sequence show` shows "
            "what is left).") in stays.stderr
    assert first.is_file()  # only the history entry went
    no_trash = run_cli("remove", "3", "--delete-file", "--yes",
                       env={**env, "XDG_DATA_HOME": str(first)})  # a file: no Trash there
    assert no_trash.code == 6, str(no_trash)
    assert (f"runway-desktop: #3 was kept: its video {made} couldn't be moved to the Trash ("
            in no_trash.stderr)
    assert "Nothing of it was removed; `runway-desktop remove 3` without --delete-file" in (
        no_trash.stderr)
    assert made.is_file()
    assert [r["id"] for r in journal_rows(data)] == [2, 3]
    trashed = run_cli("remove", "3", "--delete-file", "--yes", "--json", env=env)
    assert trashed.code == 0, str(trashed)
    assert f"its video goes to the Trash: {made}" in trashed.stderr
    assert trashed.one() == {"id": 3, "removed": True, "status": "done",
                             "video_path": str(made), "video_trashed": True}
    assert not made.exists()
    assert (trash / made.name).is_file()  # where the person can restore it from
    [left] = journal_rows(data)
    assert left["id"] == 2
    assert "sent_again" not in left["settings_json"]  # its copy is gone: Retry may send anew


def _in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                env: dict[str, str], *commands: tuple[str, ...]) -> list[tuple[int, str]]:
    """Each command run by `cli.main` in this process (no interpreter start: refusals are
    cheap to check), with `env`; its exit code and what it said on stderr."""
    from runway_desktop import cli

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(cli, "setup_logging", lambda *_args, **_kwargs: None)
    said = []
    for command in commands:
        code = cli.main(list(command))
        said.append((code, capsys.readouterr().err.strip()))
    return said


def test_remove_says_what_becomes_of_a_waiting_one_and_a_download_and_leaves_no_part(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """No key, no server: remove only writes the history (and the files beside it)."""
    out = tmp_path / "videos"
    out.mkdir()
    video = out / "a kite [a8a8].mp4"
    part = out / "a kite [a8a8].mp4.part"
    part.write_bytes(b"half a video")
    journal = Journal(journal_file(tmp_path))
    try:
        journal.add(GenerationSettings("rain on a tin roof", seed=1))
        journal.add(GenerationSettings("a kite", seed=2), stage=Stage.DOWNLOADING,
                    job_id="a8a8a8a8-0000-4000-8000-000000000001", credit_cost=8,
                    submitted_at=1.0, video_url="http://127.0.0.1:9/v.mp4",
                    video_path=str(video))
    finally:
        journal.close()
    # An API address the online commands refuse: nothing here goes online.
    env = {"RUNWAY_DESKTOP_DATA_DIR": str(tmp_path), "APIFRAME_BASE_URL": "http://example.com"}
    [(code, said)] = _in_process(monkeypatch, capsys, env,
                                 ("remove", "1", "2", "--delete-file", "--yes"))
    assert code == 0, said
    assert said.splitlines()[:2] == [
        "#1 “rain on a tin roof” (pending); is cancelled first: it hasn't reached apiframe, "
        "nothing is charged.",
        "#2 “a kite” (downloading); apiframe has made it (paid): its download stops and its "
        "video isn't saved."]  # not 'its video is already gone': it was never there
    assert journal_rows(tmp_path) == []
    assert not part.exists()  # nothing would ever finish or remove it


def test_a_cancel_that_meets_the_request_being_sent_elsewhere_leaves_it_sent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The window (another process) writes 'submitting' for #1 and #2 (the POST may leave at
    once) between the command service's read of the row and its write of 'cancelled'. The
    cancel isn't written over it (engine: a 'cancelled' there lost the paid job's id): cancel
    says it wasn't cancelled and why, and remove keeps the row, saying it may be charged."""
    import time

    path = journal_file(tmp_path)
    journal = Journal(path)
    try:
        for prompt in ("a heron", "a kite"):
            journal.add(GenerationSettings(prompt, seed=1), stage=Stage.UPLOADING)
    finally:
        journal.close()
    real_update = Journal.update

    def sent_elsewhere_first(self: Journal, generation_id: int, **fields: object) -> object:
        if fields.get("stage") is Stage.CANCELLED:
            window = Journal(path)
            try:
                real_update(window, generation_id, stage=Stage.SUBMITTING,
                            submitted_at=time.time())
            finally:
                window.close()
        return real_update(self, generation_id, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(Journal, "update", sent_elsewhere_first)
    said = _in_process(monkeypatch, capsys, {"RUNWAY_DESKTOP_DATA_DIR": str(tmp_path)},
                       ("cancel", "1"), ("remove", "2", "--yes"))
    assert said[0][0] == 2
    assert said[0][1].startswith("runway-desktop: #1 “a heron” is being sent to apiframe, "
                                 "which may have accepted and charged it")
    assert said[1][0] == 2
    assert said[1][1].endswith("runway-desktop: #2 “a kite” was kept: the window or another "
                               "command sent it to apiframe at that very moment, so it may be "
                               "charged now. `runway-desktop remove 2` again says what removing "
                               "it does now.")
    rows = journal_rows(tmp_path)
    assert [(r["id"], r["stage"]) for r in rows] == [(1, "submitting"), (2, "submitting")]


def _answer_at_a_terminal(args: tuple[str, ...], env: dict[str, str], answer: str,
                          while_asked: Callable[[], None]) -> tuple[int, str]:
    """Run the command on a pseudo-terminal; once it asks, call `while_asked` (the world moves
    on while the person reads), then type `answer`. Its exit code and everything it showed."""
    import os
    import pty
    import select
    import time

    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command, its stdin/stdout/stderr the terminal
        os.execve(CLI[0], [*CLI, *args], env)
    shown, asked = b"", False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if not select.select([terminal], [], [], 0.5)[0]:
                continue
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the command ended: its side of the terminal closed
                break
            if not chunk:
                break
            shown += chunk
            if not asked and b"[y/N]" in shown:
                asked = True
                while_asked()
                os.write(terminal, answer.encode() + b"\n")
    finally:
        os.close(terminal)
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace").replace("\r", "")


@pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals on Windows")
def test_remove_asks_at_a_terminal_and_keeps_what_moved_on_while_asked(
        folders: tuple[Path, Path, Path]) -> None:
    """A waiting generation, said to be 'cancelled first: nothing is charged', reached apiframe
    (the window sent it) while the person read the question: removing it then would drop a
    paid job they never agreed to drop."""
    data, home, _out = folders
    path = journal_file(data)
    journal = Journal(path)
    try:
        waiting = journal.add(GenerationSettings("rain on a tin roof", seed=1))
        journal.add(GenerationSettings("a kite", seed=2), stage=Stage.DONE)
    finally:
        journal.close()

    def sent_by_the_window() -> None:
        window = Journal(path)
        try:
            window.update(waiting.id, stage=Stage.QUEUED, submitted_at=1.0, credit_cost=8,
                          job_id="a8a8a8a8-0000-4000-8000-000000000001")
        finally:
            window.close()

    code, shown = _answer_at_a_terminal(
        ("remove", "1", "2"), cli_env(None, data, home, key=None), "y", sent_by_the_window)
    assert code == 2, shown
    assert ("#1 “rain on a tin roof” (pending); is cancelled first: it hasn't reached apiframe, "
            "nothing is charged.\n#2 “a kite” (done).\nRemove 2 generations from the history? "
            "[y/N] y\n") in shown
    assert ("runway-desktop: #1 “rain on a tin roof” was kept: it moved on while you were asked "
            "(it is queued now).") in shown
    assert "Removed #2 “a kite” from the history." in shown
    assert [(r["id"], r["stage"]) for r in journal_rows(data)] == [(1, "queued")]


def test_cancel_waiting_cancels_every_one_waiting_its_turn_after_asking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The window's Cancel pending, from a terminal (no key, no server)."""
    journal = Journal(journal_file(tmp_path))
    try:
        for n in range(3):
            journal.add(GenerationSettings(f"wave {n}", seed=n))
        journal.add(GenerationSettings("a kite", seed=9), stage=Stage.DONE)
    finally:
        journal.close()
    said = _in_process(monkeypatch, capsys, {"RUNWAY_DESKTOP_DATA_DIR": str(tmp_path)},
                       ("cancel",), ("cancel", "--waiting"), ("cancel", "--waiting", "--yes"),
                       ("cancel", "--waiting"))
    assert said == [
        (2, "runway-desktop: Name the generations to cancel (`runway-desktop jobs` lists them), "
            "or --waiting for every one still waiting its turn."),
        (2, "runway-desktop: Nothing was cancelled: `cancel --waiting` asks first and there is "
            "no terminal to ask at. Add --yes to cancel 3 waiting generations without asking."),
        (0, ""),
        (0, "runway-desktop: Nothing is waiting its turn: nothing to cancel.")]
    assert [r["stage"] for r in journal_rows(tmp_path)] == ["cancelled"] * 3 + ["done"]
