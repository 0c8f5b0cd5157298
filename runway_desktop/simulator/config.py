"""Simulator configuration: accounts, timing, and switches for the contract's open questions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from runway_desktop.simulator.faults import FaultPlan
from runway_desktop.simulator.progress import ProgressShape

# Default price in credits by duration (contract §6, §10). runway-gen4.5 has no published price
# on apiframe (§15.2, UNCONFIRMED): the simulator's default is a guess, configurable per run
# (SimulatorConfig.prices) and served in its /v2/models catalog, which clients must read.
PRICES: dict[str, dict[int, int]] = {
    "runway-gen4-turbo": {5: 8, 10: 15},
    "runway-gen4.5": {5: 25, 10: 50},
}
MODEL_LABELS = {"runway-gen4-turbo": "Runway Gen-4 Turbo", "runway-gen4.5": "Runway Gen-4.5"}
DEFAULT_DURATION = 5
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
# Runway's default ratio for gen4_turbo is 1280:720, so an omitted aspect_ratio renders 16:9.
DEFAULT_ASPECT_RATIO = "16:9"
# Output picture size by ratio: gen4_turbo's ratios (contract §10, the probable mapping).
OUTPUT_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1280, 720),
    "9:16": (720, 1280),
    "4:3": (1104, 832),
    "3:4": (832, 1104),
    "1:1": (960, 960),
    "21:9": (1584, 672),
}

MB = 1024 * 1024


@dataclass(frozen=True)
class Account:
    """One API key, its user and its team (the simulator gives every key a team of its own)."""

    api_key: str
    credits: int = 10_000
    email: str = "dev@example.com"
    team_name: str = "Simulator Team"
    plan: str = "pro"
    max_concurrent_jobs: int = 10
    role: str = "ADMIN"  # ADMIN | OWNER | MEMBER; only ADMIN/OWNER may list with scope=team
    active: bool = True
    key_name: str = "Simulator Key"


def default_accounts() -> list[Account]:
    """The keys a fresh simulator knows (documented in the package docstring)."""
    return [
        Account("afk_demo", credits=100_000, email="demo@example.com", team_name="Demo Team"),
        Account("afk_test_inactive", credits=10_000, email="inactive@example.com", active=False),
        Account("afk_test_broke", credits=0, email="broke@example.com", plan="free"),
        Account("afk_test", credits=10_000, email="test@example.com"),
    ]


@dataclass
class SimulatorConfig:
    """Everything that shapes one simulator run. The defaults suit the demo mode."""

    seconds_per_job: float = 20.0  # wall time from QUEUED to COMPLETED (when a slot is free)
    queued_seconds_fraction: float = 0.2  # share of that time spent QUEUED before PROCESSING
    progress: ProgressShape = field(default_factory=ProgressShape)  # how `progress` moves
    accounts: list[Account] | None = None  # None -> default_accounts()
    # Contract §4.3: newest docs say {"videoUrl": ...}, older docs/SDK tests show a bare URL string.
    result_shape: Literal["object", "string"] = "object"
    # Contract §10: gen4_turbo upstream cannot do text-only; apiframe claims it can.
    text_only: Literal["accept", "fail"] = "accept"
    # Contract §7/§8: 409 on a reused Idempotency-Key with another body is SDK-only knowledge.
    idempotency_mismatch: Literal["conflict", "replay"] = "conflict"
    # Contract §8: behaviour past team.maxConcurrentJobs is UNCONFIRMED.
    over_concurrency: Literal["queue", "reject"] = "queue"
    send_request_id: bool = True  # x-request-id on every response (§1, UNCONFIRMED server-side)
    upload_ttl_seconds: float = 3600.0  # uploads are reaped after ~1-2 h (§5)
    result_ttl_seconds: float | None = None  # None: never (§11: 3 months vs 24 h)
    faults: FaultPlan = field(default_factory=FaultPlan)
    # Credits by model and duration, charged and listed in /v2/models (costMin/costMax, flat).
    prices: dict[str, dict[int, int]] = field(
        default_factory=lambda: {m: dict(p) for m, p in PRICES.items()})
    seed: int | None = None  # seeds every fault decision
    host: str = "127.0.0.1"
    max_image_bytes: int = 25 * MB  # upload caps (§5); tests may shrink them to stay fast
    max_audio_bytes: int = 25 * MB
    max_video_bytes: int = 50 * MB
    idempotency_window_seconds: float = 24 * 3600.0
    # A folder of clips to serve instead of resources/clips (same names: 16x9.mp4, 21x9.mp4…).
    # The benchmarks point it at padded 100 MB MP4s; None serves the shipped sample clips.
    clips_dir: Path | None = None
    # Demo clips: a job with a start image gets a clip made from that image (a slow push-in or
    # pan at the output size of its ratio, for its duration); text-only jobs get stock clips.
    # The demo mode turns it on; tests that compare downloads with the stock clips leave it off.
    image_clips: bool = False
    image_clip_fps: int = 12  # Runway's 24 would double the cost and size for little gain

    def resolved_accounts(self) -> list[Account]:
        return list(self.accounts) if self.accounts is not None else default_accounts()

    @property
    def queued_seconds(self) -> float:
        return self.seconds_per_job * self.queued_seconds_fraction

    @property
    def processing_seconds(self) -> float:
        return self.seconds_per_job - self.queued_seconds
