"""The model catalog the app works with: built in, then the disk cache, then apiframe's answer.

Starting offline still offers every model (prices from the last successful refresh, or the
built-in table); a refresh that fails keeps what is known and never blocks a generation. The
catalog is `stale` until a refresh succeeds, once it is old, or when a generation was charged
another price than it says: the engine then asks again when apiframe next answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from pathlib import Path

from runway_desktop import api
from runway_desktop.api.catalog import BUILT_IN_CATALOG, ModelCatalog

log = logging.getLogger(__name__)
CACHE_NAME = "models.json"
MAX_AGE_SECONDS = 3600.0  # prices seldom change: an hour-old list is asked again


class CatalogStore:
    """Holds the current catalog; `refresh` asks apiframe and caches the answer on disk."""

    def __init__(self, data_dir: Path, base: ModelCatalog = BUILT_IN_CATALOG) -> None:
        self.path = data_dir / CACHE_NAME
        self._base = base
        self.catalog = base.with_cached(self._read()) if self.path.is_file() else base
        self._fetched_at: float | None = None  # monotonic time of apiframe's last answer

    @property
    def stale(self) -> bool:
        """Not read from apiframe in this run, read long ago, or known to be out of date."""
        return self._fetched_at is None or time.monotonic() - self._fetched_at > MAX_AGE_SECONDS

    def mark_stale(self) -> None:
        """apiframe charged another price than this catalog's: its prices changed."""
        self._fetched_at = None

    def _read(self) -> object:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.info("Ignoring the model cache %s: %s", self.path, exc)
            return None

    def _write(self, catalog: ModelCatalog) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(catalog.to_json(), indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:  # a cache, not the truth: the next start asks again
            log.info("Couldn't cache the model catalog in %s: %s", self.path, exc)
            with contextlib.suppress(OSError):
                tmp.unlink()

    async def refresh(self, client: api.ApiClient) -> ModelCatalog:
        """Labels and prices from `GET /v2/models`; on any API error, what was known stays."""
        try:
            entries = await client.list_models("video")
        except api.ApiError as exc:
            log.info("Couldn't refresh the model catalog: %s", exc.message)
            return self.catalog
        self._fetched_at = time.monotonic()
        self.catalog = self._base.with_remote(entries)
        await asyncio.to_thread(self._write, self.catalog)  # the window's loop never waits on disk
        return self.catalog
