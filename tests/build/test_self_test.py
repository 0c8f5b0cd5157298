"""`--self-test` from the source tree, and the keyring choice a frozen app makes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import SecretService

from runway_desktop import secrets
from tests.conftest import REPO, SecretServiceSession


def self_test(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update({"QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(runtime),
                "XDG_CACHE_HOME": str(tmp_path / "cache"), **extra})
    return subprocess.run([sys.executable, "-m", "runway_desktop", "--self-test", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def checks(stdout: str) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in stdout.splitlines()
            if line.startswith(("OK ", "FAIL"))}


def test_self_test_passes_from_source_with_a_secret_service(
    secret_service: SecretServiceSession, tmp_path: Path
) -> None:
    result = self_test(tmp_path, "--self-test-keyring-roundtrip", **secret_service.env)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert set(checks(result.stdout).values()) == {"OK"}
    assert {"qt", "video-decode", "keyring-roundtrip", "simulator", "sequence",
            "tls-ca-bundle"} <= set(checks(result.stdout))
    # Extend, Join and every export, made from the bundled clip and opened back.
    assert {"extend-last-frame", "join", "export-mp4", "export-gif", "export-webp",
            "export-webm", "export-png"} <= set(checks(result.stdout))
    assert result.stdout.rstrip().endswith("checks)")


def test_a_missing_keyring_fails_the_self_test_in_words(tmp_path: Path) -> None:
    result = self_test(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert result.returncode == 1
    assert checks(result.stdout)["keyring"] == "FAIL"
    assert "APIFRAME_API_KEY" in result.stdout
    assert result.stdout.rstrip().endswith("self-test FAILED: keyring")


def test_the_env_var_asks_for_the_round_trip_too(tmp_path: Path) -> None:
    result = self_test(tmp_path, RUNWAY_SELFTEST_KEYRING="1",
                       PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert checks(result.stdout)["keyring-roundtrip"] == "FAIL"


@pytest.fixture
def restore_keyring() -> Iterator[object]:
    previous = keyring.get_keyring()
    yield previous
    keyring.set_keyring(previous)


def test_a_frozen_app_names_the_os_backend(monkeypatch: pytest.MonkeyPatch,
                                           restore_keyring: object) -> None:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    secrets._choose_backend()
    chosen = keyring.get_keyring()
    if sys.platform.startswith("linux"):
        assert isinstance(chosen, SecretService.Keyring)
    assert type(chosen) is type(secrets.os_backend())


def test_from_source_and_with_an_override_keyring_chooses(monkeypatch: pytest.MonkeyPatch,
                                                          restore_keyring: object) -> None:
    sentinel = keyring.get_keyring()
    secrets._choose_backend()  # not frozen: nothing changes
    assert keyring.get_keyring() is sentinel
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    secrets._choose_backend()  # the documented override still wins
    assert keyring.get_keyring() is sentinel
