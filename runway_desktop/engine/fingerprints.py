"""A file's content fingerprint: the SHA-256 of its bytes.

What tells one picture from another put at the same path since (a frame chosen for the first
must not crop the second). Only a regular file is read: opened non-blocking and checked on the
open descriptor, so a FIFO or a device put at the path can't hang or flood the reader.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from runway_desktop.regular_files import kind_problem

_CHUNK = 1024 * 1024


def sha256_of(handle: BinaryIO) -> str:
    """SHA-256 (hex) of an open file's bytes from its start; its position is left as it was."""
    position = handle.tell()
    handle.seek(0)
    try:
        digest = hashlib.sha256()
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        handle.seek(position)


def file_sha256(path: str | os.PathLike[str]) -> str | None:
    """SHA-256 (hex) of the file at `path`; None when it can't be read as a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(Path(path), flags | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            if kind_problem(os.fstat(handle.fileno()).st_mode):
                return None
            return sha256_of(handle)
    except OSError:
        return None


__all__ = ["file_sha256", "sha256_of"]
