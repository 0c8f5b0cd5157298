"""The command line's words: its options, each command's help with examples, the exit codes.

`cli.main` parses with `build_parser()`; `runway-desktop --help` (__main__) lists the commands
from it too.
"""

from __future__ import annotations

import argparse

from runway_desktop import cli_queue, cli_sequence
from runway_desktop.api.catalog import BUILT_IN_CATALOG

EXIT_CODES_HELP = (  # --help of the CLI and of runway-desktop itself (__main__)
    "exit codes: 0 done, 2 bad input, 3 API key, 4 credits, 5 the job failed, "
    "6 network/server/disk (`resume` carries on), 7 another process runs this queue, "
    "8 the history file can't be used (see `reset-history`), 9 the result couldn't be written "
    "to stdout (a closed pipe): the video is saved all the same and `jobs` lists it; "
    "130 stopped by Ctrl+C (143 by SIGTERM, 129 by its terminal closing): it says what became "
    "of the generation; "
    "1 something unexpected (the log has the details).")
DATA_DIR_HELP = "where the history lives (default: your user data dir)"


# What `COMMAND --help` shows under "examples:" (each command's own words say what it does).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "generate": ('runway-desktop generate "slow dolly-in, leaves drifting" --image photo.jpg',
                 'runway-desktop generate "waves at dusk" --image "My Pictures/sea.png" '
                 "--duration 10 --aspect 9:16 --json"),
    "jobs": ("runway-desktop jobs", "runway-desktop jobs --json"),
    "resume": ("runway-desktop resume", "runway-desktop resume --out ~/Videos/Clips"),
    "import": ("runway-desktop import", "runway-desktop import --yes --out ~/Videos/Imported"),
    "me": ("runway-desktop me", "runway-desktop me --json"),
    "reset-history": ("runway-desktop reset-history",),
    "extend": ('runway-desktop extend 12 "the camera rises above the trees"',
               'runway-desktop extend 12 "the wind rises" --duration 10 --seed 7'),
    "sequence": ("runway-desktop sequence run plan.yaml", "runway-desktop sequence list"),
    "sequence run": ("runway-desktop sequence run plan.yaml",
                     "runway-desktop sequence run plan.json --yes --json"),
    "sequence list": ("runway-desktop sequence list",),
    "sequence show": ("runway-desktop sequence show 3",),
    "sequence take": ("runway-desktop sequence take 3 2 --seed 7",
                      "runway-desktop sequence take 3 2 --choose 41"),
    "sequence redo": ("runway-desktop sequence redo 3",
                      "runway-desktop sequence redo 3 --yes --json"),
    "sequence rename": ("runway-desktop sequence rename 3 Night at the pier",),
    "sequence delete": ("runway-desktop sequence delete 3",),
    **cli_queue.EXAMPLES,  # cancel, remove, retry
    "export": ("runway-desktop export 12 --format gif --size small",
               "runway-desktop export 12 --format png --at last",
               "runway-desktop export seq:3 --format mp4 --crossfade 0.5"),
}


class _ExampleFormatter(argparse.HelpFormatter):
    """Wraps each paragraph of a description or epilog on its own, and keeps lines that start
    with two spaces (the examples) as they are."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        blocks = []
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("  ") or paragraph.startswith("examples:"):
                blocks.append(textwrap.indent(paragraph, indent))
            else:
                blocks.append(textwrap.fill(" ".join(paragraph.split()), width,
                                            initial_indent=indent, subsequent_indent=indent))
        return "\n\n".join(blocks)


def _add_examples(parser: argparse.ArgumentParser, name: str = "") -> None:
    """Give every sub-command its examples, a description (its help line when it has none)
    and --data-dir, all the way down (`sequence run`)."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for command, sub in action.choices.items():
            path = f"{name} {command}".strip()
            sub.formatter_class = _ExampleFormatter
            # `runway-desktop jobs --data-dir D` as well as `runway-desktop --data-dir D jobs`
            # (SUPPRESS: left out here, the one given before the command stays).
            sub.add_argument("--data-dir", default=argparse.SUPPRESS, help=DATA_DIR_HELP)
            if sub.description is None and helps.get(command):
                text = str(helps[command])
                sub.description = text[0].upper() + text[1:] + "."
            if path in EXAMPLES:
                lines = "\n".join(f"  {line}" for line in EXAMPLES[path])
                sub.epilog = f"examples:\n{lines}" + (f"\n\n{sub.epilog}" if sub.epilog else "")
            _add_examples(sub, path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runway-desktop",
        description="Turn an image and a prompt into a Runway video (apiframe v2).",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--data-dir", help=DATA_DIR_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    network = argparse.ArgumentParser(add_help=False)  # the options of commands that go online
    network.add_argument(
        "--proxy",
        help="an HTTP proxy for apiframe and the video downloads, host:port or http://host:port "
        "(default: the proxy in Settings, else the system's; \"\" for the system's)",
    )

    gen = sub.add_parser("generate", help="make a video from a prompt and an optional image",
                         parents=[network], epilog=EXIT_CODES_HELP)
    default = BUILT_IN_CATALOG.default
    gen.add_argument("prompt", help=f"what happens in the video (up to {default.prompt_limit:,} "
                     "characters as Runway counts them: an emoji counts 2)")
    gen.add_argument("--image", help="a local image file or an https image URL")
    gen.add_argument("--model", choices=BUILT_IN_CATALOG.ids, default=BUILT_IN_CATALOG.default.id,
                     help="the video model (default: %(default)s); its price comes from "
                     "apiframe's model list and is shown before the video is made")
    gen.add_argument("--duration", type=int, default=default.default_duration,
                     help=" or ".join(map(str, default.durations)) + " seconds (default: "
                     "%(default)s)")
    gen.add_argument("--aspect", default=default.aspect_ratios[0],
                     help=", ".join(default.aspect_ratios[:-1]) + " or "
                     f"{default.aspect_ratios[-1]} (default: %(default)s)")
    gen.add_argument("--seed", help="0..4294967295, digits 0-9 only (default: random)")
    gen.add_argument("--out", help="output folder (default: Videos/Runway Desktop)")
    gen.add_argument("--no-wait", action="store_true",
                     help="return once the server has accepted the job; `resume` finishes it")
    gen.add_argument("--json", action="store_true", help="print one JSON object per generation")

    jobs = sub.add_parser("jobs", help="list the local history")
    jobs.add_argument("--json", action="store_true", help="print one JSON object per generation")

    resume = sub.add_parser(
        "resume",
        help="finish every unfinished generation (retrying those that stopped), then exit",
        parents=[network],
    )
    resume.add_argument("--out", help="save videos not yet saved into this folder instead")
    resume.add_argument("--json", action="store_true",
                        help="print one JSON object per generation")

    imp = sub.add_parser("import", help="import jobs made with the same key elsewhere",
                         parents=[network])
    imp.add_argument("--out", help="save the videos it brings into this folder "
                     "(default: the output folder in Settings)")
    imp.add_argument("--yes", action="store_true",
                     help="download without asking, however many videos (without it, more than a "
                     "handful are asked about first)")
    imp.add_argument("--json", action="store_true", help="print one JSON object per generation")

    me = sub.add_parser("me", help="account and credit balance", parents=[network])
    me.add_argument("--json", action="store_true", help="print one JSON object")

    cli_sequence.add_parsers(sub, network, EXIT_CODES_HELP)  # extend, sequence run|list|show
    cli_queue.add_parsers(sub, network, EXIT_CODES_HELP)  # cancel, remove, retry

    sub.add_parser(
        "reset-history",
        help="keep an unreadable history file aside (renamed, not deleted) and start a fresh one",
        description="When the history file is damaged or was written by a newer Runway Desktop, "
        "rename it (and its -wal/-shm files) to journal.sqlite3.bad-<time> in the data folder "
        "so the next command starts a fresh, empty history. Nothing is deleted: moving the "
        "files back restores the history. A readable history is left alone.",
    )

    from runway_desktop import cli_export  # here: it imports this module

    cli_export.add_parser(sub)

    sim = sub.add_parser("simulator", help="run the local apiframe simulator")
    sim.add_argument("--port", type=int, default=8787)
    sim.add_argument("--seconds-per-job", type=float)
    _add_examples(parser)
    return parser


