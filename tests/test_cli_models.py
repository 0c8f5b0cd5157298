"""`--model`: the CLI makes a Gen-4.5 video against the simulator, priced from /v2/models."""

from __future__ import annotations

import os
import pty
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from PIL import Image

from runway_desktop.simulator import Simulator, SimulatorConfig
from runway_desktop.simulator.media import load_clips
from tests.helpers.cli import CLI, CliResult, assert_complete_mp4, cli_env, run_cli

PRICES = {"runway-gen4-turbo": {5: 8, 10: 15}, "runway-gen4.5": {5: 31, 10: 62}}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(seconds_per_job=0.2, seed=45, prices=PRICES)) as simulator:
        yield simulator


def run_cli_in_terminal(*args: str | os.PathLike[str], env: Mapping[str, str]) -> CliResult:
    """Like run_cli, with stderr on a pseudo-terminal, as when a person runs the command."""
    leader, follower = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # EIO: the command closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        done = subprocess.run([*CLI, *map(str, args)], env=dict(env), stdout=subprocess.PIPE,
                              stderr=follower, stdin=subprocess.DEVNULL, timeout=60, check=False)
    finally:
        os.close(follower)
    reader.join(10)
    os.close(leader)
    stderr = b"".join(chunks).decode("utf-8", "replace")
    return CliResult(done.returncode, done.stdout.decode(), stderr, 0.0)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def test_generate_with_gen45_is_priced_from_apiframe_and_listed_with_its_model(
    sim: Simulator, tmp_path: Path, home: Path
) -> None:
    image = tmp_path / "heron.png"
    Image.new("RGB", (640, 360), (30, 90, 160)).save(image)
    out = tmp_path / "out"
    out.mkdir()
    env = cli_env(sim.base_url, tmp_path / "data", home)
    before = sim.credits("afk_test")

    result = run_cli_in_terminal("generate", "a heron lifts off", "--model", "runway-gen4.5",
                                 "--duration", "10", "--image", image, "--out", out, "--json",
                                 env=env)

    assert result.code == 0, str(result)
    row = result.one()
    assert row["model"] == "runway-gen4.5"
    assert row["status"] == "done"
    assert row["credit_cost"] == 62
    assert before - sim.credits("afk_test") == 62
    assert sim.job(row["job_id"])["model"] == "runway-gen4.5"
    assert_complete_mp4(Path(row["video_path"]), load_clips()["16:9"])
    # The price shown comes from /v2/models (the built-in table has none for Gen-4.5).
    assert "Runway Gen-4.5 · 10 s · 62 credits" in result.stderr, str(result)

    listed = run_cli("jobs", "--json", env=env)
    assert [(r["model"], r["credit_cost"]) for r in listed.json_lines()] == [
        ("runway-gen4.5", 62)]
    text = run_cli("jobs", env=env)
    assert "Gen-4.5 10s 16:9" in text.stdout, str(text)


def test_generate_defaults_to_gen4_turbo(sim: Simulator, tmp_path: Path, home: Path) -> None:
    env = cli_env(sim.base_url, tmp_path / "data", home)
    result = run_cli_in_terminal("generate", "a kite", "--json", env=env)
    assert result.code == 0, str(result)
    row = result.one()
    assert (row["model"], row["credit_cost"]) == ("runway-gen4-turbo", 8)
    assert sim.job(row["job_id"])["model"] == "runway-gen4-turbo"
    assert "Turbo · 5 s · 8 credits" in result.stderr


def test_an_unknown_model_is_refused_with_the_known_ones(tmp_path: Path, home: Path) -> None:
    env = cli_env("http://127.0.0.1:9", tmp_path / "data", home)
    result = run_cli("generate", "a kite", "--model", "kling-v9", env=env)
    assert result.code == 2
    assert "runway-gen4-turbo" in result.stderr
    assert "runway-gen4.5" in result.stderr
    assert "Traceback" not in result.stderr
