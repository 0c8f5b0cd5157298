from __future__ import annotations

import json
from pathlib import Path

import pytest

from runway_desktop import paths, settings


def test_defaults_when_no_file(data_dir: Path) -> None:
    loaded = settings.load(data_dir)
    assert loaded == settings.Settings()
    assert loaded.output_path == paths.default_output_dir()
    assert loaded.output_path.name == "Runway Desktop"


def test_save_and_load_round_trip(data_dir: Path) -> None:
    chosen = settings.Settings(base_url="http://127.0.0.1:8787", output_dir="/tmp/v",
                               demo_mode=True)
    settings.save(data_dir, chosen)
    assert settings.load(data_dir) == chosen
    raw = json.loads(paths.settings_path(data_dir).read_text())
    assert raw["version"] == settings.SETTINGS_VERSION


def test_migrates_the_old_download_dir_name(data_dir: Path) -> None:
    paths.settings_path(data_dir).write_text(json.dumps({"download_dir": "/x", "junk": 1}))
    assert settings.load(data_dir).output_dir == "/x"


@pytest.mark.expect_log_warnings(r"settings")
def test_a_corrupt_file_falls_back_to_defaults(data_dir: Path) -> None:
    paths.settings_path(data_dir).write_text("{nope")
    assert settings.load(data_dir) == settings.Settings()


def test_environment_base_url_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.BASE_URL_ENV, "http://127.0.0.1:9")
    assert settings.Settings().effective_base_url() == "http://127.0.0.1:9"


def test_data_dir_override_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "env"))
    assert paths.data_dir() == tmp_path / "env"
    assert paths.data_dir(tmp_path / "flag") == tmp_path / "flag"
