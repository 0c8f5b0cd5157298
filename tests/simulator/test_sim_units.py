"""Pure helpers: byte ranges, sniffing, cursors, URIs, clip lookup."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.simulator import media
from runway_desktop.simulator.media import Unsatisfiable, parse_range
from runway_desktop.simulator.schema import decode_cursor, encode_cursor, is_uri


@given(size=st.integers(1, 10_000), first=st.integers(0, 20_000), extra=st.integers(0, 20_000))
def test_ranges_stay_inside_the_file(size: int, first: int, extra: int) -> None:
    try:
        got = parse_range(f"bytes={first}-{first + extra}", size)
    except Unsatisfiable:
        assert first >= size
        return
    assert got is not None
    assert got[0] == first
    assert first <= got[1] <= size - 1


@pytest.mark.parametrize(
    "header", [None, "", "items=0-1", "bytes=0-1,5-6", "bytes=x-", "bytes=9-3"]
)
def test_odd_range_headers_mean_the_whole_file(header: str | None) -> None:
    assert parse_range(header, 100) is None


def test_cursor_round_trip() -> None:
    job_id = "3f0b8a1e-4c2d-4e5f-9a6b-7c8d9e0f1a2b"
    assert decode_cursor(encode_cursor("2026-03-15T10:00:00.000Z", job_id)) == (
        "2026-03-15T10:00:00.000Z",
        job_id,
    )
    assert decode_cursor("%%%") is None


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("https://cdn.example/a.png", True),
        ("data:image/png;base64,AAAA", True),
        ("http://", False),
        ("a b", False),
        ("relative/path.png", False),
        ("", False),
    ],
)
def test_uri_format(text: str, ok: bool) -> None:
    assert is_uri(text) is ok


def test_clips_are_found_in_a_pyinstaller_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "resources" / "clips"
    bundled.mkdir(parents=True)
    (bundled / "16x9.mp4").write_bytes(b"clip")
    monkeypatch.setattr(media, "__file__", str(tmp_path / "a" / "b" / "pkg" / "media.py"))
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert media.clips_dir() == bundled
    monkeypatch.delattr(sys, "_MEIPASS")
    with pytest.raises(FileNotFoundError):
        media.clips_dir()


def test_every_clip_is_present() -> None:
    folder = media.clips_dir()
    for name in media.CLIP_NAMES.values():
        assert (folder / name).read_bytes()[4:8] == b"ftyp"
