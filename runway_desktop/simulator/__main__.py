"""`python -m runway_desktop.simulator`: run the simulator in the foreground until Ctrl+C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from runway_desktop.simulator.config import SimulatorConfig
from runway_desktop.simulator.faults import FaultPlan
from runway_desktop.simulator.service import Simulator


def build_parser(prog: str = "python -m runway_desktop.simulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local apiframe v2 simulator (API and CDN on loopback).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8787, help="API port (0 = any free port)")
    parser.add_argument("--cdn-port", type=int, default=0, help="CDN port (default: any free)")
    parser.add_argument("--seconds-per-job", type=float, default=20.0, help="QUEUED->COMPLETED s")
    parser.add_argument("--result-shape", choices=("object", "string"), default="object")
    parser.add_argument("--text-only", choices=("accept", "fail"), default="accept")
    parser.add_argument("--over-concurrency", choices=("queue", "reject"), default="queue")
    parser.add_argument(
        "--fail-rate", type=float, default=0.0, help="fraction of jobs that end FAILED"
    )
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="fraction of API requests answered 5xx"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for fault decisions")
    parser.add_argument(
        "--clips",
        choices=("image", "stock"),
        default="image",
        help="videos made from each job's start image (default), or the stock sample clips",
    )
    return parser


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = (build_parser(prog) if prog else build_parser()).parse_args(argv)
    config = SimulatorConfig(
        seconds_per_job=args.seconds_per_job,
        result_shape=args.result_shape,
        text_only=args.text_only,
        over_concurrency=args.over_concurrency,
        faults=FaultPlan(fail_jobs_rate=args.fail_rate, error_rate=args.error_rate),
        seed=args.seed,
        host=args.host,
        image_clips=args.clips == "image",
    )
    sim = Simulator(config)
    try:
        sim.start(api_port=args.port, cdn_port=args.cdn_port)
    except OSError as err:
        print(f"cannot start the simulator: {err}", file=sys.stderr)
        return 1
    try:
        _announce(sim, config)
        _wait_for_interrupt()
    except KeyboardInterrupt:
        pass  # Ctrl+C before the handlers were in place: same clean stop
    finally:
        sim.stop()
    print("simulator stopped", flush=True)
    return 0


def _announce(sim: Simulator, config: SimulatorConfig) -> None:
    print(f"apiframe simulator API  {sim.base_url}")
    print(f"           CDN origin   {sim.cdn_base_url}")
    made = "made from each job's start image" if config.image_clips else "stock sample clips"
    print(f"Videos: {made}")
    print("API keys:")
    for account in config.resolved_accounts():
        note = "inactive" if not account.active else f"{account.credits} credits"
        print(f"  {account.api_key:<20} {note}")
    print("Ctrl+C to stop.", flush=True)


def _wait_for_interrupt() -> None:
    """Block until SIGINT or SIGTERM (Ctrl+C or a polite kill), without a traceback."""
    done = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        done.wait()  # signals only reach the main thread; a caller elsewhere stops us by exiting
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not done.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
