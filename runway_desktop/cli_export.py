"""`runway-desktop export`: a finished clip as MP4, GIF, WebM, animated WebP or a PNG still, or a
sequence (`seq:N`) as one MP4 of its chosen takes.

The target is a generation's number as `runway-desktop jobs` lists it (`12`, `#12`) or a
sequence's (`seq:3`): the prefix keeps the two apart. The file goes beside the clip (or into the
sequence's folder) under a name that isn't taken yet, or to `--to` (a new file, or a folder);
it is written beside its final name and renamed when whole, never over an existing file.

QtMultimedia decodes on a qasync loop of its own (a QGuiApplication on the offscreen platform:
nothing is shown). What Qt and its FFmpeg print while decoding goes to the log folder's
`video-export.log`, not the terminal: a person sees the new file's path, or one line saying
what went wrong and what to do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from runway_desktop import paths
from runway_desktop.cli import (
    EXIT_INPUT,
    EXIT_NETWORK,
    EXIT_OK,
    CliError,
    Context,
    _open_journal,
)
from runway_desktop.cli_parser import EXIT_CODES_HELP
from runway_desktop.engine.records import Stage
from runway_desktop.engine.video.export_options import (
    DEFAULT_QUALITY,
    SIZE_PRESETS,
    AnimationFormat,
    Trim,
)
from runway_desktop.loop_signals import StoppedBySignal, run_until_signal
from runway_desktop.native_stderr import awake_while, native_stderr_to

T = TypeVar("T")
FORMATS = ("mp4", "gif", "webm", "webp", "png")
QT_LOG = "video-export.log"
_TARGET = re.compile(r"(?:(seq|sequence):)?#?([0-9]+)", re.ASCII | re.IGNORECASE)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser(
        "export",
        help="write a finished clip as MP4, GIF, WebM, animated WebP or a PNG still, "
        "or a sequence (seq:N) as one MP4",
        description="Export generation ID (its number in `runway-desktop jobs`) or sequence "
        "seq:N. GIF, WebP and WebM take a size preset and an in/out range; PNG the frame at "
        "--at; MP4 copies the clip, or joins a sequence's chosen takes (re-encoded when they "
        "can't be joined as they are, or for a cross-fade).",
        epilog=EXIT_CODES_HELP,
    )
    export.add_argument("target", metavar="ID|seq:N",
                        help="a generation's number (12 or #12) or a sequence's (seq:3)")
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument("--size", choices=list(SIZE_PRESETS),
                        help="gif/webp/webm: " + ", ".join(
                            f"{p.name} {p.width} px {p.fps} fps" for p in SIZE_PRESETS.values())
                        + " (default: medium)")
    export.add_argument("--quality", type=int, metavar="0-100",
                        help=f"webp/webm: libwebp's quality (default {DEFAULT_QUALITY})")
    export.add_argument("--in", dest="in_point", metavar="SECONDS",
                        help="gif/webp/webm: start here (default: the clip's start)")
    export.add_argument("--out-point", metavar="SECONDS",
                        help="gif/webp/webm: end here (default: the clip's end)")
    export.add_argument("--at", metavar="SECONDS|last",
                        help="png: the frame shown at this time (default 0), or `last` for the "
                        "clip's exact last frame (what Extend starts from)")
    export.add_argument("--crossfade", metavar="SECONDS",
                        help="a sequence's mp4: cross-fade this long between shots (re-encodes)")
    export.add_argument("--to", metavar="PATH",
                        help="the new file, or a folder for it (default: beside the clip, "
                        "or the sequence's folder, under a name not yet taken)")
    export.add_argument("--json", action="store_true",
                        help="print one JSON object: path, format, bytes")


@dataclass(frozen=True)
class Target:
    sequence: bool
    number: int

    def __str__(self) -> str:
        return f"sequence {self.number}" if self.sequence else f"generation #{self.number}"


def parse_target(text: str) -> Target:
    match = _TARGET.fullmatch(text.strip())
    if match is None:
        raise CliError(f"“{text}” names no clip or sequence: give a generation's number as "
                       "`runway-desktop jobs` lists it (12) or a sequence's as seq:3.", EXIT_INPUT)
    return Target(match.group(1) is not None, int(match.group(2)))


def seconds(option: str, text: str | None) -> int | None:
    """`--in 1.5` as 1500 ms (None when not given)."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        wants = ("a length in seconds, like 0.5" if option == "--crossfade"
                 else "seconds from the start, like 1.5")
        raise CliError(f"{option} wants {wants}, not “{text}”.", EXIT_INPUT)
    return round(value * 1000)


def run(args: argparse.Namespace, context: Context) -> int:
    """The `export` command (it runs its own Qt loop, so not inside asyncio.run)."""
    target = parse_target(args.target)
    fmt = args.format
    _check_options(args, target)
    if target.sequence:
        from runway_desktop.cli_export_sequence import export_sequence

        dest = export_sequence(args, context, target, run_qt)
    else:
        dest = _export_clip(args, context, target)
    _say_done(dest, fmt, context)
    return EXIT_OK


def _check_options(args: argparse.Namespace, target: Target) -> None:
    fmt = args.format
    animated = fmt in ("gif", "webp", "webm")
    wrong = [
        option for option, given, allowed in (
            ("--size", args.size, animated),
            ("--quality", args.quality, fmt in ("webp", "webm")),
            ("--in", args.in_point, animated),
            ("--out-point", args.out_point, animated),
            ("--at", args.at, fmt == "png"),
            ("--crossfade", args.crossfade, target.sequence and fmt == "mp4"),
        ) if given is not None and not allowed
    ]
    if wrong == ["--crossfade"] and fmt == "mp4":  # a clip's mp4: it is a copy
        raise CliError("--crossfade is only for a sequence's mp4 (seq:N): a clip's mp4 is "
                       "a copy of it. Leave it out.", EXIT_INPUT)
    if wrong:
        raise CliError(f"{', '.join(wrong)} doesn't go with --format {fmt}. Leave it out, or "
                       "see `runway-desktop export --help` for what each format takes.",
                       EXIT_INPUT)
    if target.sequence and fmt != "mp4":
        raise CliError(f"A sequence exports as one MP4 (--format mp4). Export that MP4 again "
                       f"as {fmt} if you need it.", EXIT_INPUT)
    if args.quality is not None and not 0 <= args.quality <= 100:
        raise CliError(f"--quality {args.quality} isn't between 0 and 100.", EXIT_INPUT)


def finished_video(context: Context, number: int) -> Path:
    """The saved video of finished generation `number`, or a CliError saying why not."""
    journal = _open_journal(context)
    try:
        generation = journal.get(number)
    finally:
        journal.close()
    if generation is None:
        raise CliError(f"There is no generation #{number} in the history. "
                       "`runway-desktop jobs` lists them.", EXIT_INPUT)
    if generation.stage is not Stage.DONE or not generation.video_path:
        hint = ("`runway-desktop resume` finishes it" if not generation.stage.is_terminal
                else "it has no video to export")
        raise CliError(f"Generation #{number} isn't finished (it is {generation.stage.value}); "
                       f"{hint}.", EXIT_INPUT)
    video = Path(generation.video_path)
    if not video.is_file():
        raise CliError(f"The video of generation #{number} isn't there any more: {video} "
                       "(moved or deleted). Put it back there to export it.", EXIT_INPUT)
    return video


def destination(given: str | None, folder: Path, name: str) -> Path:
    """Where the export goes: `--to` (a new file, or an existing folder), else `folder`/`name`;
    in a folder the first free name (`name-2.gif` …), a named file never overwritten."""
    suffix = Path(name).suffix
    if given is not None:
        if not given.strip():
            raise CliError("--to is empty. Name a new file or a folder, or leave --to out.",
                           EXIT_INPUT)
        path = Path(given).expanduser()
        if path.is_dir():
            folder = path
        else:
            if path.suffix.lower() != suffix:
                raise CliError(f"--to {given} doesn't end in {suffix}, the format's own "
                               "suffix. Name the file with it.", EXIT_INPUT)
            if path.exists():
                raise CliError(f"{path} already exists and is left alone. Choose a new name "
                               "with --to, or remove that file first.", EXIT_INPUT)
            if not path.parent.is_dir():
                raise CliError(f"The folder {path.parent} doesn't exist. Create it first, or "
                               "choose another with --to.", EXIT_INPUT)
            return path.absolute()
    candidate, n = folder / name, 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{Path(name).stem}-{n}{suffix}"
    return candidate.absolute()


def _export_clip(args: argparse.Namespace, context: Context, target: Target) -> Path:
    video = finished_video(context, target.number)
    fmt = args.format
    at = None if args.at in (None, "last") else seconds("--at", args.at)
    trim = Trim(seconds("--in", args.in_point) or 0, seconds("--out-point", args.out_point))
    if fmt == "png":
        label = "last" if args.at == "last" else f"at-{(at or 0) / 1000:g}s"
        dest = destination(args.to, video.parent, f"{video.stem}-{label}.png")
    else:
        dest = destination(args.to, video.parent, f"{video.stem}.{fmt}")
    if fmt == "mp4":
        _copy(video, dest)
        return dest

    async def export() -> Path:
        from runway_desktop.engine.video import exports
        from runway_desktop.engine.video.frames import FrameError, duration_ms

        try:
            length = await duration_ms(video)
        except FrameError as e:
            raise CliError(f"Can't export generation #{target.number}: {e.message}",
                           EXIT_INPUT) from None
        if fmt == "png":
            if args.at == "last":
                return await exports.export_last_frame(video, dest)
            if (at or 0) > length:
                raise CliError(f"--at {args.at} is past the clip's end ({length / 1000:g} s). "
                               "Choose a time inside it.", EXIT_INPUT)
            return await exports.export_still(video, dest, at or 0)
        _check_trim(trim, length)
        return await exports.export_animation(
            video, dest, preset=SIZE_PRESETS[args.size or "medium"],
            fmt=AnimationFormat(fmt), trim=trim, duration_ms=length,
            quality=DEFAULT_QUALITY if args.quality is None else args.quality,
            progress=progress_line("exporting"),
        )

    return run_qt(export, context)


def _check_trim(trim: Trim, length: int) -> None:
    end = length if trim.end_ms is None else trim.end_ms
    if end > length or trim.start_ms >= length:
        raise CliError(f"The range {trim.start_ms / 1000:g}–{end / 1000:g} s isn't inside the "
                       f"clip (0–{length / 1000:g} s). Choose --in and --out-point within it.",
                       EXIT_INPUT)
    if end <= trim.start_ms:
        raise CliError("--out-point is at or before --in. Choose a later --out-point.",
                       EXIT_INPUT)


def _copy(video: Path, dest: Path) -> None:
    """The clip as it is, written beside `dest` and renamed when whole."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    except OSError as e:
        raise CliError(f"Can't write in {dest.parent}: {e.strerror or e}.", EXIT_NETWORK) from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, video.open("rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise CliError(f"Couldn't write {dest}: {e.strerror or e}.", EXIT_NETWORK) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def run_qt(work: Callable[[], Awaitable[T]], context: Context) -> T:
    """Run `work` on a qasync loop over a QGuiApplication (offscreen: nothing is shown), with
    Qt's and FFmpeg's own messages sent to the log folder. Errors of the export are CliErrors;
    Ctrl+C or SIGTERM cancels the work (its partial file is removed) and exits 130 / 143."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with native_stderr_to(paths.log_dir(context.data_dir) / QT_LOG):
        import qasync
        from PySide6.QtGui import QGuiApplication

        app = QGuiApplication.instance() or QGuiApplication(["runway-desktop"])
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            # Ctrl+C cancels the export, which removes its partial file.
            return run_until_signal(loop, loop.create_task(awake_while(_in_words(work))))
        except StoppedBySignal as stop:
            raise CliError("stopped: nothing was written.", 128 + stop.signum) from None
        finally:
            asyncio.set_event_loop(None)
            _end_progress()


async def _in_words(work: Callable[[], Awaitable[T]]) -> T:
    from runway_desktop.engine.video.exports import ExportError
    from runway_desktop.engine.video.mp4_join import JoinError

    try:
        return await work()
    except (ExportError, JoinError) as e:
        raise CliError(f"{e}", EXIT_NETWORK) from None


def progress_line(what: str) -> Callable[[float], None]:
    """Progress on the terminal (only when stderr is one), at most once a percent."""
    shown = [-1]

    def show(fraction: float) -> None:
        percent = int(fraction * 100)
        if percent == shown[0] or not _on_terminal():
            return
        shown[0] = percent
        print(f"\r{what} {percent:3d}%", end="", file=sys.stderr, flush=True)

    return show


def notice(text: str) -> None:
    """One line for the person on stderr (a progress line on a terminal is cleared first)."""
    _end_progress()
    print(f"runway-desktop: {text}", file=sys.stderr, flush=True)


def _end_progress() -> None:
    if _on_terminal():
        print("\r" + " " * 20 + "\r", end="", file=sys.stderr, flush=True)


def _on_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except ValueError:  # closed
        return False


def _say_done(dest: Path, fmt: str, context: Context) -> None:
    if context.json_output:
        print(json.dumps({"path": str(dest), "format": fmt, "bytes": dest.stat().st_size}),
              flush=True)
    else:
        print(dest, flush=True)
