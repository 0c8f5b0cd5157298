"""Peak memory and time of image preparation (engine/images.py) for hostile and huge inputs.

    python -m benchmarks.bench_images          # prints a table; benchmarks/run --only images

Each case is prepared in a fresh process (`--case`), so its peak RSS (`ru_maxrss`) is the
preparation's own, plus the interpreter with the engine imported (reported as `baseline`). The
target: any image is prepared — or refused with a clear message — in under 300 MB.

The PNGs are written row by row through zlib, never holding their pixels; the JPEG (noise at
quality 100) is encoded by Pillow in a child process of its own, so this process stays small.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import MB, PYTHON, ROOT, child_env, metric, scratch_root

TARGET_MB = 300


# -- test files, made without holding their pixels ---------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def streamed_png(path: Path, width: int, height: int, *, colour_type: int, channels: int,
                 row: Any, level: int) -> Path:
    """A PNG whose rows come from `row(y) -> bytes`, compressed as they come."""
    packer = zlib.compressobj(level)
    with path.open("wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)))
        pending = bytearray()
        for y in range(height):
            data = row(y)
            assert len(data) == width * channels
            pending += packer.compress(b"\x00" + data)
            if len(pending) >= 4 * MB:
                out.write(_chunk(b"IDAT", bytes(pending)))
                pending.clear()
        pending += packer.flush()
        out.write(_chunk(b"IDAT", bytes(pending)))
        out.write(_chunk(b"IEND", b""))
    return path


def flat_rgba_png(path: Path, side: int = 13000) -> Path:
    """The issue's 13000 × 13000 RGBA PNG of ~0.6 MB: one colour with a small darker square."""
    plain = bytes((40, 120, 200, 255)) * side
    marked = bytes((40, 120, 200, 255)) * (side // 2) + bytes((10, 10, 10, 255)) * 500 \
        + bytes((40, 120, 200, 255)) * (side - side // 2 - 500)
    return streamed_png(path, side, side, colour_type=6, channels=4, level=9,
                        row=lambda y: marked if 6000 <= y < 6500 else plain)


def noise_png(path: Path, width: int, height: int, *, alpha: bool) -> Path:
    """Random pixels stored uncompressed: file size ≈ width × height × channels."""
    channels = 4 if alpha else 3
    return streamed_png(path, width, height, colour_type=6 if alpha else 2, channels=channels,
                        level=0, row=lambda _y: os.urandom(width * channels))


def _make_jpeg(path: Path, width: int, height: int, orientation: int) -> None:
    """Runs in a child: a JPEG of noise (quality 100, ~3 bytes a pixel) with an EXIF turn."""
    from PIL import Image

    img = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    exif = Image.Exif()
    exif[0x0112] = orientation
    img.save(path, "JPEG", quality=100, subsampling=0, exif=exif)


def noise_jpeg(path: Path, width: int, height: int, orientation: int = 6) -> Path:
    subprocess.run([PYTHON, "-c", f"from benchmarks.bench_images import _make_jpeg; "
                    f"from pathlib import Path; _make_jpeg(Path({str(path)!r}), {width}, "
                    f"{height}, {orientation})"], cwd=ROOT, env=child_env(), check=True,
                   timeout=600)
    return path


# -- one measured preparation, in its own process --------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's peak RSS. Linux: VmHWM, which starts afresh at exec; `ru_maxrss` keeps the
    high-water mark of the process that forked this one (a test worker of 800 MB, say)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(source: Path, work: Path) -> dict[str, Any]:
    from runway_desktop.engine import images

    baseline = _peak_rss_mb()
    started = time.perf_counter()
    try:
        prepared = images.prepare_image(source, work)
    except images.ImageRejected as rejected:
        outcome: dict[str, Any] = {"outcome": "refused", "message": rejected.message}
    else:
        outcome = {"outcome": "prepared", "size": [prepared.width, prepared.height],
                   "bytes": prepared.byte_size, "note": prepared.note}
        if prepared.converted:
            prepared.path.unlink()
    outcome["seconds"] = round(time.perf_counter() - started, 2)
    outcome["baseline_mb"] = round(baseline, 1)
    outcome["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return outcome


def measure_in_child(source: Path, work: Path) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, "-m", "benchmarks.bench_images", "--case", str(source), "--work", str(work)],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measuring {source.name} failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["stderr"] = done.stderr.strip()  # must stay empty: no raw Pillow warning
    return result


CASES = {
    # name: (how to make the file, what it stands for)
    "flat_rgba_13000": (lambda p: flat_rgba_png(p), "13000 × 13000 RGBA PNG, mostly flat"),
    "noise_png_200mb": (lambda p: noise_png(p, 8200, 8200, alpha=False),
                        "8200 × 8200 RGB PNG of noise, ~200 MB"),
    "noise_jpeg_200mb": (lambda p: noise_jpeg(p, 8000, 6500),
                         "8000 × 6500 JPEG of noise at quality 100, ~200 MB, EXIF-rotated"),
    "largest_accepted_png": (lambda p: noise_png(p, 6550, 6550, alpha=True),
                             "6550 × 6550 RGBA PNG of noise (~164 MB): just under the cap "
                             "for decoding whole"),
}


def run(cases: list[str] | None = None) -> dict[str, Any]:
    folder = scratch_root() / "images"
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for name in cases or list(CASES):
        make, what = CASES[name]
        ext = ".jpg" if "jpeg" in name else ".png"
        source = make(folder / f"{name}{ext}")
        result = measure_in_child(source, folder / "work")
        result["file_mb"] = round(source.stat().st_size / MB, 1)
        result["what"] = what
        source.unlink()
        results[name] = result
        metrics[f"{name}_peak_rss"] = metric(
            result["peak_rss_mb"], "MB", target=f"< {TARGET_MB} MB",
            met=result["peak_rss_mb"] < TARGET_MB and not result["stderr"],
            note=f"{result['outcome']} in {result['seconds']} s ({what}, "
                 f"{result['file_mb']} MB file)")
    return {"metrics": metrics, "cases": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", type=Path, help="(internal) prepare this file and report")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--only", help=f"comma-separated cases: {', '.join(CASES)}")
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(_measure(args.case, args.work)))
        return 0
    try:
        results = run(args.only.split(",") if args.only else None)
    finally:
        shutil.rmtree(scratch_root(), ignore_errors=True)
    print(f"{'case':<22} {'file':>9} {'outcome':<9} {'seconds':>8} {'baseline':>9} "
          f"{'peak RSS':>9}")
    for name, r in results["cases"].items():
        print(f"{name:<22} {r['file_mb']:>6} MB {r['outcome']:<9} {r['seconds']:>8} "
              f"{r['baseline_mb']:>6} MB {r['peak_rss_mb']:>6} MB"
              f"{'  ' + r['stderr'] if r['stderr'] else ''}")
        detail = r.get("message") or r.get("note")
        print(f"{'':<22} {detail}")
    missed = [k for k, m in results["metrics"].items() if not m["met"]]
    print(f"target < {TARGET_MB} MB peak RSS: " + (f"MISSED by {missed}" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
