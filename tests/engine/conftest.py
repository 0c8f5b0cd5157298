"""Engine fixtures: a fast-paced engine against the simulator, run on a plain asyncio loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from runway_desktop.engine.journal import Journal
from runway_desktop.engine.lifecycle import EngineConfig
from runway_desktop.engine.retry import Backoff, PollSchedule
from runway_desktop.engine.scheduler import Engine
from runway_desktop.simulator import Simulator
from tests.helpers.scripted_server import ScriptedServer, scripted_server

__all__ = ["scripted_server"]  # the fixture, for every engine test

FAST_POLL = PollSchedule(first=0.03, factor=1.5, cap=0.15)
FAST_BACKOFF = Backoff(base=0.01, cap=0.1, attempts=8)

EngineFactory = Callable[..., Engine]


def _engine_factory(data_dir: Path, output_dir: Path, base_url: str,
                    journals: list[Journal]) -> EngineFactory:
    def factory(api_key: str | None = "afk_test", *, sim: Simulator | ScriptedServer | None = None,
                **config: object) -> Engine:
        journal = Journal(data_dir / "journal.sqlite3")
        journals.append(journal)
        settings: dict[str, object] = {
            "data_dir": data_dir, "output_dir": output_dir,
            "base_url": sim.base_url if sim else base_url,
            "poll": FAST_POLL, "backoff": FAST_BACKOFF, **config,
        }
        return Engine(journal, EngineConfig(**settings), api_key)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def make_engine(simulator: Simulator, data_dir: Path,
                output_dir: Path) -> Iterator[EngineFactory]:
    """Build (not start) an engine on a journal in `data_dir`; call inside the running loop."""
    journals: list[Journal] = []
    yield _engine_factory(data_dir, output_dir, simulator.base_url, journals)
    for journal in journals:
        journal.close()


@pytest.fixture
def scripted_engine(scripted_server: ScriptedServer, data_dir: Path,
                    output_dir: Path) -> Iterator[EngineFactory]:
    """`make_engine` against the misbehaving-server fixture instead of the simulator."""
    journals: list[Journal] = []
    yield _engine_factory(data_dir, output_dir, scripted_server.base_url, journals)
    for journal in journals:
        journal.close()


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "start.png"
    Image.new("RGB", (640, 360), (200, 60, 30)).save(path)
    return path
