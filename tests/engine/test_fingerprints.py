"""Content fingerprints of start images: what tells one picture from another at the same path."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from runway_desktop.engine.fingerprints import file_sha256, sha256_of


def test_a_files_fingerprint_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk
    path = tmp_path / "pic.png"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit elsewhere: another picture
    assert file_sha256(path) != hashlib.sha256(data).hexdigest()


def test_an_open_file_is_hashed_from_its_start_and_left_where_it_was() -> None:
    handle = io.BytesIO(b"0123456789")
    handle.seek(4)
    assert sha256_of(handle) == hashlib.sha256(b"0123456789").hexdigest()
    assert handle.tell() == 4


def test_what_cannot_be_read_as_a_file_has_none(tmp_path: Path) -> None:
    assert file_sha256(tmp_path / "gone.png") is None
    assert file_sha256(tmp_path) is None  # a folder


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_put_at_the_path_is_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "start.png"
    os.mkfifo(fifo)
    assert file_sha256(fifo) is None  # returns at once: no writer will ever come
