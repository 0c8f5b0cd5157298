"""`generate` from the command line saves the settings with the video too, and honours the
sidecar setting of the shared settings file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from runway_desktop.engine.video.metadata import read_video_settings, sidecar_path
from runway_desktop.simulator import Simulator, SimulatorConfig
from tests.helpers.cli import cli_env, run_cli


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(seconds_per_job=0.2)) as simulator:
        yield simulator


@pytest.mark.parametrize("sidecar", [True, False], ids=["default", "sidecar-off"])
def test_generate_saves_the_settings_in_the_video_and_beside_it_unless_turned_off(
    sim: Simulator, tmp_path: Path, sidecar: bool
) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    out.mkdir()
    if not sidecar:
        (data / "settings.json").write_text('{"version": 1, "settings_sidecar": false}')

    result = run_cli("generate", "a kite at dusk", "--seed", "77", "--duration", "10",
                     "--out", out, "--json", env=cli_env(sim.base_url, data, tmp_path / "home"))

    assert result.code == 0, str(result)
    row = result.one()
    video = Path(row["video_path"])
    found = read_video_settings(video)
    assert found is not None
    assert (found.settings.prompt, found.settings.seed, found.settings.duration,
            found.job_id, found.generation_id) == ("a kite at dusk", 77, 10, row["job_id"],
                                                   row["id"])
    if sidecar:
        assert json.loads(sidecar_path(video).read_text(encoding="utf-8")) == found.to_json()
        assert sorted(p.name for p in out.iterdir()) == sorted([video.name,
                                                                sidecar_path(video).name])
    else:
        assert [p.name for p in out.iterdir()] == [video.name]
