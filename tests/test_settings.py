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


# -- a settings file that can't be used: kept aside, defaults, told once --------------------------

ODD_FILES = [
    ("not json", b"{nope", "it isn't valid JSON"),
    ("binary", b"\xff\xfe\x00\x9c garbage", "it isn't valid JSON"),
    ("empty", b"", "it isn't valid JSON"),
    ("null", b"null", "it holds null, not settings"),
    ("a list", b'["output_dir", "/x"]', "it holds a list, not settings"),
    ("a string", b'"hello"', "it holds a single str value, not settings"),
    ("version abc", b'{"version": "abc", "output_dir": "/x"}', 'its version is "abc"'),
    ("version null", b'{"version": null}', "its version is null"),
    ("version true", b'{"version": true}', "its version is true"),
    ("version -1", b'{"version": -1}', "its version is -1"),
]


@pytest.mark.parametrize(("text", "reason"),
                         [pytest.param(t, r, id=i) for i, t, r in ODD_FILES])
def test_an_unusable_file_is_kept_aside_and_defaults_used(
    data_dir: Path, caplog: pytest.LogCaptureFixture, text: bytes, reason: str
) -> None:
    path = paths.settings_path(data_dir)
    path.write_bytes(text)
    original = path.read_bytes()

    loaded = settings.load_checked(data_dir)

    assert loaded.settings == settings.Settings()
    backups = list(data_dir.glob("settings.json.bad-*"))
    assert len(backups) == 1
    assert backups[0].read_bytes() == original  # kept, byte for byte
    assert loaded.notice is not None
    assert reason in loaded.notice
    assert str(path) in loaded.notice
    assert backups[0].name in loaded.notice
    assert "back to the defaults" in loaded.notice
    # Told once: the next start finds no bad file and says nothing.
    again = settings.load_checked(data_dir)
    assert again == settings.LoadedSettings(settings.Settings(), None)
    assert [r.levelname for r in caplog.records] == ["WARNING"]  # and the log has it


def test_a_value_of_the_wrong_kind_resets_only_that_setting(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = paths.settings_path(data_dir)
    path.write_text(json.dumps({"version": 1, "output_dir": 5, "demo_mode": "yes",
                                "base_url": "http://127.0.0.1:9", "notify_when_done": False}))

    loaded = settings.load_checked(data_dir)

    assert loaded.settings == settings.Settings(base_url="http://127.0.0.1:9",
                                                notify_when_done=False)
    assert loaded.notice is not None
    assert '(demo_mode: "yes", output_dir: 5)' in loaded.notice
    assert "those settings are back to the defaults" in loaded.notice
    assert len(list(data_dir.glob("settings.json.bad-*"))) == 1
    # The good values were saved again: the next load is clean and keeps them.
    assert settings.load_checked(data_dir) == settings.LoadedSettings(loaded.settings, None)
    assert "output_dir: 5" in caplog.text


def test_load_never_raises_for_an_odd_file(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths.settings_path(data_dir).write_text('{"version": "abc"}')
    assert settings.load(data_dir) == settings.Settings()
    assert "kept as" in caplog.text


def test_a_newer_version_is_read_as_far_as_it_is_understood(data_dir: Path) -> None:
    paths.settings_path(data_dir).write_text(
        json.dumps({"version": 7, "output_dir": "/v", "some_future_option": [1, 2]}))
    loaded = settings.load_checked(data_dir)
    assert loaded == settings.LoadedSettings(settings.Settings(output_dir="/v"), None)
    assert not list(data_dir.glob("settings.json.bad-*"))


def test_image_metadata_is_removed_unless_the_person_keeps_it(data_dir: Path) -> None:
    assert settings.Settings().keep_image_metadata is False
    settings.save(data_dir, settings.Settings(keep_image_metadata=True))
    assert settings.load(data_dir).keep_image_metadata is True


@pytest.mark.expect_log_warnings(r"settings")
def test_a_proxy_is_stored_and_one_of_the_wrong_kind_is_reset(data_dir: Path) -> None:
    assert settings.Settings().proxy == ""  # empty: the system's proxy
    settings.save(data_dir, settings.Settings(proxy="proxy.example:3128"))
    assert settings.load(data_dir).proxy == "proxy.example:3128"
    paths.settings_path(data_dir).write_text(json.dumps({"version": 1, "proxy": 3128}))
    loaded = settings.load_checked(data_dir)
    assert loaded.settings.proxy == ""
    assert loaded.notice is not None
    assert "proxy: 3128" in loaded.notice


def test_saved_settings_reach_the_disk_before_the_rename(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A power cut right after Save (the machine restarting mid-work) keeps the old file or the
    new one: without the flush the rename could reach the disk before the bytes, leaving an
    empty file that the next start puts aside, every setting back to its default."""
    import os

    done: list[str] = []
    fsync, replace = os.fsync, os.replace

    def flushed(fd: int) -> None:
        done.append("fsync")
        fsync(fd)

    def renamed(src: str, dst: str) -> None:
        done.append("replace")
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", flushed)
    monkeypatch.setattr(os, "replace", renamed)
    settings.save(data_dir, settings.Settings(proxy="http://proxy.example:3128"))
    assert done[:2] == ["fsync", "replace"]  # the file's bytes, then its name
    if os.name == "posix":
        assert done[2:] == ["fsync"]  # then the folder's entry
    assert settings.load(data_dir).proxy == "http://proxy.example:3128"
