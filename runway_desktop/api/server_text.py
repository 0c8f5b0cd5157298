"""Server strings are data: clean them before anyone stores, logs, prints or shows them.

A job's `error`, an error body's message or an account's team name comes from a server this
app does not control. It may carry terminal escape sequences (ESC, BEL), bidi overrides that
disguise text, megabytes of padding, or the API key echoed back. `clean_server_text` makes it
one tidy line of plain text without any of those.
"""

from __future__ import annotations

import re
import unicodedata

from .redact import redact_secrets

MAX_SERVER_TEXT = 500  # characters: a sentence or three, never a page
_MAX_INPUT = 20_000  # characters looked at in the first place (cleaning is linear, but bounded)
ELLIPSIS = "…"

# Whole terminal sequences, so no "[31m" debris is left behind: CSI (ESC [ … final byte),
# OSC (ESC ] … BEL or ESC \), and any other two-byte ESC sequence.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?", re.S)
# The same in their 8-bit C1 forms (CSI = U+009B, OSC = U+009D).
_C1_ESCAPES = re.compile(r"\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x9c]*(?:\x07|\x9c)?")


def clean_server_text(text: str, *, limit: int = MAX_SERVER_TEXT) -> str:
    """One line of printable text, no key in it, at most `limit` characters (with "…")."""
    text = text[:_MAX_INPUT]
    text = _C1_ESCAPES.sub("", _ESCAPES.sub("", text))
    text = "".join(_printable(ch) for ch in text)
    text = " ".join(text.split())  # newlines and tabs became spaces; runs of them one space
    text = redact_secrets(text)  # after cleaning: a key split by a control character is whole
    if len(text) > limit:
        text = text[: max(0, limit - 1)].rstrip() + ELLIPSIS
    return text


def clean_optional(value: object, *, limit: int = MAX_SERVER_TEXT) -> str | None:
    """`clean_server_text` for a JSON value that should be a string; None for anything else
    and for text that is empty once cleaned."""
    if not isinstance(value, str):
        return None
    return clean_server_text(value, limit=limit) or None


def _printable(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in ("Cc", "Zl", "Zp"):
        # Tab, newline and the like read as a space; every other control character goes.
        return " " if ch.isspace() else ""
    if category in ("Cf", "Cs", "Co", "Cn"):
        # Format characters (bidi overrides, zero-width), lone surrogates, private-use and
        # unassigned code points: nothing a person should see in a message.
        return ""
    return ch
