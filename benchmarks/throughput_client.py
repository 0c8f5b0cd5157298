"""The app's side of the throughput benchmark, in its own process (so its memory is its own).

    python benchmarks/throughput_client.py download URL DEST
    python benchmarks/throughput_client.py upload BASE_URL FILE

Runs the app's own code — `engine.downloads.download_video` with a CDN client configured like
the engine's, or `api.ApiClient.upload_file` — and prints JSON: seconds, bytes, RSS before and
the peak RSS (VmHWM) of the process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


async def download(url: str, dest: Path) -> int:
    import httpx

    from runway_desktop import __version__
    from runway_desktop.engine import downloads

    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=15.0),
                                 follow_redirects=True,
                                 headers={"User-Agent": f"runway-desktop/{__version__}"}) as cdn:
        # The engine's policy for a local API: the benchmark's CDN is the simulator's (loopback).
        policy = downloads.UrlPolicy(allow_loopback=True)
        await downloads.download_video(cdn, url, dest, policy=policy)
    return dest.stat().st_size


async def upload(base_url: str, path: Path) -> int:
    from runway_desktop import api

    async with api.ApiClient("afk_bench", base_url) as client:
        await client.upload_file(path)
    return path.stat().st_size


def main() -> int:
    mode, where, path = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    # Import everything first: the figure is the transfer, not the imports.
    import httpx  # noqa: F401

    from runway_desktop import __version__, api  # noqa: F401
    from runway_desktop.engine import downloads  # noqa: F401

    rss_before = _status("VmRSS")
    started = time.perf_counter()
    size = asyncio.run(download(where, path) if mode == "download" else upload(where, path))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "bytes": size, "rss_before_mb": rss_before,
                      "rss_peak_mb": _status("VmHWM")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
