"""POST /v2/uploads and the uploaded files on the CDN (contract §5)."""

from __future__ import annotations

import re

import httpx
import pytest

from runway_desktop.simulator import Simulator
from tests.simulator.sim_helpers import StartSim, body, client_for, png, poll, submit, upload

MB = 1024 * 1024
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_png_upload_is_sniffed_and_served_back(
    sim: Simulator, api: httpx.Client, cdn: httpx.Client
) -> None:
    data = png()
    response = upload(api, data, "picture.jpg")  # name and declared type both lie
    assert response.status_code == 201
    answer = response.json()
    assert set(answer) == {"id", "url", "kind", "contentType", "byteSize", "expiresAt"}
    assert (answer["kind"], answer["contentType"], answer["byteSize"]) == (
        "image",
        "image/png",
        len(data),
    )
    assert re.fullmatch(rf"{re.escape(sim.cdn_base_url)}/uploads/{UUID}\.png", answer["url"])
    served = cdn.get(answer["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.content == data
    head = cdn.head(answer["url"])
    assert head.headers["content-length"] == str(len(data))
    assert head.content == b""


@pytest.mark.parametrize(
    ("data", "kind", "content_type"),
    [
        (b"\xff\xd8\xff\xe0" + bytes(64), "image", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(64), "image", "image/webp"),
        (b"GIF89a" + bytes(64), "image", "image/gif"),
        (b"\x00\x00\x00\x18ftypisom" + bytes(64), "video", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  " + bytes(64), "video", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3" + bytes(64), "video", "video/webm"),
        (b"ID3\x04" + bytes(64), "audio", "audio/mpeg"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(64), "audio", "audio/wav"),
        (b"OggS" + bytes(64), "audio", "audio/ogg"),
        (b"\x00\x00\x00\x18ftypM4A " + bytes(64), "audio", "audio/mp4"),
    ],
)
def test_types_come_from_magic_bytes(
    api: httpx.Client, data: bytes, kind: str, content_type: str
) -> None:
    answer = upload(api, data).json()
    assert (answer["kind"], answer["contentType"]) == (kind, content_type)


def test_unknown_types_and_missing_files_are_400(api: httpx.Client) -> None:
    text = upload(api, b"just some text\n", "notes.png")
    assert text.status_code == 400
    assert "file" in text.json()["details"]
    wrong_field = api.post("/v2/uploads", files={"image": ("a.png", png(), "image/png")})
    assert wrong_field.status_code == 400
    not_multipart = api.post("/v2/uploads", content=png(), headers={"Content-Type": "image/png"})
    assert not_multipart.status_code == 400
    assert upload(api, b"").status_code == 400


def test_size_caps_per_kind(start_sim: StartSim) -> None:
    sim = start_sim(max_image_bytes=1000, max_video_bytes=2000)
    mp4 = b"\x00\x00\x00\x18ftypisom"
    with client_for(sim) as client:
        assert upload(client, png() + bytes(1000 - len(png()))).status_code == 201
        big_image = upload(client, png() + bytes(1001 - len(png())))
        assert big_image.status_code == 400
        assert "too large" in big_image.json()["details"]["file"][0]
        assert upload(client, mp4 + bytes(1500)).status_code == 201  # video may be larger
        assert upload(client, mp4 + bytes(2001)).status_code == 400


def test_real_25_mb_image_cap(api: httpx.Client) -> None:
    response = upload(api, png() + bytes(25 * MB + 1 - len(png())))
    assert response.status_code == 400


def test_uploads_expire(sim: Simulator, api: httpx.Client, cdn: httpx.Client) -> None:
    url = upload(api, png()).json()["url"]
    sim.advance_clock(3599)
    assert cdn.get(url).status_code == 200
    sim.advance_clock(2)
    assert cdn.get(url).status_code == 404
    job = poll(api, submit(api, body(image=url)))  # the provider cannot fetch it any more
    assert job["status"] == "FAILED"
    assert "promptImage" in job["error"]


def test_uploaded_image_feeds_a_job(api: httpx.Client) -> None:
    url = upload(api, png()).json()["url"]
    assert poll(api, submit(api, body(image=url)))["status"] == "COMPLETED"


def test_gif_is_accepted_by_uploads_but_failed_by_the_provider(api: httpx.Client) -> None:
    url = upload(api, b"GIF89a" + bytes(64)).json()["url"]
    job = poll(api, submit(api, body(image=url)))
    assert job["status"] == "FAILED"
    assert "image/gif" in job["error"]
