"""A faithful local apiframe v2 server (API + a separate CDN origin) for tests and demo mode.

Usage::

    from runway_desktop.simulator import Simulator, SimulatorConfig, FaultPlan, Account

    with Simulator(SimulatorConfig(seconds_per_job=0.3)) as sim:
        ...  # point a client at sim.base_url; videos and uploads come from sim.cdn_base_url

Default API keys (when `SimulatorConfig.accounts` is None):

=====================  =========  ============================================
key                    credits    behaviour
=====================  =========  ============================================
``afk_demo``           100000     the demo key
``afk_test``           10000      an ordinary account
``afk_test_broke``     0          every generate answers 402
``afk_test_inactive``  10000      every authenticated route answers 403
=====================  =========  ============================================

Each key is a team of one (role ADMIN, plan "pro", maxConcurrentJobs 10 unless configured).

Videos are the stock clips of `resources/clips` by default. With ``image_clips=True`` (demo mode,
and ``python -m runway_desktop.simulator``) a job with an uploaded start image gets a clip made
from that image instead: framed to its ratio's output size, then a slow push-in or pan for its
duration (`image_clip`, `clip_maker`).
It is written from the contract in /work/shared/api/apiframe-v2.md alone and must not import the
client's `api`, `engine` or `ui` packages: two independent readings catch each other's mistakes.
"""

from __future__ import annotations

from runway_desktop.simulator.config import Account, SimulatorConfig, default_accounts
from runway_desktop.simulator.faults import FaultPlan
from runway_desktop.simulator.httpbase import RecordedRequest
from runway_desktop.simulator.service import Simulator

__all__ = [
    "Account",
    "FaultPlan",
    "RecordedRequest",
    "Simulator",
    "SimulatorConfig",
    "default_accounts",
]
