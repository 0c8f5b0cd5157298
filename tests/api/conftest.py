"""Api fixtures: the misbehaving-server fixture (tests/helpers/scripted_server.py)."""

from __future__ import annotations

from tests.helpers.scripted_server import scripted_server

__all__ = ["scripted_server"]
