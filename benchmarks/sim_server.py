"""The apiframe simulator in its own process, as the benchmarks need it.

    python benchmarks/sim_server.py --ready-file ready.json [options]

On top of `runway_desktop.simulator.Simulator` (which is not changed for this, apart from the
`clips_dir` switch it already has) this adds what a benchmark needs from outside the process:

- its own account (`--key`, `--credits`, `--max-concurrent`);
- jobs of varied length (`--min-seconds`/`--max-seconds`: each new job draws its length);
- a control port (JSON over HTTP on loopback): `GET /stats` (requests seen, jobs with their
  server-side completion instants), `POST /faults` (set FaultPlan fields), `POST /clear`;
- a state file (`--state-file`): on SIGTERM the server pickles its state (accounts, balances,
  jobs, uploads, idempotency keys) and a new process started with the same file and ports
  carries on where it stopped — a server restart with a persistent database. Job instants are
  `time.monotonic()` values (the simulator's clock), which are system-wide on Linux, so the
  restarted server finishes each job when the old one would have.

It runs in a separate process so that its threads (which serve 100 MB bodies) never share a GIL
with the app being measured.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runway_desktop.simulator import Account, FaultPlan, Simulator, SimulatorConfig
from runway_desktop.simulator.progress import ProgressShape
from runway_desktop.simulator.state import State

_PERSISTED = (
    "accounts",
    "balances",
    "debited",
    "refunded",
    "jobs",
    "uploads",
    "_unsettled",
    "_idempotency",
)
_FAULT_FIELDS = {f for f in FaultPlan.__dataclass_fields__}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ready-file", required=True, help="JSON with the URLs, once serving")
    parser.add_argument("--api-port", type=int, default=0)
    parser.add_argument("--cdn-port", type=int, default=0)
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--key", default="afk_bench")
    parser.add_argument("--credits", type=int, default=10_000_000)
    parser.add_argument("--max-concurrent", type=int, default=10)
    parser.add_argument("--seconds-per-job", type=float, default=1.0)
    parser.add_argument("--min-seconds", type=float, help="with --max-seconds: varied lengths")
    parser.add_argument("--max-seconds", type=float)
    parser.add_argument("--clips-dir", help="serve these clips (e.g. padded 100 MB MP4s)")
    parser.add_argument("--state-file", help="load state from it at start, save to it on SIGTERM")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", default="{}", help="FaultPlan fields as JSON")
    parser.add_argument("--max-upload-mb", type=int, default=25)
    parser.add_argument("--progress-refresh", type=float, default=0.0,
                        help="a job's progress changes only every so many seconds")
    parser.add_argument("--progress-wobble", type=float, default=0.0,
                        help="0..1: how much a job's pace varies while it runs")
    return parser


class VariedState(State):
    """Each new job gets its own length, drawn between min and max seconds."""

    lengths: tuple[float, float] | None = None
    rng = random.Random(7)

    def _new_job(self, owner: str, req: Any, now: float, mine: list[Any], slots: int) -> Any:
        if self.lengths is not None:
            self.config.seconds_per_job = self.rng.uniform(*self.lengths)
        return super()._new_job(owner, req, now, mine, slots)


def make_simulator(args: argparse.Namespace) -> Simulator:
    faults = FaultPlan(**json.loads(args.faults))
    config = SimulatorConfig(
        seconds_per_job=args.seconds_per_job,
        accounts=[
            Account(
                args.key,
                credits=args.credits,
                email="bench@example.com",
                team_name="Bench",
                max_concurrent_jobs=args.max_concurrent,
            )
        ],
        faults=faults,
        seed=args.seed,
        clips_dir=Path(args.clips_dir) if args.clips_dir else None,
        max_image_bytes=args.max_upload_mb * 1024 * 1024,
        progress=ProgressShape(args.progress_refresh, args.progress_wobble),
    )
    sim = Simulator(config)
    state = VariedState(config, sim.clock, sim._decider)
    if args.min_seconds is not None and args.max_seconds is not None:
        state.lengths = (args.min_seconds, args.max_seconds)
    sim._state = state
    if args.state_file and Path(args.state_file).is_file():
        saved = pickle.loads(Path(args.state_file).read_bytes())
        for name in _PERSISTED:
            setattr(state, name, saved[name])
        for request in saved.get("requests", []):  # the log of what the old process saw
            sim._recorder.add(request)
    return sim


def save_state(sim: Simulator, path: str) -> None:
    state = sim._state
    with state.lock:
        data = pickle.dumps({**{name: getattr(state, name) for name in _PERSISTED},
                             "requests": sim.requests})
    tmp = Path(path + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def stats(sim: Simulator) -> dict[str, Any]:
    state = sim._state
    with state.lock:
        state.settle()
        now = sim.clock.now()
        jobs = {
            job.id: {
                "status": job.status_at(now),
                "outcome": job.outcome,
                "created": sim.clock.wall(job.created),
                "end": sim.clock.wall(job.end),
                "prompt": job.request.prompt,
                "aspect_ratio": job.aspect_ratio,
                "price": job.price,
            }
            for job in state.jobs.values()
        }
        money = {"debited": sum(state.debited.values()), "refunded": sum(state.refunded.values())}
    requests = [
        {
            "method": r.method,
            "path": r.path,
            "role": r.host_role,
            "status": r.status,
            "outcome": r.outcome,
            "at": r.at,
        }
        for r in sim.requests
    ]
    return {"jobs": jobs, "requests": requests, **money}


def serve_control(sim: Simulator, port: int) -> ThreadingHTTPServer:
    class Control(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply(stats(sim) if self.path == "/stats" else {"ok": True})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/faults":
                changes = json.loads(body or b"{}")
                for name, value in changes.items():
                    if name not in _FAULT_FIELDS:
                        raise ValueError(name)
                    setattr(sim.faults, name, value)
            elif self.path == "/clear":
                sim.clear_requests()
            self._reply({"ok": True})

    server = ThreadingHTTPServer(("127.0.0.1", port), Control)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sim = make_simulator(args)
    sim.start(api_port=args.api_port, cdn_port=args.cdn_port)
    control = serve_control(sim, args.control_port)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    ready = {
        "base_url": sim.base_url,
        "cdn_base_url": sim.cdn_base_url,
        "api_port": sim.api_port,
        "cdn_port": sim.cdn_port,
        "control_url": f"http://127.0.0.1:{control.server_address[1]}",
        "control_port": control.server_address[1],
    }
    tmp = Path(args.ready_file + ".tmp")
    tmp.write_text(json.dumps(ready))
    tmp.replace(args.ready_file)
    while not done.wait(0.5):
        pass
    sim.stop()  # joins every handler: no request can change the state after this
    if args.state_file:
        save_state(sim, args.state_file)
    control.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
