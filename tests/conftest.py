"""Shared fixtures: a running simulator, a private data dir, a real Secret Service."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from runway_desktop.simulator import Simulator, SimulatorConfig

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[1]
CLIPS = REPO / "resources" / "clips"
ARTIFACTS = REPO / "tests" / "artifacts"
pytest_plugins = ["tests.helpers.logfail"]

# The offscreen platform's own screen is 800 × 800, smaller than any the app meets, and the
# first window is fitted to the screen: the tests get a 1920 × 1080 one (test_startup_shell's
# first-size test starts its own small screens).
OFFSCREEN_SCREEN = REPO / "tests" / "helpers" / "offscreen_screen.json"
if os.environ.setdefault("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={OFFSCREEN_SCREEN}"


def _private_home() -> Path:
    """Point HOME and every XDG folder of this test process (and its children) at a temporary
    folder before Qt starts, so no test can write into the real home: QSettings, Mesa's shader
    cache, the default output folder (~/Videos), the OS trash, keyring files.
    Once per process: this module is also imported as `tests.conftest` by some tests."""
    made = os.environ.get("RUNWAY_TESTS_HOME", "")
    if made.startswith(f"{os.getpid()}:"):
        return Path(made.split(":", 1)[1])
    home = Path(tempfile.mkdtemp(prefix="runway-tests-home-"))
    os.environ["RUNWAY_TESTS_HOME"] = f"{os.getpid()}:{home}"
    os.environ["HOME"] = str(home)
    for variable, folder in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                             ("XDG_STATE_HOME", ".local/state"), ("XDG_CACHE_HOME", ".cache")):
        (home / folder).mkdir(parents=True, exist_ok=True)
        os.environ[variable] = str(home / folder)
    return home


PRIVATE_HOME = _private_home()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "expect_log_warnings(*patterns): the test makes the app log these warnings")
    # Qt's own test mode too: QStandardPaths then never resolves to a user's real folders.
    from PySide6.QtCore import QStandardPaths

    QStandardPaths.setTestModeEnabled(True)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(PRIVATE_HOME, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """As the app does (ui/gc_guard.py): no automatic GC, which could run in a simulator or
    worker thread and free a Qt object there; collect on the main thread after every test."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may read the developer's key, settings or history."""
    monkeypatch.delenv("APIFRAME_API_KEY", raising=False)
    monkeypatch.delenv("APIFRAME_BASE_URL", raising=False)
    monkeypatch.setenv("RUNWAY_DESKTOP_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., Simulator]]:
    """Start simulators (fast and seeded unless told otherwise); every one stops at teardown."""
    started: list[Simulator] = []

    def make(config: SimulatorConfig | None = None, **fields: Any) -> Simulator:
        if config is None:
            fields.setdefault("seconds_per_job", 0.3)
            fields.setdefault("seed", 1)
            config = SimulatorConfig(**fields)
        sim = Simulator(config).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def simulator(make_simulator: Callable[..., Simulator]) -> Simulator:
    """A fast simulator (a job completes in ~0.3 s) with the default test keys."""
    return make_simulator(seed=1234)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A command's data folder, home and videos folder (made), for tests of `runway-desktop`
    commands."""
    data, home, out = tmp_path / "data", tmp_path / "home", tmp_path / "videos"
    for folder in (data, home, out):
        folder.mkdir()
    return data, home, out


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    path = tmp_path / "videos"
    path.mkdir()
    return path


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    """Run a coroutine to completion on a fresh loop (pytest-asyncio is not used here)."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


class SecretServiceSession:
    """A private D-Bus session bus with gnome-keyring's Secret Service, unlocked."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env: dict[str, str] = {}
        self._daemons: list[int] = []

    def start(self) -> None:
        runtime = self.root / "runtime"
        runtime.mkdir(mode=0o700, parents=True)
        self.env = {
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_RUNTIME_DIR": str(runtime),
            "HOME": str(self.root),
        }
        env = {**os.environ, **self.env}
        out = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--nosyslog", "--print-address=1",
             "--print-pid=1"],
            env=env, capture_output=True, text=True, check=True, timeout=20,
        ).stdout.split()
        self.env["DBUS_SESSION_BUS_ADDRESS"] = out[0]
        self._daemons.append(int(out[1]))
        env["DBUS_SESSION_BUS_ADDRESS"] = out[0]
        # --unlock reads the login password from stdin; without it the collection can't be made.
        result = subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
            input="test-password", env=env, capture_output=True, text=True, timeout=20,
            check=True,
        )
        for line in result.stdout.splitlines():
            if line.startswith("GNOME_KEYRING_CONTROL="):
                self.env["GNOME_KEYRING_CONTROL"] = line.split("=", 1)[1]

    def stop(self) -> None:
        # gnome-keyring-daemon exits by itself once its session bus is gone.
        for pid in self._daemons:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretServiceSession]:
    """A real Secret Service backend for keyring (Linux). Elsewhere the test is skipped."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the Secret Service backend exists on Linux only")
    missing = [tool for tool in ("dbus-daemon", "gnome-keyring-daemon") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"missing {missing}: scripts/test installs them (gnome-keyring, dbus)")
    session = SecretServiceSession(tmp_path_factory.mktemp("keyring"))
    session.start()
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture
def keyring_backend(secret_service: SecretServiceSession,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """keyring pointed at the test Secret Service; the stored key is removed afterwards."""
    import keyring
    from keyring.backends import SecretService

    # Before the test bus is in the environment: keyring picks its default backend on first
    # use, and picked (then kept, restored below) the Secret Service of this test's bus, which
    # later tests met without a bus (test_mnemonics' Settings, after a keyring test).
    previous = keyring.get_keyring()
    for name, value in secret_service.env.items():
        monkeypatch.setenv(name, value)
    backend = SecretService.Keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        from runway_desktop import secrets

        secrets.delete_api_key()
        keyring.set_keyring(previous)
