"""Scrub API keys out of text before it reaches a log, a message, the journal or a crash report.

Two nets: the literal keys this process has been given (`remember_secret`, called wherever a
key is loaded or a client is made), and patterns for anything shaped like a key or a header
that carries one — for keys this process never saw, e.g. one a server echoes back.
"""

from __future__ import annotations

import re
import threading

REDACTED = "afk_…redacted"
MIN_SECRET_LENGTH = 8  # shorter "secrets" would blank out ordinary words

# apiframe keys are "afk_" + a random string (any case, and `-` `.` `~` `+` `/` `=` seen in
# tokens); four characters is enough to be a real key and few enough that a truncated key
# still gets caught. A trailing dot is the end of a sentence, not part of the key.
_KEY_RE = re.compile(r"(?i)afk_[\w.~+/=-]{3,}[\w~+/=-]")
# A header dump or a config line ("X-API-Key: …", "api-key=…", "Authorization: Bearer …") may
# carry a key without the "afk_" prefix.
_HEADER_RE = re.compile(
    r"""(?ix)
    (\b(?:x-api-key|api[-_]?key|proxy-authorization|authorization)
     ['"]?\s*[:=]\s*(?:b?['"])?
     (?:(?:bearer|basic|token)\s+)?)
    [^\s'",;)}\]]+
    """
)

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def remember_secret(secret: str | None) -> None:
    """Redact this exact string (e.g. the configured API key) from now on, in this process."""
    global _secrets
    if not secret:
        return
    secret = secret.strip()
    if len(secret) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if secret not in _secrets:
            # Longest first: a key that contains another remembered key is replaced whole.
            _secrets = tuple(sorted((*_secrets, secret), key=len, reverse=True))


def redact_secrets(text: str) -> str:
    """Return ``text`` with every remembered key and anything that looks like one replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _HEADER_RE.sub(r"\1…redacted", text)
    return _KEY_RE.sub(REDACTED, text)
