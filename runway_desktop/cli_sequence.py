"""`runway-desktop extend` and `runway-desktop sequence run|list|show|take|redo|rename|delete`.

`extend <id> "prompt"` makes a new generation from a finished clip's exact last frame (waiting
for one still running), with the same settings unless options change them, and prints it like
`generate`. `sequence run <plan>` reads a plan (JSON or YAML: engine/sequence_plan.py), shows
the shots to make, their total cost and the balance after, asks (or takes `--yes`), then runs
them shot after shot, each from the previous shot's last frame. Running the same plan file
again carries on the sequence it left unfinished; so does `runway-desktop resume` for every
sequence that was running when a process died: a shot is never made (or paid) twice.
`sequence take <seq> <shot>` makes a new take of one shot (paid; it becomes the shot's), and
`--choose <take>` picks which of its takes the film uses; stopped (Ctrl+C, SIGTERM) before the
take left this computer, it is cancelled and the shot keeps the take it had. `sequence show`
marks the shots made after an older take of an earlier shot, and `sequence redo <seq>` makes
them again (paid: it shows the cost and asks, or takes `--yes`). `sequence rename <seq> <name>`
and `sequence delete <seq>` (asks first, or `--yes`) need no key: deleting removes the plan only,
its takes stay in the history, and a running sequence is refused until it is stopped.

The last frame is decoded by QtMultimedia, which needs Qt's event loop: these commands (and a
`resume` with a sequence to carry on) run on a qasync loop over a QCoreApplication; what Qt and
its FFmpeg say goes to the log, not the terminal. Exit codes are the CLI's (runway_desktop/cli.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import logging
import sys
from collections.abc import Coroutine, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from runway_desktop import api, paths
from runway_desktop.api.catalog import BUILT_IN_CATALOG
from runway_desktop.engine import presence
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.extension import ExtendError
from runway_desktop.engine.journal import Journal, JournalError
from runway_desktop.engine.records import Generation, Stage
from runway_desktop.engine.sequence_plan import Plan, PlanError, load_plan
from runway_desktop.engine.sequence_records import (
    CostPreview,
    KeptTakes,
    RunState,
    Sequence,
    SequenceRefused,
    SequenceRunning,
    Shot,
    sequence_name,
)
from runway_desktop.engine.sequence_store import SequenceStore
from runway_desktop.engine.sequences import SequenceService, outdated_shots
from runway_desktop.engine.settings_changes import SettingsChanges
from runway_desktop.loop_signals import StoppedBySignal, run_until_signal
from runway_desktop.native_stderr import awake_while, native_stderr_to

if TYPE_CHECKING:
    from runway_desktop.cli import Context
    from runway_desktop.engine.scheduler import Engine  # annotations only: it brings httpx

log = logging.getLogger(__name__)
T = TypeVar("T")

DECODING_LOG = "video-decoding.log"  # Qt's and FFmpeg's messages while decoding last frames
ACCOUNT_WAIT = 5.0  # seconds `sequence run` waits for the balance before saying "unknown"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                network: argparse.ArgumentParser, epilog: str) -> None:
    ext = sub.add_parser(
        "extend", parents=[network], epilog=epilog,
        help="a new video from a finished clip's last frame (same settings unless changed)")
    ext.add_argument("id", help="the clip's number, as `runway-desktop jobs` lists it (12 or #12)")
    ext.add_argument("prompt", help="what happens next")
    ext.add_argument("--model", choices=BUILT_IN_CATALOG.ids, help="default: the clip's model")
    ext.add_argument("--duration", type=int, help="5 or 10 seconds (default: the clip's)")
    ext.add_argument("--aspect", "--ratio", dest="aspect", help="default: the clip's ratio")
    ext.add_argument("--seed", help="0..4294967295 (default: the clip's seed)")
    ext.add_argument("--out", help="output folder (default: where the clip was saved)")
    ext.add_argument("--no-wait", action="store_true",
                     help="return once the server has accepted the job; `resume` finishes it")
    ext.add_argument("--json", action="store_true", help="print one JSON object")

    seq = sub.add_parser("sequence", help="run a plan of shots that extend each other; list "
                         "and show sequences; make or choose a shot's take; redo the shots "
                         "made after an older take", epilog=epilog)
    seq_sub = seq.add_subparsers(dest="sequence_command", required=True)
    run = seq_sub.add_parser(
        "run", parents=[network], epilog=epilog,
        help="run a plan (JSON or YAML): each shot starts from the previous one's last frame",
        description="Shows the shots to make, their cost and the balance after, then runs "
        "them one after another. Running the same plan file again carries on where it "
        "stopped (nothing is made twice); so does `runway-desktop resume`.\n\n"
        "A plan names its shots in order, each a prompt or a mapping with `prompt` and any of "
        "model, duration, ratio, seed; only the first names an image (a file beside the plan, "
        "or a URL). Settings written above `shots` are every shot's. A plan.yaml:\n\n"
        "  name: Lighthouse\n  ratio: \"16:9\"\n  shots:\n    - prompt: the cliff at dawn\n"
        "      image: cliff.png\n    - prompt: the beam sweeps the sea\n      duration: 10\n"
        "    - the storm rolls in")
    run.add_argument("plan", help="the plan file (.json, .yaml or .yml)")
    run.add_argument("--out", help="output folder (default: the output folder in Settings)")
    run.add_argument("--yes", action="store_true", help="run without asking (for scripts)")
    run.add_argument("--json", action="store_true", help="print one JSON object at the end")
    listing = seq_sub.add_parser("list", help="the sequences in the history")
    listing.add_argument("--json", action="store_true", help="print one JSON object per sequence")
    show = seq_sub.add_parser("show", help="one sequence's shots and takes")
    show.add_argument("id", help="the sequence's number (as `sequence list` shows it)")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    take = seq_sub.add_parser(
        "take", parents=[network], epilog=epilog,
        help="a new take of a shot (paid; it becomes the shot's), or --choose one it has",
        description="Without --choose: make the shot again with a new seed (or --seed, "
        "--prompt) from the shot before's last frame, and wait for it; it becomes the shot's "
        "take. With --choose: make one of the shot's takes (as `sequence show` lists them) the "
        "one its film uses; nothing is made.")
    take.add_argument("id", help="the sequence's number (as `sequence list` shows it)")
    take.add_argument("shot", help="the shot's number in the sequence (1 is the first)")
    take.add_argument("--choose", metavar="TAKE", help="a take's number (#12): use it")
    take.add_argument("--prompt", help="default: the shot's prompt")
    take.add_argument("--seed", help="0..4294967295 (default: a new one)")
    take.add_argument("--json", action="store_true", help="print one JSON object")
    redo = seq_sub.add_parser(
        "redo", parents=[network], epilog=epilog,
        help="make again the shots made after an older take (paid; shows the cost, asks)",
        description="A new take of a shot (or another take chosen) leaves the later shots made "
        "from the old one: they don't follow on from what plays before them now, and `sequence "
        "show` marks them. This makes each again, in order, from the take chosen before it (a "
        "take it has already made from that one is chosen again, free). Shows what it makes, "
        "the cost and the balance after, then asks (or takes --yes).")
    redo.add_argument("id", help="the sequence's number (as `sequence list` shows it)")
    redo.add_argument("--yes", action="store_true", help="redo without asking (for scripts)")
    redo.add_argument("--json", action="store_true", help="print one JSON object at the end")
    rename = seq_sub.add_parser("rename", help="give a sequence a new name",
                                description="The new name shows at once in `sequence list`, "
                                "`sequence show` and the window's Sequences view.")
    rename.add_argument("id", help="the sequence's number (as `sequence list` shows it)")
    rename.add_argument("name", nargs="+", help="the new name (quotes are optional)")
    rename.add_argument("--json", action="store_true", help="print one JSON object")
    delete = seq_sub.add_parser(
        "delete", help="delete a sequence (the plan); its videos stay in your history and on "
        "disk", epilog=epilog,
        description="Removes the sequence: its shots and which take each uses. Its takes stay "
        "generations in your history (`runway-desktop jobs`) and their videos stay on disk. "
        "Asks first at a terminal (--yes for scripts). A sequence that is running is refused: "
        "stop it first.")
    delete.add_argument("id", help="the sequence's number (as `sequence list` shows it)")
    delete.add_argument("--yes", action="store_true", help="delete without asking (for scripts)")
    delete.add_argument("--json", action="store_true", help="print one JSON object")


def needs_qt(args: argparse.Namespace, data_dir: Path) -> bool:
    """Whether the command decodes last frames: extend, sequence run, and a resume that has a
    sequence to carry on."""
    if args.command == "extend" or (args.command == "sequence" and (
            args.sequence_command in ("run", "redo")
            or (args.sequence_command == "take" and args.choose is None))):
        return True
    if args.command != "resume" or not paths.journal_path(data_dir).exists():
        return False
    try:
        journal = Journal(paths.journal_path(data_dir))
    except JournalError:
        return False  # the command itself reports it
    try:
        return bool(SequenceStore(journal).ids_in_state(RunState.RUNNING))
    finally:
        journal.close()


def run_on_qt(work: Coroutine[Any, Any, T], data_dir: Path) -> T:
    """Run `work` on a qasync loop over a QCoreApplication. What Qt and FFmpeg print (FFmpeg
    writes to file descriptor 2 itself) goes to the log folder's `video-decoding.log`; what the
    command says to the person still reaches the terminal."""
    import qasync
    from PySide6.QtCore import QCoreApplication, QLoggingCategory

    from runway_desktop.loop_hooks import close_async_generators_on
    from runway_desktop.qt_log import route_qt_messages_to_log

    QLoggingCategory.setFilterRules("qt.multimedia*=false\nqt.rhi*=false")
    route_qt_messages_to_log(level=logging.DEBUG)  # the terminal is for the person
    with native_stderr_to(paths.log_dir(data_dir) / DECODING_LOG):
        app = QCoreApplication.instance() or QCoreApplication(["runway-desktop"])
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        restore_hooks = close_async_generators_on(loop)  # a download's stream left by an error
        try:
            return run_until_signal(loop, loop.create_task(awake_while(work)))
        except StoppedBySignal as stop:
            from runway_desktop import cli

            raise cli.Stopped(stop.signum) from None  # cli.main says how to carry on; 128 + n
        finally:
            restore_hooks()
            asyncio.set_event_loop(None)


# -- extend ---------------------------------------------------------------------------------------

async def extend(args: argparse.Namespace, context: Context) -> int:
    from runway_desktop import cli

    number = _number(args.id, "clip")
    changes = SettingsChanges(
        duration=args.duration, aspect_ratio=args.aspect, model=args.model,
        seed=cli._parse_seed(args.seed, args.model or BUILT_IN_CATALOG.default.id)
        if args.seed is not None else None)
    output_dir = cli._check_output_dir(args.out) if args.out is not None else None
    api_key = cli._require_key()
    async with cli._running_engine(context, api_key) as engine:
        service = GenerationService(engine)
        try:
            generation = await service.extend(number, args.prompt, changes=changes,
                                              output_dir=output_dir)
        except ExtendError as error:
            raise cli.CliError(error.message, cli.EXIT_INPUT) from None
        except api.InvalidRequestError as error:
            raise cli.CliError(cli.prompt_words(error.message, args.prompt, args.model),
                               cli.EXIT_INPUT) from None
        rows = await cli.follow(service, engine, generation, no_wait=args.no_wait)
    return cli._report(rows, context)


# -- sequence run / list / show -------------------------------------------------------------------

async def sequence(args: argparse.Namespace, context: Context) -> int:
    if args.sequence_command == "run":
        return await _run(args, context)
    if args.sequence_command == "list":
        return _list(context)
    if args.sequence_command == "take":
        return _choose(args, context) if args.choose is not None else await _take(args, context)
    if args.sequence_command == "redo":
        return await _redo(args, context)
    if args.sequence_command == "rename":
        return _rename(args, context)
    if args.sequence_command == "delete":
        return await _delete(args, context)
    return _show(args, context)


def _no_sequence(number: int) -> Exception:
    from runway_desktop import cli

    return cli.CliError(f"There is no sequence {number}. `runway-desktop sequence list` shows "
                        "them.", cli.EXIT_INPUT)


def _existing(store: SequenceStore, number: int) -> Sequence:
    sequence = store.get(number)
    if sequence is None:
        raise _no_sequence(number)
    return sequence


def _rename(args: argparse.Namespace, context: Context) -> int:
    """`sequence rename N new name`: refused when the name is empty (spaces alone)."""
    from runway_desktop import cli

    number = _number(args.id, "sequence")
    try:
        name = sequence_name(" ".join(args.name))
    except SequenceRefused as error:
        raise cli.CliError(f"{error.message} Nothing was renamed.", cli.EXIT_INPUT) from None
    journal = cli._open_journal(context)
    try:
        store = SequenceStore(journal)
        before = _existing(store, number)
        try:
            store.rename(number, name)
        except KeyError:  # deleted meanwhile (the window, another command)
            raise _no_sequence(number) from None
        after = store.require(number)
    finally:
        journal.close()
    if context.json_output:
        print(json.dumps(_list_json(after)), flush=True)
    else:
        _say(f"Sequence {number} “{before.name}” is now “{after.name}”.")
    return cli.EXIT_OK


async def _delete(args: argparse.Namespace, context: Context) -> int:
    """`sequence delete N`: asks (or takes --yes), then removes the plan; its takes stay.
    A running sequence is refused (stop it first), unless nothing runs it any more: its process
    ended (the folder is used by no other process), so deleting it stops nothing."""
    from runway_desktop import cli

    number = _number(args.id, "sequence")
    journal = cli._open_journal(context)
    try:
        store = SequenceStore(journal)
        sequence = _existing(store, number)
        orphan = False
        if sequence.run_state is RunState.RUNNING:
            with _nobody_else(context.data_dir) as alone:
                if not alone:
                    raise _still_running(sequence)
            orphan = True
        kept = KeptTakes.of(journal.get(i) for shot in sequence.shots for i in shot.takes)
        what, after = _deletion_text(sequence, kept, orphan)
        if not args.yes and not await cli._confirm(f"Delete {what}? {after} [y/N] "):
            raise cli.CliError(f"Nothing was deleted. Add --yes to delete {what} without asking. "
                               f"{after}", cli.EXIT_INPUT)
        try:
            if orphan:  # checked again: no process may start (and carry it on) meanwhile
                with _nobody_else(context.data_dir) as alone:
                    if not alone:
                        raise _still_running(sequence)
                    removed = store.remove(number, even_if_running=True)
            else:
                removed = store.remove(number)
        except SequenceRunning as error:  # a run started meanwhile (the window, a command)
            raise _still_running(error.sequence) from None
        except KeyError:  # deleted meanwhile
            raise _no_sequence(number) from None
    finally:
        journal.close()
    gone = removed.sequence
    if context.json_output:
        print(json.dumps({**_list_json(gone), "deleted": True,
                          "takes": [i for shot in gone.shots for i in shot.takes]}), flush=True)
    else:
        where = " `runway-desktop jobs` lists them." if kept.takes else ""
        if kept.making:
            where += (" What is still being made is finished by the window or "
                      "`runway-desktop resume`.")
        _say(f"Deleted the sequence “{gone.name}” (sequence {gone.id}). {_kept_text(kept)}"
             f"{where}")
    return cli.EXIT_OK


def _deletion_text(sequence: Sequence, kept: KeptTakes, orphan: bool) -> tuple[str, str]:
    """What goes and what that means, for the question "Delete the sequence “X” (3 shots)?
    Its 5 videos stay in your history and on disk." (and for a refusal without --yes)."""
    shots = len(sequence.shots)
    what = f"the sequence “{sequence.name}” ({shots} shot{'s' if shots != 1 else ''})"
    after = _kept_text(kept)
    if orphan:
        after += (" It was left running by a process that ended; nothing runs it now, so "
                  "deleting it makes no further shot.")
    if sequence.source:
        after += (" Running its plan file again would start afresh (every shot made and paid "
                  "for again).")
    return what, after


def _kept_text(kept: KeptTakes) -> str:
    if not kept.takes:
        return "No video was made for it."
    if kept.videos == kept.takes:
        return (f"Its {kept.takes} video{'s stay' if kept.takes != 1 else ' stays'} in your "
                "history and on disk.")
    parts = [f"{kept.videos} on disk"] if kept.videos else []
    if kept.making:
        parts.append(f"{kept.making} still being made")
    more = f" ({', '.join(parts)})" if parts else ""
    return (f"Its {kept.takes} take{'s stay' if kept.takes != 1 else ' stays'} in your "
            f"history{more}.")


def _still_running(sequence: Sequence) -> Exception:
    from runway_desktop import cli

    return cli.CliError(
        f"Sequence {sequence.id} “{sequence.name}” is running: its shots are being made (and "
        "paid for). Stop it first — Stop in the window's Sequences view, or Ctrl+C where its "
        "`sequence run` runs — then delete it. Nothing was deleted.", cli.EXIT_BUSY)


@contextlib.contextmanager
def _nobody_else(data_dir: Path) -> Iterator[bool]:
    """True inside when no other process (the window, a command) uses the data folder, and
    none can start until the block ends; False where that can't be told (no flock: Windows)."""
    if importlib.util.find_spec("fcntl") is None:  # engine/presence.py records nothing there
        yield False
        return
    with contextlib.ExitStack() as stack:
        try:
            alone = stack.enter_context(presence.sole_user(data_dir))
        except OSError:  # the lock file can't be opened: can't tell, so never assume
            alone = False
        yield alone


def _shot_of(sequence: Sequence | None, number: int, text: str) -> Shot:
    """Shot `text` (1-based) of the sequence; a CliError naming what there is."""
    from runway_desktop import cli

    if sequence is None:
        raise _no_sequence(number)
    index = _number(text, "shot") - 1
    if not 0 <= index < len(sequence.shots):
        raise cli.CliError(f"Sequence {number} has shots 1 to {len(sequence.shots)}, not "
                           f"{text}.", cli.EXIT_INPUT)
    return sequence.shots[index]


def _choose(args: argparse.Namespace, context: Context) -> int:
    """`sequence take N S --choose T`: take T becomes shot S's (what its film uses)."""
    from runway_desktop import cli

    number = _number(args.id, "sequence")
    take = _number(args.choose, "take")
    journal = cli._open_journal(context)
    try:
        store = SequenceStore(journal)
        shot = _shot_of(store.get(number), number, args.shot)
        if take not in shot.takes:
            have = ", ".join(f"#{t}" for t in shot.takes) or "none yet"
            raise cli.CliError(f"#{take} isn't a take of shot {args.shot} (its takes: {have}). "
                               f"`runway-desktop sequence show {number}` lists them.",
                               cli.EXIT_INPUT)
        store.choose(shot.id, take)
        chosen = journal.get(take)
    finally:
        journal.close()
    if context.json_output and chosen is not None:
        print(json.dumps(cli.as_json(chosen)), flush=True)
    else:
        _say(f"Shot {args.shot} of sequence {number} now uses #{take}.")
    return cli.EXIT_OK


async def _take(args: argparse.Namespace, context: Context) -> int:
    """`sequence take N S`: a new take of shot S (a new, paid generation), waited for."""
    from runway_desktop import cli

    number = _number(args.id, "sequence")
    api_key = cli._require_key()
    async with cli._running_engine(context, api_key) as engine:
        service = SequenceService(engine)
        try:
            sequence = service.get(number)
            shot = _shot_of(sequence, number, args.shot)
            assert sequence is not None
            model = service.planned_settings(number)[sequence.index_of(shot.id)].model
            changes = (SettingsChanges(seed=cli._parse_seed(args.seed, model))
                       if args.seed is not None else None)
            try:
                generation = await service.add_take(shot.id, prompt=args.prompt,
                                                    changes=changes)
            except (ExtendError, api.InvalidRequestError) as error:
                raise cli.CliError(error.message, cli.EXIT_INPUT) from None
            try:
                if sys.stderr.isatty():
                    cli._print_price(generation.settings, await cli._catalog_for_price(engine))
                rows = await service.generations.wait_settled([generation.id])
            except asyncio.CancelledError:  # Ctrl+C, SIGTERM: as `generate` does
                cli.STOP_NOTES.append(await _take_stopped(service, generation.id, sequence,
                                                          args.shot))
                raise
            if service.is_running_here(number):  # a DONE sequence runs until the take ends
                await service.run(number)
        finally:
            await service.stop()
    return cli._report(rows, context)


async def _take_stopped(service: SequenceService, generation_id: int, before: Sequence,
                        shot: str) -> str:
    """A new take stopped (Ctrl+C, SIGTERM): cancelled if it never left this computer (the
    next command or the window would have carried it on and paid for it), the shot's take
    before it chosen again; what became of it."""
    from runway_desktop import cli

    if await service.cancel_take(generation_id, before):
        old = before.shots[int(_number(shot, "shot")) - 1].chosen_id
        again = f"; shot {shot} uses #{old} again" if old is not None else ""
        return (f"stopped before #{generation_id} was sent to apiframe: it is cancelled and "
                f"nothing was charged{again}.")
    return cli._stopped(service.generations, generation_id)


def _say_what_became_of(service: SequenceService, under_way: list[tuple[int, int]]) -> None:
    """A run stopped (Ctrl+C, SIGTERM): each shot that was under way (shot index, take), as
    stop_runs(cancel_unsent=True) left it: cancelled if it never left this computer (`resume`
    or the window would have paid for it), else kept, paid, for `resume`. To cli.STOP_NOTES."""
    from runway_desktop import cli

    for index, take_id in under_way:
        take = service.generations.get(take_id)
        if take is not None and take.stage is Stage.CANCELLED:
            note = (f"stopped before #{take_id} was sent to apiframe: it is cancelled and "
                    "nothing was charged.")
        else:
            note = cli._stopped(service.generations, take_id)
        cli.STOP_NOTES.append(f"shot {index + 1}: {note}")


async def _run(args: argparse.Namespace, context: Context) -> int:
    from runway_desktop import cli

    try:
        plan = load_plan(Path(args.plan))
    except PlanError as error:
        raise cli.CliError(error.message, cli.EXIT_INPUT) from None
    output_dir = cli._check_output_dir(args.out) if args.out is not None else None
    api_key = cli._require_key()
    async with cli._running_engine(context, api_key) as engine:
        service = SequenceService(engine)
        try:
            return await _run_plan(args, context, plan, output_dir, engine, service)
        except asyncio.CancelledError:
            await _stop_run(service, f"`runway-desktop sequence run {args.plan}` carries it on "
                            "(it shows the cost first).")
            raise
        finally:
            await service.stop()  # a run cut short (Ctrl+C) stops before the engine does


async def _stop_run(service: SequenceService, again: str) -> None:
    """Ctrl+C (SIGTERM) on a run: the person stopped it. STOPPED, so neither `resume` nor the
    window's next start makes (pays for) its other shots by itself; `again` says what does.
    A shot under way that never left this computer is cancelled; one apiframe has is kept."""
    under_way = [(index, take.id) for sequence_id in service.running_here()
                 for index, take in service.takes_under_way(sequence_id)]
    if await service.stop_runs(cancel_unsent=True):
        _say(f"The sequence is stopped; {again}")
    _say_what_became_of(service, under_way)


async def _redo(args: argparse.Namespace, context: Context) -> int:
    """`sequence redo N`: the shots made after an older take made again (paid), after showing
    which, the cost and the balance after, and asking (or --yes)."""
    from runway_desktop import cli

    number = _number(args.id, "sequence")
    api_key = cli._require_key()
    async with cli._running_engine(context, api_key) as engine:
        service = SequenceService(engine)
        try:
            sequence = service.get(number)
            if sequence is None:
                raise _no_sequence(number)
            if sequence.run_state is RunState.RUNNING:  # its run would make them too
                raise cli.CliError(
                    f"Sequence {number} “{sequence.name}” is running: redo once it has ended "
                    "(or stop it: Stop in the window, Ctrl+C where it runs; `runway-desktop "
                    "resume` carries on one whose process ended). Nothing was made.",
                    cli.EXIT_BUSY)
            outdated = service.outdated_shots(sequence)
            if not outdated:
                _say(f"No shot of “{sequence.name}” (sequence {number}) was made after an "
                     "older take: nothing to redo.")
                return _report_sequences([sequence], service, context, quiet=True)
            made, reused = service.redo_plan(sequence)
            await _known_prices(engine, service)
            preview = service.cost_preview(number, redo_outdated=True)
            _say(_redo_text(sequence, outdated, made, reused, preview))
            if preview.affordable is False:
                raise cli.CliError(
                    f"Not enough credits: redoing costs {preview.credits:,} and the balance is "
                    f"{preview.balance:,}. Top up, then run this again.", cli.EXIT_CREDITS)
            if (preview.shots_to_make and not args.yes
                    and not await cli._confirm("Redo them? [y/N] ")):
                raise cli.CliError("Nothing was redone. Add --yes to redo them without asking.",
                                   cli.EXIT_INPUT)
            try:
                ended = await service.run(number, redo_outdated=True)
            except asyncio.CancelledError:
                await _stop_run(service, f"`runway-desktop sequence redo {number}` carries it "
                                "on (it shows the cost first).")
                raise
            return _report_sequences([ended], service, context)
        finally:
            await service.stop()


def _redo_text(sequence: Sequence, outdated: dict[int, int], made: list[int],
               reused: list[int], preview: CostPreview) -> str:
    """What `sequence redo` does, as the window's Redo Later Shots says it."""
    shots, roots = _shot_numbers(outdated), _shot_numbers(set(outdated.values()))
    parts = [f"“{sequence.name}” (sequence {sequence.id}): {shots.capitalize()} "
             f"{'was' if len(outdated) == 1 else 'were'} made after an older take of {roots}."]
    if reused:
        parts.append(f"{_shot_numbers(reused).capitalize()} "
                     f"{'has a take' if len(reused) == 1 else 'have takes'} made from the take "
                     "chosen before: chosen again, free.")
    if preview.shots_to_make:
        balance = ("balance unknown" if preview.balance is None
                   else f"balance {preview.balance:,} → {preview.balance_after:,} after")
        cost = f"{preview.credits:,} credits"
        if preview.unpriced:
            cost += f" + {preview.unpriced} at apiframe's current price"
        doing = [f"makes {_shot_numbers(made)} again from the take chosen before"] if made else []
        if (unmade := preview.shots_to_make - len(made)) > 0:  # a redo makes them too
            doing.append(f"makes the {unmade} shot{'s' if unmade != 1 else ''} not made yet")
        count = preview.shots_to_make
        parts.append(f"Redoing {' and '.join(doing)} (paid): {count} shot"
                     f"{'s' if count != 1 else ''} to make, {cost}; {balance}.")
    return " ".join(parts)


def _shot_numbers(indexes: Iterable[int]) -> str:
    """"shot 3", "shots 3 and 4", "shots 3, 4 and 6" (0-based indexes)."""
    numbers = [str(i + 1) for i in sorted(indexes)]
    if len(numbers) == 1:
        return f"shot {numbers[0]}"
    return f"shots {', '.join(numbers[:-1])} and {numbers[-1]}"


async def _run_plan(args: argparse.Namespace, context: Context, plan: Plan,
                    output_dir: Path | None, engine: Engine, service: SequenceService) -> int:
    from runway_desktop import cli

    existing = service.unfinished_from(plan)
    if existing is None:
        try:
            service.check_plan(plan)
        except api.InvalidRequestError as error:
            raise cli.CliError(error.message, cli.EXIT_INPUT) from None
    await _known_prices(engine, service)
    # Run again by the person: a shot that failed (refunded) gets a new take.
    preview = (service.cost_preview(existing.id, retake_failed=True) if existing
               else service.preview_plan(plan))
    _say(_preview_text(plan, existing, preview))
    if preview.affordable is False:
        raise cli.CliError(
            f"Not enough credits: the shots cost {preview.credits:,} and the balance is "
            f"{preview.balance:,}. Top up, then run this again.", cli.EXIT_CREDITS)
    if preview.shots_to_make and not args.yes and not await cli._confirm("Run it? [y/N] "):
        raise cli.CliError("Nothing was run. Add --yes to run it without asking.",
                           cli.EXIT_INPUT)
    if existing is not None:
        ended = await service.run(existing.id, retake_failed=True)
    else:
        ended = await service.run(service.create_from_plan(plan,
                                                           output_dir=output_dir).id)
    return _report_sequences([ended], service, context)


async def resume_sequences(engine: Engine, context: Context,
                           reported: set[int] | None = None) -> tuple[int, int]:
    """`resume`'s part: carry on every sequence that was running; (how many, exit code).
    Takes in `reported` were printed already (as generations `resume` finished)."""
    service = SequenceService(engine)
    try:
        ended = await service.resume_running()
    finally:
        await service.stop()  # a resume cut short (Ctrl+C) stops before the engine does
    return len(ended), _report_sequences(ended, service, context, reported or set())


def _report_sequences(ended: list[Sequence], service: SequenceService, context: Context,
                      reported: set[int] | None = None, *, quiet: bool = False) -> int:
    from runway_desktop import cli

    code = cli.EXIT_OK
    for sequence in ended:
        takes = [service.chosen(shot) for shot in sequence.shots]
        if context.json_output:
            print(json.dumps(_as_json(sequence, takes,
                                      service.outdated_shots(sequence))), flush=True)
        elif quiet:
            continue
        elif sequence.run_state == RunState.DONE:
            for take in takes:
                if take is not None and take.video_path and take.id not in (reported or ()):
                    print(take.video_path, flush=True)
        if sequence.run_state != RunState.DONE:
            stopped = [t for t in takes if t is not None and t.stage.is_problem]
            code = max(code, max((cli.exit_code_for(t) for t in stopped),
                                 default=cli.EXIT_FAILED))
            again = (" (From a terminal: run the same plan again; a shot that failed gets "
                     "a new take, paid again.)" if sequence.source else "")
            print(f"runway-desktop: “{sequence.name}”: {sequence.error or 'stopped.'}{again}",
                  file=sys.stderr)
        else:
            _say(f"“{sequence.name}” (sequence {sequence.id}): {len(takes)} shots done.")
    return code


def _list(context: Context) -> int:
    from runway_desktop import cli

    journal = cli._open_journal(context)
    try:
        found = SequenceStore(journal).all()
        for sequence in found:
            made = sum(1 for shot in sequence.shots if shot.chosen_id is not None)
            if context.json_output:
                print(json.dumps(_list_json(sequence)), flush=True)
            else:
                print(f"seq:{sequence.id}  {sequence.run_state.value:<8} {made}/"
                      f"{len(sequence.shots)} shots  {sequence.name}", flush=True)
    finally:
        journal.close()
    if not found and not context.json_output:
        print("No sequences yet. `runway-desktop sequence run plan.yaml` makes one.",
              file=sys.stderr)
    return cli.EXIT_OK


def _show(args: argparse.Namespace, context: Context) -> int:
    from runway_desktop import cli

    number = _number(args.id, "sequence")
    journal = cli._open_journal(context)
    try:
        sequence = SequenceStore(journal).get(number)
        if sequence is None:
            raise _no_sequence(number)
        takes = [journal.get(shot.chosen_id) if shot.chosen_id else None
                 for shot in sequence.shots]
        outdated = outdated_shots(sequence, journal.get)
        if context.json_output:
            print(json.dumps(_as_json(sequence, takes, outdated)), flush=True)
            return cli.EXIT_OK
        print(f"seq:{sequence.id}  {sequence.name}  ({sequence.run_state.value}"
              f"{': ' + sequence.error if sequence.error else ''})", flush=True)
        for index, (shot, take) in enumerate(zip(sequence.shots, takes, strict=True)):
            state = (f"#{take.id} {take.stage.value} {take.video_path or ''}".rstrip()
                     if take else "not made yet")
            others = [f"#{t}" for t in shot.takes if take is None or t != take.id]
            more = (f" (other take{'s' if len(others) != 1 else ''}: {' '.join(others)}; "
                    "`sequence take --choose` uses one)" if others else "")
            older = (f"  ⚠ made after an older take of shot {outdated[index] + 1}"
                     if index in outdated else "")
            print(f"  {index + 1}. {shot.prompt[:60]!r}  {state}{more}{older}", flush=True)
        if outdated:
            many = len(outdated) > 1
            print(f"{_shot_numbers(outdated).capitalize()} {'were' if many else 'was'} made "
                  f"after an older take of {_shot_numbers(set(outdated.values()))}: "
                  f"{'they don' if many else 'it doesn'}'t follow on from what plays before "
                  f"{'them' if many else 'it'} now. `runway-desktop sequence redo {sequence.id}` "
                  f"makes {'them' if many else 'it'} again (it shows the cost first); or keep "
                  f"{'them' if many else 'it'} as {'they are' if many else 'it is'}.",
                  flush=True)
    finally:
        journal.close()
    return cli.EXIT_OK


def _list_json(sequence: Sequence) -> dict[str, object]:
    """A sequence as `sequence list --json` prints it (one object a line)."""
    return {"id": sequence.id, "name": sequence.name, "status": sequence.run_state.value,
            "shots": len(sequence.shots),
            "made": sum(1 for shot in sequence.shots if shot.chosen_id is not None),
            "error": sequence.error}


def _as_json(sequence: Sequence, takes: list[Generation | None],
             outdated: dict[int, int] | None = None) -> dict[str, object]:
    """`made_after_older_take_of`: the number of the shot whose take changed since this
    shot's was made from it (`sequence redo` makes it again), else null."""
    from runway_desktop import cli

    outdated = outdated or {}
    return {
        "sequence": sequence.id, "name": sequence.name, "status": sequence.run_state.value,
        "error": sequence.error,
        "shots": [{"prompt": shot.prompt, "takes": list(shot.takes),
                   "chosen": cli.as_json(take) if take else None,
                   "made_after_older_take_of": (outdated[index] + 1 if index in outdated
                                                else None)}
                  for index, (shot, take) in enumerate(zip(sequence.shots, takes, strict=True))],
    }


async def _known_prices(engine: Engine, service: SequenceService) -> None:
    """apiframe's prices and the balance, once they answer (bounded): the preview uses them."""
    from runway_desktop import cli

    await cli._catalog_for_price(engine)
    known = asyncio.Event()

    def check(_event: object = None) -> None:
        if service.generations.account is not None:
            known.set()

    unsubscribe = service.generations.subscribe(check)
    try:
        check()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(known.wait(), ACCOUNT_WAIT)
    finally:
        unsubscribe()


def _preview_text(plan: Plan, existing: Sequence | None, preview: CostPreview) -> str:
    what = (f"Carrying on “{existing.name}” (sequence {existing.id}): "
            f"{preview.shots_to_make} of {len(existing.shots)} shots still to make"
            if existing else f"“{plan.name}”: {preview.shots_to_make} shots to make")
    cost = f"{preview.credits:,} credits"
    if preview.unpriced:
        cost += f" + {preview.unpriced} at apiframe's current price"
    balance = ("balance unknown" if preview.balance is None
               else f"balance {preview.balance:,} → {preview.balance_after:,} after")
    return f"{what}, {cost}; {balance}."


def _number(text: str, what: str) -> int:
    from runway_desktop import cli

    cleaned = text.strip().removeprefix("#").removeprefix("seq:")
    if not cleaned.isascii() or not cleaned.isdigit():
        lister = {"clip": "jobs", "sequence": "sequence list"}.get(what, "sequence show <seq>")
        raise cli.CliError(f"{text!r} is not a {what} number; `runway-desktop {lister}` lists "
                           "them.", cli.EXIT_INPUT)
    return int(cleaned)


def _say(text: str) -> None:
    """A line for the person on stderr (over the progress line at a terminal)."""
    print(("\r" if sys.stderr.isatty() else "") + text.ljust(70 if sys.stderr.isatty() else 0),
          file=sys.stderr, flush=True)
