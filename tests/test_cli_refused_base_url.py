"""The command line given an API address the client refuses: one clear line, the config exit
code, and nothing left locked for the next command."""

from __future__ import annotations

from pathlib import Path

import pytest

from runway_desktop.cli import EXIT_INPUT
from runway_desktop.simulator import Simulator
from tests.helpers.cli import assert_one_line_message, cli_env, run_cli


@pytest.mark.parametrize("base_url", ["ftp://x", "http://example.com", "::garbage::"])
def test_a_refused_base_url_is_a_clear_error_and_the_next_command_runs(
    tmp_path: Path, simulator: Simulator, base_url: str
) -> None:
    data_dir = tmp_path / "data"
    refused = run_cli("generate", "a kite", "--out", tmp_path,
                      env=cli_env(base_url, data_dir, tmp_path))
    assert refused.code == EXIT_INPUT, str(refused)
    assert_one_line_message(refused, "API address")
    assert simulator.requests == []
    after = run_cli("resume", env=cli_env(simulator.base_url, data_dir, tmp_path))
    assert after.code == 0, str(after)  # not 7: "another Runway Desktop is running"
