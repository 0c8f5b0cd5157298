"""`--proxy` and the proxy setting in the command line (issue 11 §8): every request, the video
download included, goes through a proxy the person chose, also to a loopback apiframe (where the
system's proxy is deliberately not used)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from runway_desktop import settings
from runway_desktop.simulator import Simulator
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.forward_proxy import ForwardProxy, forward_proxy

__all__ = ["forward_proxy"]  # the fixture, used by name


def test_generate_goes_through_the_proxy_given_on_the_command_line(
    simulator: Simulator, forward_proxy: ForwardProxy, tmp_path: Path
) -> None:
    env = cli_env(simulator.base_url, tmp_path / "data", tmp_path / "home")
    out = tmp_path / "out"
    out.mkdir()
    address = forward_proxy.url.removeprefix("http://")
    result = run_cli("generate", "a kite", "--proxy", address, "--out", out, "--json",
                     env=env)
    assert result.code == 0, str(result)
    assert result.one()["status"] == "done"
    assert Path(result.one()["video_path"]).parent == out
    through = forward_proxy.paths()
    assert "/v2/videos/generate" in through
    assert any(p.startswith("/v2/jobs/") for p in through)
    assert any(p.endswith(".mp4") for p in through)  # the download too


def test_the_proxy_setting_is_used_and_the_option_overrides_it(
    simulator: Simulator, forward_proxy: ForwardProxy, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = cli_env(simulator.base_url, data, tmp_path / "home")
    settings.save(data, settings.Settings(proxy=forward_proxy.url))
    assert run_cli("me", env=env).code == 0
    assert forward_proxy.paths("GET") == ["/v2/me"]
    # --proxy "" means the system's proxy (none for loopback): nothing more passes through.
    assert run_cli("me", "--proxy", "", env=env).code == 0
    assert forward_proxy.paths("GET") == ["/v2/me"]


def test_a_proxy_that_isnt_one_is_bad_input_with_a_clear_message(
    simulator: Simulator, tmp_path: Path
) -> None:
    env = cli_env(simulator.base_url, tmp_path / "data", tmp_path / "home")
    result = run_cli("me", "--proxy", "socks9://nowhere", env=env)
    assert result.code == 2, str(result)
    assert "isn't a proxy address" in result.stderr
    assert "--proxy" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_proxy_given_that_doesnt_answer_is_named_as_given(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    """`--proxy` that nobody answers: fix --proxy, not 'the proxy in Settings ▸ Proxy' (the
    person may never have opened Settings). In-process: the proxy refuses at once."""
    from runway_desktop import cli

    monkeypatch.setattr(cli, "setup_logging", lambda *_args, **_kwargs: None)
    monkeypatch.setenv("APIFRAME_API_KEY", "afk_test")
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("APIFRAME_BASE_URL", f"http://127.0.0.1:{port}")
    assert cli.main(["me", "--proxy", f"127.0.0.1:{port}"]) == cli.EXIT_NETWORK
    assert capsys.readouterr().err == (
        f"runway-desktop: Can't reach apiframe through the proxy 127.0.0.1:{port} — check "
        "--proxy (or leave it out for the proxy in Settings or the system's), then your "
        "internet connection.\n")
