"""The box walk that proves a downloaded MP4 whole, on the real sample clips."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.engine.mp4_check import Mp4Verdict, check_mp4, check_mp4_stream

CLIPS = Path(__file__).resolve().parents[2] / "resources" / "clips"
CLIP_NAMES = sorted(p.name for p in CLIPS.glob("*.mp4"))
SAMPLE = (CLIPS / "16x9.mp4").read_bytes()


def verdict(data: bytes) -> Mp4Verdict:
    return check_mp4_stream(io.BytesIO(data), len(data)).verdict


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")


def test_there_are_sample_clips() -> None:
    assert len(CLIP_NAMES) >= 6


@pytest.mark.parametrize("name", CLIP_NAMES)
def test_every_sample_clip_is_whole(name: str) -> None:
    check = check_mp4(CLIPS / name)
    assert check.whole, check.reason
    assert {b"ftyp", b"moov", b"mdat"} <= set(check.boxes)


def test_no_prefix_of_a_clip_is_whole() -> None:
    """Every possible cut of a real clip — at box boundaries and inside boxes — is caught."""
    for cut in range(len(SAMPLE)):
        assert verdict(SAMPLE[:cut]) is Mp4Verdict.TRUNCATED, cut


@pytest.mark.parametrize("name", CLIP_NAMES)
def test_cuts_of_every_clip_at_box_boundaries_are_truncated(name: str) -> None:
    data = (CLIPS / name).read_bytes()
    offset = 0
    while offset < len(data):
        for cut in (offset, offset + 1, offset + 7, offset + 8, offset + 9):
            if cut < len(data):
                assert verdict(data[:cut]) is Mp4Verdict.TRUNCATED, (name, cut)
        offset += struct.unpack(">I", data[offset : offset + 4])[0]


@given(st.binary(min_size=1, max_size=64))
def test_anything_appended_spoils_it(tail: bytes) -> None:
    assert verdict(SAMPLE + tail) is not Mp4Verdict.WHOLE


def test_not_an_mp4_is_malformed() -> None:
    assert verdict(b"<!doctype html><html>error</html>") is Mp4Verdict.MALFORMED
    assert verdict(box(b"moov") + box(b"mdat")) is Mp4Verdict.MALFORMED  # no ftyp first


def test_missing_moov_or_mdat_is_not_whole() -> None:
    assert verdict(FTYP + box(b"mdat", b"x" * 100)) is Mp4Verdict.TRUNCATED
    assert verdict(FTYP + box(b"moov", b"x" * 100)) is Mp4Verdict.TRUNCATED
    assert verdict(FTYP + box(b"moov", b"x") + box(b"mdat", b"y")) is Mp4Verdict.WHOLE


def test_a_box_that_claims_too_little_is_malformed() -> None:
    assert verdict(FTYP + struct.pack(">I4s", 4, b"moov")) is Mp4Verdict.MALFORMED


def test_a_size_zero_box_is_never_vouched_for() -> None:
    """Size 0 means "to the end of the file": a cut file would look whole."""
    data = FTYP + box(b"moov", b"x") + struct.pack(">I4s", 0, b"mdat") + b"media"
    assert verdict(data) is Mp4Verdict.MALFORMED


def test_64_bit_box_sizes() -> None:
    mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + 5) + b"media"
    assert verdict(FTYP + box(b"moov", b"x") + mdat) is Mp4Verdict.WHOLE
    assert verdict(FTYP + box(b"moov", b"x") + mdat[:-1]) is Mp4Verdict.TRUNCATED
    assert verdict(FTYP + box(b"moov", b"x") + mdat[:12]) is Mp4Verdict.TRUNCATED


def test_garbage_between_boxes_is_malformed() -> None:
    spliced = SAMPLE[:40] + (CLIPS / "9x16.mp4").read_bytes()[2000:]
    assert verdict(spliced) is not Mp4Verdict.WHOLE
