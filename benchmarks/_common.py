"""What every benchmark shares: paths, the child environment, the simulator process, /proc
readings, statistics, and test data (padded MP4s, big histories, big images)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
CLIPS = ROOT / "resources" / "clips"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))
MB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# -- environment ------------------------------------------------------------------------------


def scratch_root() -> Path:
    """A per-run folder for data dirs, runtime dirs and big files (removed by the runner)."""
    base = os.environ.get("RUNWAY_BENCH_TMP")
    if base:
        return Path(base)
    path = Path(tempfile.mkdtemp(prefix="rdbench-"))
    os.environ["RUNWAY_BENCH_TMP"] = str(path)
    return path


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every measured process: offscreen Qt, private XDG dirs, bytecode on.

    Bytecode caching stays on (unlike some CI shells): a person's second start reads .pyc
    files, and so do both sides of every comparison here.
    """
    root = scratch_root()
    runtime = root / "xdg-runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "PYTHONDONTWRITEBYTECODE",
            "APIFRAME_API_KEY",
            "APIFRAME_BASE_URL",
            "RUNWAY_DESKTOP_POLL_SECONDS",
            "RUNWAY_DESKTOP_RETRY_SECONDS",
            "RUNWAY_DESKTOP_DATA_DIR",
        )
    }
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(runtime),
        XDG_CACHE_HOME=str(root / "xdg-cache"),
        XDG_CONFIG_HOME=str(root / "xdg-config"),  # QSettings (window geometry) stays private
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


# -- simulator process ------------------------------------------------------------------------


class SimProcess:
    """`benchmarks/sim_server.py` in a subprocess; restartable on the same ports."""

    def __init__(self, *args: str, name: str = "sim") -> None:
        self.args = list(args)
        self.folder = scratch_root() / f"{name}-{uuid.uuid4().hex[:6]}"
        self.folder.mkdir(parents=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self, *, same_ports: bool = False) -> SimProcess:
        ready = self.folder / "ready.json"
        ready.unlink(missing_ok=True)
        ports: list[str] = []
        if same_ports and self.info:
            ports = [
                "--api-port",
                str(self.info["api_port"]),
                "--cdn-port",
                str(self.info["cdn_port"]),
                "--control-port",
                str(self.info["control_port"]),
            ]
        log = (self.folder / "sim.log").open("ab")
        self.proc = subprocess.Popen(
            [PYTHON, str(BENCH / "sim_server.py"), "--ready-file", str(ready), *self.args, *ports],
            env=child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"simulator exited: {(self.folder / 'sim.log').read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError("simulator did not start")
            time.sleep(0.02)
        self.info = json.loads(ready.read_text())
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        for _ in range(50):  # the ports come back free within a moment
            try:
                self.start(same_ports=True)
                return
            except RuntimeError:
                time.sleep(0.1)
        raise RuntimeError("simulator did not come back on its ports")

    @property
    def base_url(self) -> str:
        return str(self.info["base_url"])

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def control(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            self.info["control_url"] + path, data=data, method="POST" if data is not None else "GET"
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        return self.control("/stats")

    def set_faults(self, **fields: Any) -> None:
        self.control("/faults", fields)

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- /proc ------------------------------------------------------------------------------------


def rss_mb(pid: int | None = None) -> float:
    """Resident set size in MiB (VmRSS)."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid or 'self'}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "loadavg_at_start": load,
        "python": sys.version.split()[0],
        "platform": sys.platform,
    }


# -- statistics -------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def metric(
    value: float | None,
    unit: str,
    *,
    target: str = "",
    met: bool | None = None,
    floor: float | None = None,
    ratio: float | None = None,
    note: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """One figure of the report: the value, its target and whether it is met."""
    return {
        "value": value,
        "unit": unit,
        "target": target,
        "met": met,
        "floor": floor,
        "ratio": ratio,
        "note": note,
        **extra,
    }


# -- test data --------------------------------------------------------------------------------


def padded_mp4(source: Path, dest: Path, size: int) -> Path:
    """`source` followed by one top-level `free` box up to `size` bytes: a valid, playable MP4.

    ISO BMFF players skip `free` boxes, so the file decodes (and thumbnails) like the clip.
    """
    data = source.read_bytes()
    pad = size - len(data)
    if pad < 8 or pad >= 2**32:
        raise ValueError("size out of range")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        out.write(data)
        out.write(pad.to_bytes(4, "big") + b"free")
        block = b"\0" * MB
        left = pad - 8
        while left > 0:
            out.write(block[: min(left, MB)])
            left -= min(left, MB)
    return dest


def big_clips_dir(folder: Path, *, big_ratio: str = "21x9", size: int = 100 * MB) -> Path:
    """A clips folder: the shipped clips, with one aspect ratio padded to `size` bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for clip in CLIPS.glob("*.mp4"):
        if clip.stem == big_ratio:
            padded_mp4(clip, folder / clip.name, size)
        else:
            (folder / clip.name).write_bytes(clip.read_bytes())
    return folder


WORDS = [
    "red",
    "kite",
    "dunes",
    "harbour",
    "dusk",
    "slow",
    "dolly",
    "neon",
    "city",
    "rain",
    "fox",
    "forest",
    "mist",
    "ocean",
    "wave",
    "lighthouse",
    "desert",
    "caravan",
    "snow",
    "peak",
    "glacier",
    "tram",
    "street",
    "market",
    "lantern",
    "koi",
    "pond",
    "meadow",
    "horse",
    "gallop",
    "cliff",
    "eagle",
    "aurora",
    "canyon",
    "river",
    "boat",
    "bridge",
    "train",
    "tunnel",
]


def prompt(rng: random.Random, n: int = 8) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def make_thumbnail_jpeg(path: Path) -> Path:
    """A 320×180 JPEG like the ones the app writes for finished videos."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 180), (40, 70, 110))
    draw = ImageDraw.Draw(image)
    for i in range(0, 320, 16):
        draw.line([(i, 0), (320 - i, 180)], fill=(200, 120 + i % 100, 60), width=3)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=85)
    return path


def fill_history(data_dir: Path, count: int, *, seed: int = 1) -> dict[str, Any]:
    """A journal with `count` finished generations, each with its own thumbnail file.

    Rows go in with one transaction (the app's own `Journal.add` commits each row with a full
    fsync, which is right for a person and hours for 100,000 rows). Thumbnails are hard links
    of one JPEG: every row has its own path, so the app's cache can't share decodes.
    """
    from runway_desktop import paths
    from runway_desktop.engine.journal import _COLUMNS, Journal
    from runway_desktop.engine.records import GenerationSettings

    journal_path = paths.journal_path(data_dir)
    Journal(journal_path).close()  # creates and migrates the schema
    thumbs = paths.thumbnails_dir(data_dir)
    thumbs.mkdir(parents=True, exist_ok=True)
    master = make_thumbnail_jpeg(data_dir / "thumb-master.jpg")
    videos = data_dir / "videos"
    rng = random.Random(seed)
    now = time.time()
    columns = [c for c in _COLUMNS if c != "id"]
    rows = []
    for i in range(count):
        thumb = thumbs / f"h{i}.jpg"
        if i % 50_000 == 0 and i:  # ext4 allows 65,000 links to one file
            master = make_thumbnail_jpeg(data_dir / f"thumb-master-{i}.jpg")
        os.link(master, thumb)
        created = now - (count - i) * 60.0
        job = str(uuid.UUID(int=rng.getrandbits(128)))
        settings = GenerationSettings(
            prompt=prompt(rng),
            duration=rng.choice((5, 10)),
            aspect_ratio=rng.choice(("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")),
            seed=rng.randrange(2**32),
        )
        values = {
            "settings_json": json.dumps(settings.to_json()),
            "idempotency_key": str(uuid.uuid4()),
            "stage": "done",
            "created_at": created,
            "updated_at": created + 30,
            "position": i + 1,
            "job_id": job,
            "progress": 100,
            "credit_cost": 8,
            "error": None,
            "action": None,
            "uploaded_url": None,
            "uploaded_at": None,
            "submitted_at": created,
            "finished_at": created + 30,
            "video_url": f"https://cdn.example/videos/{job}.mp4",
            "video_path": str(videos / f"h{i}.mp4"),
            "thumbnail_path": str(thumb),
            "favourite": int(i % 50 == 0),
            "attempts": 0,
            "output_dir": None,
        }
        # Columns added by later schemas (e.g. parent_id) are NULL, as for a row made today.
        rows.append(tuple(values.get(c) for c in columns))
    db = sqlite3.connect(journal_path)
    with db:
        db.executemany(
            f"INSERT INTO generations ({', '.join(columns)}) VALUES "
            f"({', '.join('?' for _ in columns)})",
            rows,
        )
    db.close()
    return {"rows": count, "journal_bytes": journal_path.stat().st_size}


def big_image(path: Path, megapixels: float = 24.0) -> Path:
    """A 6000×4000 (24 MP) PNG photo-like image: too big to send as it is."""
    from PIL import Image

    width = 6000
    height = round(megapixels * 1_000_000 / width)
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    image = Image.merge(
        "RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", compress_level=1)
    return path


@contextlib.contextmanager
def timer() -> Iterator[dict[str, float]]:
    box: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start
