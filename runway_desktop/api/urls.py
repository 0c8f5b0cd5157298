"""URL policy: which addresses the client may talk to and which it may hand to apiframe."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://api.apiframe.ai"
MAX_IMAGE_URL_LENGTH = 2048  # Runway refuses longer input URLs
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (brackets allowed) — traffic that never leaves."""
    if not host:
        return False
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def origin_of(scheme: str, host: str, port: int | None) -> Origin:
    """The (scheme, host, port) triple that decides where credentials may go."""
    scheme = scheme.lower()
    return scheme, host.strip("[]").rstrip(".").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def base_url_problem(url: str) -> str | None:
    """Why ``url`` can't be the API base URL, or None when it can."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return f"The API address {url!r} is not a valid URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"The API address {url!r} must start with https:// and name a host."
    if parts.query or parts.fragment or parts.username or parts.password:
        return "The API address must not contain a query, a fragment or a user name."
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return (
            "The API address must use https:// — plain http:// would send your API key "
            "unencrypted (it is only allowed for this computer, e.g. http://127.0.0.1)."
        )
    return None


def normalize_base_url(url: str) -> str:
    """Strip whitespace and trailing slashes; raise ValueError with a readable reason."""
    url = url.strip().rstrip("/")
    problem = base_url_problem(url)
    if problem:
        raise ValueError(problem)
    return url


def image_url_problem(url: object) -> str | None:
    """Why ``url`` can't be sent as ``runwayParams.image``, or None when it can."""
    if not isinstance(url, str):
        return f"The image must be a URL string, not {type(url).__name__}."
    if not url:
        return "The image URL is empty."
    if len(url) > MAX_IMAGE_URL_LENGTH:
        return f"The image URL is {len(url):,} characters; the limit is {MAX_IMAGE_URL_LENGTH:,}."
    if url != url.strip() or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return "The image URL contains spaces or control characters."
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return "The image URL is not a valid URL."
    if not parts.hostname:
        return "The image URL must be an https:// address with a host name."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return None  # the local simulator serves its CDN over http on loopback
    if parts.scheme == "http":
        return "The image URL must use https:// (plain http:// is only allowed on this computer)."
    return "The image URL must be an https:// address."
