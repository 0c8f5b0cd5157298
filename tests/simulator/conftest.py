"""Fixtures for the simulator tests: real HTTP over loopback, nothing from runway_desktop.api."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from runway_desktop.simulator import Simulator, SimulatorConfig
from tests.simulator.sim_helpers import FAST, StartSim, client_for


@pytest.fixture
def start_sim(make_simulator: Callable[..., Simulator]) -> StartSim:
    """Start simulators with any config (seconds_per_job defaults to FAST); all stop after."""

    def start(config: SimulatorConfig | None = None, **fields: Any) -> Simulator:
        if config is None:
            fields.setdefault("seconds_per_job", FAST)
        return make_simulator(config, **fields)

    return start


@pytest.fixture
def sim(start_sim: StartSim) -> Simulator:
    return start_sim()


@pytest.fixture
def api(sim: Simulator) -> Iterator[httpx.Client]:
    """A client of `sim` authenticated as afk_test."""
    with client_for(sim) as client:
        yield client


@pytest.fixture
def cdn() -> Iterator[httpx.Client]:
    """A bare client for CDN URLs: never carries a key."""
    with httpx.Client(timeout=5, verify=False) as client:  # plain http: skip loading CA certs
        yield client
