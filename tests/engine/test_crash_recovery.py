"""Crash test: SIGKILL the CLI at many points of a generation's life, then `resume`.

Whatever the moment of the kill, each generation must end with exactly one server job, charged
once, and one complete, playable file (no `.part` left). Kill points are either times after the
process started (a seeded spread) or moments read from the journal's `stage` column, watched from
this process through a read-only SQLite connection, the way another program would see it.

One simulator serves the whole module (each kill point gets its own API key, so its jobs and
credits are counted alone) and each kill point gets a fresh data dir and output folder.
The simulator is paced so every stage lasts long enough to be hit: uploads and the generate POST
are slowed, a job takes 0.8 s, and the CDN streams the ~30 KB clip at 24 KB/s. The last
`resume`, which nothing kills, runs without that pacing (and with 0.3 s jobs, fast polls).
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from runway_desktop import settings
from runway_desktop.simulator import (
    Account,
    FaultPlan,
    RecordedRequest,
    Simulator,
    SimulatorConfig,
)
from runway_desktop.simulator.media import load_clips
from tests.helpers.cli import (
    assert_complete_mp4,
    cli_env,
    journal_rows,
    run_cli,
    start_cli,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

PRICE = 8  # a 5 s Gen-4 Turbo clip
STARTING_CREDITS = 1000
CLIP = load_clips()["16:9"]
LIVE_STAGES = ("pending", "preparing", "uploading", "submitting", "queued", "processing",
               "downloading")
BEFORE_JOURNAL = "before journal"  # killed before the generation was written down
AFTER_DONE = "after done"  # the command had already finished


@dataclass(frozen=True)
class KillPoint:
    name: str
    after: float | None = None  # seconds after the CLI started...
    stage: str | None = None  # ...or as soon as the row reaches this stage (or a later one)
    progress: int = 0  # ...with at least this progress
    then: float = 0.0  # and this many seconds more
    # A second crash: kill the first `resume` too, at this stage (and progress).
    resume_stage: str | None = None
    resume_progress: int = 0


def _kill_points() -> list[KillPoint]:
    rng = random.Random(20261124)  # deterministic: the same points on every run
    timed = sorted(round(rng.uniform(0.05, 3.1), 3) for _ in range(16))
    points = [KillPoint(f"t+{t:.3f}s", after=t) for t in timed]
    points += [KillPoint(f"at-{stage}", stage=stage) for stage in LIVE_STAGES]
    points += [
        # The POST has left and waits in the server's 0.25 s pause: its reply will be lost.
        KillPoint("submitting+0.12s", stage="submitting", then=0.12),
        KillPoint("downloading-40%", stage="downloading", progress=40),
        KillPoint("downloading-85%", stage="downloading", progress=85),
        KillPoint("submitting-then-resume-at-queued", stage="submitting",
                  resume_stage="queued"),
        KillPoint("downloading-30%-then-resume-at-70%", stage="downloading", progress=30,
                  resume_stage="downloading", resume_progress=70),
    ]
    return points


KILL_POINTS = _kill_points()
STAGE_AT_KILL: dict[str, str] = {}  # kill point name -> stage of the row when it was killed
NOTES: dict[str, str] = {}  # kill point name -> what the server had seen at the kill


@pytest.fixture(scope="module")
def crash_sim() -> Iterator[Simulator]:
    faults = FaultPlan(
        slow_seconds=0.25,  # uploads and the generate POST take a moment: room to land in them
        routes={"upload", "generate"},
        cdn_slow_bytes_per_second=24_000,  # the clip takes ~1.3 s to stream
    )
    with Simulator(SimulatorConfig(seconds_per_job=0.8, seed=99, faults=faults)) as sim:
        yield sim


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BMP, so preparing it means converting it to PNG: PREPARING lasts long enough to hit."""
    path = tmp_path_factory.mktemp("picture") / "dunes.bmp"
    Image.linear_gradient("L").resize((1920, 1080)).convert("RGB").save(path)
    return path


def _row_state(data_dir: Path) -> tuple[str, int] | None:
    rows = journal_rows(data_dir)
    return (rows[-1]["stage"], rows[-1]["progress"]) if rows else None


def _reached(state: tuple[str, int] | None, stage: str, progress: int) -> bool:
    if state is None:
        return False
    order = (*LIVE_STAGES, "done")
    if state[0] not in order:
        return True  # attention / failed: nothing more to wait for
    at, wanted = order.index(state[0]), order.index(stage)
    return at > wanted or (at == wanted and state[1] >= progress)


def _kill_when(process: subprocess.Popen[str], data_dir: Path, *, after: float | None = None,
               stage: str | None = None, progress: int = 0, then: float = 0.0,
               timeout: float = 30) -> bool:
    """SIGKILL `process` at the chosen moment. False if it had already exited by itself."""
    started = time.monotonic()
    try:
        while process.poll() is None:
            now = time.monotonic()
            assert now - started < timeout, "the kill point was never reached"
            if after is not None and now - started >= after:
                break
            if stage is not None and _reached(_row_state(data_dir), stage, progress):
                break
            time.sleep(0.002)
        else:
            return False
        if then:
            time.sleep(then)
        process.send_signal(signal.SIGKILL)
        return process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)  # close the pipes


@pytest.mark.parametrize("point", KILL_POINTS, ids=[p.name for p in KILL_POINTS])
def test_kill_and_resume_ends_with_one_job_and_one_file(
    crash_sim: Simulator, picture: Path, tmp_path: Path, point: KillPoint
) -> None:
    key = f"afk_crash_{KILL_POINTS.index(point):02d}"
    crash_sim.add_account(Account(key, credits=STARTING_CREDITS, email=f"{key}@example.com"))
    data, out, home = tmp_path / "data", tmp_path / "videos", tmp_path / "home"
    out.mkdir()
    # The folder is chosen in the settings (not with --out), so `resume` saves there too.
    settings.save(data, settings.Settings(output_dir=str(out)))
    env = cli_env(crash_sim.base_url, data, home, key, RUNWAY_DESKTOP_POLL_SECONDS="0.1")

    generate = start_cli("generate", "a red kite over dunes", "--image", picture, "--json",
                         env=env)
    killed = _kill_when(generate, data, after=point.after, stage=point.stage,
                        progress=point.progress, then=point.then)
    rows = journal_rows(data)
    stage_at_kill = rows[0]["stage"] if rows else BEFORE_JOURNAL
    if not killed:
        stage_at_kill = AFTER_DONE
    STAGE_AT_KILL[point.name] = stage_at_kill
    parts = list(out.glob("*.part"))
    part_size = parts[0].stat().st_size if parts else 0
    time.sleep(0.3)  # let the server finish a request the dead process left in flight
    posts_at_kill = len(_generate_posts(crash_sim, key))
    jobs_at_kill = crash_sim.jobs_created(key)
    NOTES[point.name] = f"POSTs {posts_at_kill}, server jobs {jobs_at_kill}, .part {part_size} B"

    if point.resume_stage is not None:
        assert rows, "the first kill came too early for a second one"
        resume = start_cli("resume", "--json", env=env)
        assert _kill_when(resume, data, stage=point.resume_stage,
                          progress=point.resume_progress), "resume finished before its kill"
        STAGE_AT_KILL[point.name] += f" + resume killed at {journal_rows(data)[0]['stage']}"

    # Nothing left to land in: no slowed requests, short jobs, the usual fast polls.
    paced, crash_sim.faults = crash_sim.faults, FaultPlan()
    job_seconds, crash_sim.config.seconds_per_job = crash_sim.config.seconds_per_job, 0.3
    try:
        resumed = run_cli("resume", "--json", env={**env, "RUNWAY_DESKTOP_POLL_SECONDS": "0.05"})
    finally:
        crash_sim.faults, crash_sim.config.seconds_per_job = paced, job_seconds

    assert resumed.code == 0, str(resumed)
    assert "Traceback" not in resumed.stderr
    rows = journal_rows(data)
    if stage_at_kill == BEFORE_JOURNAL:
        # The command never took the generation in: nothing exists, nothing was charged.
        assert rows == []
        assert resumed.stdout == ""
        assert crash_sim.jobs_created(key) == 0
        assert crash_sim.credits(key) == STARTING_CREDITS
        assert not any(out.iterdir())
        return

    [row] = rows
    assert row["stage"] == "done", row
    assert row["error"] is None
    if stage_at_kill != AFTER_DONE and point.resume_stage is None:
        assert [g["status"] for g in resumed.json_lines()] == ["done"]
    # Exactly one server job, charged exactly once.
    assert crash_sim.jobs_created(key) == 1
    assert crash_sim.job_ids(key) == [row["job_id"]]
    assert crash_sim.charged(key) == PRICE
    assert crash_sim.credits(key) == STARTING_CREDITS - PRICE
    # Every POST (first try, retries, replays after the crash) carried the row's one key.
    posts = _generate_posts(crash_sim, key)
    assert posts
    assert {p.headers.get("idempotency-key") for p in posts} == {row["idempotency_key"]}
    if stage_at_kill == "submitting" and jobs_at_kill:
        # The POST landed but its reply died with the process: resume sent it again with the
        # same key, and the server answered with the job it already had (counted once above).
        assert len(posts) > posts_at_kill
    # Exactly one complete file, nothing half-written left behind.
    # (and its settings beside it: the sidecar)
    video = Path(row["video_path"])
    assert sorted(p.name for p in out.iterdir()) == sorted([video.name, f"{video.stem}.json"])
    assert_complete_mp4(Path(row["video_path"]), CLIP)
    if part_size >= 12 and point.resume_stage is None:
        # The download went on from where it stopped, it didn't start over.
        ranges = [r.headers.get("range") for r in crash_sim.requests
                  if r.host_role == "cdn" and r.path == f"/videos/{row['job_id']}.mp4"]
        assert f"bytes={part_size}-" in ranges, (part_size, ranges)


def _generate_posts(sim: Simulator, key: str) -> list[RecordedRequest]:
    return [r for r in sim.requests if r.method == "POST" and r.path == "/v2/videos/generate"
            and r.headers.get("x-api-key") == key]


def test_kill_points_reached_every_stage(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs after the kill points: shows where they landed and that they cover the life."""
    if len(STAGE_AT_KILL) < len(KILL_POINTS):
        pytest.skip("only part of the kill points ran")
    by_stage = Counter(stage.split(" + ")[0] for stage in STAGE_AT_KILL.values())
    with capsys.disabled():
        print(f"\ncrash test: {len(KILL_POINTS)} kill points, by stage at the kill:")
        for stage in (BEFORE_JOURNAL, *LIVE_STAGES, AFTER_DONE):
            print(f"  {stage:<15} {by_stage.get(stage, 0)}")
        for name, stage in STAGE_AT_KILL.items():
            print(f"    {name:<38} {stage:<45} {NOTES.get(name, '')}")
    in_life = sum(by_stage[stage] for stage in LIVE_STAGES)
    assert in_life >= 20, by_stage
    # The CLI prepares the image while checking it, before the row is journaled, and the
    # engine uploads that preparation: PREPARING passes without work (kills land before the
    # journal or while uploading instead).
    missed = [s for s in LIVE_STAGES if s not in ("pending", "preparing") and not by_stage[s]]
    assert not missed, f"no kill point landed in {missed}: {by_stage}"
