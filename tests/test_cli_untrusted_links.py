"""The command line handed a hostile video link, end to end, in a private network namespace
(`unshare --net`, loopback only): refused at once with a message naming the host, nothing
saved, the paid job kept — and even a wrong client could not have reached another machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# As root a network namespace needs no user namespace (and a chroot, like the fresh-machine CI's,
# forbids creating one); other users map themselves to root in a user namespace of their own.
UNSHARE = ("unshare", "--net") if os.geteuid() == 0 else ("unshare", "--net", "--map-root-user")


def _namespaces_work() -> bool:
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    probe = subprocess.run([*UNSHARE, "ip", "link", "set", "lo", "up"],
                           capture_output=True, check=False)  # fmt: skip
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _namespaces_work(), reason="no private network namespaces")


def run_isolated(tmp_path: Path, video_url: str) -> dict[str, object]:
    script = (f'ip link set lo up && exec "{sys.executable}" -m tests.helpers.netns_hostile_cdn '
              f'"{tmp_path}" "{video_url}"')  # fmt: skip
    done = subprocess.run([*UNSHARE, "sh", "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("video_url", "host", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/x.mp4?sig=s3cr3t", "169.254.169.254",
         "metadata"),
        ("http://10.1.2.3/videos/x.mp4", "10.1.2.3", "private"),
        ("http://cdn.example.com/videos/x.mp4", "cdn.example.com", "http://"),
    ],
)  # fmt: skip
def test_generate_refuses_a_hostile_video_link(tmp_path: Path, video_url: str, host: str,
                                               reason: str) -> None:
    result = run_isolated(tmp_path, video_url)

    stderr = str(result["stderr"])
    # Kept for the person (paid for; `resume` carries on), not a crash and not "done".
    assert result["code"] not in (0, 1), result
    assert host in stderr
    assert reason in stderr
    assert "Traceback" not in stderr
    assert "s3cr3t" not in stderr
    assert "meta-data" not in stderr  # the host only, never the signed path
    assert "connection" not in stderr.lower()
    assert result["saved"] == []
    assert result["jobs"] == 1  # submitted once, kept, never re-submitted
    assert result["cdn_requests"] == []
