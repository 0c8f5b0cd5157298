"""Turn what went wrong into words and an action: the one place that decides how a failure reads.

The api layer raises typed errors with a message already fit for a person; this module decides what
the engine does with each: retry on its own, pause submission, or hand the generation to the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from runway_desktop import api
from runway_desktop.engine.downloads import (
    DiskFullError,
    DownloadError,
    DownloadFailed,
    DownloadIncomplete,
    DownloadInterrupted,
    DownloadStalled,
    DownloadUnreachable,
    OutputFolderError,
)
from runway_desktop.engine.events import Problem, ProblemKind
from runway_desktop.engine.images import ImageRejected
from runway_desktop.engine.records import Action, StopCause


@dataclass(frozen=True)
class Verdict:
    message: str
    action: Action
    retry_by_itself: bool  # transient: the engine tries again before bothering anyone
    problem: Problem | None = None  # an engine-wide condition to show in the banner
    # Why, for the engine: a stop it may carry on from by itself (kept on the row).
    cause: StopCause | None = None


def judge(error: BaseException) -> Verdict:
    """Decide what a failure means for a generation."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    if isinstance(error, api.InsufficientCreditsError):
        return Verdict(message, Action.BUY_CREDITS, False,
                       Problem(ProblemKind.CREDITS, message, Action.BUY_CREDITS))
    if isinstance(error, (api.AuthenticationError, api.PermissionDeniedError)):
        return Verdict(message, Action.OPEN_SETTINGS, False,
                       Problem(ProblemKind.AUTH, message, Action.OPEN_SETTINGS))
    if isinstance(error, api.RateLimitedError):
        return Verdict(message, Action.RETRY, True,
                       Problem(ProblemKind.RATE_LIMITED, message, None))
    if isinstance(error, api.NetworkError):
        return Verdict(message, Action.RETRY, True,
                       Problem(ProblemKind.OFFLINE, message, Action.RETRY),
                       StopCause.API_UNREACHABLE)
    if isinstance(error, api.NotFoundError):
        # Following the job again can only meet the same 404: what is left is a new job with
        # the same settings (paid again), or removing the row.
        return Verdict(f"{message} Run it again as a new job with the same settings, or "
                       "remove it.", Action.RUN_AGAIN, False)
    if isinstance(error, api.ApiError) and error.retryable:
        return Verdict(message, Action.RETRY, True)
    if isinstance(error, (api.InvalidRequestError, api.ValidationError, api.ConflictError,
                          ImageRejected)):
        return Verdict(message, Action.EDIT_INPUT, False)
    if isinstance(error, DiskFullError):  # Retry once there is room, or another folder
        return Verdict(message, Action.RETRY, False, cause=StopCause.OUTPUT_FULL)
    if isinstance(error, OutputFolderError):
        return Verdict(message, Action.CHOOSE_FOLDER, False)
    if isinstance(error, DownloadInterrupted) or (
            isinstance(error, DownloadFailed) and error.retryable):
        # The video server didn't answer, or not usefully: the download carries on by itself
        # once it does (the engine watches: engine/cdn_watch.py).
        return Verdict(message, Action.RETRY, True, cause=StopCause.CDN_UNREACHABLE)
    if isinstance(error, DownloadError):
        return Verdict(message, Action.RETRY, error.retryable)
    if isinstance(error, api.ApiError):
        return Verdict(message, Action.RETRY, False)
    if isinstance(error, OSError):
        return Verdict(f"Couldn't read or write a file: {error.strerror or error}.",
                       Action.RETRY, False)
    return Verdict(
        f"Something unexpected went wrong ({type(error).__name__}). "
        "The generation is kept; press Retry. Details are in the log.",
        Action.RETRY,
        False,
    )


def waiting_for_video_server(error: DownloadError, host: str, *, by_itself: bool) -> str:
    """What a finished video's row says when its download stopped because the video server
    didn't answer (usefully): what it waits for, that nothing is lost, and what happens next
    (`by_itself`: the engine watches for the server, engine/cdn_watch.py)."""
    if isinstance(error, DownloadUnreachable):
        reason = f"the video server ({host}) can't be reached"
    elif isinstance(error, DownloadStalled):
        reason = f"the video server ({host}) sends far too slowly"
    elif isinstance(error, DownloadFailed):
        reason = f"the video server ({host}) keeps failing (HTTP {error.status})"
    elif isinstance(error, DownloadIncomplete):
        reason = f"the download from the video server ({host}) stopped before the end, again"
    else:
        reason = f"the connection to the video server ({host}) keeps breaking"
    then = ("Its download carries on by itself when the server answers again, while Runway "
            "Desktop is open; or retry it now." if by_itself
            else "Retry it when the server answers again.")
    return (f"Waiting for the video server: {reason}. The video is finished, paid for and "
            f"kept (you won't be charged again). {then}")
