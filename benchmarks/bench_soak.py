"""Soak and faults: 500 generations through a server that fails 20 % of requests, with the app
SIGKILLed at random, the server restarted in the middle, and a disk that fills during a download.

The "app" is the command line — `runway-desktop generate --no-wait` and `runway-desktop resume`
— one process at a time on one data dir (one journal shared across every restart), exactly as
a script would drive it. The server is `sim_server.py` in its own process with a state file, so
a restart keeps its jobs, balances and idempotency keys (a real server keeps its database).

At the end every one of the 500 prompts must have exactly one finished row, exactly one job on
the server (charged once), and one MP4 on disk whose media (its `mdat`) is identical byte for
byte to what the server sent — the app then writes the generation's settings into the MP4's
`moov`, which must name the row's own job — and no converted start image left in data/work.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._common import (
    CLIPS,
    MB,
    PYTHON,
    SimProcess,
    child_env,
    metric,
    padded_mp4,
    scratch_root,
)

KEY = "afk_soak"
GENERATIONS = 500
FAULTS = {  # about one request in five goes wrong, in every way the simulator knows
    "error_rate": 0.11,  # 500 / 503 (502 on uploads)
    "drop_rate": 0.05,  # connection closed before the request is handled
    "lose_response_rate": 0.05,  # handled (job created, charged), answer never sent
    "cdn_drop_rate": 0.1,  # video downloads cut before the body
}
TRUNCATED_PER_ROUND = 3  # and a few downloads cut halfway through the body, every round
KILL_GENERATE = 0.2  # share of `generate --no-wait` processes SIGKILLed at a random moment
KILL_RESUME = 0.4  # share of `resume` processes SIGKILLed at a random moment
DISK_CLIP_MB = 8


class Soak:
    def __init__(self, seed: int = 6) -> None:
        self.rng = random.Random(seed)
        self.root = scratch_root() / "soak"
        self.data = self.root / "data"
        self.out = self.root / "videos"
        self.home = self.root / "home"
        for folder in (self.data, self.out, self.home):
            folder.mkdir(parents=True)
        from runway_desktop import settings

        settings.save(self.data, settings.Settings(output_dir=str(self.out)))
        self.clips = self.root / "clips"
        self.clips.mkdir()
        for clip in CLIPS.glob("*.mp4"):  # 1:1 is the big one: the disk-full download
            if clip.stem == "1x1":
                padded_mp4(clip, self.clips / clip.name, DISK_CLIP_MB * MB)
            else:
                (self.clips / clip.name).write_bytes(clip.read_bytes())
        self.image = self.root / "start.png"
        from PIL import Image, PngImagePlugin

        # With a text chunk: every upload is a metadata-free copy the app writes into
        # data/work, so a SIGKILL mid-upload can leave one (counted as "work files left").
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", "soak")
        Image.new("RGB", (640, 360), (30, 90, 160)).save(self.image, pnginfo=info)
        self.sim = SimProcess(  # jobs take 0.3-2 s: the soak is about faults, not waiting
            "--key", KEY, "--credits", "100000000", "--max-concurrent", "20",
            "--min-seconds", "0.3", "--max-seconds", "2.0", "--seed", "20",
            "--clips-dir", str(self.clips), "--state-file", str(self.root / "server-state.pkl"),
            "--faults", json.dumps(FAULTS), name="soak-sim")
        self.counts: Counter[str] = Counter()
        self.events: list[str] = []
        self.prompts = [self._prompt(i) for i in range(GENERATIONS)]

    def _prompt(self, i: int) -> str:
        return f"soak {i:03d} " + self.rng.choice(
            ["a red kite over dunes", "waves on a cliff", "a fox in the snow",
             "neon rain on a tram", "a slow pan over a glacier"])

    # -- processes ----------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        return child_env(APIFRAME_API_KEY=KEY, APIFRAME_BASE_URL=self.sim.base_url,
                         HOME=str(self.home), RUNWAY_DESKTOP_POLL_SECONDS="0.1",
                         RUNWAY_DESKTOP_RETRY_SECONDS="0.05")

    def _cli(self, *args: str, kill_after: float | None = None, timeout: float = 300) -> int:
        """Run one CLI process; SIGKILL it after `kill_after` seconds if it is still running."""
        proc = subprocess.Popen([PYTHON, "-m", "runway_desktop", "--data-dir", str(self.data),
                                 *args], env=self._env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            proc.wait(kill_after if kill_after is not None else timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.counts["sigkills"] += 1
            return -9
        finally:
            if proc.stderr:
                err = proc.stderr.read()
                if proc.returncode not in (0, -9) and err:
                    self.events.append(f"{args[0]} exit {proc.returncode}: {err.strip()[:200]}")
                proc.stderr.close()
        self.counts[f"{args[0]} exit {proc.returncode}"] += 1
        return proc.returncode

    def _rows(self) -> list[dict[str, Any]]:
        from runway_desktop import paths

        db_path = paths.journal_path(self.data)
        if not db_path.exists():
            return []
        db = sqlite3.connect(db_path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in db.execute("SELECT * FROM generations ORDER BY id")]
        finally:
            db.close()
        # Settings live in one JSON column ({model, params, images}): flat keys, as before.
        return [{**row, **json.loads(row["settings_json"])["params"]} for row in rows]

    # -- phases -------------------------------------------------------------------------------

    def _submit(self, index: int) -> None:
        prompt = self.prompts[index]
        args = ["generate", prompt, "--no-wait",
                "--aspect", self.rng.choice(["16:9", "16:9", "9:16", "4:3", "21:9"]),
                "--duration", self.rng.choice(["5", "10"])]
        if index % 10 == 0:
            args += ["--image", str(self.image)]
        # A `generate --no-wait` lives ~0.5 s: kill it while it journals, uploads or posts.
        kill = self.rng.uniform(0.25, 0.65) if self.rng.random() < KILL_GENERATE else None
        self._cli(*args, kill_after=kill)

    def _resume(self, *, kill: bool) -> int:
        return self._cli("resume", kill_after=self.rng.uniform(0.5, 4.0) if kill else None)

    def _disk_full(self) -> dict[str, Any]:
        """One generation saved into a small disk that fills during its download."""
        mount = self.root / "small-disk"
        mount.mkdir()
        size_mb = DISK_CLIP_MB + 4
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs",
                               str(mount)], capture_output=True, text=True)
        if made.returncode != 0:
            return {"skipped": f"mount failed: {made.stderr.strip()}"}
        try:
            filler = mount / "filler.bin"
            filler.write_bytes(b"\0" * ((size_mb - DISK_CLIP_MB // 2) * MB))  # ~4 MB left
            prompt = "soak disk-full a wide shot that will not fit"
            code = self._cli("generate", prompt, "--aspect", "1:1", "--out", str(mount))
            row = next(r for r in self._rows() if r["prompt"] == prompt)
            part = Path(row["video_path"] + ".part") if row["video_path"] else None
            stopped = {"exit": code, "stage": row["stage"], "error": row["error"],
                       "part_bytes": part.stat().st_size if part and part.exists() else 0}
            filler.unlink()  # the person frees some space…
            resumed = self._cli("resume")  # …and carries on
            row = next(r for r in self._rows() if r["prompt"] == prompt)
            video = Path(row["video_path"]) if row["video_path"] else None
            same = bool(video and video.exists()
                        and _media_sha(video) == _media_sha(self.clips / "1x1.mp4"))
            result = {"stopped": stopped, "resume_exit": resumed, "final_stage": row["stage"],
                      "file_identical": same,
                      "parts_left": [p.name for p in mount.glob("*.part")]}
            if video and video.exists():  # keep it for the final count, off the small disk
                shutil.move(video, self.out / video.name)
                from runway_desktop import paths

                db = sqlite3.connect(paths.journal_path(self.data))
                with db:
                    db.execute("UPDATE generations SET video_path = ? WHERE id = ?",
                               (str(self.out / video.name), row["id"]))
                db.close()
            return result
        finally:
            subprocess.run(["umount", str(mount)], capture_output=True)

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        self.sim.start()
        disk: dict[str, Any] = {}
        restarted_at = None
        try:
            journaled: set[str] = set()
            order = list(range(GENERATIONS))
            rounds = 0
            while len(journaled) < GENERATIONS:
                rounds += 1
                batch = [i for i in order if self.prompts[i] not in journaled][
                    : self.rng.randint(15, 40)]
                self.sim.set_faults(truncate_downloads_next=TRUNCATED_PER_ROUND)
                for index in batch:
                    self._submit(index)
                journaled = {r["prompt"] for r in self._rows()}
                if restarted_at is None and len(journaled) >= GENERATIONS // 2:
                    self.sim.restart()  # the server restarts mid-run, keeping its state
                    restarted_at = len(journaled)
                    self.events.append(f"server restarted with {restarted_at} journaled")
                if not disk and len(journaled) >= GENERATIONS * 3 // 4:
                    disk = self._disk_full()
                self._resume(kill=self.rng.random() < KILL_RESUME)
            # The end: resume until nothing is left (a run may stop on faults: exit 6).
            for _ in range(20):
                left = [r for r in self._rows() if r["stage"] not in ("done", "failed")]
                if not left:
                    break
                self._resume(kill=False)
            stats = self.sim.stats()
        finally:
            self.sim.stop()
        return self._verdict(stats, disk, restarted_at, rounds, time.monotonic() - started)

    # -- verdict ------------------------------------------------------------------------------

    def _verdict(self, stats: dict[str, Any], disk: dict[str, Any], restarted_at: int | None,
                 rounds: int, seconds: float) -> dict[str, Any]:
        from runway_desktop.engine.video.metadata import read_video_settings

        rows = self._rows()
        by_prompt: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_prompt.setdefault(row["prompt"], []).append(row)
        jobs_by_prompt = Counter(job["prompt"] for job in stats["jobs"].values())
        clip_sha = {p.stem.replace("x", ":"): _media_sha(p) for p in self.clips.glob("*.mp4")}
        lost, duplicated, corrupt, charged_twice = [], [], [], []
        for prompt in self.prompts:
            mine = by_prompt.get(prompt, [])
            if len(mine) > 1:
                duplicated.append(prompt)
            done = [r for r in mine if r["stage"] == "done"]
            if not done:
                lost.append(prompt)
                continue
            row = done[0]
            video = Path(row["video_path"] or "")
            if not video.is_file() or _media_sha(video) != clip_sha[row["aspect_ratio"]]:
                corrupt.append(prompt)
            elif (saved := read_video_settings(video)) is not None and (
                    saved.job_id != row["job_id"]):
                corrupt.append(prompt)  # the settings written into it are another job's
            if jobs_by_prompt[prompt] != 1:
                charged_twice.append(f"{prompt}: {jobs_by_prompt[prompt]} server jobs")
        work = self.data / "work"
        work_left = sorted(str(p.relative_to(work)) for p in work.rglob("*")
                           if p.is_file() and p.name != ".lock") if work.is_dir() else []
        mp4s = sorted(p.name for p in self.out.glob("*.mp4"))
        parts = sorted(p.name for p in self.out.glob("*.part"))
        done_rows = [r for r in rows if r["stage"] == "done"]
        stray = len(mp4s) - len(done_rows)
        faults = Counter(r["outcome"] for r in stats["requests"] if r["outcome"] != "answered")
        errors = Counter(r["status"] for r in stats["requests"] if (r["status"] or 0) >= 500)
        total_requests = len(stats["requests"])
        faulted = sum(faults.values()) + sum(errors.values())
        charged = stats["debited"] - stats["refunded"]
        return {
            "seconds": round(seconds, 1),
            "rounds": rounds,
            "generations": GENERATIONS,
            "server_restarted_after_journaled": restarted_at,
            "disk_full": disk,
            "processes": dict(self.counts),
            "requests": total_requests,
            "faulted_requests": faulted,
            "fault_share": round(faulted / max(1, total_requests), 3),
            "faults": {**{str(k): v for k, v in faults.items()},
                       **{f"http {k}": v for k, v in errors.items()}},
            "server_jobs": len(stats["jobs"]),
            "credits_charged": charged,
            "credits_expected": sum(8 if r["duration"] == 5 else 15 for r in done_rows),
            "stray_files": stray,
            "parts_left": parts,
            "work_files_left": work_left,
            "lost": lost,
            "duplicated": duplicated + charged_twice,
            "corrupt": corrupt,
            "events": self.events[:30],
            "metrics": {
                "lost": metric(len(lost), "generations", target="0", met=not lost,
                               note=f"of {GENERATIONS}, through {faulted:,} faulted requests "
                                    f"({100 * faulted / max(1, total_requests):.0f} % of "
                                    f"{total_requests:,}), {self.counts['sigkills']} SIGKILLs "
                                    "and a server restart"),
                "duplicated": metric(len(duplicated) + len(charged_twice), "generations",
                                     target="0", met=not duplicated and not charged_twice,
                                     note=f"{len(stats['jobs'])} jobs on the server for "
                                          f"{GENERATIONS + (1 if disk.get('stopped') else 0)} "
                                          "generations; no prompt journaled twice"),
                "corrupt": metric(len(corrupt) + len(parts) + max(0, stray), "files",
                                  target="0", met=not corrupt and not parts and stray <= 0,
                                  note="every MP4's media (mdat) identical to the server's "
                                       "and its settings comment naming its own job; no .part "
                                       "or stray file left"),
                "work_files_left": metric(len(work_left), "files", target="0",
                                          met=not work_left,
                                          note="converted start images in data/work after the "
                                               "last resume (each upload writes one)"),
            },
        }


def _media_sha(path: Path) -> str:
    """SHA-256 of a video's media: its `mdat` boxes. The app writes the generation's settings
    into the MP4's `moov` (engine/video/metadata.py) once it is downloaded, so the file is no
    longer the server's byte for byte; its pictures and sound must be."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as handle:
        offset = 0
        while offset + 8 <= size:
            handle.seek(offset)
            header = handle.read(16)
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            start = 8
            if length == 1:
                length, start = int.from_bytes(header[8:16], "big"), 16
            elif length == 0:
                length = size - offset
            if length < start:
                return f"damaged at {offset}"
            if kind == b"mdat":
                handle.seek(offset + start)
                left = length - start
                while left > 0 and (block := handle.read(min(left, 1 << 20))):
                    digest.update(block)
                    left -= len(block)
            offset += length
    return digest.hexdigest()


def run() -> dict[str, Any]:
    return Soak().run()


if __name__ == "__main__":
    with contextlib.suppress(KeyError):
        os.environ.pop("PYTHONDONTWRITEBYTECODE")
    print(json.dumps(run(), indent=1))
