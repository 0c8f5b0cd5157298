"""Run every benchmark, write benchmarks/results/latest.json, update docs/performance.md.

    benchmarks/run                      # everything (~11 min on 2 cores)
    benchmarks/run --only startup,soak  # some sections
    benchmarks/run --no-frozen          # skip the frozen-bundle startup comparison

Each section runs in its own processes and is timed; a section that fails is recorded as an
error (with its traceback) and the others still run. The report is regenerated from the JSON by
benchmarks/report.py (tables, and plots drawn with Qt's QPainter).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import RESULTS, ROOT, machine, scratch_root


def _sections(args: argparse.Namespace) -> dict[str, Callable[[], dict[str, Any]]]:
    from benchmarks import (
        bench_app,
        bench_gallery,
        bench_images,
        bench_soak,
        bench_startup,
        bench_throughput,
    )

    return {
        "startup": lambda: bench_startup.run(frozen=not args.no_frozen),
        "responsiveness": bench_app.responsiveness,
        "batch": bench_app.batch_submit,
        "scale": bench_app.scale,
        "gallery": bench_gallery.run,
        "throughput": bench_throughput.run,
        "efficiency": bench_app.efficiency,
        "idle": bench_app.idle_cpu,
        "soak": bench_soak.run,
        "images": bench_images.run,
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated sections: startup, responsiveness, "
                        "batch, scale, gallery, throughput, efficiency, idle, soak, images")
    parser.add_argument("--no-frozen", action="store_true", help="skip the frozen startup")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--no-report", action="store_true", help="don't touch docs/")
    args = parser.parse_args(argv)
    sections = _sections(args)
    chosen = args.only.split(",") if args.only else list(sections)
    unknown = [name for name in chosen if name not in sections]
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    scratch = scratch_root()
    results: dict[str, Any] = {
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "machine": machine(),
        "sections": {},
    }
    # A previous run's figures stay for the sections not run this time.
    if args.only and args.out.exists():
        previous = json.loads(args.out.read_text())
        results["sections"] = previous.get("sections", {})
    started = time.monotonic()
    try:
        for name in chosen:
            print(f"[benchmarks] {name}…", flush=True)
            t0 = time.monotonic()
            try:
                section = sections[name]()
            except Exception as error:  # one broken section must not lose the others
                section = {"error": f"{type(error).__name__}: {error}",
                           "traceback": traceback.format_exc()}
            section["seconds"] = round(time.monotonic() - t0, 1)
            section["ran_at"] = datetime.datetime.now().astimezone().isoformat(
                timespec="seconds")
            results["sections"][name] = section
            status = "error" if "error" in section else "ok"
            print(f"[benchmarks] {name}: {status} in {section['seconds']} s", flush=True)
            for key, figure in section.get("metrics", {}).items():
                mark = {True: "met", False: "MISSED", None: ""}[figure.get("met")]
                print(f"    {key:<28} {figure.get('value')!s:>10} {figure.get('unit', ''):<16}"
                      f" {figure.get('target', '')} {mark}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        os.environ.pop("RUNWAY_BENCH_TMP", None)
    results["seconds"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, default=str) + "\n")
    tmp.replace(args.out)
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"[benchmarks] wrote {shown} ({results['seconds']} s)")
    if not args.no_report:
        from benchmarks import report

        report.write(results)
        print("[benchmarks] updated docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
