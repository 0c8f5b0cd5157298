"""How the app's HTTP clients reach the internet as people's networks are: the OS certificate
store and the system (or configured) proxy.

The OS store (through `truststore`) is what browsers trust, so a company's TLS-inspecting proxy,
whose root certificate IT installed on the machine, works here too. On Linux certifi's bundle is
added as well, so a machine with an empty or outdated store still reaches apiframe.
"""

from __future__ import annotations

import ssl
import sys
from functools import cache
from urllib.parse import urlsplit

import certifi
import truststore

from .errors import InvalidRequestError


@cache
def tls_context() -> ssl.SSLContext:
    """One verifying context for every client (building one reads thousands of certificates)."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if sys.platform.startswith("linux"):
        context.load_verify_locations(cafile=certifi.where())
    return context


def is_certificate_failure(exc: BaseException) -> bool:
    """True when a connection failed because the server's certificate wasn't trusted."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if isinstance(current, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def normalize_proxy_url(proxy: str | None) -> str | None:
    """A proxy typed in Settings: empty means the system's; otherwise an http(s) URL."""
    text = (proxy or "").strip()
    if not text:
        return None
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(
            f"“{proxy}” isn't a proxy address. Use host:port or http://host:port.",
            field="proxy")
    try:
        parts.port  # noqa: B018  (raises on a port that isn't a number)
    except ValueError:
        raise InvalidRequestError(
            f"The proxy port in “{proxy}” isn't a number.", field="proxy") from None
    return text
