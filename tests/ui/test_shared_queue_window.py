"""The real window open on a data dir while `runway-desktop generate` commands run on it too:
the commands all finish, and the window's queue lists their generations while they run."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from runway_desktop.simulator import Simulator
from tests.helpers.cli import assert_complete_mp4, cli_env, start_cli


@pytest.fixture
def simulator(make_simulator: Any) -> Simulator:
    """Each job on the server for 2 s: the window (which checks the history twice a second)
    must show every generation on its way, not only once it is finished."""
    sim: Simulator = make_simulator(seconds_per_job=2.0, seed=21)
    return sim


def test_four_parallel_generates_with_the_window_open_are_listed_live(
        app_controller: Any, qtbot: QtBot, simulator: Simulator, data_dir: Path,
        output_dir: Path, tmp_path: Path) -> None:
    model = app_controller.window.queue.model
    home = tmp_path / "cli-home"
    home.mkdir()
    env = cli_env(simulator.base_url, data_dir, home)
    commands = [start_cli("generate", f"kite number {n}", "--seed", str(n), "--out", output_dir,
                          "--json", env=env) for n in range(4)]
    stages: dict[int, set[Stage]] = defaultdict(set)
    listed_while_running = 0

    def all_done() -> bool:
        nonlocal listed_while_running
        running = any(command.poll() is None for command in commands)
        for generation in model.generations():
            stages[generation.id].add(generation.stage)
        if running:
            listed_while_running = max(listed_while_running, model.rowCount())
        return (not running and model.rowCount() == 4
                and all(g.stage is Stage.DONE and g.thumbnail_path  # made by the window
                        for g in model.generations()))

    try:
        qtbot.waitUntil(all_done, timeout=90_000)
    finally:
        outputs = [command.communicate(timeout=60) for command in commands]
    assert [command.returncode for command in commands] == [0, 0, 0, 0], outputs
    assert listed_while_running == 4  # all four in the window before the commands ended
    for seen in stages.values():  # each shown on its way, not only once finished
        assert any(not stage.is_settled for stage in seen), seen
    assert simulator.jobs_created("afk_test") == 4
    for generation in model.generations():
        assert_complete_mp4(Path(generation.video_path or ""))
        assert Path(generation.thumbnail_path or "").is_file()
