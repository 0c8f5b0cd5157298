"""The catalog the engine works with: refreshed from the simulator, cached, used offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runway_desktop.api.client import ApiClient
from runway_desktop.engine.catalog_store import CatalogStore
from runway_desktop.simulator import Simulator
from tests.conftest import run


def test_refresh_prices_from_apiframe_and_an_offline_start_keeps_them(
        make_simulator: Callable[..., Simulator], data_dir: Path) -> None:
    sim = make_simulator(prices={"runway-gen4-turbo": {5: 8, 10: 15},
                                 "runway-gen4.5": {5: 31, 10: 62}})
    store = CatalogStore(data_dir)
    assert store.catalog.source == "built-in"
    assert store.catalog.require("runway-gen4.5").prices == {}

    async def refresh() -> None:
        async with ApiClient("afk_test", sim.base_url) as client:
            await store.refresh(client)

    run(refresh())
    assert store.catalog.require("runway-gen4.5").prices == {5: 31, 10: 62}

    offline = CatalogStore(data_dir)
    assert offline.catalog.source == "cache"
    assert offline.catalog.require("runway-gen4.5").prices == {5: 31, 10: 62}


def test_a_server_that_is_down_keeps_what_is_known(data_dir: Path) -> None:
    store = CatalogStore(data_dir)

    async def refresh() -> None:
        async with ApiClient("afk_test", "http://127.0.0.1:9") as client:  # nothing listens
            await store.refresh(client)

    run(refresh())
    assert store.catalog.source == "built-in"
    assert store.catalog.require("runway-gen4-turbo").prices == {5: 8, 10: 15}
    assert not (data_dir / "models.json").exists()


def test_a_corrupt_cache_is_ignored(data_dir: Path) -> None:
    (data_dir / "models.json").write_text("{not json", encoding="utf-8")
    assert CatalogStore(data_dir).catalog.require("runway-gen4-turbo").prices == {5: 8, 10: 15}
