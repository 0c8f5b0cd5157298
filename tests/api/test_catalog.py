"""The model catalog: built-in fallback, apiframe's /v2/models, the disk cache's format."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.api.catalog import (
    BUILT_IN_CATALOG,
    GEN4_5,
    GEN4_TURBO,
    CatalogEntry,
    ModelCatalog,
    parse_catalog,
    prices_from_entry,
)
from runway_desktop.api.client import ApiClient
from runway_desktop.api.errors import UnexpectedResponseError
from runway_desktop.simulator import Simulator
from tests.conftest import run

REMOTE = {"models": [
    {"id": "runway-gen4-turbo", "label": "Runway Gen-4 Turbo", "modality": "video",
     "costMin": 8, "costMax": 15, "pricingMode": "flat"},
    {"id": "runway-gen4.5", "label": "Runway Gen-4.5", "modality": "video",
     "costMin": 25, "costMax": 50, "pricingMode": "flat", "resolution": "1080p"},
    {"id": "kling-v2", "label": "Kling", "modality": "video", "costMin": 30},
    {"id": "flux", "label": "Flux", "modality": "image", "costMin": 2},
]}


def test_the_built_in_catalog_offers_both_runway_models_turbo_first() -> None:
    assert BUILT_IN_CATALOG.ids == ("runway-gen4-turbo", "runway-gen4.5")
    assert BUILT_IN_CATALOG.default is GEN4_TURBO
    assert GEN4_TURBO.price(5) == 8
    assert GEN4_TURBO.price(10) == 15
    assert GEN4_5.price(5) is None  # not documented anywhere: only /v2/models knows


def test_apiframe_prices_and_labels_replace_the_fallback_for_known_models_only() -> None:
    catalog = BUILT_IN_CATALOG.with_remote(parse_catalog(REMOTE))
    assert catalog.source == "apiframe"
    assert catalog.ids == ("runway-gen4-turbo", "runway-gen4.5")  # Kling's params are unknown
    assert catalog.require("runway-gen4.5").prices == {5: 25, 10: 50}
    assert catalog.require("runway-gen4.5").label == "Runway Gen-4.5"
    assert catalog.require("runway-gen4-turbo").prices == {5: 8, 10: 15}


def test_an_entry_that_says_nothing_usable_keeps_the_fallback_price() -> None:
    odd = {"models": [{"id": "runway-gen4-turbo", "label": "T", "modality": "video",
                       "costMin": 15, "costMax": 8}]}  # min above max: can't tell which is which
    catalog = BUILT_IN_CATALOG.with_remote(parse_catalog(odd))
    assert catalog.require("runway-gen4-turbo").prices == {5: 8, 10: 15}


@pytest.mark.parametrize(("mode", "low", "high", "expected"), [
    ("flat", 8, 15, {5: 8, 10: 15}),
    (None, 8, None, {5: 8, 10: 8}),
    ("per-second", 1.6, None, {5: 8, 10: 16}),
    ("per-output", 8, 15, {}),
])
def test_prices_from_an_entry(mode: str | None, low: float, high: float | None,
                              expected: dict[int, int]) -> None:
    entry = CatalogEntry("runway-gen4-turbo", "T", "video", low, high, mode)
    assert prices_from_entry(GEN4_TURBO, entry) == expected


def test_a_third_model_with_the_same_parameters_is_one_entry() -> None:
    gen5 = dataclasses.replace(GEN4_5, id="runway-gen5", label="Gen-5", prices={})
    catalog = ModelCatalog((*BUILT_IN_CATALOG.models, gen5))
    remote = {"models": [{"id": "runway-gen5", "label": "Gen-5", "modality": "video",
                          "costMin": 40, "costMax": 80}]}
    priced = catalog.with_remote(parse_catalog(remote)).require("runway-gen5")
    assert priced.prices == {5: 40, 10: 80}
    assert priced.aspect_ratios == GEN4_TURBO.aspect_ratios


def test_the_cache_round_trips_and_ignores_what_it_cannot_read() -> None:
    catalog = BUILT_IN_CATALOG.with_remote(parse_catalog(REMOTE))
    stored = json.loads(json.dumps(catalog.to_json()))
    restored = BUILT_IN_CATALOG.with_cached(stored)
    assert restored.source == "cache"
    assert [m.prices for m in restored.models] == [m.prices for m in catalog.models]
    junk: list[Any] = [None, [], {"models": 5}, {"models": [{"id": "runway-gen4.5",
                                                            "prices": {"5": -1, "x": 3}}]}]
    for data in junk:
        assert BUILT_IN_CATALOG.with_cached(data).require("runway-gen4.5").prices == {}


def test_unknown_model_names_what_is_known() -> None:
    with pytest.raises(KeyError, match=r"runway-gen4-turbo, runway-gen4\.5"):
        BUILT_IN_CATALOG.require("sora")


def test_server_text_in_the_catalog_is_cleaned() -> None:
    body = {"models": [{"id": "runway-gen4.5", "label": "Gen\x1b[31m-4.5\x07", "modality": "video",
                        "description": "x" * 5000}]}
    [entry] = parse_catalog(body)
    assert "\x1b" not in entry.label
    assert "\x07" not in entry.label
    assert entry.description is not None
    assert len(entry.description) <= 300


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20,
)


@given(st.one_of(json_values, st.fixed_dictionaries({"models": st.lists(json_values)}),
                 st.fixed_dictionaries({"models": st.lists(st.fixed_dictionaries({
                     "id": json_values, "label": json_values, "modality": json_values,
                     "costMin": json_values, "costMax": json_values,
                     "pricingMode": json_values}))})))
def test_any_json_gives_entries_or_the_clients_own_error(body: Any) -> None:
    try:
        entries = parse_catalog(body)
    except UnexpectedResponseError:
        return
    catalog = BUILT_IN_CATALOG.with_remote(entries)
    for spec in catalog.models:
        assert all(isinstance(c, int) and c >= 0 for c in spec.prices.values())


def test_the_client_reads_the_simulators_catalog(simulator: Simulator) -> None:
    async def main() -> list[CatalogEntry]:
        async with ApiClient("afk_test", simulator.base_url) as client:
            return await client.list_models()

    entries = run(main())
    catalog = BUILT_IN_CATALOG.with_remote(entries)
    assert catalog.require("runway-gen4-turbo").prices == {5: 8, 10: 15}
    assert catalog.require("runway-gen4.5").prices == {5: 25, 10: 50}
    assert {e.modality for e in entries} == {"video"}
