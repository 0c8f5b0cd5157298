"""`runway-desktop --self-test`: is everything the app needs at run time really there?

Made for the frozen bundles (PyInstaller) that build/build.py and the release workflow produce,
and it works from a source tree too. It opens no window: on Linux without a display it uses Qt's
offscreen platform. One line per check (OK/FAIL and a detail), exit status 1 on any failure.

Checks: the version; Qt starts; the Qt plugins (platforms, FFmpeg multimedia, image formats) are
there; Pillow and Qt read JPEG/WebP/GIF/TIFF/PNG; an MP4 from resources/clips decodes to a frame;
with that clip, Extend's last frame, a join, the MPEG-4 re-encode and every export (GIF, WebP,
WebM, PNG) are made and opened back (runway_desktop/selftest_video.py);
a keyring backend is found (not `fail`), and with `--self-test-keyring-roundtrip` (or
RUNWAY_SELFTEST_KEYRING=1) a secret is stored, read and deleted; httpx's CA bundle loads; a
generation runs through the real engine against the built-in simulator and its MP4 downloads
and decodes; a two-shot YAML plan runs as a sequence, its second shot from the first one's
last frame (runway_desktop/selftest_sequence.py); the third-party notices are shipped.
Nothing touches the person's data: the engine runs in a temporary folder, and the keyring
round trip uses its own account name.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets as pysecrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from runway_desktop import APP_NAME, __version__

KEYRING_ROUNDTRIP_ENV = "RUNWAY_SELFTEST_KEYRING"
KEYRING_TEST_ACCOUNT = "self-test"  # never the real key's account
CHECK_TIMEOUT = 60.0
_IMAGE_FORMATS = ("jpeg", "webp", "gif", "tiff", "png")
# plugin type -> file stems (without "lib" and suffix) that must be in the bundle
_PLUGINS: dict[str, dict[str, tuple[str, ...]]] = {
    "linux": {"platforms": ("qoffscreen", "qxcb", "qwayland")},
    "darwin": {"platforms": ("qoffscreen", "qcocoa")},
    "win32": {"platforms": ("qoffscreen", "qwindows")},
}
_COMMON_PLUGINS: dict[str, tuple[str, ...]] = {"multimedia": ("ffmpegmediaplugin",),
                   "imageformats": ("qjpeg", "qwebp", "qgif", "qtiff")}


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str


class CheckFailed(Exception):
    """A check found a problem; the message is the detail line."""


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path:
    """Where shipped files live: sys._MEIPASS when frozen, the repository root from source."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else Path(__file__).resolve().parents[1]


def _platform_key() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    return "darwin" if sys.platform == "darwin" else "win32"


def _choose_qt_platform() -> None:
    """No display on Linux (a server, CI): use offscreen instead of letting Qt abort."""
    if os.environ.get("QT_QPA_PLATFORM") or _platform_key() != "linux":
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


# -- checks -----------------------------------------------------------------------------------

def check_version() -> str:
    if "unknown" in __version__:
        raise CheckFailed(f"version {__version__}: the package metadata is missing")
    how = "frozen" if frozen() else "from source"
    return (f"{APP_NAME} {__version__} ({how}, Python {sys.version.split()[0]}, "
            f"{sys.platform})")


def check_qt_plugins() -> str:
    from PySide6.QtCore import QLibraryInfo

    root = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    wanted = {**_PLUGINS[_platform_key()], **_COMMON_PLUGINS}
    missing: list[str] = []
    found: list[str] = []
    for kind, stems in wanted.items():
        present = {p.name.split(".")[0].removeprefix("lib")
                   for p in (root / kind).glob("*") if p.is_file()}
        for stem in stems:
            (found if stem in present else missing).append(f"{kind}/{stem}")
    if missing:
        raise CheckFailed(f"missing in {root}: {', '.join(missing)}")
    return f"{len(found)} required plugins in {root}"


def check_images(workdir: Path) -> str:
    """Pillow writes each format the app accepts; Qt and Pillow read it back."""
    from PIL import Image
    from PySide6.QtGui import QImage, QImageReader

    supported = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    missing = [f for f in _IMAGE_FORMATS if f not in supported]
    if missing:
        raise CheckFailed(f"Qt can't read {', '.join(missing)} (image-format plugins missing)")
    picture = Image.new("RGB", (64, 48), (200, 60, 30))
    for fmt in _IMAGE_FORMATS:
        path = workdir / f"probe.{fmt}"
        picture.save(path, format=fmt.upper())
        with Image.open(path) as reopened:
            reopened.load()
        if QImage(str(path)).size().width() != 64:
            raise CheckFailed(f"Qt couldn't read the {fmt.upper()} written by Pillow")
    return "Pillow writes and Pillow + Qt read " + ", ".join(_IMAGE_FORMATS)


async def check_video(workdir: Path) -> str:
    from PySide6.QtGui import QImage

    from runway_desktop.engine.thumbnails import extract_thumbnail
    from runway_desktop.simulator.media import clips_dir

    clip = clips_dir() / "16x9.mp4"
    started = time.monotonic()
    thumb = await extract_thumbnail(clip, workdir / "clip.png", max_size=4096)
    image = QImage(str(thumb))
    if image.isNull():
        raise CheckFailed(f"no frame came out of {clip.name}")
    took = (time.monotonic() - started) * 1000
    return (f"{clip.name}: first frame {image.width()}x{image.height()} in {took:.0f} ms "
            "(QtMultimedia, FFmpeg backend)")


def check_keyring() -> str:
    import keyring
    from keyring.backends import fail, null

    from runway_desktop import secrets  # names the OS backend when frozen

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        raise CheckFailed(f"no usable keyring backend (keyring chose {name}); "
                          f"{secrets.API_KEY_ENV} would be the only way to give a key")
    try:
        priority = backend.priority
    except Exception as exc:  # e.g. no Secret Service on this session bus
        return f"{name} (bundled; not reachable here: {type(exc).__name__}: {exc})"
    return f"{name} (priority {priority})"


def check_keyring_roundtrip() -> str:
    import keyring

    from runway_desktop import secrets

    value = "afk_selftest_" + pysecrets.token_hex(8)
    kind = type(keyring.get_keyring())
    backend = f"{kind.__module__.rsplit('.', 1)[-1]}.{kind.__name__}"
    keyring.set_password(secrets.SERVICE, KEYRING_TEST_ACCOUNT, value)
    try:
        read = keyring.get_password(secrets.SERVICE, KEYRING_TEST_ACCOUNT)
        if read != value:
            got = "nothing" if read is None else "another value"
            raise CheckFailed(f"stored a secret but read back {got}")
    finally:
        keyring.delete_password(secrets.SERVICE, KEYRING_TEST_ACCOUNT)
    if keyring.get_password(secrets.SERVICE, KEYRING_TEST_ACCOUNT) is not None:
        raise CheckFailed("the test secret is still there after delete")
    return f"set, get and delete through {backend} ({secrets.SERVICE}/{KEYRING_TEST_ACCOUNT})"


def check_tls() -> str:
    import ssl

    import certifi
    import httpx

    where = Path(certifi.where())
    if not where.is_file():
        raise CheckFailed(f"certifi's CA bundle is missing ({where})")
    # The context httpx builds for every client (verify=True): certifi's bundle, unless the
    # environment names another with SSL_CERT_FILE / SSL_CERT_DIR.
    context = httpx.create_ssl_context()
    count = context.cert_store_stats()["x509_ca"]
    if count < 10:
        raise CheckFailed(f"httpx's TLS context has {count} CA certificates")
    system = ssl.create_default_context().cert_store_stats()["x509_ca"]
    return (f"httpx trusts {count} CA certificates ({where.name}, {where.stat().st_size} bytes); "
            f"ssl default context: {system} preloaded")


START_COLOUR = (30, 90, 200)


async def check_simulator_round_trip(workdir: Path) -> str:
    """One generation through the real engine against the built-in simulator, as in demo mode:
    the video is made from the start image (Pillow's JPEG encoder, QtMultimedia's MJPEG decoder)."""
    from PIL import Image
    from PySide6.QtGui import QImage

    from runway_desktop.engine.journal import Journal
    from runway_desktop.engine.lifecycle import EngineConfig
    from runway_desktop.engine.records import GenerationSettings, Stage
    from runway_desktop.engine.retry import Backoff, PollSchedule
    from runway_desktop.engine.scheduler import Engine
    from runway_desktop.engine.thumbnails import extract_thumbnail
    from runway_desktop.simulator import Simulator, SimulatorConfig

    image = workdir / "start.png"
    Image.new("RGB", (640, 360), START_COLOUR).save(image)
    data, videos = workdir / "data", workdir / "videos"
    data.mkdir()
    videos.mkdir()
    started = time.monotonic()
    with Simulator(SimulatorConfig(seconds_per_job=0.3, seed=1, image_clips=True)) as sim:
        journal = Journal(data / "journal.sqlite3")
        config = EngineConfig(data_dir=data, output_dir=videos, base_url=sim.base_url,
                              poll=PollSchedule(first=0.05, factor=1.5, cap=0.2),
                              backoff=Backoff(base=0.05, cap=0.5, attempts=4))
        engine = Engine(journal, config, "afk_test")
        try:
            await engine.start()
            generation = engine.submit(GenerationSettings(
                "self-test: a slow dolly-in", image_path=str(image), seed=7))
            [row] = await engine.wait_settled([generation.id])
        finally:
            await engine.stop()
            journal.close()
    if row.stage != Stage.DONE or not row.video_path:
        raise CheckFailed(f"the generation ended {row.stage.value}: {row.error}")
    video = Path(row.video_path)
    size = _mp4_size(video)
    frame = QImage(str(await extract_thumbnail(video, workdir / "result.png")))
    took = time.monotonic() - started
    centre = frame.pixelColor(frame.width() // 2, frame.height() // 2)
    seen = (centre.red(), centre.green(), centre.blue())
    if max(abs(a - b) for a, b in zip(seen, START_COLOUR, strict=True)) > 12:
        raise CheckFailed(f"the demo video isn't made from the start image: its first frame "
                          f"is {seen} in the middle, the image {START_COLOUR}")
    return (f"upload, generate, poll, download: job {row.job_id} in {took:.1f} s, "
            f"{size} bytes, first frame {frame.width()}x{frame.height()} is the start image")


def _mp4_size(video: Path) -> int:
    with video.open("rb") as file:
        if file.read(8)[4:8] != b"ftyp":
            raise CheckFailed(f"{video.name} isn't an MP4")
    return video.stat().st_size


def check_notices() -> str:
    root = bundle_dir()
    notices = root / "THIRD_PARTY_NOTICES.txt"
    if not notices.is_file():
        raise CheckFailed(f"{notices} is missing")
    text = notices.read_text(encoding="utf-8")
    missing = [n for n in ("Qt", "PySide6", "FFmpeg", "LGPL") if n not in text]
    if missing:
        raise CheckFailed(f"{notices.name} doesn't mention {', '.join(missing)}")
    if not frozen():
        return f"{notices.name} ({len(text)} characters)"
    licences = sorted(p.name for p in (root / "LICENSES").iterdir()) if (
        root / "LICENSES").is_dir() else []
    if "Qt-PySide6-FFmpeg" not in licences:
        raise CheckFailed(f"LICENSES/Qt-PySide6-FFmpeg is missing (found {licences})")
    return f"{notices.name} and LICENSES/ for {len(licences)} components"


# -- running ----------------------------------------------------------------------------------

def run(*, keyring_roundtrip: bool = False, out: TextIO | None = None) -> int:
    """Run every check, print one line each, return the exit status (0 = all OK)."""
    stream = out or sys.stdout
    if stream is None:  # a windowed executable has no stdout: the exit status still tells
        stream = open(os.devnull, "w")  # noqa: SIM115
    keyring_roundtrip = keyring_roundtrip or os.environ.get(KEYRING_ROUNDTRIP_ENV) == "1"
    results: list[Result] = []

    def report(name: str, ok: bool, detail: str) -> None:
        results.append(Result(name, ok, detail))
        line = f"{'OK  ' if ok else 'FAIL'} {name:<17} {detail}"
        print(line.encode("ascii", "replace").decode("ascii"), file=stream, flush=True)

    def attempt(name: str, check: Callable[[], str]) -> None:
        try:
            report(name, True, check())
        except CheckFailed as failed:
            report(name, False, str(failed))
        except Exception as exc:
            report(name, False, f"{type(exc).__name__}: {exc}")

    attempt("version", check_version)
    _choose_qt_platform()
    try:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([sys.argv[0]])
        report("qt", True, f"Qt {qVersion()}, PySide6 {pyside_version}, "
                           f"platform {app.platformName()}")  # type: ignore[attr-defined]
    except Exception as exc:
        report("qt", False, f"{type(exc).__name__}: {exc}")
        return _summary(results, stream)

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="runway-selftest-") as tmp:
        workdir = Path(tmp)

        async def attempt_async(name: str, check: Callable[[], Awaitable[str]]) -> None:
            try:
                report(name, True, await asyncio.wait_for(check(), CHECK_TIMEOUT))
            except CheckFailed as failed:
                report(name, False, str(failed))
            except TimeoutError:
                report(name, False, f"no answer in {CHECK_TIMEOUT:g} s")
            except Exception as exc:
                report(name, False, f"{type(exc).__name__}: {exc}")

        async def checks() -> None:
            attempt("qt-plugins", check_qt_plugins)
            attempt("images", lambda: check_images(workdir))
            await attempt_async("video-decode", lambda: check_video(workdir))
            from runway_desktop.selftest_video import CHECKS as VIDEO_CHECKS

            decodes = results[-1].ok  # each of these decodes: without it, fail them at once
            for name, video_check in VIDEO_CHECKS:  # Extend, Join and every export format
                if decodes:
                    await attempt_async(name, functools.partial(video_check, workdir))
                else:
                    report(name, False, "not tried: no video decodes here (see video-decode)")
            attempt("keyring", check_keyring)
            if keyring_roundtrip:
                attempt("keyring-roundtrip", check_keyring_roundtrip)
            attempt("tls-ca-bundle", check_tls)
            await attempt_async("simulator", lambda: check_simulator_round_trip(workdir))
            from runway_desktop.selftest_sequence import check_sequence

            await attempt_async("sequence", lambda: check_sequence(workdir))
            attempt("notices", check_notices)

        try:
            with loop:
                loop.run_until_complete(checks())
        finally:
            asyncio.set_event_loop(None)
    return _summary(results, stream)


def _summary(results: list[Result], stream: TextIO) -> int:
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"self-test FAILED: {', '.join(failed)}", file=stream, flush=True)
        return 1
    print(f"self-test passed ({len(results)} checks)", file=stream, flush=True)
    return 0
