"""The CDN origin: finished videos, byte ranges, no key (contract §4.3, §14)."""

from __future__ import annotations

import struct

import httpx
import pytest

from runway_desktop.simulator import Simulator
from runway_desktop.simulator.media import clips_dir
from tests.simulator.sim_helpers import StartSim, body, client_for, poll, submit


@pytest.fixture
def video(sim: Simulator, api: httpx.Client) -> str:
    return str(poll(api, submit(api, body(aspect_ratio="21:9")))["result"]["videoUrl"])


def test_cdn_is_a_different_origin(sim: Simulator) -> None:
    assert sim.cdn_base_url != sim.base_url


def test_video_is_a_real_mp4_for_the_aspect_ratio(
    sim: Simulator, video: str, cdn: httpx.Client
) -> None:
    response = cdn.get(video)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(response.content))
    size, box = struct.unpack(">I4s", response.content[:8])
    assert box == b"ftyp"
    assert response.content[size + 4 : size + 8] == b"moov"  # +faststart: playable while loading
    assert response.content == (clips_dir() / "21x9.mp4").read_bytes()
    assert all(r.headers.get("x-api-key") is None for r in sim.requests if r.host_role == "cdn")
    assert any(r.host_role == "cdn" for r in sim.requests)


def test_video_is_404_until_completed(start_sim: StartSim, cdn: httpx.Client) -> None:
    sim = start_sim(seconds_per_job=60)
    with client_for(sim) as client:
        job_id = submit(client)
    url = f"{sim.cdn_base_url}/videos/{job_id}.mp4"
    missing = cdn.get(url)
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not found"}
    sim.set_job_outcome(job_id, "COMPLETED")
    assert cdn.head(url).status_code == 200


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=100-", 100, None),
        ("bytes=0-99", 0, 99),
        ("bytes=-10", -10, None),
        ("bytes=5-999999999", 5, None),
    ],
)
def test_ranges_give_206(
    video: str, cdn: httpx.Client, header: str, first: int, last: int | None
) -> None:
    full = cdn.get(video).content
    part = cdn.get(video, headers={"Range": header})
    assert part.status_code == 206
    expected = full[first:] if last is None else full[first : last + 1]
    assert part.content == expected
    start = first % len(full)
    assert part.headers["content-range"] == f"bytes {start}-{start + len(expected) - 1}/{len(full)}"


def test_unsatisfiable_range_is_416(video: str, cdn: httpx.Client) -> None:
    size = int(cdn.head(video).headers["content-length"])
    response = cdn.get(video, headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


def test_cdn_only_serves_get_and_head(video: str, cdn: httpx.Client) -> None:
    assert cdn.post(video).status_code == 405
    assert cdn.get(video.replace("/videos/", "/elsewhere/")).status_code == 404


def test_etag_and_if_range(video: str, cdn: httpx.Client) -> None:
    """A resumed download names the file it started (RFC 9110 §13.1.5): same file → 206 with
    the rest; any other validator → 200 with the whole file, so nothing gets spliced."""
    full = cdn.get(video)
    etag = full.headers["etag"]
    assert etag.startswith('"')  # strong
    assert cdn.get(video).headers["etag"] == etag
    same = cdn.get(video, headers={"Range": "bytes=100-", "If-Range": etag})
    assert same.status_code == 206
    assert same.content == full.content[100:]
    changed = cdn.get(video, headers={"Range": "bytes=100-", "If-Range": '"another-file"'})
    assert changed.status_code == 200
    assert changed.content == full.content
