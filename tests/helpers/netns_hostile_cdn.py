"""Run inside a private network namespace (only loopback exists): a simulator whose finished
jobs point at `argv[2]`, and the real CLI's `generate` against it. Prints one JSON line.

Used by tests/test_cli_untrusted_links.py; nothing here can reach another machine, because in
the namespace there is no other machine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from runway_desktop.simulator import Simulator, SimulatorConfig
from tests.helpers.cli import cli_env, run_cli


def main(root: Path, video_url: str) -> None:
    with Simulator(SimulatorConfig(seconds_per_job=0.2, seed=7)) as sim:
        sim.faults.video_url_override = video_url
        out = root / "out"
        out.mkdir()
        result = run_cli("generate", "a red kite over dunes", "--out", out,
                         env=cli_env(sim.base_url, root / "data", root / "home"))  # fmt: skip
        print(json.dumps({
            "code": result.code,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "saved": sorted(p.name for p in out.iterdir()),
            "jobs": sim.jobs_created("afk_test"),
            "cdn_requests": [r.path for r in sim.requests if r.host_role == "cdn"],
        }))  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
