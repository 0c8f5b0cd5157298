"""Commands that only read the history start without what going online needs: `jobs` and
`sequence list` imported the engine's scheduler, httpx, the keyring and Pillow (~0.27 s a
start, more than half of it unused)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runway_desktop.engine.journal import Journal
from runway_desktop.engine.records import GenerationSettings, Stage
from tests.helpers.cli import journal_file

# Loaded only by the commands that go online (or make an image, or read the key).
ONLINE_ONLY = ("httpx", "runway_desktop.engine.scheduler", "keyring", "PIL")


def modules_after(data_dir: Path, *command: str) -> tuple[int, str, list[str]]:
    """Run `runway-desktop COMMAND` in a fresh interpreter: its exit code, what it printed and
    the modules it had loaded at the end."""
    probe = (
        "import json, sys\n"
        "from runway_desktop.__main__ import main\n"
        f"code = main([*{list(command)!r}, '--data-dir', {str(data_dir)!r}])\n"
        "sys.stdout.flush()\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIFRAME_")}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    *printed, last = result.stdout.strip().splitlines()
    report = json.loads(last)
    return report["code"], "\n".join(printed), report["modules"]


@pytest.mark.parametrize("command", [("jobs",), ("jobs", "--json"), ("sequence", "list")])
def test_reading_the_history_loads_nothing_for_going_online(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    journal = Journal(journal_file(tmp_path))
    try:
        journal.add(GenerationSettings("a kite over the dunes", seed=7), stage=Stage.DONE,
                    job_id="a8a8a8a8-0000-4000-8000-000000000001", credit_cost=8,
                    video_path=str(tmp_path / "kite.mp4"))
    finally:
        journal.close()
    code, printed, modules = modules_after(tmp_path, *command)
    assert code == 0
    if command[0] == "jobs":
        assert "kite.mp4" in printed  # it did list the history
    loaded = [m for m in modules if any(m == late or m.startswith(late + ".")
                                        for late in ONLINE_ONLY)]
    assert loaded == [], f"`runway-desktop {' '.join(command)}` loaded {loaded}"
