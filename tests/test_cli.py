"""The headless CLI, run as a real subprocess against a simulator living in the test process.

Most tests share one module-wide simulator and a history that already holds one finished
generation (copied into a fresh data dir per test), so each bad input can also prove that nothing
else was lost: the earlier generation is unchanged, no server job was created, no credit moved.
Tests that flip faults get their own simulator (the `simulator` fixture of tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from runway_desktop.simulator import Account, Simulator, SimulatorConfig
from runway_desktop.simulator.media import load_clips
from tests.helpers.cli import (
    CLI,
    CliResult,
    assert_complete_mp4,
    assert_one_line_message,
    cli_env,
    default_output,
    files_containing,
    journal_rows,
    run_cli,
    start_cli,
)
from tests.helpers.small_disk import tmpfs

PROMPT = "a red kite over dunes"
KEYS = ("afk_test", "afk_test_broke", "afk_test_inactive")
CLIP_16_9 = load_clips()["16:9"]
FROM_ENV = "APIFRAME_API_KEY: the key in use comes from that environment variable, not Settings"


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """One simulator for the module's read-only scenarios (no faults are flipped on it)."""
    with Simulator(SimulatorConfig(seconds_per_job=0.2, seed=2026)) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Good and bad input files, made once."""
    root = tmp_path_factory.mktemp("inputs")
    good = root / "kite.png"
    Image.new("RGB", (640, 360), (200, 60, 30)).save(good)
    data = good.read_bytes()
    made = {
        "good": good,
        "text": root / "notes.png",
        "empty": root / "empty.png",
        "truncated": root / "cut.png",
        "wide": root / "banner.png",
        "folder": root / "a-folder",
        "missing": root / "gone.png",
    }
    made["text"].write_text("just some notes, not a picture\n")
    made["empty"].write_bytes(b"")
    made["truncated"].write_bytes(data[: len(data) // 2])
    Image.new("RGB", (300, 100), (10, 10, 10)).save(made["wide"])  # ratio 3.0
    made["folder"].mkdir()
    return made


@dataclass(frozen=True)
class Seed:
    """A data dir holding one finished generation, made by the real CLI."""

    data_dir: Path
    row: dict[str, Any]
    video: Path
    video_sha256: str


@pytest.fixture(scope="module")
def seed(sim: Simulator, files: dict[str, Path],
         tmp_path_factory: pytest.TempPathFactory) -> Seed:
    root = tmp_path_factory.mktemp("seed")
    out = root / "videos"
    out.mkdir()
    result = run_cli("generate", "an earlier kite", "--image", files["good"], "--out", out,
                     "--json", env=cli_env(sim.base_url, root / "data", root / "home"))
    assert result.code == 0, str(result)
    rows = journal_rows(root / "data")
    assert len(rows) == 1
    video = Path(rows[0]["video_path"])
    return Seed(root / "data", rows[0], video, hashlib.sha256(video.read_bytes()).hexdigest())


@dataclass
class History:
    """A per-test copy of the seeded data dir, with a private HOME."""

    data_dir: Path
    home: Path
    seed: Seed

    def env(self, sim: Simulator | None, key: str | None = "afk_test",
            fast: bool = True, **extra: str) -> dict[str, str]:
        return cli_env(sim.base_url if sim else None, self.data_dir, self.home, key, fast=fast,
                       **extra)

    def assert_earlier_generation_intact(self) -> list[dict[str, Any]]:
        """The seeded row is unchanged and its video untouched; returns the rows after it."""
        rows = journal_rows(self.data_dir)
        assert rows, "the history is gone"
        assert rows[0] == self.seed.row
        assert hashlib.sha256(self.seed.video.read_bytes()).hexdigest() == self.seed.video_sha256
        return rows[1:]


@pytest.fixture
def history(seed: Seed, tmp_path: Path) -> History:
    data_dir = tmp_path / "history"
    shutil.copytree(seed.data_dir, data_dir)
    (tmp_path / "home").mkdir()
    return History(data_dir, tmp_path / "home", seed)


@dataclass(frozen=True)
class Ledger:
    """What the simulator knows, to prove a command changed nothing on the server."""

    requests: int
    jobs: int
    credits: dict[str, int]

    @classmethod
    def of(cls, sim: Simulator) -> Ledger:
        return cls(len(sim.requests), sim.jobs_created(), {k: sim.credits(k) for k in KEYS})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir(exist_ok=True)
    return path


def free_port() -> int:
    """A loopback port with nobody listening (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the happy paths -----------------------------------------------------------------------------

def test_generate_with_an_image_saves_a_playable_mp4(
    sim: Simulator, files: dict[str, Path], tmp_path: Path, home: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    env = cli_env(sim.base_url, tmp_path / "data", home)
    before = sim.jobs_created("afk_test")

    result = run_cli("generate", PROMPT, "--image", files["good"], "--out", out, "--json",
                     "--seed", "42", env=env)

    assert result.code == 0, str(result)
    row = result.one()
    assert set(row) == {"id", "job_id", "status", "created_at", "credit_cost", "model", "prompt",
                        "duration", "aspect_ratio", "seed", "image", "favourite", "video_path",
                        "error", "parent_id", "sent_again_as"}
    # Every setting it was made with: a script reading `jobs --json` tells its rows apart.
    settings_listed = run_cli("jobs", "--json", env=env).json_lines()
    assert [{k: r[k] for k in ("id", "prompt", "duration", "aspect_ratio", "seed", "image")}
            for r in settings_listed] == [{"id": row["id"], "prompt": PROMPT, "duration": 5,
                                  "aspect_ratio": "16:9", "seed": 42,
                                  "image": str(Path(files["good"]).resolve())}]
    assert datetime.fromisoformat(row["created_at"]).tzinfo is not None
    assert row["parent_id"] is None
    assert row["status"] == "done"
    assert row["error"] is None
    assert row["seed"] == 42
    assert row["credit_cost"] == 8
    video = Path(row["video_path"])
    assert video.exists()
    assert video.parent == out
    assert video.name.endswith(".mp4")
    assert video.read_bytes()[4:8] == b"ftyp"
    assert_complete_mp4(video, CLIP_16_9)
    assert not list(out.glob("*.part"))
    assert sim.jobs_created("afk_test") == before + 1
    assert sim.job(row["job_id"])["input"]["runwayParams"]["seed"] == 42

    listed = run_cli("jobs", "--json", env=env)
    assert listed.code == 0, str(listed)
    assert listed.json_lines() == [row]

    me = run_cli("me", env=env)
    assert me.code == 0, str(me)
    assert f"{sim.credits('afk_test'):,} credits" in me.stdout
    me_json = run_cli("me", "--json", env=env)
    assert me_json.one()["credits"] == sim.credits("afk_test")


def test_generate_without_json_prints_the_path(
    sim: Simulator, tmp_path: Path, home: Path
) -> None:
    """Text-only prompt, default output folder: stdout is just the file's path."""
    env = cli_env(sim.base_url, tmp_path / "data", home)
    result = run_cli("generate", PROMPT, "--duration", "10", "--aspect", "1:1", env=env)
    assert result.code == 0, str(result)
    video = Path(result.stdout.strip())
    assert video.parent == default_output(home)
    assert_complete_mp4(video, load_clips()["1:1"])
    assert "Traceback" not in result.stderr


def _run_with_stdout_closed(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """The CLI with its stdout a pipe nobody reads (`… | head -c0`): exit code and stderr."""
    process = subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # the reader is gone before the result is written
    try:
        stderr = process.stderr.read()
        return process.wait(timeout=60), stderr
    finally:
        process.kill()
        process.wait()
        process.stderr.close()


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_closed_stdout_after_a_saved_video_exits_9_and_keeps_it(
    sim: Simulator, tmp_path: Path, home: Path, as_json: bool
) -> None:
    env = cli_env(sim.base_url, tmp_path / "data", home)
    code, stderr = _run_with_stdout_closed("generate", PROMPT, *(["--json"] if as_json else []),
                                           env=env)
    assert code == 9, stderr
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    rows = journal_rows(tmp_path / "data")
    assert [row["stage"] for row in rows] == ["done"]
    video = Path(rows[0]["video_path"])
    assert_complete_mp4(video, CLIP_16_9)
    line = stderr.strip().splitlines()[-1]
    assert line == (f"runway-desktop: the result couldn't be written to stdout (it was closed). "
                    f"The video is saved: {video}. `runway-desktop jobs` lists it.")
    assert sim.jobs_created() >= 1


def test_a_closed_stdout_while_listing_exits_9_without_a_traceback(
    history: History
) -> None:
    code, stderr = _run_with_stdout_closed("jobs", env=history.env(None))
    assert code == 9, stderr
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    assert "stdout was closed" in stderr
    history.assert_earlier_generation_intact()


def test_help_documents_the_exit_codes(home: Path, tmp_path: Path) -> None:
    for args in (["--help"], ["generate", "--help"]):
        result = run_cli(*args, env=cli_env(None, tmp_path / "data", home))
        assert result.code == 0
        text = " ".join(result.stdout.split())
        assert "exit codes: 0 done, 2 bad input" in text
        assert "9 the result couldn't be written to stdout" in text
        assert "130 stopped by Ctrl+C (143 by SIGTERM, 129 by its terminal closing)" in text


def test_no_wait_returns_once_accepted_then_resume_finishes(
    sim: Simulator, files: dict[str, Path], tmp_path: Path, home: Path
) -> None:
    env = cli_env(sim.base_url, tmp_path / "data", home)
    before = sim.jobs_created("afk_test")

    accepted = run_cli("generate", PROMPT, "--image", files["good"], "--no-wait", "--json",
                       env=env)

    assert accepted.code == 0, str(accepted)
    row = accepted.one()
    assert row["job_id"]
    assert row["status"] in ("queued", "processing")
    assert row["video_path"] is None
    assert sim.jobs_created("afk_test") == before + 1

    resumed = run_cli("resume", "--json", env=env)
    assert resumed.code == 0, str(resumed)
    done = resumed.one()
    assert (done["id"], done["job_id"], done["status"]) == (row["id"], row["job_id"], "done")
    assert_complete_mp4(Path(done["video_path"]), CLIP_16_9)
    assert sim.jobs_created("afk_test") == before + 1

    again = run_cli("resume", "--json", env=env)
    assert (again.code, again.stdout) == (0, "")
    assert sim.jobs_created("afk_test") == before + 1


def test_resume_saves_into_the_folder_generate_was_given(
    sim: Simulator, files: dict[str, Path], tmp_path: Path, home: Path
) -> None:
    out = tmp_path / "chosen"
    out.mkdir()
    env = cli_env(sim.base_url, tmp_path / "data", home)
    accepted = run_cli("generate", PROMPT, "--image", files["good"], "--out", out, "--no-wait",
                       "--json", env=env)
    assert accepted.code == 0, str(accepted)
    resumed = run_cli("resume", "--json", env=env)
    assert resumed.code == 0, str(resumed)
    assert Path(resumed.one()["video_path"]).parent == out


def test_an_oversized_image_is_shrunk_not_refused(
    sim: Simulator, tmp_path: Path, home: Path
) -> None:
    """Over 25 MB: the engine re-encodes it (JPEG, ~6.5 MB) rather than refusing it.

    No image that Pillow can open ends up over 25 MB after preparation (it is shrunk to 4096 px
    and, if needed, to a quarter of that), so the "can't be shrunk" refusal can't be reached.
    """
    big = tmp_path / "noise.png"
    Image.frombytes("RGB", (3000, 3000), os.urandom(3000 * 3000 * 3)).save(big, compress_level=0)
    assert big.stat().st_size > 25 * 1024 * 1024
    result = run_cli("generate", PROMPT, "--image", big, "--json",
                     env=cli_env(sim.base_url, tmp_path / "data", home))
    assert result.code == 0, str(result)
    assert result.one()["status"] == "done"
    uploads = [r for r in sim.requests if r.path == "/v2/uploads" and r.status == 201]
    assert int(uploads[-1].headers["content-length"]) < 16 * 1024 * 1024


def test_no_converted_image_is_left_behind(sim: Simulator, tmp_path: Path, home: Path) -> None:
    bmp = tmp_path / "kite.bmp"  # a BMP is converted to PNG before upload
    Image.new("RGB", (640, 360), (30, 90, 200)).save(bmp)
    result = run_cli("generate", PROMPT, "--image", bmp, "--json",
                     env=cli_env(sim.base_url, tmp_path / "data", home))
    assert result.code == 0, str(result)
    work = tmp_path / "data" / "work"
    assert not work.exists() or sorted(work.iterdir()) == []


def test_the_key_can_come_from_the_keyring(
    sim: Simulator, keyring_backend: Any, tmp_path: Path, home: Path
) -> None:
    from runway_desktop import secrets

    secrets.store_api_key("afk_test")
    # keyring_backend put the private D-Bus address in os.environ, which cli_env passes on.
    env = cli_env(sim.base_url, tmp_path / "data", home, key=None)
    result = run_cli("me", "--json", env=env)
    assert result.code == 0, str(result)
    assert result.one()["email"] == "test@example.com"


# -- bad input: refused before anything is journaled or sent -------------------------------------

BAD_INPUTS: list[tuple[str, Callable[[dict[str, Path], Path], list[Any]], tuple[str, ...]]] = [
    ("blank prompt", lambda f, t: ["   \t "], ("The prompt is empty", "describe the motion")),
    ("zero-width prompt", lambda f, t: ["\u200b\u200b"],
     ("The prompt is empty", "invisible characters", "describe the motion")),
    ("control-character prompt", lambda f, t: ["\x07"], ("The prompt is empty", "invisible")),
    ("prompt over 1000", lambda f, t: ["x" * 1001],
     ("1,001 characters", "the limit is 1,000")),
    ("not an image", lambda f, t: [PROMPT, "--image", f["text"]],
     ("isn't an image", "Use a PNG, JPEG, WebP")),
    ("0-byte file", lambda f, t: [PROMPT, "--image", f["empty"]],
     ("empty (0 bytes)", "Choose an image file")),
    ("truncated image", lambda f, t: [PROMPT, "--image", f["truncated"]],
     ("truncated or corrupt", "cut.png", "Export or download it again")),
    ("ratio 3.0", lambda f, t: [PROMPT, "--image", f["wide"]],
     ("300 × 100", "between 0.5 and 2.0", "crop it")),
    ("a folder as image", lambda f, t: [PROMPT, "--image", f["folder"]],
     ("Can't read", "a-folder", "it's a folder, not a file")),
    ("missing image", lambda f, t: [PROMPT, "--image", f["missing"]],
     ("Can't read", "gone.png", "doesn't exist")),
    ("http image url", lambda f, t: [PROMPT, "--image", "http://example.com/kite.png"],
     ("must use https://",)),
    ("duration 7", lambda f, t: [PROMPT, "--duration", "7"], ("5 or 10 seconds", "not 7")),
    ("aspect 2:1", lambda f, t: [PROMPT, "--aspect", "2:1"],
     ("must be one of 16:9", "not '2:1'")),
    ("seed -1", lambda f, t: [PROMPT, "--seed", "-1"], ("from 0 to 4,294,967,295", "not -1")),
    ("seed 2**32", lambda f, t: [PROMPT, "--seed", str(2**32)],
     ("from 0 to 4,294,967,295", "not 4294967296")),
    ("seed arabic-indic digit", lambda f, t: [PROMPT, "--seed", "\u0663"],
     ("digits 0-9", "not '\u0663'", "Leave out --seed")),
    ("seed with underscore", lambda f, t: [PROMPT, "--seed", "1_000"],
     ("digits 0-9", "not '1_000'")),
    ("seed with spaces", lambda f, t: [PROMPT, "--seed", " 7 "], ("digits 0-9", "not ' 7 '")),
    ("empty --out", lambda f, t: [PROMPT, "--out", ""], ("--out is empty", "name the folder")),
    ("blank --out", lambda f, t: [PROMPT, "--out", "  "], ("--out is empty",)),
    ("a file as --out", lambda f, t: [PROMPT, "--out", f["good"]],
     ("kite.png is a file, not a folder", "Choose a folder with --out")),
    ("missing --out", lambda f, t: [PROMPT, "--image", f["good"], "--out", t / "nowhere"],
     ("nowhere", "doesn't exist", "Create it or choose another with --out")),
]


@pytest.mark.parametrize(("args", "fragments"),
                         [pytest.param(a, m, id=i) for i, a, m in BAD_INPUTS])
def test_bad_input_is_refused_and_nothing_is_lost_with_json(
    sim: Simulator, files: dict[str, Path], history: History, tmp_path: Path,
    args: Callable[[dict[str, Path], Path], list[Any]], fragments: tuple[str, ...],
) -> None:
    """With --json a refusal is still one line on stderr and nothing on stdout. (Without
    --json each row runs in the hostile table, tests/hostile/test_hostile_inputs.py, with its
    sandbox checks.)"""
    ledger = Ledger.of(sim)
    result = run_cli("generate", *args(files, tmp_path), "--json", env=history.env(sim))

    assert result.code == 2, str(result)
    assert result.stdout == ""
    assert_one_line_message(result, *fragments)
    assert history.assert_earlier_generation_intact() == []
    assert Ledger.of(sim) == ledger  # not one request left the machine


def test_missing_prompt_is_refused_by_the_parser(sim: Simulator, history: History) -> None:
    ledger = Ledger.of(sim)
    result = run_cli("generate", "--duration", "5", env=history.env(sim))
    assert result.code == 2, str(result)
    assert "Traceback" not in result.stderr
    # argparse prints its usage block, then one line that names the problem.
    assert result.stderr.strip().splitlines()[-1].endswith(
        "error: the following arguments are required: prompt")
    assert history.assert_earlier_generation_intact() == []
    assert Ledger.of(sim) == ledger


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: os.access says writable")
def test_read_only_output_folder_is_refused(
    sim: Simulator, files: dict[str, Path], history: History, tmp_path: Path
) -> None:
    out = tmp_path / "locked"
    out.mkdir(mode=0o555)
    ledger = Ledger.of(sim)
    result = run_cli("generate", PROMPT, "--out", out, env=history.env(sim))
    assert result.code == 2, str(result)
    assert_one_line_message(result, "Can't write to the output folder", "--out")
    assert history.assert_earlier_generation_intact() == []
    assert Ledger.of(sim) == ledger


@pytest.mark.parametrize(("out", "fragment"), [("", "--out is empty"),
                                               ("kite.png", "is a file, not a folder")])
def test_resume_refuses_an_empty_or_file_out(
    sim: Simulator, files: dict[str, Path], history: History, out: str, fragment: str
) -> None:
    ledger = Ledger.of(sim)
    given = str(files["good"]) if out == "kite.png" else out
    result = run_cli("resume", "--out", given, env=history.env(sim))
    assert result.code == 2, str(result)
    assert_one_line_message(result, fragment)
    assert history.assert_earlier_generation_intact() == []
    assert Ledger.of(sim) == ledger


# -- the key and the balance ---------------------------------------------------------------------

def test_no_api_key_anywhere(
    sim: Simulator, history: History, keyring_backend: Any
) -> None:
    """No APIFRAME_API_KEY and an empty (real) keyring: exit 3, and the fix is named."""
    env = history.env(sim, key=None)  # with the private D-Bus of the keyring fixture
    ledger = Ledger.of(sim)
    result = run_cli("generate", PROMPT, env=env)
    assert result.code == 3, str(result)
    assert_one_line_message(result, "No API key", "APIFRAME_API_KEY")
    assert history.assert_earlier_generation_intact() == []
    assert Ledger.of(sim) == ledger


def test_no_api_key_and_no_keyring(sim: Simulator, history: History) -> None:
    """No Secret Service at all (a bare server): still exit 3 with a pointer to the variable."""
    env = history.env(sim, key=None)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    ledger = Ledger.of(sim)
    result = run_cli("generate", PROMPT, env=env)
    assert result.code == 3, str(result)
    assert_one_line_message(result, "APIFRAME_API_KEY")
    assert history.assert_earlier_generation_intact() == []
    assert Ledger.of(sim) == ledger


@pytest.mark.parametrize(
    ("key", "code", "action", "fragments"),
    [
        # The key comes from APIFRAME_API_KEY: that is where to fix it, not Settings.
        pytest.param("afk_nope", 3, "open_settings", ("API key was rejected", FROM_ENV),
                     id="401"),
        pytest.param("afk_test_inactive", 3, "open_settings", ("inactive", "reactivate",
                                                                FROM_ENV), id="403"),
        pytest.param("afk_test_broke", 4, "buy_credits",
                     ("Not enough credits", "needs 15", "you have 0", "Top up"), id="402"),
    ],
)
def test_key_and_credit_problems(
    sim: Simulator, files: dict[str, Path], history: History,
    key: str, code: int, action: str, fragments: tuple[str, ...],
) -> None:
    ledger = Ledger.of(sim)
    result = run_cli("generate", PROMPT, "--image", files["good"], "--duration", "10",
                     env=history.env(sim, key=key))

    assert result.code == code, str(result)
    line = assert_one_line_message(result, *fragments)
    assert ("--out" in line) is False  # where videos are saved is not what stopped it
    # The generation is kept (it can go on once the key or the balance is fixed)...
    [kept] = history.assert_earlier_generation_intact()
    assert (kept["stage"], kept["action"], kept["job_id"]) == ("attention", action, None)
    assert kept["duration"] == 10
    # ...but nothing was created or charged on the server.
    after = Ledger.of(sim)
    assert (after.jobs, after.credits) == (ledger.jobs, ledger.credits)

    as_json = run_cli("jobs", "--json", env=history.env(sim, key=key)).json_lines()
    assert as_json[-1]["status"] == "attention"
    assert all(fragment in as_json[-1]["error"] for fragment in fragments if fragment != FROM_ENV)



def test_a_refused_key_is_named_where_it_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    """`me` and a generation's refused key: Settings, where the keyring's key is changed, or the
    environment variable, whose key is used whatever Settings holds (as the window says)."""
    from runway_desktop.cli import key_words

    refused = "Your API key was rejected — check it in Settings."
    assert key_words(refused) == f"{refused} (From a terminal: set APIFRAME_API_KEY.)"
    monkeypatch.setenv("APIFRAME_API_KEY", "afk_from_env")
    assert key_words(refused) == f"Your API key was rejected — check it in {FROM_ENV} (a key " \
        "saved there is used once it is unset)."
    no_key = "No API key. Set APIFRAME_API_KEY, or save your key in Runway Desktop's Settings."
    assert key_words(no_key) == no_key


# -- faults on the way ---------------------------------------------------------------------------

def test_rate_limited_requests_wait_for_retry_after(
    simulator: Simulator, files: dict[str, Path], tmp_path: Path, home: Path
) -> None:
    """Two 429s with `Retry-After: 1`: the CLI still succeeds, and waited ~1 s each time.

    The retry backoff is 0.05 s here (RUNWAY_DESKTOP_RETRY_SECONDS), so a gap of a second can
    only come from honouring Retry-After.
    """
    simulator.faults.routes = {"upload", "generate"}
    simulator.faults.retry_after_seconds = 1
    simulator.faults.rate_limit_next = 2
    result = run_cli("generate", PROMPT, "--image", files["good"], "--json",
                     env=cli_env(simulator.base_url, tmp_path / "data", home))

    assert result.code == 0, str(result)
    assert result.one()["status"] == "done"
    assert simulator.jobs_created("afk_test") == 1
    api = [r for r in simulator.requests if r.host_role == "api" and r.path != "/v2/me"]
    limited = [i for i, r in enumerate(api) if r.status == 429]
    assert len(limited) == 2
    for i in limited:
        assert api[i].headers.get("x-api-key") == "afk_test"
        # The retry of that request (the catalog refresh may come in between).
        retry = next(r for r in api[i + 1:] if (r.method, r.path) == (api[i].method, api[i].path))
        gap = retry.at - api[i].at
        assert gap >= 0.95, f"retried {gap:.2f} s after a 429 asking for 1 s"
    assert result.seconds >= 2


def test_server_unreachable_gives_up_with_exit_6(
    files: dict[str, Path], history: History
) -> None:
    """Nobody listens on the port: 8 attempts, then exit 6, the generation kept for later.

    With the default backoff (0.5 s base, 30 s cap) this takes about a minute (61.7 s measured);
    RUNWAY_DESKTOP_RETRY_SECONDS=0.05 (set by cli_env) brings it to a few seconds.
    """
    env = history.env(None, APIFRAME_BASE_URL=f"http://127.0.0.1:{free_port()}")
    result = run_cli("generate", PROMPT, "--image", files["good"], env=env, timeout=30)
    assert result.code == 6, str(result)
    assert result.seconds < 15
    assert_one_line_message(result, "Can't reach apiframe", "internet connection")
    [kept] = history.assert_earlier_generation_intact()
    assert (kept["stage"], kept["action"], kept["job_id"]) == ("attention", "retry", None)


def test_a_failed_job_exits_5_and_is_refunded(
    simulator: Simulator, files: dict[str, Path], tmp_path: Path, home: Path
) -> None:
    start = simulator.credits("afk_test")
    simulator.faults.fail_jobs_next = 1
    result = run_cli("generate", PROMPT, "--image", files["good"],
                     env=cli_env(simulator.base_url, tmp_path / "data", home))

    assert result.code == 5, str(result)
    assert_one_line_message(result, "content policy", "credits were refunded")
    assert simulator.jobs_created("afk_test") == 1
    assert simulator.credits("afk_test") == start
    [row] = journal_rows(tmp_path / "data")
    assert (row["stage"], row["credit_cost"]) == ("failed", 0)
    assert row["job_id"]
    assert not default_output(home).exists() or not any(default_output(home).iterdir())


def test_disk_full_while_saving_keeps_the_job(
    sim: Simulator, files: dict[str, Path], history: History, tmp_path: Path
) -> None:
    ledger = Ledger.of(sim)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with tmpfs(tmp_path / "tiny", "size=16k") as tiny:  # too small for the ~30 KB clip
        result = run_cli("generate", PROMPT, "--image", files["good"], "--out", tiny,
                         env=history.env(sim))
        assert not list(tiny.glob("*.mp4"))

        # Exit 6 ("network or server trouble") is what a disk-full RETRY verdict maps to.
        assert result.code == 6, str(result)
        assert_one_line_message(result, "The disk is full", "free some space", str(tiny))
        [kept] = history.assert_earlier_generation_intact()
        assert (kept["stage"], kept["action"]) == ("attention", "retry")
        assert kept["job_id"], "the paid job must not be forgotten"
        assert kept["video_url"]
        assert sim.jobs_created() == ledger.jobs + 1
        assert sim.credits("afk_test") == ledger.credits["afk_test"] - 8

        # Saved elsewhere instead: the full folder keeps nothing of it (its `.part.origin`
        # stayed there for ever), and it is never paid again.
        resumed = run_cli("resume", "--json", "--out", elsewhere, env=history.env(sim))
        assert resumed.code == 0, str(resumed)
        assert Path(resumed.one()["video_path"]).parent == elsewhere
        assert sorted(p.name for p in tiny.iterdir()) == []
    assert sim.jobs_created() == ledger.jobs + 1


def test_a_read_only_data_folder_says_so_instead_of_something_unexpected(
    sim: Simulator, files: dict[str, Path], history: History, tmp_path: Path
) -> None:
    """The history's drive turned read-only (a backup disk, a remount): `generate` said
    'something unexpected went wrong (OSError); details are in …/logs', a folder that can't
    take the log either, and so did `reset-history`. Root only (a real read-only tmpfs)."""
    ledger = Ledger.of(sim)
    with tmpfs(tmp_path / "drive", "size=4m") as drive:
        shutil.copytree(history.data_dir, drive, dirs_exist_ok=True)
        subprocess.run(["mount", "-o", "remount,ro", str(drive)], check=True)
        env = {**history.env(sim), "RUNWAY_DESKTOP_DATA_DIR": str(drive)}
        for args in (("generate", PROMPT, "--image", files["good"], "--out", tmp_path),
                     ("reset-history",)):
            result = run_cli(*args, env=env)
            assert result.code == 8, str(result)
            assert_one_line_message(result, f"Can't write in the data folder {drive}",
                                    "Read-only file system", "--data-dir")
            assert "unexpected" not in result.stderr
    assert sim.jobs_created() == ledger.jobs  # nothing was sent


def test_resume_finishes_a_download_after_space_was_freed(
    sim: Simulator, files: dict[str, Path], history: History, tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "tiny", "size=16k") as tiny:  # too small for the ~30 KB clip
        result = run_cli("generate", PROMPT, "--image", files["good"], "--out", tiny,
                         env=history.env(sim))
    assert result.code == 6, str(result)
    # Unmounted: the same folder now has room.
    resumed = run_cli("resume", "--json", env=history.env(sim))
    assert resumed.code == 0, str(resumed)
    assert resumed.one()["status"] == "done"


# -- secrets -------------------------------------------------------------------------------------

def test_the_api_key_never_appears_in_output_or_files(
    simulator: Simulator, files: dict[str, Path], tmp_path: Path, home: Path
) -> None:
    key = "afk_live_S3cr3tK3y0123456789abcdefXYZ"
    simulator.add_account(Account(key, credits=100, email="secret@example.com"))
    data = tmp_path / "data"
    env = cli_env(simulator.base_url, data, home, key=key)
    wrong = cli_env(simulator.base_url, data, home, key=key + "_typo")
    simulator.faults.fail_jobs_next = 1
    # A 503 and a cut download make the engine log (a clean run logs nothing at INFO).
    simulator.faults.error_next = 1
    simulator.faults.truncate_downloads_next = 1
    results: list[CliResult] = [
        run_cli("generate", PROMPT, "--image", files["good"], env=env),  # fails: refunded
        run_cli("generate", PROMPT, "--image", files["good"], "--json", env=env),
        run_cli("generate", PROMPT, env=wrong),  # 401
        run_cli("generate", PROMPT, "--duration", "10", "--no-wait", env=env),
        run_cli("resume", env=env),
        run_cli("jobs", env=env),
        run_cli("jobs", "--json", env=env),
        run_cli("me", env=env),
        run_cli("me", "--json", env=wrong),
        run_cli("import", env=env),
    ]
    assert [r.code for r in results] == [5, 0, 3, 0, 0, 0, 0, 0, 3, 0], [str(r) for r in results]
    for result in results:
        assert key not in result.stdout
        assert key not in result.stderr
        assert "S3cr3tK3y" not in result.stdout + result.stderr
    logs = list((data / "logs").glob("*.log*"))
    assert logs, "the CLI wrote no log"
    assert sum(p.stat().st_size for p in logs) > 0
    assert files_containing(data, b"S3cr3tK3y") == []
    assert files_containing(home, b"S3cr3tK3y") == []
    # The API did get the key, and only the API: the CDN never saw it.
    assert any(r.headers.get("x-api-key") == key for r in simulator.requests)
    cdn = [r for r in simulator.requests if r.host_role == "cdn"]
    assert cdn
    assert not any(key in str(r.headers) for r in cdn)


# -- local data and local files: never a traceback, a hang or a leak -----------------------------

EXIT_DATA = 8  # the history file can't be used as it is


def _journal_of(history: History) -> Path:
    """The history's file, with its WAL folded in (so damaging the file damages the history)."""
    path = history.data_dir / "journal.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()  # the last connection: SQLite removes the -wal and -shm files
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _damage_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:2 * page] = b"\xa5" * page  # page 2: the generations table
    path.write_bytes(bytes(data))


def _set_in_journal(path: Path, sql: str) -> None:
    db = sqlite3.connect(path)
    db.execute(sql)
    db.commit()
    db.close()


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a database \x00\xff" * 400)


JOURNAL_FAULTS: list[tuple[str, Callable[[Path], None], tuple[str, ...]]] = [
    ("garbage bytes", _garbage, ("is damaged and can't be read",)),
    ("a corrupt page", _damage_page, ("is damaged and can't be read",)),
    ("a newer schema", lambda p: _set_in_journal(p, "PRAGMA user_version=99"),
     ("was written by a newer Runway Desktop (schema 99)", "Update Runway Desktop")),
    ("a stage from a newer version",
     lambda p: _set_in_journal(p, "UPDATE generations SET stage = 'teleporting'"),
     ("was written by a newer Runway Desktop", "'teleporting'")),
]


@pytest.mark.parametrize(("damage", "fragments"),
                         [pytest.param(d, f, id=i) for i, d, f in JOURNAL_FAULTS])
@pytest.mark.parametrize("command", [["jobs"], ["generate", PROMPT], ["resume", "--json"]],
                         ids=["jobs", "generate", "resume"])
def test_an_unusable_history_says_where_and_how_to_start_fresh(
    sim: Simulator, history: History, command: list[str],
    damage: Callable[[Path], None], fragments: tuple[str, ...],
) -> None:
    journal = _journal_of(history)
    damage(journal)
    damaged = journal.read_bytes()
    ledger = Ledger.of(sim)

    result = run_cli(*command, env=history.env(sim))

    assert result.code == EXIT_DATA, str(result)
    assert result.stdout == ""
    assert_one_line_message(result, str(journal), *fragments, "runway-desktop reset-history")
    assert journal.read_bytes() == damaged  # left exactly as it was
    assert Ledger.of(sim) == ledger  # nothing was sent, nothing charged


def test_reset_history_keeps_the_damaged_file_and_starts_fresh(
    sim: Simulator, history: History
) -> None:
    journal = _journal_of(history)
    _set_in_journal(journal, "UPDATE generations SET stage = 'teleporting'")
    damaged = journal.read_bytes()
    env = history.env(sim)

    reset = run_cli("reset-history", env=env)

    assert reset.code == 0, str(reset)
    kept = list(history.data_dir.glob("journal.sqlite3.bad-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == damaged
    assert str(kept[0]) in reset.stderr
    assert "To undo, move it back" in reset.stderr
    listed = run_cli("jobs", "--json", env=env)
    assert (listed.code, listed.stdout, listed.stderr) == (0, "", "")
    # A readable history is left alone.
    again = run_cli("reset-history", env=env)
    assert again.code == 0, str(again)
    assert "is readable: left as it is" in again.stderr
    assert len(list(history.data_dir.glob("journal.sqlite3.bad-*"))) == 1


def test_an_empty_history_file_is_started_afresh_and_said_once(
    sim: Simulator, history: History
) -> None:
    journal = _journal_of(history)
    journal.write_bytes(b"")
    env = history.env(sim)

    first = run_cli("jobs", "--json", env=env)

    assert first.code == 0, str(first)
    assert first.stdout == ""
    assert_one_line_message(first, str(journal), "was empty (0 bytes)",
                            "restore that file from a backup")
    second = run_cli("jobs", "--json", env=env)
    assert (second.code, second.stdout, second.stderr) == (0, "", "")


ODD_SETTINGS = [
    ("version abc", '{"version": "abc"}', 'its version is "abc"'),
    ("null", "null", "it holds null"),
    ("output_dir 5", '{"version": 1, "output_dir": 5}', "output_dir: 5"),
    ("not json", "{nope", "it isn't valid JSON"),
    ("a list", '[{"output_dir": "/x"}]', "it holds a list"),
]


@pytest.mark.parametrize(("text", "reason"),
                         [pytest.param(t, r, id=i) for i, t, r in ODD_SETTINGS])
def test_an_odd_settings_file_is_kept_aside_and_said_once(
    sim: Simulator, history: History, text: str, reason: str
) -> None:
    settings_file = history.data_dir / "settings.json"
    settings_file.write_text(text)
    env = history.env(sim)

    first = run_cli("jobs", "--json", env=env)

    assert first.code == 0, str(first)
    assert [row["id"] for row in first.json_lines()] == [history.seed.row["id"]]
    line = assert_one_line_message(first, str(settings_file), reason, "back to the defaults")
    backups = list(history.data_dir.glob("settings.json.bad-*"))
    assert len(backups) == 1
    assert backups[0].read_text() == text
    assert backups[0].name in line
    second = run_cli("jobs", "--json", env=env)
    assert second.code == 0, str(second)
    assert second.stderr == ""


def test_a_generation_runs_with_an_odd_output_dir_setting(
    sim: Simulator, history: History, files: dict[str, Path]
) -> None:
    (history.data_dir / "settings.json").write_text('{"version": 1, "output_dir": 5}')
    result = run_cli("generate", PROMPT, "--image", files["good"], "--json",
                     env=history.env(sim))
    assert result.code == 0, str(result)
    assert Path(result.one()["video_path"]).parent == default_output(history.home)
    assert "output_dir: 5" in result.stderr


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "pipe.png")  # opening it for reading waits for a writer for ever
    return folder / "pipe.png"


def _dangling_link(folder: Path) -> Path:
    (folder / "link.jpg").symlink_to(folder / "gone.jpg")
    return folder / "link.jpg"


NOT_FILES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("fifo", _fifo, "it's a pipe (FIFO), not a regular file"),
    ("device", lambda _folder: Path("/dev/zero"), "it's a device, not a regular file"),
    ("dangling link", _dangling_link, "it's a link to a file that doesn't exist"),
]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(),
                    reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize(("make", "problem"),
                         [pytest.param(m, p, id=i) for i, m, p in NOT_FILES])
def test_a_path_that_is_not_a_regular_file_is_refused_promptly(
    sim: Simulator, history: History, tmp_path: Path,
    make: Callable[[Path], Path], problem: str,
) -> None:
    """A FIFO used to hang the CLI for ever (opened before its type was checked)."""
    path = make(tmp_path)
    ledger = Ledger.of(sim)
    try:
        # Generous for a loaded machine; a hang is what this guards against.
        result = run_cli("generate", PROMPT, "--image", path, env=history.env(sim), timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`generate --image {path.name}` hung")
    assert result.code == 2, str(result)
    assert_one_line_message(result, f"Can't read “{path.name}”: {problem}.")
    assert history.assert_earlier_generation_intact() == []
    assert Ledger.of(sim) == ledger


def _gps_photo(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    Image.new("RGB", (640, 360), (200, 60, 30)).save(path, "JPEG", exif=exif, quality=90)
    assert b"Exif" in path.read_bytes()
    return path


def _uploaded_bytes(sim: Simulator, data_dir: Path, generation_id: int) -> bytes:
    """What the simulator received, fetched back from its CDN like Runway's workers do."""
    row = next(r for r in journal_rows(data_dir) if r["id"] == generation_id)
    assert row["uploaded_url"].startswith(sim.cdn_base_url)
    with urllib.request.urlopen(row["uploaded_url"], timeout=10) as response:
        return bytes(response.read())


@pytest.mark.parametrize("keep", [False, True], ids=["default", "keep_image_metadata"])
def test_an_uploaded_photo_carries_no_exif_or_gps_unless_asked(
    sim: Simulator, tmp_path: Path, home: Path, keep: bool
) -> None:
    photo = _gps_photo(tmp_path / "phone.jpg")
    data = tmp_path / "data"
    data.mkdir()
    if keep:
        (data / "settings.json").write_text('{"version": 1, "keep_image_metadata": true}')

    result = run_cli("generate", PROMPT, "--image", photo, "--json",
                     env=cli_env(sim.base_url, data, home))

    assert result.code == 0, str(result)
    uploaded = _uploaded_bytes(sim, data, result.one()["id"])
    if keep:
        assert uploaded == photo.read_bytes()
        return
    assert b"Exif" not in uploaded
    assert b"PhoneMaker" not in uploaded
    with Image.open(io.BytesIO(uploaded)) as img:
        assert img.format == "JPEG"
        assert not img.getexif()
        assert img.getexif().get_ifd(0x8825) == {}
        assert img.convert("RGB").tobytes() == Image.open(photo).convert("RGB").tobytes()
    assert photo.read_bytes().count(b"PhoneMaker") == 1  # the person's file is untouched
    assert not (data / "work").exists() or list((data / "work").iterdir()) == []


def test_a_heic_photo_becomes_a_video_and_uploads_as_a_clean_jpeg(
    sim: Simulator, tmp_path: Path, home: Path
) -> None:
    """An iPhone-like HEIC (120 × 80 stored, turned 90°, GPS in EXIF): the CLI used to refuse it."""
    heic = Path(__file__).parent / "engine" / "data" / "phone-gps.heic"
    data = tmp_path / "data"

    result = run_cli("generate", PROMPT, "--image", heic, "--aspect", "9:16", "--json",
                     env=cli_env(sim.base_url, data, home))

    assert result.code == 0, str(result)
    row = result.one()
    assert_complete_mp4(Path(row["video_path"]), load_clips()["9:16"])
    uploaded = _uploaded_bytes(sim, data, row["id"])
    assert b"Exif" not in uploaded
    with Image.open(io.BytesIO(uploaded)) as img:
        assert (img.format, img.size) == ("JPEG", (80, 120))
        assert not img.getexif()


def test_ctrl_c_while_an_image_is_prepared_ends_within_two_seconds(
    sim: Simulator, history: History, tmp_path: Path
) -> None:
    """Preparing a big picture takes seconds; Ctrl-C used to wait for it to finish."""
    noise = tmp_path / "noise.png"  # 4096² RGBA noise, 64 MB: PNG tries at 4096² down to 1434²
    Image.frombytes("RGBA", (4096, 4096), os.urandom(4096 * 4096 * 4)).save(
        noise, compress_level=0)
    work = history.data_dir / "work"
    ledger = Ledger.of(sim)
    proc = start_cli("generate", PROMPT, "--image", noise, env=history.env(sim))
    try:
        while not (work.exists() and any(work.iterdir())):  # the encoder's first try
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        _out, err = proc.communicate(timeout=60)
        elapsed = time.monotonic() - interrupted
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert elapsed < 2.0, f"exit took {elapsed:.1f} s after Ctrl-C"
    assert "Traceback" not in err
    assert "stopped" in err
    assert history.assert_earlier_generation_intact() == []  # nothing half-journaled
    assert Ledger.of(sim) == ledger


def _stop_at(proc: subprocess.Popen[str], data_dir: Path, stages: set[str], signum: int,
             ) -> tuple[str, dict[str, Any]]:
    """Send `signum` once the newest row is in one of `stages`; its stderr and that row. The
    command exits 128 + signum (130 for Ctrl+C, 143 for SIGTERM), as `export` does."""
    try:
        while not ((rows := journal_rows(data_dir)) and rows[-1]["stage"] in stages):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.01)
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
    return err, journal_rows(data_dir)[-1]


def test_stopping_a_generation_cancels_what_was_not_sent_and_keeps_what_is_paid(
    make_simulator: Callable[..., Simulator], files: dict[str, Path], tmp_path: Path,
    home: Path,
) -> None:
    """Ctrl+C before anything reached apiframe cancels the generation: the next command (or the
    window) used to carry it on and charge for what the person had stopped. Stopped (SIGTERM
    too, as `timeout` sends) once apiframe has it, it is kept, the person is told it is paid,
    and `resume` saves it without paying again."""
    sim = make_simulator(seconds_per_job=1.5)
    env = cli_env(sim.base_url, tmp_path / "data", home)
    sim.faults.routes, sim.faults.slow_seconds = {"upload"}, 30.0  # stays uploading
    proc = start_cli("generate", PROMPT, "--image", files["good"], env=env)

    err, row = _stop_at(proc, tmp_path / "data", {"uploading"}, signal.SIGINT)

    assert row["stage"] == "cancelled"
    assert f"stopped before #{row['id']} was sent to apiframe: it is cancelled and nothing was " \
           "charged." in err
    assert "resume" not in err
    # Its terminal closed (SIGHUP) killed it outright: the generation never sent stayed
    # "uploading", and the next command (or the window) paid for it.
    proc = start_cli("generate", "a closed terminal", "--image", files["good"], env=env)
    _err, row = _stop_at(proc, tmp_path / "data", {"uploading"}, signal.SIGHUP)
    assert row["stage"] == "cancelled"
    sim.faults.slow_seconds = 0.0
    proc = start_cli("generate", "the one I meant", "--image", files["good"], env=env)

    err, row = _stop_at(proc, tmp_path / "data", {"queued", "processing"}, signal.SIGTERM)

    assert f"#{row['id']} is paid and apiframe keeps making it. Run `runway-desktop resume`" in err
    resumed = run_cli("resume", "--json", env=env)
    assert resumed.code == 0, resumed
    assert [r["status"] for r in resumed.json_lines()] == ["done"]  # not the cancelled one
    assert sim.jobs_created() == 1
    assert [r["stage"] for r in journal_rows(tmp_path / "data")] == ["cancelled", "cancelled",
                                                                      "done"]


def test_an_empty_history_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """`jobs` on a new data folder said nothing at all (`sequence list` says 'No sequences
    yet'); with --json it stays silent: no lines is the answer."""
    from runway_desktop import cli

    monkeypatch.setattr(cli, "setup_logging", lambda *_args, **_kwargs: None)
    assert cli.main(["jobs"]) == cli.EXIT_OK
    assert cli.main(["jobs", "--json"]) == cli.EXIT_OK
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("No generations yet. `runway-desktop generate \"…\" --image photo.jpg` makes "
                   "one.\n")


def test_jobs_names_the_generation_a_refunded_failure_was_sent_again_as(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    """The window's row says 'Failed · Sent again as #2' (f93ab36); `jobs` showed only the
    failure, so from a terminal it looked unretried (and `jobs --json` had no link)."""
    import json

    from runway_desktop import cli, paths
    from runway_desktop.engine.journal import Journal
    from runway_desktop.engine.records import GenerationSettings, Stage

    monkeypatch.setattr(cli, "setup_logging", lambda *_args, **_kwargs: None)
    journal = Journal(paths.journal_path(tmp_path))
    failed = journal.add(GenerationSettings(PROMPT, seed=1), stage=Stage.FAILED)
    journal.update(failed.id, error="Provider returned an error. Your credits were refunded.")
    copy = journal.add(GenerationSettings(PROMPT, seed=1))
    journal.update(failed.id, sent_again_as=copy.id)
    journal.close()

    assert cli.main(["--data-dir", str(tmp_path), "jobs"]) == cli.EXIT_OK
    assert cli.main(["--data-dir", str(tmp_path), "jobs", "--json"]) == cli.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert f"sent again as #{copy.id}. Provider returned an error." in lines[0]
    assert "sent again" not in lines[1]
    assert [json.loads(line)["sent_again_as"] for line in lines[2:]] == [copy.id, None]


def test_a_prompt_too_long_says_how_runway_counts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """501 emoji are 1,002 characters as Runway counts them (UTF-16): said so, and by how much
    to shorten it, as the window's counter does. In-process: refused before any key or server."""
    from runway_desktop import cli

    monkeypatch.setattr(cli, "setup_logging", lambda *_args, **_kwargs: None)
    assert cli.main(["generate", "😀" * 501]) == cli.EXIT_INPUT
    assert cli.main(["generate", "a" * 1001]) == cli.EXIT_INPUT
    emoji, letters = capsys.readouterr().err.splitlines()
    assert emoji == ("runway-desktop: The prompt is 1,002 characters; the limit is 1,000. Runway "
                     "counts an emoji (and a few other symbols) as 2 characters: shorten it by 2.")
    assert letters == "runway-desktop: The prompt is 1,001 characters; the limit is 1,000."


def test_an_image_under_home_written_with_a_tilde_is_found(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    files: dict[str, Path],
) -> None:
    """`--image=~/kite.png` (no shell expands a ~ after =) was 'the file doesn't exist', where
    `--out ~/…` was understood. In-process: the image is checked, then the missing key stops it."""
    from runway_desktop import cli

    monkeypatch.setattr(cli, "setup_logging", lambda *_args, **_kwargs: None)
    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copy(files["good"], tmp_path / "kite.png")

    def no_key() -> str:
        raise cli.CliError("no key here", cli.EXIT_AUTH)

    monkeypatch.setattr(cli, "_require_key", no_key)
    assert cli.main(["generate", PROMPT, "--image=~/kite.png"]) == cli.EXIT_AUTH
    assert capsys.readouterr().err == "runway-desktop: no key here\n"


def test_the_progress_line_says_when_apiframe_cant_be_reached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """At a terminal, an outage showed '#2 uploading 0%' for half a minute of retries with no word
    of why (the window shows a banner). The engine's problem is said once, on its own line; a key
    or credit problem stops the generation, whose own message says it at the end."""
    from runway_desktop import cli
    from runway_desktop.engine.events import Problem, ProblemChanged, ProblemKind
    from runway_desktop.engine.records import Action

    offline = "Can't reach apiframe — check your internet connection."
    cli._progress_line(ProblemChanged(Problem(ProblemKind.OFFLINE, offline, Action.RETRY)))
    cli._progress_line(ProblemChanged(None))
    cli._progress_line(ProblemChanged(Problem(ProblemKind.AUTH, "refused", Action.OPEN_SETTINGS)))
    err = capsys.readouterr().err
    assert err.strip() == f"{offline} Trying again…"
    assert err.endswith("\n")


def test_the_data_folder_can_be_named_after_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    """`runway-desktop jobs --data-dir D` was 'unrecognized arguments: --data-dir D': only
    `runway-desktop --data-dir D jobs` was understood. Given before, it still counts."""
    from runway_desktop import cli
    from runway_desktop.engine.journal import Journal
    from runway_desktop.engine.records import GenerationSettings

    journal = Journal(tmp_path / "elsewhere" / "journal.sqlite3")
    journal.add(GenerationSettings("a kite kept elsewhere", seed=1))
    journal.close()
    monkeypatch.setattr(cli, "setup_logging", lambda *_args, **_kwargs: None)
    assert cli.main(["jobs", "--data-dir", str(tmp_path / "elsewhere")]) == cli.EXIT_OK
    assert cli.main(["--data-dir", str(tmp_path / "elsewhere"), "jobs"]) == cli.EXIT_OK
    assert capsys.readouterr().out.count("a kite kept elsewhere") == 2


def test_a_prompt_stdout_cant_encode_is_printed_escaped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """`jobs > list.txt` on Windows writes the ANSI code page: a Japanese prompt (or `me`'s '·')
    ended the command with 'something unexpected went wrong (UnicodeEncodeError)'."""
    from runway_desktop import cli
    from runway_desktop.engine.journal import Journal
    from runway_desktop.engine.records import GenerationSettings

    journal = Journal(tmp_path / "data" / "journal.sqlite3")
    journal.add(GenerationSettings("桜の花びら", seed=1))
    journal.close()
    monkeypatch.setattr(cli, "setup_logging", lambda *_args, **_kwargs: None)
    written = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(written, encoding="cp1252"))
    assert cli.main(["--data-dir", str(tmp_path / "data"), "jobs"]) == cli.EXIT_OK
    sys.stdout.flush()
    assert "'\\u685c\\u306e\\u82b1\\u3073\\u3089'" in written.getvalue().decode("cp1252")
