"""How one generation is described in words in the queue: stage, settings, elapsed time, fixes.

Pure functions over `Generation`, shared by the list model (tooltips, accessibility) and the
delegate (painting), so the two never disagree.
"""

from __future__ import annotations

import datetime

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QTime

from runway_desktop.api.catalog import BUILT_IN_CATALOG
from runway_desktop.engine.lifecycle_table import Command, allows
from runway_desktop.engine.records import Action, Generation, Stage

_CONTEXT = "Queue"

# What each stage means (running, shows a percentage, is a problem …) is the engine's lifecycle
# table's answer: `generation.stage.is_running`, `.shows_percent`, `.is_problem`.


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def is_running(generation: Generation) -> bool:
    return generation.stage.is_running


def stage_text(generation: Generation) -> str:
    stage = generation.stage
    percent = max(0, min(100, generation.progress))
    match stage:
        case Stage.PENDING:
            return _tr("Waiting")
        case Stage.PREPARING:
            return _tr("Preparing image")
        case Stage.UPLOADING:
            return _tr("Uploading")
        case Stage.SUBMITTING:
            return _tr("Submitting")
        case Stage.QUEUED:
            return _tr("Queued on server")
        case Stage.PROCESSING:
            return _tr("Generating {percent} %").format(percent=percent)
        case Stage.DOWNLOADING:
            return _tr("Downloading {percent} %").format(percent=percent)
        case Stage.DONE:
            return _tr("Done")
        case Stage.FAILED:
            if again := sent_again_text(generation):
                return _tr("Failed · {sent_again}").format(sent_again=again)
            return _tr("Failed")
        case Stage.ATTENTION:
            return _tr("Needs attention")
        case Stage.CANCELLED:
            return _tr("Cancelled")
        case Stage.ABANDONED:
            return _tr("Not followed")
    return str(stage)  # a stage added later still shows something


def sent_again_text(generation: Generation) -> str:
    """ "Sent again as #12": Retry made a new generation of this failure ("" if not)."""
    if not allows(generation, Command.SHOW_SENT_AGAIN):
        return ""
    return _tr("Sent again as #{id}").format(id=generation.sent_again_as)


def fix_text(generation: Generation) -> str:
    """The fix drawn on a problem row: its action ("Retry", "Open Settings"…), or "Show #12"
    once Retry sent the failure anew (clicking it shows that one, never pays again)."""
    if allows(generation, Command.SHOW_SENT_AGAIN):
        return _tr("Show #{id}").format(id=generation.sent_again_as)
    return action_text(generation.action)


def action_text(action: Action | None) -> str:
    match action:
        case Action.OPEN_SETTINGS:
            return _tr("Open Settings")
        case Action.BUY_CREDITS:
            return _tr("Top up credits")
        case Action.EDIT_INPUT:
            return _tr("Edit and retry")
        case Action.RETRY:
            return _tr("Retry")
        case Action.CHOOSE_FOLDER:
            return _tr("Choose folder")
        case Action.RUN_AGAIN:
            return _tr("Run again")
    return ""


def meta_text(generation: Generation, *, with_seed: bool = True) -> str:
    """ "Gen-4 Turbo · 16:9 · 10 s · seed 42 · 15 credits": everything needed to recognise the
    settings. The price is what apiframe charged, else the built-in one (left out if unknown).
    An extension starts with the clip it continues: "extends #12 · …". `with_seed=False`: the
    seed left out (a narrow row keeps the price whole; the tooltip has the seed)."""
    settings = generation.settings
    spec = BUILT_IN_CATALOG.get(settings.model)
    credits = generation.credit_cost
    if credits is None and spec is not None:
        credits = spec.price(settings.duration)
    parts = [
        spec.label if spec else settings.model,
        settings.aspect_ratio,
        _tr("{seconds} s").format(seconds=settings.duration),
    ]
    if with_seed:
        parts.append(_tr("seed {seed}").format(seed=settings.seed))
    if credits is not None:
        parts.append(_tr("{credits} credits").format(credits=credits))
    if generation.parent_id is not None:
        parts.insert(0, _tr("extends #{id}").format(id=generation.parent_id))
    return " · ".join(parts)


def elapsed_seconds(generation: Generation, now: float) -> float | None:
    """From submission (or creation) to the end (or now); None when there is nothing to time."""
    if not generation.stage.is_timed:
        return None
    start = generation.submitted_at or generation.created_at
    if generation.stage.is_settled:
        end = generation.finished_at
        if end is None:
            return None
    else:
        end = now
    return max(0.0, end - start)


def format_duration(seconds: float) -> str:
    """65 → "1:05", 3725 → "1:02:05"."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def elapsed_text(generation: Generation, now: float) -> str:
    seconds = elapsed_seconds(generation, now)
    return "" if seconds is None else format_duration(seconds)


def finished_text(generation: Generation, now: float) -> str:
    """When a finished video was made: "today 14:32", "yesterday 09:05", "27 Nov 14:32" this
    year, "27 Nov 2025" before; "" until it has finished."""
    if generation.stage is not Stage.DONE or not generation.finished_at:
        return ""
    when = datetime.datetime.fromtimestamp(generation.finished_at)
    today = datetime.datetime.fromtimestamp(now).date()
    locale = QLocale()
    clock = locale.toString(QTime(when.hour, when.minute), QLocale.FormatType.ShortFormat)
    if when.date() == today:
        return _tr("today {time}").format(time=clock)
    if when.date() == today - datetime.timedelta(days=1):
        return _tr("yesterday {time}").format(time=clock)
    date = QDate(when.year, when.month, when.day)
    if when.year == today.year:
        return f"{locale.toString(date, 'd MMM')} {clock}"
    return locale.toString(date, "d MMM yyyy")


def accessible_text(generation: Generation) -> str:
    """One sentence for screen readers: the prompt, then where it is."""
    parts = [generation.settings.prompt or _tr("(no prompt)"), stage_text(generation)]
    if generation.stage.is_problem and generation.error:
        parts.append(generation.error)
    if generation.favourite:
        parts.append(_tr("favourite"))
    return ", ".join(parts)


def tooltip_text(generation: Generation) -> str:
    lines = [generation.settings.prompt or _tr("(no prompt)"), meta_text(generation)]
    if generation.job_id:
        lines.append(_tr("Job {job_id}").format(job_id=generation.job_id))
    if generation.error:
        lines.append(generation.error)
    if again := sent_again_text(generation):
        lines.append(again)
    return "\n".join(lines)


_VIDEO_COMMANDS = (Command.PLAY, Command.OPEN, Command.REVEAL, Command.EXTEND,
                   Command.REMOVE_WITH_FILE)


def unavailable_text(generation: Generation, command: Command) -> str:
    """Why a row's menu action is greyed out, in a few words ("" when nothing needs saying).
    Shown as the action's tooltip and, while it is highlighted, in the status bar."""
    stage = generation.stage
    under_way = not stage.is_settled
    if command in (Command.CANCEL, Command.STOP_FOLLOWING):
        if command is Command.CANCEL and allows(generation, Command.STOP_FOLLOWING):
            return _tr("apiframe has this job already and has no cancel: Stop Following "
                       "instead (it may still be charged).")
        if command is Command.STOP_FOLLOWING and allows(generation, Command.CANCEL):
            return _tr("apiframe doesn't have it yet: Cancel it instead (nothing is charged).")
        if stage is Stage.ATTENTION:
            return _tr("It is stopped, waiting for you: Retry carries it on, Remove drops it.")
        return _tr("It has stopped already.")
    if command is Command.RETRY:
        if again := sent_again_text(generation):
            return _tr("{sent_again} already: Re-run with New Seed makes another.").format(
                sent_again=again)
        if under_way:
            return _tr("It is still under way.")
        if stage is Stage.DONE:
            return _tr("It is finished: Re-run with New Seed makes another.")
        return _tr("To send it again: Re-run with New Seed.")
    if command is Command.REORDER:
        return _tr("Only what still waits its turn can run next.")
    if command is Command.REDOWNLOAD:
        if stage is Stage.DONE and generation.video_path:
            return _tr("Its video is on disk.")
        return _tr("Only for a finished video whose file is gone.")
    if command is Command.EXTEND and stage is Stage.DONE and generation.video_path:
        return _tr("Its video file is gone: Download Again first.")
    if command in _VIDEO_COMMANDS or command is Command.COPY_URL:
        if under_way:
            return _tr("The video isn't made yet.")
        if command is Command.COPY_URL:
            return _tr("apiframe gave no video link for it.")
        return _tr("It has no video.")
    return ""
