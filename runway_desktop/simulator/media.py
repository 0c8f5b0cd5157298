"""Media: the sample clips served as "generated" videos, magic-byte sniffing, HTTP byte ranges."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from runway_desktop.simulator.config import ASPECT_RATIOS

CLIP_NAMES = {ratio: ratio.replace(":", "x") + ".mp4" for ratio in ASPECT_RATIOS}


def clips_dir() -> Path:
    """Folder holding the sample clips, from a source tree, an install or a PyInstaller bundle.

    Looks next to the package first (`runway_desktop/../resources/clips`), then under
    `sys._MEIPASS` (the bundle's unpack folder) when frozen.
    """
    candidates = [Path(__file__).resolve().parents[2] / "resources" / "clips"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources" / "clips")
    for folder in candidates:
        if (folder / CLIP_NAMES["16:9"]).is_file():
            return folder
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"sample clips not found (searched {searched})")


def load_clips(folder: Path | None = None) -> dict[str, bytes]:
    """Every clip's bytes by aspect ratio; read once so serving never touches the disk.

    `folder` (SimulatorConfig.clips_dir) replaces the shipped clips, e.g. with big ones.
    """
    folder = Path(folder) if folder is not None else clips_dir()
    return {ratio: (folder / name).read_bytes() for ratio, name in CLIP_NAMES.items()}


@dataclass(frozen=True)
class Sniffed:
    kind: str  # image | video | audio
    content_type: str
    ext: str


def sniff(data: bytes) -> Sniffed | None:
    """Detect a file's type from its first bytes (the declared content type is ignored, §5)."""
    head = data[:32]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "image/jpeg", "jpg")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Sniffed("image", "image/gif", "gif")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Sniffed("image", "image/webp", "webp")
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return Sniffed("audio", "audio/wav", "wav")
    if head.startswith(b"OggS"):
        return Sniffed("audio", "audio/ogg", "ogg")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "video/webm", "webm")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return Sniffed("video", "video/quicktime", "mov")
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return Sniffed("audio", "audio/mp4", "m4a")
        return Sniffed("video", "video/mp4", "mp4")
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return Sniffed("video", "video/quicktime", "mov")  # QuickTime files predating ftyp
    if head.startswith(b"ID3") or _mpeg_audio_frame(head):
        return Sniffed("audio", "audio/mpeg", "mp3")
    return None


def _mpeg_audio_frame(head: bytes) -> bool:
    # 11-bit frame sync, then a layer other than 00 (00 is AAC/ADTS, not MP3).
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0


class Unsatisfiable(Exception):
    """A Range that selects no byte of the file: answer 416."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte a Range header asks for, or None to send the whole file.

    Malformed and multi-range headers are ignored (RFC 9110 allows that); a single range that
    starts past the end raises Unsatisfiable.
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash:
        return None
    first_text, last_text = first_text.strip(), last_text.strip()
    if not first_text:  # suffix range: the last N bytes
        if not last_text.isdigit():
            return None
        length = int(last_text)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - length), size - 1
    if not first_text.isdigit() or (last_text and not last_text.isdigit()):
        return None
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        raise Unsatisfiable
    return first, min(last, size - 1)
