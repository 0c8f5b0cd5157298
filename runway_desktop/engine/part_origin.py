"""Which file a `.part` was cut from, so a resume asks for the rest of that file and no other.

A resumed download sends `Range` plus `If-Range: <validator>`: the server answers 206 with
the rest only if its file is still the one the part started from, else 200 with the whole
new file. The validator is the strong `ETag`, else `Last-Modified`; it is kept beside the
part in `<name>.part.origin` (a few bytes of JSON). A part without one is never resumed:
splicing the end of one file onto the start of another would give a broken video.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only named here: a light import for the window's removals and commands
    import httpx

MAX_VALIDATOR_LENGTH = 256  # longer header values are not worth keeping (nor trusting)


@dataclass(frozen=True)
class PartOrigin:
    etag: str | None = None  # strong entity tag only: weak ones may not go in If-Range
    last_modified: str | None = None
    total: int | None = None  # the whole file's size, when the server said

    @classmethod
    def from_response(cls, resp: httpx.Response, total: int | None) -> PartOrigin:
        etag = _header(resp, "etag")
        if etag is not None and (etag.startswith("W/") or not etag.startswith('"')):
            etag = None  # weak (or malformed): can't prove the bytes are identical
        return cls(etag=etag, last_modified=_header(resp, "last-modified"), total=total)

    @property
    def if_range(self) -> str | None:
        """The `If-Range` value, or None when this part can't be resumed safely."""
        return self.etag or self.last_modified

    def agrees_with(self, resp: httpx.Response, total: int | None) -> bool:
        """Whether a 206 answer is the rest of the same file (for servers that ignore
        If-Range but still say what they send)."""
        etag = _header(resp, "etag")
        if self.etag and etag and etag != self.etag:
            return False
        return not (self.total is not None and total is not None and total != self.total)


def part_path(dest: Path) -> Path:
    """Where the bytes of `dest` collect until it is complete (delete it to give up)."""
    return dest.with_name(dest.name + ".part")


def origin_path(part: Path) -> Path:
    return part.with_name(part.name + ".origin")


def discard_part(dest: Path) -> None:
    """Give up the download of `dest`: its `.part` and the note of where it came from (left
    alone, either stays beside the person's videos for ever)."""
    part = part_path(dest)
    with contextlib.suppress(OSError):
        part.unlink(missing_ok=True)
    discard_origin(part)


def save_origin(part: Path, origin: PartOrigin) -> None:
    """Record (or, without a validator, forget) where the part's bytes come from."""
    path = origin_path(part)
    if origin.if_range is None:
        discard_origin(part)
        return
    data = {"etag": origin.etag, "last_modified": origin.last_modified, "total": origin.total}
    try:
        path.write_text(json.dumps(data), encoding="utf-8")
    except OSError:
        discard_origin(part)  # no record: the part will start over instead of resuming


def load_origin(part: Path) -> PartOrigin | None:
    """The recorded origin of `part`, or None when there is none worth trusting."""
    try:
        data = json.loads(origin_path(part).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    etag, modified, total = data.get("etag"), data.get("last_modified"), data.get("total")
    origin = PartOrigin(
        etag=etag if _usable(etag) else None,
        last_modified=modified if _usable(modified) else None,
        total=total if isinstance(total, int) and not isinstance(total, bool) else None,
    )
    return origin if origin.if_range else None


def discard_origin(part: Path) -> None:
    with contextlib.suppress(OSError):
        origin_path(part).unlink(missing_ok=True)


def _header(resp: httpx.Response, name: str) -> str | None:
    value = resp.headers.get(name)
    return value.strip() if _usable(value) else None


def _usable(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value.strip()) <= MAX_VALIDATOR_LENGTH
        and value.isprintable()
    )
