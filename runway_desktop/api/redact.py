"""Scrub apiframe API keys out of text before it reaches a log, a message or a crash report."""

from __future__ import annotations

import re

REDACTED = "afk_…redacted"

# apiframe keys are "afk_" + a random string; four word characters is enough to be a real key
# and few enough that a truncated key still gets caught.
_KEY_RE = re.compile(r"afk_\w{4,}")
# A header dump ("X-API-Key: …") may carry a mistyped key that lacks the "afk_" prefix.
_HEADER_RE = re.compile(r"""(?i)(x-api-key['"]?\s*[:=]\s*(?:b?['"])?)[^\s'",;)}\]]+""")


def redact_secrets(text: str) -> str:
    """Return ``text`` with anything that looks like an API key replaced by a marker."""
    text = _HEADER_RE.sub(r"\1…redacted", text)
    return _KEY_RE.sub(REDACTED, text)
