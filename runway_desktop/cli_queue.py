"""`runway-desktop cancel`, `remove` and `retry`: what the window's queue menu offers a person
for one generation, from a terminal.

Each asks the lifecycle table (through the typed command service, engine/commands.py) whether it
may act, as the window does; none keeps its own list of stages.

- `cancel N… [--stop-following]` cancels what hasn't reached apiframe (nothing is charged);
  `cancel --waiting` every generation still waiting its turn (the window's Cancel pending).
  What apiframe has is paid for and has no cancel there: it is named, and --stop-following
  stops following it (the window's Stop Following; `retry` follows it again).
- `remove N… [--delete-file]` takes generations out of the history, saying first what it
  affects (a job apiframe may still be making and charging, a video to the Trash, a sequence's
  take) and asking, or taking `--yes`; with no terminal to ask at and no --yes it refuses
  (cli_remove.py; its options are here with the others').
- `retry N…` carries a stopped generation on where it stopped, never paying twice; a failure
  apiframe refunded is sent again as a new job, its price said first (once: retried again, it
  names the one it made).

`cancel` and `remove` need no key and start no engine: a started engine would carry on the
queue's waiting work (and pay for it) and take leases from the window. They only write the
journal, which frees the row's lease; whoever drove the row (the window, another command) stops
at its next write, and the window shows the change within its journal watch (~0.5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from runway_desktop.engine.lifecycle_table import Command, Effect, step
from runway_desktop.engine.records import Action, Generation, Stage

if TYPE_CHECKING:
    from runway_desktop.api.catalog import ModelCatalog
    from runway_desktop.cli import Context
    from runway_desktop.engine.commands import GenerationService

IDS_HELP = "generation numbers, as `runway-desktop jobs` lists them (12 or #12)"
EXAMPLES: dict[str, tuple[str, ...]] = {
    "cancel": ("runway-desktop cancel 12", "runway-desktop cancel 12 13 --json",
               "runway-desktop cancel 12 --stop-following", "runway-desktop cancel --waiting"),
    "remove": ("runway-desktop remove 12", "runway-desktop remove 12 13 --delete-file --yes"),
    "retry": ("runway-desktop retry 12", "runway-desktop retry 12 --json"),
}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                network: argparse.ArgumentParser, epilog: str) -> None:
    cancel = sub.add_parser(
        "cancel", epilog=epilog,
        help="cancel generations that haven't reached apiframe yet (nothing is charged)",
        description="Cancel generations that haven't reached apiframe yet: nothing is charged. "
        "One apiframe already has is paid for and can't be cancelled (apiframe has no cancel): "
        "it is named, and --stop-following stops following it, as the window's Stop Following "
        "does. Works with the window open: it shows the change at once. Exit 2 when one named "
        "wasn't cancelled (or stopped being followed).")
    cancel.add_argument("ids", nargs="*", metavar="N", help=IDS_HELP)
    cancel.add_argument("--waiting", action="store_true",
                        help="every generation still waiting its turn (the window's Cancel "
                        "pending); asks first when there is more than one")
    cancel.add_argument("--yes", action="store_true", help="with --waiting: without asking")
    cancel.add_argument("--stop-following", action="store_true",
                        help="also stop following those apiframe already has: it may still "
                        "finish and charge them, their videos aren't saved (`retry` follows them "
                        "again)")
    cancel.add_argument("--json", action="store_true",
                        help="print one JSON object per generation (`cancelled`: true or false)")

    remove = sub.add_parser(
        "remove", epilog=epilog,
        help="take generations out of the history (asks first; --delete-file: the video to the "
        "Trash)",
        description="Take generations out of the history. What hasn't reached apiframe is "
        "cancelled first (nothing charged); a job apiframe may still be making is no longer "
        "followed (apiframe has no cancel: it may still finish and charge it). Videos stay in "
        "their folder unless --delete-file moves them (and their settings file) to the Trash, "
        "where you can restore them (one the Trash refuses keeps its generation: exit 6). It "
        "says what it affects and asks first, or takes --yes; with no terminal to ask at and "
        "no --yes it removes nothing (exit 2).")
    remove.add_argument("ids", nargs="+", metavar="N", help=IDS_HELP)
    remove.add_argument("--delete-file", action="store_true",
                        help="also move each video (and its settings file) to the Trash")
    remove.add_argument("--yes", action="store_true", help="remove without asking")
    remove.add_argument("--json", action="store_true",
                        help="print one JSON object per generation removed")

    retry = sub.add_parser(
        "retry", parents=[network], epilog=epilog,
        help="carry on generations that stopped, never paying twice (a refunded failure is "
        "sent again, paid)",
        description="Carry on generations that stopped (a problem, no longer followed) where "
        "they stopped, never paying twice: a job apiframe has is followed again. A failure "
        "apiframe refunded is sent again as a new, paid job (its price is said first); "
        "retried once, it names the generation it made instead of paying again.")
    retry.add_argument("ids", nargs="+", metavar="N", help=IDS_HELP)
    retry.add_argument("--json", action="store_true", help="print one JSON object per generation")


async def run(args: argparse.Namespace, context: Context) -> int:
    if args.command == "cancel":
        return await _cancel(args, context)
    if args.command == "remove":
        from runway_desktop import cli_remove

        return await cli_remove.remove(args, context)
    return await _retry(args, context)


# -- cancel ---------------------------------------------------------------------------------------

async def _cancel(args: argparse.Namespace, context: Context) -> int:
    from runway_desktop import cli

    ids = generation_ids(args.ids)
    if not ids and not args.waiting:
        raise cli.CliError("Name the generations to cancel (`runway-desktop jobs` lists them), "
                           "or --waiting for every one still waiting its turn.", cli.EXIT_INPUT)
    code = cli.EXIT_OK
    with idle_service(context) as service:
        named = existing(service, ids)
        if args.waiting:
            waiting = [g for g in service.generations()
                       if g.stage.waits_for_slot and g.id not in ids]
            if not await _may_cancel_waiting(waiting, args.yes):
                return cli.EXIT_OK
            named += waiting
        for generation in named:
            cancelled = bool(service.cancel([generation.id]))
            after = service.get(generation.id) or generation
            if cancelled:
                result(f"Cancelled #{generation.id} {quoted(generation)}: it never reached "
                       "apiframe, nothing is charged.", cli.as_json(after) | {"cancelled": True},
                       context)
                continue
            if after.stage is Stage.CANCELLED:  # already: what was asked for is so
                result(f"#{after.id} {quoted(after)} was already cancelled.",
                       cli.as_json(after) | {"cancelled": True}, context)
                continue
            if args.stop_following and step(after, Command.STOP_FOLLOWING) is not None:
                service.stop_following(after.id)
                result(_stopped_following(after),
                       cli.as_json(service.get(after.id) or after)
                       | {"cancelled": False, "stopped_following": True}, context)
                continue
            code = cli.EXIT_INPUT
            tell(_not_cancelled(after))
            if context.json_output:
                result("", cli.as_json(after) | {"cancelled": False}, context)
    return code


def _stopped_following(generation: Generation) -> str:
    cost = f" ({generation.credit_cost} credits)" if generation.credit_cost else ""
    return (f"Stopped following #{generation.id} {quoted(generation)}: apiframe has no cancel, "
            f"so it may still finish it and charge it{cost}; its video isn't saved. "
            f"`runway-desktop retry {generation.id}` follows it again.")


async def _may_cancel_waiting(waiting: list[Generation], yes: bool) -> bool:
    """Whether to cancel every generation waiting its turn (asked, as the window's Cancel
    pending, when there is more than one); False when there is none."""
    from runway_desktop import cli

    if not waiting:
        tell("Nothing is waiting its turn: nothing to cancel.")
        return False
    if len(waiting) == 1 or yes:
        return True
    what = f"{len(waiting)} waiting generations"
    if not cli.can_ask():
        raise cli.CliError(f"Nothing was cancelled: `cancel --waiting` asks first and there is "
                           f"no terminal to ask at. Add --yes to cancel {what} without asking.",
                           cli.EXIT_INPUT)
    cli.STOP_NOTES.append("stopped before cancelling anything.")
    if not await cli._confirm(f"Cancel {what}? None of them has reached apiframe yet, so "
                              "nothing is charged. [y/N] "):
        raise cli.CliError("Nothing was cancelled.", cli.EXIT_INPUT)
    cli.STOP_NOTES.clear()
    return True


def _not_cancelled(generation: Generation) -> str:
    """Why `generation` (which the table won't let Cancel) wasn't cancelled, and what will do."""
    name = f"#{generation.id} {quoted(generation)}"
    remove = f"`runway-desktop remove {generation.id}`"
    if step(generation, Command.STOP_FOLLOWING) is not None:
        cost = f" ({generation.credit_cost} credits)" if generation.credit_cost else ""
        where = ("is being sent to apiframe, which may have accepted and charged it"
                 if generation.stage is Stage.SUBMITTING
                 else f"is with apiframe already ({generation.stage.value}): it is paid{cost}")
        return (f"{name} {where}, and apiframe has no cancel, so it wasn't cancelled. Left "
                "alone, the window or `runway-desktop resume` saves its video once it is ready; "
                f"`runway-desktop cancel {generation.id} --stop-following` stops following it "
                "(apiframe may still finish it and charge it).")
    if generation.stage is Stage.ATTENTION:
        return (f"{name} isn't running, it waits for you ({reason(generation)}): nothing to "
                f"cancel. `runway-desktop retry {generation.id}` carries it on, {remove} drops "
                "it.")
    return f"{name} has already ended ({generation.stage.value}): nothing to cancel."


# -- retry ----------------------------------------------------------------------------------------

async def _retry(args: argparse.Namespace, context: Context) -> int:
    from runway_desktop import cli

    ids = generation_ids(args.ids)
    api_key = cli._require_key()
    code = cli.EXIT_OK
    async with cli._running_engine(context, api_key) as engine:
        from runway_desktop.engine.commands import GenerationService

        service = GenerationService(engine)
        following: list[int] = []
        for generation in existing(service, ids):
            why_not = _not_retried(service, generation)
            if why_not:
                tell(why_not)
                code = max(code, cli.EXIT_INPUT)
                continue
            transition = step(generation, Command.RETRY)
            if transition is not None and Effect.SUBMIT_COPY in transition.effects:
                tell(_price_of_sending_again(generation, engine.catalog), prefix=False)
            following.append(service.retry(generation.id).id)
        rows = await _wait(service, following)
    return max(code, cli._report(rows, context))


def _not_retried(service: GenerationService, generation: Generation) -> str | None:
    """Why Retry won't act on `generation` (None: it will), in the window's words."""
    name = f"#{generation.id} {quoted(generation)}"
    if (copy := service.sent_again(generation.id)) is not None:
        return (f"{name} was sent again already, as #{copy.id} ({copy.stage.value}): retrying "
                "it again would pay a second time. `runway-desktop jobs` shows it.")
    if step(generation, Command.RETRY) is None:
        if not generation.stage.is_settled:
            return (f"{name} is still under way ({generation.stage.value}): nothing to "
                    "retry. If no window or command follows it, `runway-desktop resume` does.")
        if generation.stage is Stage.DONE:
            return f"{name} is finished: nothing to retry."
        if generation.stage is Stage.CANCELLED:
            return (f"{name} was cancelled before it reached apiframe: make it again with "
                    "`runway-desktop generate`.")
        return f"{name} can't be carried on ({reason(generation)})."
    if generation.action == Action.EDIT_INPUT:  # it would only fail the same way
        return (f"{name} needs a change first: {reason(generation)}. Make it again with "
                "changed settings (`runway-desktop generate`).")
    return None


def _price_of_sending_again(generation: Generation, catalog: ModelCatalog) -> str:
    spec = catalog.get(generation.settings.model)
    price = generation.settings.price_in(catalog)
    cost = (f"{price:,} credits" if price is not None
            else "at apiframe's current price (unknown here)")
    label = spec.label if spec else generation.settings.model
    return (f"#{generation.id} failed and apiframe refunded it: retrying sends it again as a "
            f"new job, paid: {label} · {generation.settings.duration} s · {cost}.")


async def _wait(service: GenerationService, ids: list[int]) -> list[Generation]:
    """Until each retried generation settles; stopped meanwhile (Ctrl+C, SIGTERM), what never
    left this computer is cancelled and each is said what became of it (as `generate`)."""
    from runway_desktop import cli

    try:
        return await service.wait_settled(ids)
    except asyncio.CancelledError:
        cli.STOP_NOTES.extend(cli._stopped(service, generation_id) for generation_id in ids)
        raise


# -- shared ---------------------------------------------------------------------------------------

def generation_ids(texts: list[str]) -> list[int]:
    """`12`, `#12` → 12, each once, in the order given; a CliError for anything else."""
    from runway_desktop import cli

    ids: list[int] = []
    for text in texts:
        cleaned = text.strip().removeprefix("#")
        if not cleaned.isascii() or not cleaned.isdigit():
            raise cli.CliError(f"{text!r} is not a generation number; `runway-desktop jobs` "
                               "lists them.", cli.EXIT_INPUT)
        if int(cleaned) not in ids:
            ids.append(int(cleaned))
    return ids


def existing(service: GenerationService, ids: list[int]) -> list[Generation]:
    """Every generation named, or a CliError naming those not in the history (nothing done)."""
    from runway_desktop import cli

    found = {i: g for i in ids if (g := service.get(i)) is not None}
    missing = [f"#{i}" for i in ids if i not in found]
    if missing:
        raise cli.CliError(f"There is no generation {', '.join(missing)} in the history "
                           "(`runway-desktop jobs` lists them); nothing was changed.",
                           cli.EXIT_INPUT)
    return [found[i] for i in ids]


@contextlib.contextmanager
def idle_service(context: Context) -> Iterator[GenerationService]:
    """The typed commands over the history, with an engine that isn't started: it claims and
    drives nothing (and needs no key); a command it runs writes the journal, and whoever drives
    the row lets go at its next write."""
    from runway_desktop import cli
    from runway_desktop.engine.commands import GenerationService

    journal = cli._open_journal(context)
    try:
        yield GenerationService(cli.new_engine(journal, context, None, None, offline=True))
    finally:
        journal.close()


def quoted(generation: Generation) -> str:
    prompt = generation.settings.prompt
    return f"“{prompt[:40]}…”" if len(prompt) > 40 else f"“{prompt}”"


def reason(generation: Generation) -> str:
    return (generation.error or "no reason recorded").rstrip(". ")


def tell(text: str, *, prefix: bool = True) -> None:
    """A line for the person on stderr (stdout stays the results)."""
    print(f"runway-desktop: {text}" if prefix else text, file=sys.stderr, flush=True)


def result(text: str, as_json: dict[str, object], context: Context) -> None:
    print(json.dumps(as_json) if context.json_output else text, flush=True)
