"""`runway-desktop extend` and `runway-desktop sequence run|list|show`: real CLI processes
against one simulator. The issue's checks: a three-shot plan runs end to end (each shot starts
from the previous shot's last frame, its parent recorded), and SIGKILL during shot 2 followed
by `resume` (or the same `sequence run` again) finishes it with exactly three server jobs."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import pty
import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from runway_desktop import paths
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.sequence_store import SequenceStore
from runway_desktop.engine.settings_changes import SettingsChanges
from runway_desktop.simulator import Simulator, SimulatorConfig
from tests.helpers.cli import (
    CLI,
    CliResult,
    assert_one_line_message,
    cli_env,
    journal_rows,
    read_only_journal,
    run_cli,
    start_cli,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEY = "afk_test"
PROMPTS = ["the cliff at dawn", "the beam sweeps the sea", "the storm rolls in"]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    # 0.8 s jobs leave time to stop a run at a given stage; tests that don't stop one shorten
    # them (`sim.config.seconds_per_job`: read as each job is made).
    with Simulator(SimulatorConfig(seconds_per_job=0.8, seed=13)) as simulator:
        yield simulator



@pytest.fixture
def plan(tmp_path: Path) -> Path:
    Image.new("RGB", (640, 360), (200, 60, 30)).save(tmp_path / "cliff.png")
    path = tmp_path / "plan.yaml"
    path.write_text(
        "name: Lighthouse\nratio: '16:9'\nseed: 21\nshots:\n"
        f"  - prompt: {PROMPTS[0]}\n    image: cliff.png\n"
        f"  - prompt: {PROMPTS[1]}\n    duration: 10\n"
        f"  - {PROMPTS[2]}\n", encoding="utf-8")
    return path


def received_image(sim: Simulator, job_id: str) -> Image.Image:
    state = sim._state
    with state.lock:
        url = state.jobs[job_id.lower()].request.image
        assert url is not None
        data = state.uploads[url.rsplit("/", 1)[-1].split(".")[0]].data
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    from PIL import ImageChops, ImageStat

    assert a.size == b.size
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def assert_three_shot_film(sim: Simulator, data: Path) -> list[dict[str, Any]]:
    """Three DONE generations, each after the first made from the one before's last frame
    (the PNG in the data folder, and what the simulator received), with its parent recorded;
    exactly three server jobs."""
    rows = journal_rows(data)
    assert [r["prompt"] for r in rows] == PROMPTS
    assert [r["stage"] for r in rows] == ["done"] * 3, rows
    assert [r["parent_id"] for r in rows] == [None, rows[0]["id"], rows[1]["id"]]
    assert [r["duration"] for r in rows] == [5, 10, 10]
    for before, after in itertools.pairwise(rows):
        frame = data / "last-frames" / f"{before['id']}.png"
        assert after["image_path"] == str(frame)
        with Image.open(frame) as png:
            assert mean_difference(received_image(sim, after["job_id"]),
                                   png.convert("RGB")) < 1.0
        assert Path(after["video_path"]).is_file()
    assert sim.jobs_created(KEY) == 3
    with read_only_journal(data) as db:
        (state,) = db.execute("SELECT run_state FROM sequences").fetchone()
    assert state == "done"
    return rows


def test_a_three_shot_plan_runs_end_to_end(sim: Simulator, folders: tuple[Path, Path, Path],
                                           plan: Path) -> None:
    data, home, out = folders
    sim.config.seconds_per_job = 0.3  # nothing here waits on a job's length: short jobs
    env = cli_env(sim.base_url, data, home)
    before = sim.credits(KEY)

    asked = run_cli("sequence", "run", plan, "--out", out, env=env)  # no terminal: no answer
    assert asked.code == 2, asked
    assert "3 shots to make, 38 credits; balance 10,000 → 9,962 after." in asked.stderr
    assert "--yes" in asked.stderr
    assert journal_rows(data) == []
    assert sim.jobs_created(KEY) == 0

    done = run_cli("sequence", "run", plan, "--out", out, "--yes", "--json", env=env,
                   timeout=120)
    assert done.code == 0, done
    (report,) = done.json_lines()
    assert report["status"] == "done"
    assert [s["prompt"] for s in report["shots"]] == PROMPTS
    assert all(s["chosen"]["status"] == "done" for s in report["shots"])
    assert "Traceback" not in done.stderr
    assert "Input #0" not in done.stderr  # FFmpeg's chatter goes to the log
    rows = assert_three_shot_film(sim, data)
    assert before - sim.credits(KEY) == 38
    assert [Path(r["video_path"]).parent for r in rows] == [out] * 3

    listed = run_cli("sequence", "list", env=env)
    assert listed.code == 0, listed
    assert "seq:1  done     3/3 shots  Lighthouse" in listed.stdout
    shown = run_cli("sequence", "show", "seq:1", env=env)
    assert shown.code == 0, shown
    assert all(p in shown.stdout for p in PROMPTS)


def _kill_at_shot_two(env: dict[str, str], data: Path, plan: Path, out: Path,
                      stage: str | None) -> None:
    """Start `sequence run`, SIGKILL it once shot 2's generation reaches `stage` (or later);
    `stage=None`: once shot 1 is done, before shot 2 is journaled (its last frame being
    taken)."""
    order = ["pending", "preparing", "uploading", "submitting", "queued", "processing",
             "downloading", "done"]

    def reached(rows: list[dict[str, Any]]) -> bool:
        if stage is None:
            return len(rows) == 1 and rows[0]["stage"] == "done"
        return len(rows) >= 2 and order.index(rows[1]["stage"]) >= order.index(stage)

    # PYTHONFAULTHANDLER: a SIGABRT writes every thread's stack (to its log, fd 2 there).
    process = start_cli("sequence", "run", plan, "--out", out, "--yes",
                        env={**env, "PYTHONFAULTHANDLER": "1"})
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            if reached(journal_rows(data)):
                break
            assert process.poll() is None, process.communicate()
            time.sleep(0.005)
        else:  # say where it was and what the command said: a hang here is a finding
            process.send_signal(signal.SIGABRT)
            _out, err = process.communicate(timeout=30)
            pytest.fail(f"shot 2 never reached {stage}: {_where_it_was(data)}\n--- stderr\n"
                        f"{err[-2000:]}")
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    rows = journal_rows(data)
    assert len(rows) == (1 if stage is None else 2), rows
    assert rows[-1]["stage"] != "done" or stage is None, "killed too late: shot 2 had finished"


def _where_it_was(data: Path) -> str:
    """A stalled run's generations (stage, how long since each last moved, what they say) and
    the end of its logs (the engine's; Qt's and FFmpeg's, with the threads' stacks)."""
    now = time.time()
    rows = [{key: row[key] for key in ("id", "stage", "progress", "attempts", "error")}
            | {"still_for_s": round(now - row["updated_at"], 1)} for row in journal_rows(data)]
    logs = [f"--- {log.name}\n{log.read_text(errors='replace')[-6000:]}"
            for log in sorted((data / "logs").glob("*.log"))]
    return "\n".join([f"rows {rows}", *logs])


@pytest.mark.parametrize("stage", [None, "pending", "submitting", "processing", "downloading"])
def test_killed_during_shot_two_resume_finishes_with_three_jobs(
        sim: Simulator, folders: tuple[Path, Path, Path], plan: Path, stage: str | None) -> None:
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)
    if stage == "downloading":
        # A slow CDN keeps shot 2 downloading long enough to be killed there (on a fast machine
        # the clip was whole before the kill landed).
        sim.faults.cdn_slow_bytes_per_second = 24_000
    _kill_at_shot_two(env, data, plan, out, stage)
    sim.faults.cdn_slow_bytes_per_second = None
    sim.config.seconds_per_job = 0.3  # what follows the stop doesn't wait on a job's length

    resumed = run_cli("resume", env=env, timeout=120)

    assert resumed.code == 0, resumed
    assert "Traceback" not in resumed.stderr
    assert_three_shot_film(sim, data)
    again = run_cli("resume", env=env)  # nothing left: nothing made
    assert again.code == 0, again
    assert sim.jobs_created(KEY) == 3


def test_killed_during_shot_two_the_same_plan_again_carries_on(
        sim: Simulator, folders: tuple[Path, Path, Path], plan: Path) -> None:
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)
    _kill_at_shot_two(env, data, plan, out, "queued")
    sim.config.seconds_per_job = 0.3  # what follows the stop doesn't wait on a job's length

    again = run_cli("sequence", "run", plan, "--out", out, "--yes", env=env, timeout=120)

    assert again.code == 0, again
    assert "Carrying on “Lighthouse” (sequence 1): 2 of 3 shots still to make" not in again.stderr
    assert "Carrying on “Lighthouse” (sequence 1): 1 of 3 shots still to make" in again.stderr
    assert_three_shot_film(sim, data)
    with read_only_journal(data) as db:
        assert db.execute("SELECT COUNT(*) FROM sequences").fetchone()[0] == 1


def _fail_shot_two(sim: Simulator, env: dict[str, str], data: Path, plan: Path,
                   out: Path) -> CliResult:
    """`sequence run` of the plan, its shot 2 failed by apiframe (refunded): what it said."""
    process = start_cli("sequence", "run", plan, "--out", out, "--yes", env=env)
    deadline = time.monotonic() + 90
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = journal_rows(data)
        if len(rows) >= 2 and rows[1]["job_id"]:
            break
        time.sleep(0.01)
    else:
        pytest.fail("shot 2 never reached the server")
    sim.set_job_outcome(rows[1]["job_id"], "FAILED",
                        error="Provider returned an error: content policy violation")
    stdout, stderr = process.communicate(timeout=60)
    sim.config.seconds_per_job = 0.3  # what follows the stop doesn't wait on a job's length
    return CliResult(process.returncode, stdout, stderr, 0.0)


@pytest.mark.expect_log_warnings(r"failed: Provider returned an error")
def test_a_failed_shot_stops_the_plan_and_the_same_plan_again_retakes_it(
        sim: Simulator, folders: tuple[Path, Path, Path], plan: Path) -> None:
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)
    stopped = _fail_shot_two(sim, env, data, plan, out)
    assert stopped.code == 5, stopped
    assert "Traceback" not in stopped.stderr
    last = stopped.stderr.splitlines()[-1]
    assert last.startswith("runway-desktop: “Lighthouse”: Shot 2 (#2) stopped"), last
    assert "content policy" in last
    assert "run the same plan again" in last
    assert sim.jobs_created(KEY) == 2

    again = run_cli("sequence", "run", plan, "--out", out, "--yes", env=env, timeout=120)

    assert again.code == 0, again
    assert "2 of 3 shots still to make, 30 credits" in again.stderr
    rows = journal_rows(data)
    assert [r["stage"] for r in rows] == ["done", "failed", "done", "done"]
    done = [r for r in rows if r["stage"] == "done"]
    assert [r["prompt"] for r in done] == PROMPTS
    assert [r["parent_id"] for r in done] == [None, done[0]["id"], done[1]["id"]]
    assert sim.jobs_created(KEY) == 4  # the failed one was refunded


@pytest.mark.expect_log_warnings(r"failed: Provider returned an error")
def test_a_failed_shot_retried_from_the_history_is_its_take_and_the_plan_carries_on(
        sim: Simulator, folders: tuple[Path, Path, Path], plan: Path) -> None:
    """`runway-desktop retry` of a failed shot sent it anew outside the sequence: `sequence
    show` kept the failure as the shot's take, and the same plan again paid for a retake
    beside the copy."""
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)
    assert _fail_shot_two(sim, env, data, plan, out).code == 5

    retried = run_cli("retry", "2", env=env, timeout=60)

    assert retried.code == 0, retried
    shown = run_cli("sequence", "show", "1", "--json", env=env)
    assert shown.code == 0, shown
    report = shown.one()
    assert report["shots"][1]["takes"] == [2, 3]
    assert report["shots"][1]["chosen"]["id"] == 3
    assert report["shots"][1]["chosen"]["status"] == "done"
    assert report["error"] == ("Shot 2's failed take #2 was sent again as #3, now its take: "
                               "Run carries on from there.")
    again = run_cli("sequence", "run", plan, "--out", out, "--yes", env=env, timeout=120)
    assert again.code == 0, again
    assert "1 of 3 shots still to make, 15 credits" in again.stderr
    rows = journal_rows(data)
    assert [r["stage"] for r in rows] == ["done", "failed", "done", "done"]
    assert [r["parent_id"] for r in rows] == [None, 1, 1, 3]  # shot 3 from the copy
    assert sim.jobs_created(KEY) == 4  # the failed one (refunded), its copy, shot 3


def _generate(env: dict[str, str], out: Path, image: Path) -> dict[str, Any]:
    made = run_cli("generate", "a red field", "--image", image, "--seed", "4", "--out", out,
                   "--json", env=env, timeout=60)
    assert made.code == 0, made
    return made.one()


def test_extend_makes_the_next_clip_from_the_last_frame(
        sim: Simulator, folders: tuple[Path, Path, Path], plan: Path) -> None:
    data, home, out = folders
    sim.config.seconds_per_job = 0.3  # nothing here waits on a job's length: short jobs
    env = cli_env(sim.base_url, data, home)
    first = _generate(env, out, plan.parent / "cliff.png")

    extended = run_cli("extend", f"#{first['id']}", "  the wind rises ", "--duration", "10",
                       "--ratio", "9:16", "--json", env=env, timeout=60)

    assert extended.code == 0, extended
    made = extended.one()
    assert made["status"] == "done"
    assert made["parent_id"] == first["id"]
    rows = journal_rows(data)
    assert rows[1]["parent_id"] == first["id"]
    assert (rows[1]["prompt"], rows[1]["duration"], rows[1]["aspect_ratio"],
            rows[1]["seed"]) == ("the wind rises", 10, "9:16", 4)
    assert rows[1]["image_path"] == str(data / "last-frames" / f"{first['id']}.png")
    assert Path(made["video_path"]).parent == out  # where the clip was saved
    assert sim.jobs_created(KEY) == 2


def test_extend_refuses_what_it_cannot_extend_in_one_line(
        sim: Simulator, folders: tuple[Path, Path, Path]) -> None:
    data, home, _out = folders
    env = cli_env(sim.base_url, data, home)
    missing = run_cli("extend", "42", "next", env=env)
    assert missing.code == 2, missing
    assert_one_line_message(missing, "no generation #42")
    word = run_cli("extend", "forty", "next", env=env)
    assert word.code == 2, word
    assert_one_line_message(word, "not a clip number", "runway-desktop jobs")
    assert sim.jobs_created(KEY) == 0


@pytest.mark.parametrize(("text", "fragment"), [
    ("shots: []\n", "no `shots`"),
    ("shots:\n  - prompt: a\n  - prompt: b\n    image: x.png\n", "only the first shot"),
    ("shots:\n  - prompt: a\n    duration: 7\n", "Shot 1"),
    ("shots: [a, b\n", "not valid YAML"),
    ("shots:\n  - prompt: a\n    image: nowhere.png\n", "doesn't exist"),
])
def test_a_bad_plan_is_refused_before_anything_runs(
        sim: Simulator, folders: tuple[Path, Path, Path], tmp_path: Path, text: str,
        fragment: str) -> None:
    data, home, _out = folders
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("sequence", "run", path, "--yes", env=cli_env(sim.base_url, data, home))
    assert result.code == 2, result
    assert_one_line_message(result, fragment)
    assert journal_rows(data) == []
    assert sim.jobs_created(KEY) == 0


def test_a_plan_the_balance_cannot_cover_is_refused(
        folders: tuple[Path, Path, Path], plan: Path) -> None:
    data, home, out = folders
    with Simulator(SimulatorConfig(seconds_per_job=0.3)) as poor:
        poor.set_credits(KEY, 20)
        result: CliResult = run_cli("sequence", "run", plan, "--out", out, "--yes",
                                    env=cli_env(poor.base_url, data, home))
        assert result.code == 4, result
        assert "Not enough credits: the shots cost 38 and the balance is 20" in result.stderr
        assert poor.jobs_created(KEY) == 0
    assert json.dumps(journal_rows(data)) == "[]"


def test_decoders_chatter_goes_to_the_log_not_the_terminal(
        folders: tuple[Path, Path, Path], plan: Path) -> None:
    """Demo clips are MJPEG made from the start image: FFmpeg warns about their pixel format
    on its own file descriptor 2 while the last frame decodes. The person sees the command's
    own lines only; FFmpeg's go to the log folder."""
    data, home, out = folders
    with Simulator(SimulatorConfig(seconds_per_job=0.3, seed=3, image_clips=True)) as demo:
        env = cli_env(demo.base_url, data, home)
        first = _generate(env, out, plan.parent / "cliff.png")
        extended = run_cli("extend", str(first["id"]), "the wind rises", env=env, timeout=60)
    assert extended.code == 0, extended
    assert extended.stdout.strip().endswith(".mp4")
    assert extended.stderr == "", extended
    log = (data / "logs" / "video-decoding.log").read_text(encoding="utf-8", errors="replace")
    assert "mjpeg" in log or "swscaler" in log, log


@pytest.mark.parametrize("stage", [None, "processing"])
def test_ctrl_c_during_shot_two_stops_the_run_in_words(
        sim: Simulator, folders: tuple[Path, Path, Path], plan: Path, stage: str | None) -> None:
    """Ctrl+C (SIGINT) while shot 2's last frame is taken or its job runs: the command stops
    (exit 130) saying how to carry on, no traceback, and shot 3 isn't made. The sequence is
    STOPPED: `resume` finishes what was paid for but makes no further shot (before, it stayed
    RUNNING and the next `resume` or window start paid for shot 3 without asking); running the
    plan again carries it on, with three jobs in all. (The KeyboardInterrupt was raised inside
    a Qt slot, printed as a traceback and swallowed: the run went on to the end.)"""
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)
    order = ["pending", "preparing", "uploading", "submitting", "queued", "processing",
             "downloading", "done"]

    def reached(rows: list[dict[str, Any]]) -> bool:
        if stage is None:
            return len(rows) == 1 and rows[0]["stage"] == "done"
        return len(rows) >= 2 and order.index(rows[1]["stage"]) >= order.index(stage)

    process = start_cli("sequence", "run", plan, "--out", out, "--yes", env=env)
    deadline = time.monotonic() + 90
    while not reached(journal_rows(data)):
        assert time.monotonic() < deadline, "shot 2 never got there"
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _stdout, stderr = process.communicate(timeout=60)
    sim.config.seconds_per_job = 0.3  # what follows the stop doesn't wait on a job's length

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert "runway-desktop resume" in stderr.splitlines()[-1]
    assert f"sequence run {plan}" in stderr
    assert len(journal_rows(data)) <= 2  # shot 3 never made
    resumed = run_cli("resume", env=env, timeout=120)
    assert resumed.code == 0, resumed
    assert len(journal_rows(data)) <= 2  # stopped by the person: still no shot 3
    again = run_cli("sequence", "run", plan, "--out", out, "--yes", env=env, timeout=120)
    assert again.code == 0, again
    assert_three_shot_film(sim, data)


def test_sequence_take_makes_a_new_take_of_a_shot_and_choose_swaps_it_back(
        sim: Simulator, folders: tuple[Path, Path, Path], plan: Path) -> None:
    data, home, out = folders
    sim.config.seconds_per_job = 0.3  # nothing here waits on a job's length: short jobs
    env = cli_env(sim.base_url, data, home)
    made = run_cli("sequence", "run", plan, "--out", out, "--yes", env=env, timeout=120)
    assert made.code == 0, made
    first, second, _third = (r["id"] for r in journal_rows(data))

    taken = run_cli("sequence", "take", "1", "2", "--seed", "99", "--json", env=env,
                    timeout=120)

    assert taken.code == 0, taken
    take = taken.one()
    assert (take["status"], take["seed"], take["parent_id"]) == ("done", 99, first)
    assert sim.jobs_created(KEY) == 4
    shown = run_cli("sequence", "show", "1", "--json", env=env).one()
    assert shown["status"] == "done"
    assert shown["shots"][1]["takes"] == [second, take["id"]]
    assert shown["shots"][1]["chosen"]["id"] == take["id"]
    assert f"other take: #{second}" in run_cli("sequence", "show", "1", env=env).stdout

    back = run_cli("sequence", "take", "seq:1", "2", "--choose", f"#{second}", env=env)
    assert back.code == 0, back
    assert run_cli("sequence", "show", "1", "--json", env=env).one()[
        "shots"][1]["chosen"]["id"] == second
    for args, words in ((["1", "7"], "Sequence 1 has shots 1 to 3, not 7"),
                        (["1", "2", "--choose", str(first)], f"#{first} isn't a take of shot 2"),
                        (["5", "1", "--choose", "1"], "There is no sequence 5"),
                        (["1", "2", "--choose", "abc"], "`runway-desktop sequence show <seq>`")):
        refused = run_cli("sequence", "take", *args, env=env)
        assert refused.code == 2, refused
        assert_one_line_message(refused, words)
    assert sim.jobs_created(KEY) == 4  # choosing and refusals make nothing


# -- rename and delete ----------------------------------------------------------------------------

@pytest.fixture
def two_shots(tmp_path: Path) -> Path:
    Image.new("RGB", (640, 360), (30, 90, 200)).save(tmp_path / "sea.png")
    path = tmp_path / "two.yaml"
    path.write_text("name: test plan\nratio: '16:9'\nseed: 5\nshots:\n"
                    "  - prompt: the sea\n    image: sea.png\n  - the waves rise\n",
                    encoding="utf-8")
    return path


def run_at_terminal(*args: str, env: dict[str, str], answer: str) -> CliResult:
    """Run the CLI with its stdin and stderr on a pseudo-terminal (a person at a terminal):
    wait for its `[y/N]` question, type `answer`, and return what it printed."""
    master, slave = pty.openpty()
    started = time.monotonic()
    process = subprocess.Popen([*CLI, *args], env=env, stdin=slave, stderr=slave,
                               stdout=subprocess.PIPE, text=True)
    os.close(slave)
    seen = b""
    try:
        while b"[y/N]" not in seen:
            ready, _, _ = select.select([master], [], [], 60)
            assert ready, f"no question within 60 s: {seen!r}"
            seen += os.read(master, 4096)
        os.write(master, f"{answer}\n".encode())
        stdout, _ = process.communicate(timeout=60)
        with contextlib.suppress(OSError):  # EIO once the child has closed the terminal
            while select.select([master], [], [], 0.5)[0]:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
        os.close(master)
    return CliResult(process.returncode, stdout,
                     seen.decode("utf-8", "replace").replace("\r", ""),
                     time.monotonic() - started)


def test_a_sequence_is_renamed_and_deleted_and_its_videos_stay(
        sim: Simulator, folders: tuple[Path, Path, Path], two_shots: Path) -> None:
    data, home, out = folders
    sim.config.seconds_per_job = 0.3  # nothing here waits on a job's length: short jobs
    env = cli_env(sim.base_url, data, home)
    made = run_cli("sequence", "run", two_shots, "--out", out, "--yes", env=env, timeout=120)
    assert made.code == 0, made
    videos = [Path(r["video_path"]) for r in journal_rows(data)]
    assert len(videos) == 2

    for blank in ("", "   ", "\t\n"):
        refused = run_cli("sequence", "rename", "1", blank, env=env)
        assert refused.code == 2, refused
        assert_one_line_message(refused, "needs a name", "Nothing was renamed")
    renamed = run_cli("sequence", "rename", "seq:1", "The", " sea  at night ", env=env)
    assert renamed.code == 0, renamed
    assert "Sequence 1 “test plan” is now “The sea at night”." in renamed.stderr
    assert "seq:1  done     2/2 shots  The sea at night" in run_cli(
        "sequence", "list", env=env).stdout
    assert run_cli("sequence", "show", "1", "--json", env=env).one()["name"] == "The sea at night"
    as_json = run_cli("sequence", "rename", "1", "Night sea", "--json", env=env)
    assert as_json.one() == {"id": 1, "name": "Night sea", "status": "done", "shots": 2,
                             "made": 2, "error": None}
    for args, words, code in (
            (["rename", "7", "x"], "There is no sequence 7", 2),
            (["rename", "x7", "x"], "not a sequence number", 2),
            (["delete", "7", "--yes"], "There is no sequence 7", 2),
            (["delete", "#", "--yes"], "not a sequence number", 2)):
        refused = run_cli("sequence", *args, env=env)
        assert refused.code == code, refused
        assert_one_line_message(refused, words)

    script = run_cli("sequence", "delete", "1", env=env)  # nobody to ask: refused
    assert script.code == 2, script
    assert_one_line_message(
        script, "Nothing was deleted. Add --yes to delete the sequence “Night sea” (2 shots) "
        "without asking. Its 2 videos stay in your history and on disk.",
        "Running its plan file again would start afresh")
    no = run_at_terminal("sequence", "delete", "1", env=env, answer="n")
    assert no.code == 2, no
    assert ("Delete the sequence “Night sea” (2 shots)? Its 2 videos stay in your history and "
            "on disk.") in no.stderr
    assert run_cli("sequence", "show", "1", env=env).code == 0  # still there

    yes = run_at_terminal("sequence", "delete", "1", env=env, answer="y")

    assert yes.code == 0, yes
    assert "Deleted the sequence “Night sea” (sequence 1). Its 2 videos stay" in yes.stderr
    assert "Traceback" not in yes.stderr
    listed = run_cli("sequence", "list", env=env)
    assert listed.stdout == ""
    assert "No sequences yet" in listed.stderr
    gone = run_cli("sequence", "show", "1", env=env)
    assert gone.code == 2, gone
    assert_one_line_message(gone, "There is no sequence 1")
    jobs = run_cli("jobs", "--json", env=env).json_lines()  # the takes stay in the history
    assert [(j["status"], Path(j["video_path"])) for j in jobs] == [("done", v) for v in videos]
    assert all(v.is_file() for v in videos)
    assert sim.jobs_created(KEY) == 2


def test_a_running_sequence_is_not_deleted_until_nothing_runs_it(
        sim: Simulator, folders: tuple[Path, Path, Path], two_shots: Path) -> None:
    """While a `sequence run` makes its shots, `sequence delete --yes` refuses (exit 7) and
    changes nothing: deleting never stops paid work. Once that process is gone (killed), nothing
    runs the sequence: it can be deleted, and `resume` then finishes the take that was under way
    (paid for) but makes no further shot."""
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)
    # Shot 1's job runs until it is told to finish: unfinished however long the two commands
    # below take (3 s status answers weren't enough on a loaded machine: it finished first).
    sim.config.seconds_per_job = 600
    process = start_cli("sequence", "run", two_shots, "--out", out, "--yes", env=env)
    try:
        deadline = time.monotonic() + 60
        while not ((rows := journal_rows(data)) and rows[0]["job_id"]):
            assert time.monotonic() < deadline, "shot 1 never reached the server"
            assert process.poll() is None, process.communicate()
            time.sleep(0.02)

        refused = run_cli("sequence", "delete", "1", "--yes", env=env)

        assert refused.code == 7, refused
        assert_one_line_message(refused, "Sequence 1 “test plan” is running", "Stop it first",
                                "Nothing was deleted")
        assert run_cli("sequence", "show", "1", env=env).code == 0
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    with read_only_journal(data) as db:
        assert db.execute("SELECT run_state FROM sequences").fetchone()[0] == "running"
    sim.set_job_outcome(rows[0]["job_id"], "COMPLETED")  # for `resume` to fetch

    deleted = run_cli("sequence", "delete", "1", "--yes", env=env)

    assert deleted.code == 0, deleted
    assert ("Deleted the sequence “test plan” (sequence 1). Its 1 take stays in your history "
            "(1 still being made). `runway-desktop jobs` lists them. What is still being made "
            "is finished by the window or `runway-desktop resume`.") in deleted.stderr
    resumed = run_cli("resume", env=env, timeout=120)
    assert resumed.code == 0, resumed
    (take,) = journal_rows(data)  # shot 1 finished; shot 2 never made
    assert take["stage"] == "done"
    assert sim.jobs_created(KEY) == 1


# -- stopping a take or a run; shots made after an older take -----------------------------------

def _signal_when(process: subprocess.Popen[str], data: Path,
                 reached: Callable[[list[dict[str, Any]]], bool],
                 before: Callable[[], None] | None = None) -> tuple[int, str]:
    """SIGINT once the journal's rows satisfy `reached`; (exit code, stderr). `before` runs
    first, once the first row is done (to slow the simulator for what follows)."""
    deadline = time.monotonic() + 90
    try:
        while not reached(rows := journal_rows(data)):
            assert time.monotonic() < deadline, rows
            assert process.poll() is None, process.communicate()
            if before is not None and rows and rows[0]["stage"] == "done":
                before()
                before = None
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "Traceback" not in err
    return process.returncode, err


def test_stopped_takes_and_runs_cancel_what_was_not_sent_and_redo_asks_first(
        sim: Simulator, folders: tuple[Path, Path, Path], two_shots: Path) -> None:
    """Ctrl+C on `sequence run` or `sequence take` while a shot's take is still on this
    computer cancels it (as `generate` does): it was kept, and the next `resume` (or the
    window) paid for what the person had stopped; a stopped take also put back the shot's
    take before it. `sequence show` marks the shots made after an older take (only the window
    did), and `sequence redo` makes them again after showing the cost and asking."""
    data, home, out = folders
    env = cli_env(sim.base_url, data, home)

    def slow_uploads() -> None:
        sim.faults.routes, sim.faults.slow_seconds = {"upload"}, 30.0

    def uploading(count: int) -> Callable[[list[dict[str, Any]]], bool]:
        return lambda rows: len(rows) == count and rows[-1]["stage"] == "uploading"

    code, err = _signal_when(start_cli("sequence", "run", two_shots, "--out", out, "--yes",
                                       env=env), data, uploading(2), slow_uploads)
    assert code == 130, err
    first, second = journal_rows(data)
    assert (first["stage"], second["stage"]) == ("done", "cancelled")
    assert f"shot 2: stopped before #{second['id']} was sent to apiframe: it is cancelled" in err
    with read_only_journal(data) as db:  # what the window says of it
        assert tuple(db.execute("SELECT run_state, error FROM sequences").fetchone()) == (
            "stopped", "Stopped with 1 of 2 shots made. Run carries on from there.")
    sim.faults.routes, sim.faults.slow_seconds = None, 0.0
    assert run_cli("resume", env=env, timeout=120).code == 0
    assert sim.jobs_created(KEY) == 1  # nothing made of what was stopped
    again = run_cli("sequence", "run", two_shots, "--out", out, "--yes", env=env, timeout=120)
    assert again.code == 0, again
    assert sim.jobs_created(KEY) == 2
    made = journal_rows(data)[-1]

    slow_uploads()
    code, err = _signal_when(start_cli("sequence", "take", "1", "1", "--seed", "7", env=env),
                             data, uploading(4))
    assert code == 130, err
    stopped = journal_rows(data)[-1]
    assert stopped["stage"] == "cancelled"
    assert (f"stopped before #{stopped['id']} was sent to apiframe: it is cancelled and nothing "
            f"was charged; shot 1 uses #{first['id']} again.") in err
    shown = run_cli("sequence", "show", "1", "--json", env=env).one()
    assert shown["status"] == "done"
    assert [s["chosen"]["id"] for s in shown["shots"]] == [first["id"], made["id"]]
    sim.faults.routes, sim.faults.slow_seconds = None, 0.0
    assert run_cli("resume", env=env, timeout=120).code == 0
    assert sim.jobs_created(KEY) == 2

    # A new take of shot 1: shot 2 was made from the old one. Marked; redone when asked.
    taken = run_cli("sequence", "take", "1", "1", "--seed", "8", "--json", env=env,
                    timeout=120)
    assert taken.code == 0, taken
    shown_text = run_cli("sequence", "show", "1", env=env).stdout
    assert "⚠ made after an older take of shot 1" in shown_text.splitlines()[2], shown_text
    assert "`runway-desktop sequence redo 1`" in shown_text
    shown = run_cli("sequence", "show", "1", "--json", env=env).one()
    assert [s["made_after_older_take_of"] for s in shown["shots"]] == [None, 1]
    refused = run_cli("sequence", "redo", "1", env=env, timeout=120)  # nobody to answer
    assert refused.code == 2, refused
    assert "Shot 2 was made after an older take of shot 1." in refused.stderr
    assert "Redoing makes shot 2 again from the take chosen before (paid): 1 shot to make, " \
           in refused.stderr
    assert "Nothing was redone. Add --yes" in refused.stderr
    assert sim.jobs_created(KEY) == 3
    redone = run_cli("sequence", "redo", "1", "--yes", "--json", env=env, timeout=120)
    assert redone.code == 0, redone
    shots = redone.one()["shots"]
    assert shots[1]["chosen"]["parent_id"] == taken.one()["id"]
    assert [s["made_after_older_take_of"] for s in shots] == [None, None]
    assert sim.jobs_created(KEY) == 4
    nothing = run_cli("sequence", "redo", "1", env=env)
    assert nothing.code == 0, nothing
    assert "nothing to redo" in nothing.stderr
    assert sim.jobs_created(KEY) == 4

    # The old take of shot 1 chosen back (shot 2 has a take made from it: free) and a shot
    # planned after (not made yet): a redo makes that one too, so it asks and says so (it
    # made it, paid, without asking: "free" was all it had said).
    assert run_cli("sequence", "take", "1", "1", "--choose", str(first["id"]), env=env).code == 0
    journal = Journal(paths.journal_path(data))
    try:
        SequenceStore(journal).add_shot(1, "the gulls circle", SettingsChanges())
    finally:
        journal.close()
    asked = run_cli("sequence", "redo", "1", env=env, timeout=120)
    assert asked.code == 2, asked
    assert "Shot 2 has a take made from the take chosen before: chosen again, free." \
        in asked.stderr
    assert "Redoing makes the 1 shot not made yet (paid): 1 shot to make, " in asked.stderr
    assert sim.jobs_created(KEY) == 4
