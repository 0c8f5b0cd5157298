"""The GUI thread first, when Python threads share the interpreter lock.

Worker threads (thumbnail reads, file checks and fsyncs in `asyncio.to_thread`, the demo
simulator's server) hold the GIL in turns with the GUI thread. Every call into Qt that releases
the GIL (most painting calls do) has to win it back, and a thread that wants it waits up to the
switch interval — 5 ms by default, per call: a list repaint of a few hundred Qt calls could
wait for many of them. A shorter interval makes those waits short.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL_S = 0.001  # CPython's default is 0.005


def favour_gui_thread() -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
