"""The headless front end: the same engine as the window, driven from a terminal or a script.

Here: generate, jobs, resume, me, import, reset-history; `extend` and `sequence` are in
cli_sequence.py, `cancel`, `remove` and `retry` (the window's queue menu) in cli_queue.py and
cli_remove.py, `export` in cli_export.py, the options and help in cli_parser.py.

Pacing for scripts and tests: see `engine.lifecycle.timing_from_env` (RUNWAY_DESKTOP_POLL_SECONDS,
RUNWAY_DESKTOP_RETRY_SECONDS).

Exit codes: 0 done, 2 bad input, 3 API key problem, 4 not enough credits, 5 the job failed,
6 network, server or disk trouble (`resume` carries on), 7 `reset-history` while another
process uses the data folder (or `sequence delete` of a sequence another process runs), 8 a
local data problem (the history file is damaged or from a newer version: the message names it
and how to start fresh, `runway-desktop reset-history`),
9 the result couldn't be written to stdout (a closed pipe, `| head -c0`): what was made is saved
and in the history, `runway-desktop jobs` lists it; a generation's own problem (2-6) wins;
130 stopped by Ctrl+C, 143 by SIGTERM, 129 by its terminal closing (a generation not yet sent is
cancelled, a paid one kept for `resume`); 1 something unexpected (the log has the details).
A person sees one line, never a traceback (the log has the details).

Any number of commands and the window share one queue: each drives the generations it leases in
the journal (engine/leases.py), and one that ends is carried on by the others or the next
`resume`.

A settings file that can't be used is kept aside and the defaults are used: one notice on
stderr, and the command goes on (settings.load_checked).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

# What every command needs. What only the commands that go online need (the scheduler,
# httpx, the keyring, Pillow) is imported where they start: `jobs` and `sequence list`
# started in ~0.27 s with it all, most of it never used (tests/test_cli_startup.py).
from runway_desktop import api, cli_queue, cli_sequence, paths, settings
from runway_desktop.api.catalog import BUILT_IN_CATALOG, ModelCatalog, prompt_length
from runway_desktop.cli_parser import build_parser
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.events import EngineEvent, GenerationUpdated, ProblemChanged
from runway_desktop.engine.journal import Journal, JournalError, JournalUnusable, move_aside
from runway_desktop.engine.lifecycle_table import Command
from runway_desktop.engine.presence import sole_user
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.logs import setup_logging
from runway_desktop.loop_signals import stop_signals

if TYPE_CHECKING:
    from runway_desktop.engine.scheduler import Engine

log = logging.getLogger(__name__)

EXIT_OK, EXIT_INPUT, EXIT_AUTH, EXIT_CREDITS, EXIT_FAILED, EXIT_NETWORK = 0, 2, 3, 4, 5, 6
EXIT_BUSY = 7  # another process (the window, a command) is in the way: reset-history, or a
# sequence delete of a sequence it runs
EXIT_DATA = 8  # a local data problem: the history file can't be used as it is
EXIT_OUTPUT = 9  # stdout could not be written (a closed pipe): the results are saved all the same
CATALOG_WAIT = 5.0  # seconds `generate` waits for apiframe's prices before saying "unknown"
RESET_HINT = ("To keep it aside (renamed, nothing is deleted) and start a fresh history, run "
              "`runway-desktop reset-history`.")


class Stopped(KeyboardInterrupt):
    """The command was stopped by a signal other than Ctrl+C (SIGTERM, SIGHUP): exit 128 +
    signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class CliError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Context:
    data_dir: Path
    settings: settings.Settings
    json_output: bool
    proxy_given: bool = False  # --proxy named one: that is where to fix it, not Settings


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _printable_stdout()
    STOP_NOTES.clear()  # a second main() in one process (tests) starts with none
    if argv and argv[0] == "simulator":
        from runway_desktop.simulator.__main__ import main as simulator_main

        return simulator_main(argv[1:], prog="runway-desktop simulator")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed its one-line complaint
        return EXIT_INPUT if exit_.code else EXIT_OK
    data_dir = paths.data_dir(args.data_dir)
    if data_dir.exists() and not data_dir.is_dir():  # else every file in it "can't be read"
        print(f"runway-desktop: The data folder {data_dir} is a file, not a folder. Name a "
              f"folder with --data-dir (or {paths.DATA_DIR_ENV}).", file=sys.stderr)
        return EXIT_INPUT
    setup_logging(paths.log_dir(data_dir))
    loaded = settings.load_checked(data_dir)
    if loaded.notice:  # the file was kept aside: say so once, then carry on with defaults
        print(f"runway-desktop: {loaded.notice}", file=sys.stderr)
    chosen = loaded.settings
    if getattr(args, "proxy", None) is not None:
        chosen = chosen.replace(proxy=args.proxy)
    context = Context(data_dir, chosen, getattr(args, "json", False),
                      proxy_given=bool(getattr(args, "proxy", None)))
    try:
        if args.command == "export":  # runs its own Qt loop, not asyncio.run
            from runway_desktop import cli_export

            return cli_export.run(args, context)
        if cli_sequence.needs_qt(args, data_dir):  # last frames: QtMultimedia on a qasync loop
            return cli_sequence.run_on_qt(_dispatch(args, context), data_dir)
        return asyncio.run(_stoppable(_dispatch(args, context)))
    except CliError as error:
        message = key_words(error.message) if error.code == EXIT_AUTH else error.message
        print(f"runway-desktop: {proxy_words(message, context)}", file=sys.stderr)
        return error.code
    except JournalError as error:  # the history stopped being writable while running
        print(f"runway-desktop: {error.message}", file=sys.stderr)
        return EXIT_NETWORK  # disk trouble: `resume` carries on once it is fixed
    except BrokenPipeError:  # stdout closed (`jobs | head -1`): everything made is saved
        _stdout_lost()
        print("runway-desktop: the output couldn't be written (stdout was closed); nothing is "
              "lost: `runway-desktop jobs` lists the history.", file=sys.stderr)
        return EXIT_OUTPUT
    except KeyboardInterrupt as stop:
        try:
            for note in STOP_NOTES or ["stopped. Unfinished generations are kept; run "
                                       "`runway-desktop resume` to finish them."]:
                print(f"runway-desktop: {note}", file=sys.stderr)
        except OSError:  # its terminal closed (SIGHUP): nobody to tell, the work is settled
            pass
        return 128 + (stop.signum if isinstance(stop, Stopped) else signal.SIGINT)
    except Exception as error:
        if isinstance(error, OSError) and (problem := paths.write_problem(data_dir)):
            # A read-only or full data folder fails wherever a command first writes there
            # (its work files, the lock): not unexpected, and its log can't be written either.
            print(f"runway-desktop: Can't write in the data folder {data_dir}, where the "
                  f"history lives: {problem}. Make it writable again or free some space on "
                  f"its drive, or name another folder with --data-dir (or "
                  f"{paths.DATA_DIR_ENV}).", file=sys.stderr)
            return EXIT_DATA
        log.exception("Unexpected error in the command line")
        print(f"runway-desktop: something unexpected went wrong ({type(error).__name__}); "
              f"details are in {paths.log_dir(data_dir)}.", file=sys.stderr)
        return 1


async def _stoppable(work: Coroutine[Any, Any, int]) -> int:
    """Run a command; SIGTERM (`kill`, `timeout`) and SIGHUP (its terminal closed) stop it as
    Ctrl+C does, cleanly: what it made is kept or cancelled the same way, and it says so (the
    Qt loop's run_until_signal does the same)."""
    task = asyncio.current_task()
    assert task is not None
    terminated: list[int] = []

    def terminate(signum: int) -> None:
        terminated.append(signum)
        task.cancel()

    loop = asyncio.get_running_loop()
    handled = stop_signals()[1:]  # Ctrl+C is asyncio.run's own
    try:
        for signum in handled:
            loop.add_signal_handler(signum, terminate, signum)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows; not the main thread
        return await work
    try:
        return await work
    except asyncio.CancelledError:
        if terminated:
            raise Stopped(terminated[0]) from None  # main() says what became of the work
        raise
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


async def _dispatch(args: argparse.Namespace, context: Context) -> int:
    if args.command == "jobs":
        return _list_jobs(context)
    if args.command == "me":
        return await _me(context)
    if args.command == "generate":
        return await _generate(args, context)
    if args.command == "resume":
        return await _resume(args, context)
    if args.command == "import":
        return await _import(context, args)
    if args.command == "reset-history":
        return _reset_history(context)
    if args.command == "extend":
        return await cli_sequence.extend(args, context)
    if args.command == "sequence":
        return await cli_sequence.sequence(args, context)
    if args.command in ("cancel", "remove", "retry"):
        return await cli_queue.run(args, context)
    raise CliError(f"unknown command {args.command}", EXIT_INPUT)


# -- commands -------------------------------------------------------------------------------------

def _list_jobs(context: Context) -> int:
    journal = _open_journal(context)
    try:
        generations = journal.all()
        for generation in generations:
            _print_generation(generation, context, always=True)
    finally:
        journal.close()
    if not generations and not context.json_output:  # as `sequence list` says it
        print("No generations yet. `runway-desktop generate \"…\" --image photo.jpg` makes one.",
              file=sys.stderr)
    return EXIT_OK


async def _me(context: Context) -> int:
    api_key = _require_key()
    try:
        async with api.ApiClient(api_key, context.settings.effective_base_url(),
                                 proxy=_proxy(context)) as client:
            account = await client.me()
    except api.ApiError as error:
        raise CliError(error.message, exit_code_for_error(error)) from None
    if context.json_output:
        print(json.dumps({"email": account.user_email, "team": account.team_name,
                          "plan": account.plan, "credits": account.credits,
                          "max_concurrent_jobs": account.max_concurrent_jobs}))
    else:
        print(f"{account.user_email or '?'} · {account.team_name or 'team'} "
              f"({account.plan or 'plan ?'}) · {account.credits:,} credits")
    return EXIT_OK


def _settings_from_args(args: argparse.Namespace) -> GenerationSettings:
    from runway_desktop.engine.scheduler import random_seed

    image = args.image
    return GenerationSettings(
        prompt=args.prompt.strip(),
        model=args.model,
        duration=args.duration,
        aspect_ratio=args.aspect,
        seed=(random_seed(BUILT_IN_CATALOG.get(args.model)) if args.seed is None
              else _parse_seed(args.seed, args.model)),
        image_url=image if image and _is_url(image) else None,
        image_path=(os.path.abspath(os.path.expanduser(image)) if image and not _is_url(image)
                    else None),  # `--image=~/a.png`: no shell expands that ~
    )


async def _generate(args: argparse.Namespace, context: Context) -> int:
    from runway_desktop.engine.scheduler import validate

    settings_ = _settings_from_args(args)
    try:
        validate(settings_)
    except api.InvalidRequestError as error:
        raise CliError(prompt_words(error.message, args.prompt, args.model), EXIT_INPUT) from None
    if settings_.image_path:
        await _check_image(Path(settings_.image_path), context)
    output_dir = _check_output_dir(args.out) if args.out is not None else None
    api_key = _require_key()
    async with _running_engine(context, api_key) as engine:
        service = GenerationService(engine)
        generation = service.submit(settings_, output_dir=output_dir)
        rows = await follow(service, engine, generation, no_wait=args.no_wait)
    return _report(rows, context)


async def follow(service: GenerationService, engine: Engine, generation: Generation, *,
                 no_wait: bool) -> list[Generation]:
    """Wait for the generation this command made (`generate`, `extend`). Stopped meanwhile
    (Ctrl+C, SIGTERM), what never left this computer is cancelled, so nobody pays for it later
    (the next command or the window would carry it on), and the person is told what became of
    it: paid work is kept for `resume`."""
    try:
        if sys.stderr.isatty():  # for the person watching; scripts read credit_cost
            _print_price(generation.settings, await _catalog_for_price(engine))
        if no_wait:
            accepted = await service.wait_accepted(generation.id)
            rows = [accepted] if accepted else []
        else:
            rows = await service.wait_settled([generation.id])
    except asyncio.CancelledError:
        STOP_NOTES.append(_stopped(service, generation.id))
        raise
    if not rows:  # not a silent exit 0: the person may not know another process did it
        print(f"runway-desktop: #{generation.id} {cli_queue.quoted(generation)} was removed "
              "from the history elsewhere (in the window or by `runway-desktop remove`) before "
              "it finished: its video isn't saved.", file=sys.stderr)
    elif rows[0].stage is Stage.DONE and engine.done_elsewhere(generation.id):
        # E.g. this command was stopped (Ctrl+Z) and the window carried its generation on.
        print(f"runway-desktop: #{generation.id} {cli_queue.quoted(generation)} was finished "
              "by another Runway Desktop process sharing this queue (the window or another "
              "command).", file=sys.stderr)
    return rows


STOP_NOTES: list[str] = []  # what a stopped command says instead of its general words


def _stopped(service: GenerationService, generation_id: int) -> str:
    """Cancel `generation_id` if nothing of it reached apiframe; what happened to it."""
    if service.cancel([generation_id]):
        return (f"stopped before #{generation_id} was sent to apiframe: it is cancelled and "
                "nothing was charged.")
    generation = service.get(generation_id)
    stage = generation.stage if generation else Stage.DONE
    if stage.is_settled:
        return f"stopped; #{generation_id} had already ended ({stage.value})."
    if stage == Stage.SUBMITTING:
        return (f"stopped while #{generation_id} was being sent to apiframe, which may have "
                "accepted and charged it. Run `runway-desktop resume` to get its video: it "
                "finds the job, never paying twice.")
    doing = ("apiframe has made it; its download stopped here" if stage == Stage.DOWNLOADING
             else "apiframe keeps making it")
    return (f"stopped; #{generation_id} is paid and {doing}. Run `runway-desktop resume` to "
            "save its video (the window does too if it is open); it is never paid twice.")


async def _resume(args: argparse.Namespace, context: Context) -> int:
    output_dir = _check_output_dir(args.out) if args.out is not None else None
    api_key = _require_key()
    async with _running_engine(context, api_key) as engine:
        service = GenerationService(engine)
        unfinished = service.unfinished()
        for generation in unfinished:
            if output_dir:
                service.set_output_folder(generation.id, output_dir)
            # Stopped on the network, the disk, the key or credits: try again now. Input the
            # person must change would only fail the same way.
            if (Command.RETRY in service.allowed(generation)
                    and generation.action != Action.EDIT_INPUT):
                service.retry(generation.id)
        rows = await service.wait_settled(
            [g.id for g in unfinished if g.action != Action.EDIT_INPUT])
        code = _report(rows, context)
        # Sequences that were running carry on from the shot they were at (made once).
        sequences, sequence_code = await cli_sequence.resume_sequences(
            engine, context, {g.id for g in rows})
    # Left alone, and said why: 'Nothing to resume.' hid a generation waiting for a change.
    needs_change = [g for g in unfinished if g.action == Action.EDIT_INPUT]
    for generation in needs_change:
        why = (generation.error or "its settings need a change").rstrip()
        why += "" if why.endswith((".", "!", "?")) else "."
        print(f"runway-desktop: #{generation.id} is left as it is: {why} Make it again with "
              "changed settings (`runway-desktop generate`).", file=sys.stderr)
    if not rows and not sequences and not needs_change and not context.json_output:
        print("Nothing to resume.", file=sys.stderr)
    return max(code, sequence_code)


async def _import(context: Context, args: argparse.Namespace) -> int:
    from runway_desktop.engine.importer import ASK_ABOVE_VIDEOS

    api_key = _require_key()
    output_dir = _check_output_dir(args.out) if args.out is not None else None
    async with _running_engine(context, api_key) as engine:
        service = GenerationService(engine)
        try:
            plan = await service.plan_import()
        except api.ApiError as error:
            raise CliError(error.message, exit_code_for_error(error)) from None
        skipped = (f" ({plan.skipped_removed} you removed earlier skipped)"
                   if plan.skipped_removed else "")
        print(f"Found {plan.jobs} job(s) to import, {plan.videos} video(s) to download"
              f"{skipped}.", file=sys.stderr)
        if plan.videos > ASK_ABOVE_VIDEOS and not args.yes and not await _confirm(
                f"Download {plan.videos} videos into "
                f"{output_dir or service.output_folder}? [y/N] "):
            raise CliError(f"Nothing imported: {plan.videos} videos is more than "
                           f"{ASK_ABOVE_VIDEOS}. Run `runway-desktop import --yes` to download "
                           "them (--out DIR to choose where).", EXIT_INPUT)
        result = service.import_planned(plan, output_dir=output_dir)
        moving = [g.id for g in service.unfinished() if not g.stage.is_settled]
        rows = await service.wait_settled(moving)
    print(f"Imported {result.added} job(s); {result.matched} of yours followed again; "
          f"{result.skipped_removed} removed earlier skipped.", file=sys.stderr)
    return _report(rows, context)


async def _confirm(question: str) -> bool:
    """Ask at a terminal (False where nobody can answer: a script, a pipe)."""
    if not can_ask():
        return False
    print(question, end="", file=sys.stderr, flush=True)
    answer = await _typed_line()
    return answer.strip().lower() in ("y", "yes")


def can_ask() -> bool:
    """A person is at a terminal to answer a question (not a script, a pipe, cron)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


async def _typed_line() -> str:
    """What the person types at the terminal, up to Enter. Read in a daemon thread straight from
    the file descriptor: in asyncio's worker thread (to_thread) Ctrl+C did nothing until Enter,
    as the loop's shutdown waits for its workers; and a thread left inside sys.stdin's buffer
    would hold its lock while the interpreter exits."""
    import threading

    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def deliver(text: str) -> None:
        if not answer.done():
            answer.set_result(text)

    def read() -> None:
        try:
            data = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            data = b""
        with contextlib.suppress(RuntimeError):  # the command ended meanwhile: nobody waits
            loop.call_soon_threadsafe(deliver, data.decode("utf-8", "replace"))

    threading.Thread(target=read, name="typed-answer", daemon=True).start()
    return await answer


# -- helpers --------------------------------------------------------------------------------------

def _proxy(context: Context) -> str | None:
    """The proxy to use (--proxy, else the settings'); None: the system's."""
    from runway_desktop.api.network import normalize_proxy_url

    try:
        return normalize_proxy_url(context.settings.proxy)
    except api.InvalidRequestError as error:
        raise CliError(f"{error.message} (--proxy, or the proxy in Settings)", EXIT_INPUT) from None


class _running_engine:
    """Open the journal, start the engine with progress on stderr, stop it cleanly."""

    def __init__(self, context: Context, api_key: str) -> None:
        self.context = context
        self.api_key = api_key

    async def __aenter__(self) -> Engine:
        proxy = _proxy(self.context)  # before anything is opened
        self.journal = _open_journal(self.context)
        try:
            self.engine = new_engine(self.journal, self.context, self.api_key, proxy)
        except BaseException:
            self.journal.close()
            raise
        if sys.stderr.isatty():
            self.engine.subscribe(_progress_line)
        try:
            await self.engine.start()
        except BaseException:
            self.journal.close()
            raise
        return self.engine

    async def __aexit__(self, *exc: object) -> None:
        await self.engine.stop()
        self.journal.close()
        if sys.stderr.isatty():
            print(file=sys.stderr)


def new_engine(journal: Journal, context: Context, api_key: str | None,
               proxy: str | None, *, offline: bool = False) -> Engine:
    """An engine over `journal` with the settings and pacing of this command (not started).
    `offline`: one that is never started (cancel, remove) doesn't go by the API address, so
    an address it would refuse doesn't stop a command that only writes the history."""
    from runway_desktop.api.urls import DEFAULT_BASE_URL
    from runway_desktop.engine.lifecycle import EngineConfig, timing_from_env
    from runway_desktop.engine.scheduler import Engine

    config = EngineConfig(
        data_dir=context.data_dir,
        output_dir=context.settings.output_path,
        base_url=DEFAULT_BASE_URL if offline else context.settings.effective_base_url(),
        create_output_parents=not context.settings.output_dir,
        keep_image_metadata=context.settings.keep_image_metadata,
        settings_sidecar=context.settings.settings_sidecar,
        proxy=proxy,
        **timing_from_env(os.environ),
    )
    try:
        return Engine(journal, config, api_key)
    except api.InvalidRequestError as error:
        raise CliError(error.message, EXIT_INPUT) from None


async def _catalog_for_price(engine: Engine) -> ModelCatalog:
    """apiframe's prices once its model list has answered (the generation is already on its
    way meanwhile), or what is known after a short wait."""
    try:
        return await asyncio.wait_for(engine.wait_catalog(), CATALOG_WAIT)
    except TimeoutError:
        return engine.catalog


def _print_price(settings_: GenerationSettings, catalog: ModelCatalog) -> None:
    """`Gen-4.5 · 10 s · 50 credits` on stderr, over the progress line (stdout stays the
    result)."""
    spec = catalog.get(settings_.model)
    label = spec.label if spec else settings_.model
    price = settings_.price_in(catalog)
    cost = (f"{price:,} credits" if price is not None
            else "price from apiframe unavailable (apiframe charges its current price)")
    print(f"\r{label} · {settings_.duration} s · {cost}".ljust(70), file=sys.stderr, flush=True)


def _progress_line(event: EngineEvent) -> None:
    if isinstance(event, GenerationUpdated):
        g = event.generation
        text = f"\r#{g.id} {g.stage.value:<11} {g.progress:>3}%  {g.settings.prompt[:40]}"
        print(text.ljust(70), end="", file=sys.stderr, flush=True)
    elif isinstance(event, ProblemChanged) and event.problem and not (
            event.problem.pauses_submission):
        # apiframe unreachable or asking to wait: the engine tries again by itself. Said once
        # on its own line (the window's banner), or the line sat at 'uploading 0%' for half a
        # minute with no word of why.
        print(f"\r{event.problem.message} Trying again…".ljust(70), file=sys.stderr, flush=True)


def _open_journal(context: Context) -> Journal:
    try:
        journal = Journal(paths.journal_path(context.data_dir))
    except JournalUnusable as error:
        log.warning("History unusable: %s", error.__cause__ or error)
        raise CliError(f"{error} {RESET_HINT}", EXIT_DATA) from None
    except JournalError as error:
        raise CliError(str(error), EXIT_DATA) from None
    if journal.notice:
        print(f"runway-desktop: {journal.notice}", file=sys.stderr)
    return journal


def _reset_history(context: Context) -> int:
    """Move an unusable journal aside, under the engine's lock (no process may have it open)."""
    path = paths.journal_path(context.data_dir)
    if not path.exists():
        print(f"No history file at {path}: nothing to reset.", file=sys.stderr)
        return EXIT_OK
    with sole_user(context.data_dir) as alone:
        if not alone:
            raise CliError(f"Another Runway Desktop process (the window or a command) is "
                           f"using {context.data_dir}. Close it, then run this again.",
                           EXIT_BUSY)
        try:
            Journal(path).close()
        except JournalUnusable:
            pass
        except JournalError as error:  # the folder, not the file: moving it wouldn't help
            raise CliError(str(error), EXIT_DATA) from None
        else:
            print(f"The history at {path} is readable: left as it is.", file=sys.stderr)
            return EXIT_OK
        try:
            kept = move_aside(path)
        except OSError as error:
            raise CliError(f"Can't rename {path}: {error.strerror or error}. Check the "
                           "folder's permissions.", EXIT_DATA) from None
    print(f"Kept the old history as {kept} (with its -wal/-shm files, if any). The next "
          f"command starts a fresh history. To undo, move it back to {path}.", file=sys.stderr)
    return EXIT_OK


def _require_key() -> str:
    from runway_desktop import secrets

    try:
        key = secrets.load_api_key()
    except secrets.KeyStoreError as error:
        raise CliError(error.message, EXIT_AUTH) from None
    if not key:
        raise CliError(
            f"No API key. Set {secrets.API_KEY_ENV}, or save your key in Runway Desktop's "
            "Settings.", EXIT_AUTH)
    return key


def prompt_words(message: str, prompt: str, model: str | None) -> str:
    """A prompt too long says how Runway counts, when that isn't what the person sees: an
    emoji is 2 (UTF-16), so 501 of them were '1,002 characters' with no word of why."""
    spec = BUILT_IN_CATALOG.get(model or "") or BUILT_IN_CATALOG.default
    counted, seen = prompt_length(prompt.strip()), len(prompt.strip())
    if counted <= spec.prompt_limit or counted == seen:
        return message
    return (f"{message} Runway counts an emoji (and a few other symbols) as 2 characters: "
            f"shorten it by {counted - spec.prompt_limit:,}.")


def _parse_seed(text: str, model: str) -> int:
    """A seed written with the ASCII digits 0-9 (a leading "-" is left to the range check).
    Python's int() would also take "٣", "1_000" or " 7 ": a seed is copied between runs, so
    only what reads the same everywhere is one."""
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    spec = BUILT_IN_CATALOG.get(model)
    low, high = spec.seed_range if spec else (0, 2**32 - 1)
    raise CliError(f"The seed must be a whole number from {low} to {high:,} written with the "
                   f"digits 0-9, not {text!r}. Leave out --seed for a random one.", EXIT_INPUT)


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


async def _check_image(path: Path, context: Context) -> None:
    """Refuse a bad image before anything is journaled. The preparation is handed to the
    engine, which uploads it instead of preparing the image a second time."""
    from runway_desktop.engine import images, work_files

    keep = context.settings.keep_image_metadata
    try:
        prepared = await images.prepare_image_async(
            path, work_files.own_dir(context.data_dir), keep_metadata=keep)
    except images.ImageRejected as error:
        raise CliError(error.message, EXIT_INPUT) from None
    work_files.remember(path, prepared, keep_metadata=keep)


def _check_output_dir(given: str | os.PathLike[str]) -> Path:
    given = os.fspath(given)
    if not given.strip():  # `--out ""` (an unset variable in a script): never the current folder
        raise CliError("--out is empty: name the folder to save videos in, or leave out --out "
                       "to use the default folder.", EXIT_INPUT)
    folder = Path(given).expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise CliError(f"The output folder {folder} is a file, not a folder. Choose a folder "
                       "with --out.", EXIT_INPUT)
    if not folder.is_dir():
        raise CliError(f"The output folder {folder} doesn't exist. Create it or choose another "
                       "with --out.", EXIT_INPUT)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(f"Can't write to the output folder {folder}. Choose another with --out.",
                       EXIT_INPUT)
    return folder


def exit_code_for_error(error: api.ApiError) -> int:
    if isinstance(error, (api.AuthenticationError, api.PermissionDeniedError)):
        return EXIT_AUTH
    if isinstance(error, api.InsufficientCreditsError):
        return EXIT_CREDITS
    if isinstance(error, (api.InvalidRequestError, api.ValidationError)):
        return EXIT_INPUT
    return EXIT_NETWORK


_EXIT_BY_ACTION = {
    Action.OPEN_SETTINGS: EXIT_AUTH,
    Action.BUY_CREDITS: EXIT_CREDITS,
    Action.EDIT_INPUT: EXIT_INPUT,
    Action.CHOOSE_FOLDER: EXIT_INPUT,
    Action.RETRY: EXIT_NETWORK,
}


def exit_code_for(generation: Generation) -> int:
    if generation.stage == Stage.FAILED:
        return EXIT_FAILED
    if generation.stage == Stage.ATTENTION:
        return _EXIT_BY_ACTION.get(generation.action or Action.RETRY, EXIT_NETWORK)
    return EXIT_OK


def _report(rows: list[Generation], context: Context) -> int:
    code = EXIT_OK
    unwritten: list[Generation] = []
    for generation in rows:
        if not unwritten:
            try:
                _print_generation(generation, context)
            except BrokenPipeError:  # the reader went away: the results are saved all the same
                _stdout_lost()
                unwritten.append(generation)
        else:
            unwritten.append(generation)
        code = max(code, exit_code_for(generation))
        if generation.stage.is_problem:
            # stderr even with --json: stdout stays machine-readable, the person still reads why.
            print(f"runway-desktop: {proxy_words(_for_the_terminal(generation), context)}",
                  file=sys.stderr)
    if unwritten:
        saved = [g.video_path for g in unwritten if g.stage == Stage.DONE and g.video_path]
        where = f" The video is saved: {', '.join(saved)}." if saved else ""
        print(f"runway-desktop: the result couldn't be written to stdout (it was closed).{where} "
              "`runway-desktop jobs` lists it.", file=sys.stderr)
        return code if code != EXIT_OK else EXIT_OUTPUT
    return code


def _printable_stdout() -> None:
    """A prompt, a path or the '·' of `me` that stdout's encoding can't hold is written escaped
    (as stderr already does), not 'something unexpected went wrong (UnicodeEncodeError)': a
    Windows console redirected to a file writes its ANSI code page, which has no Japanese or
    emoji. JSON is ASCII whatever the encoding."""
    stdout = sys.stdout
    if isinstance(stdout, io.TextIOWrapper) and stdout.errors == "strict":
        stdout.reconfigure(errors="backslashreplace")


def _stdout_lost() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what is still buffered
    doesn't fail again (a second broken-pipe report and exit 120)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def key_words(message: str) -> str:
    """A refused or inactive key's words for a terminal. The api layer points at Settings; a
    key from APIFRAME_API_KEY is the one in use whatever Settings holds, so it is named instead
    (as the window's banner does)."""
    from runway_desktop import secrets

    if "in Settings." not in message:
        return message
    env = secrets.API_KEY_ENV
    if secrets.api_key_from_env():
        return message.replace("in Settings.", f"in {env}: the key in use comes from that "
                               "environment variable, not Settings (a key saved there is used "
                               "once it is unset).")
    return f"{message} (From a terminal: set {env}.)"


def proxy_words(message: str, context: Context) -> str:
    """A proxy given with --proxy is fixed there: the api layer's words point at Settings."""
    if not context.proxy_given:
        return message
    return message.replace("the proxy in Settings ▸ Proxy (or clear it)",
                           "--proxy (or leave it out for the proxy in Settings or the system's)")


def _for_the_terminal(generation: Generation) -> str:
    message = generation.error or "The generation stopped."
    if generation.action == Action.OPEN_SETTINGS:
        message = key_words(message)
    elif generation.stage == Stage.ATTENTION and generation.action != Action.EDIT_INPUT:
        elsewhere = ("" if generation.action == Action.BUY_CREDITS  # the folder isn't the matter
                     else " (--out DIR to save elsewhere)")
        message += f" Run `runway-desktop resume` to carry on{elsewhere}."
    return message


def as_json(generation: Generation) -> dict[str, object]:
    """One generation for scripts: where it is, and every setting it was made with (a script
    listing `jobs --json` could not tell which row was which prompt)."""
    settings = generation.settings
    return {
        "id": generation.id,
        "job_id": generation.job_id,
        "status": generation.stage.value,
        "created_at": _iso_time(generation.created_at),
        "credit_cost": generation.credit_cost,
        "model": settings.model,
        "prompt": settings.prompt,
        "duration": settings.duration,
        "aspect_ratio": settings.aspect_ratio,
        "seed": settings.seed,
        "image": settings.image_path or settings.image_url,
        "favourite": generation.favourite,
        "video_path": generation.video_path if generation.stage == Stage.DONE else None,
        "error": generation.error,
        "parent_id": generation.parent_id,  # made from that one's last frame (extend)
        "sent_again_as": generation.sent_again_as,  # a refunded failure Retry sent anew as that
    }


def _iso_time(epoch: float) -> str:
    """Local time with its offset, to the second (what a script parses without guessing)."""
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def _print_generation(generation: Generation, context: Context, always: bool = False) -> None:
    if context.json_output:
        print(json.dumps(as_json(generation)), flush=True)
        return
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(generation.created_at))
    if generation.stage == Stage.DONE and not always:
        print(generation.video_path, flush=True)  # a closed stdout fails here, not at exit
        return
    where = generation.video_path if generation.stage == Stage.DONE else generation.error or ""
    if generation.sent_again_as is not None:  # the window's row says it too
        where = f"sent again as #{generation.sent_again_as}. {where}".rstrip()
    spec = BUILT_IN_CATALOG.get(generation.settings.model)
    print(f"#{generation.id}  {when}  {generation.stage.value:<11} "
          f"{spec.label if spec else generation.settings.model} "
          f"{generation.settings.duration}s {generation.settings.aspect_ratio} "
          f"seed {generation.settings.seed}  {generation.settings.prompt[:50]!r}  {where}",
          flush=True)
