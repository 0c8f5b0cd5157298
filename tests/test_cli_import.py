"""`runway-desktop import`: saves into --out, and asks (or wants --yes) before downloading more
than a handful of videos; says how many removed jobs it skipped (issue 10 measured 3)."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

from runway_desktop.engine.importer import ASK_ABOVE_VIDEOS
from runway_desktop.engine.journal import Journal
from tests.engine.test_importer import SETTINGS, listed, serve_list
from tests.helpers.cli import CLI, cli_env, default_output, run_cli
from tests.helpers.scripted_server import ScriptedServer, scripted_server

__all__ = ["scripted_server"]  # the fixture

VIDEO = "GET /cdn/*.mp4"


def account(server: ScriptedServer, jobs: int) -> None:
    now = time.time()
    serve_list(server, *(listed(server, f"{n:08d}-0000-4000-8000-000000000000", SETTINGS,
                                now - 60 * n) for n in range(jobs)))


def test_import_saves_into_out(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    account(scripted_server, 2)
    out = tmp_path / "chosen"
    out.mkdir()
    env = cli_env(scripted_server.base_url, tmp_path / "data", tmp_path / "home")
    result = run_cli("import", "--out", out, env=env)
    assert result.code == 0, str(result)
    assert len(list(out.glob("*.mp4"))) == 2, str(result)
    assert not default_output(tmp_path / "home").exists() or not any(
        default_output(tmp_path / "home").iterdir())


def test_import_of_a_whole_account_asks_first(scripted_server: ScriptedServer,
                                              tmp_path: Path) -> None:
    many = ASK_ABOVE_VIDEOS + 1
    account(scripted_server, many)
    out = tmp_path / "chosen"
    out.mkdir()
    env = cli_env(scripted_server.base_url, tmp_path / "data", tmp_path / "home")

    refused = run_cli("import", "--out", out, env=env)  # no terminal to ask at, no --yes
    assert refused.code == 2, str(refused)
    assert f"{many} job(s) to import, {many} video(s) to download" in refused.stderr
    assert "--yes" in refused.stderr
    assert scripted_server.seen(VIDEO) == []
    assert not list(out.iterdir())

    agreed = run_cli("import", "--out", out, "--yes", env=env)
    assert agreed.code == 0, str(agreed)
    assert len(list(out.glob("*.mp4"))) == many


def test_import_says_how_many_removed_jobs_it_skipped(scripted_server: ScriptedServer,
                                                      tmp_path: Path) -> None:
    account(scripted_server, 2)
    out = tmp_path / "chosen"
    out.mkdir()
    data = tmp_path / "data"
    env = cli_env(scripted_server.base_url, data, tmp_path / "home")
    assert run_cli("import", "--out", out, env=env).code == 0
    journal = Journal(data / "journal.sqlite3")
    for generation in journal.all():
        journal.remove(generation.id)
    journal.close()

    again = run_cli("import", "--out", out, env=env)
    assert again.code == 0, str(again)
    assert "2 you removed earlier skipped" in again.stderr
    assert len(list(out.glob("*.mp4"))) == 2  # no duplicates


def test_import_refuses_an_empty_out(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    account(scripted_server, 1)
    env = cli_env(scripted_server.base_url, tmp_path / "data", tmp_path / "home")
    result = run_cli("import", "--out", "", env=env)
    assert result.code == 2, str(result)
    assert "--out is empty" in result.stderr
    assert scripted_server.seen(VIDEO) == []


def test_ctrl_c_at_the_question_stops_at_once(scripted_server: ScriptedServer,
                                              tmp_path: Path) -> None:
    """Asked 'Download 6 videos …? [y/N]' at a terminal, Ctrl+C did nothing until Enter: the
    answer was read in asyncio's worker thread, which the loop's shutdown waits for. (The same
    question is asked by `sequence run` and `sequence delete`.)"""
    account(scripted_server, ASK_ABOVE_VIDEOS + 1)
    env = cli_env(scripted_server.base_url, tmp_path / "data", tmp_path / "home")
    leader, follower = pty.openpty()  # a terminal: stdin and stderr are one, as at a prompt
    process = subprocess.Popen([*CLI, "import"], env=env, stdin=follower, stderr=follower,
                               stdout=subprocess.PIPE, text=True)
    os.close(follower)
    try:
        asked = b""
        deadline = time.monotonic() + 30
        while b"[y/N]" not in asked:
            assert time.monotonic() < deadline, asked
            if select.select([leader], [], [], 0.1)[0]:
                asked += os.read(leader, 4096)
        process.send_signal(signal.SIGINT)
        stopped = time.monotonic()
        process.wait(timeout=10)
        assert time.monotonic() - stopped < 3, "Ctrl+C waited for the answer"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
        os.close(leader)
    assert process.returncode == 130
    assert scripted_server.seen(VIDEO) == []
