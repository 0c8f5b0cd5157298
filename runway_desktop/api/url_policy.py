"""Which video links the app will fetch: the server's `videoUrl` is data, not an order.

A job's result URL comes from apiframe's answer. Followed blindly it could make this computer
fetch its cloud metadata service (`http://169.254.169.254/…`), a router's admin page, or send
a request in clear text across the internet. So a video URL must be:

- `https://` — or `http://` to this computer only, and only when the API itself is on this
  computer (the simulator / demo mode);
- a host name or a public IP address: no IP literal in a private, shared, link-local,
  loopback, unspecified, reserved, multicast or cloud-metadata range (loopback only in
  simulator/demo mode), however it is spelled (`127.1`, `0x7f000001`, `::ffff:a9fe:a9fe`);
- without a user name or password in it;
- reached through at most `max_redirects` redirects, each to a URL that passes the same
  checks, never from https down to http.

A refusal is an `UnsafeUrlError` naming the host only: the full URL is signed and may be
secret. These checks parse text only; they never resolve a name or open a connection.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import httpx

from .errors import ApiError
from .server_text import clean_server_text
from .urls import is_loopback_host

MAX_REDIRECTS = 3
MAX_URL_LENGTH = 8192
_MAX_HOST_SHOWN = 80

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services. Most sit in ranges refused anyway; listed so the rule survives a
# change in what Python's `ipaddress` calls global (192.0.0.192 counts as global there).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean…
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
        "fd00:ec2::254",  # AWS over IPv6
    )
)
METADATA_HOSTS = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
     "instance-data.ec2.internal", "metadata.azure.internal"}
)  # fmt: skip
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrlError(ApiError):
    """A video URL (or a redirect) this app refuses to fetch. Never retried: the same link
    would be refused again. `host` is the host as shown to people (never the whole URL)."""

    default_retryable = False

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(
            f"The video link from apiframe points to {host}, which this app won't download "
            f"from: {reason}. Nothing was fetched. If this keeps happening, contact apiframe "
            "support."
        )


@dataclass(frozen=True)
class UrlPolicy:
    """The rules for one engine. `allow_loopback`: the API itself runs on this computer."""

    allow_loopback: bool = False
    max_redirects: int = MAX_REDIRECTS

    @classmethod
    def for_base_url(cls, base_url: str) -> UrlPolicy:
        """Loopback links are fine exactly when the API base URL is loopback (simulator)."""
        try:
            host = httpx.URL(base_url).host
        except (httpx.InvalidURL, ValueError):
            host = ""
        return cls(allow_loopback=is_loopback_host(host))

    def check(self, url: str) -> httpx.URL:
        """The parsed URL when it may be fetched; else raise `UnsafeUrlError`."""
        parsed = _parse(url)
        host = _host_of(parsed)
        shown = host_for_people(host)
        if parsed.scheme not in ("http", "https"):
            scheme = host_for_people(parsed.scheme) if parsed.scheme else "scheme-less"
            raise UnsafeUrlError(shown, f"it is a {scheme} link, not https://")
        if not host:
            raise UnsafeUrlError(shown, "the link names no host")
        if parsed.userinfo:
            raise UnsafeUrlError(shown, "the link carries a user name or password")
        loopback = self._check_host(host, shown)
        if parsed.scheme == "https":
            return parsed
        if loopback:
            return parsed  # http:// only reaches here with allow_loopback: the simulator's CDN
        raise UnsafeUrlError(shown, "it uses unencrypted http:// instead of https://")

    def check_redirect(self, current: httpx.URL, location: str, hops: int) -> httpx.URL:
        """Where redirect number `hops` (1-based) from `current` leads, if it may be followed."""
        target_text = location.strip()
        try:
            target = current.join(target_text)
        except (httpx.InvalidURL, ValueError):
            raise UnsafeUrlError(
                host_for_people(current.host), "it redirects to an address that isn't valid"
            ) from None
        if hops > self.max_redirects:
            raise UnsafeUrlError(
                host_for_people(current.host),
                f"it redirects more than {self.max_redirects} times",
            )
        checked = self.check(str(target))
        if current.scheme == "https" and checked.scheme != "https":
            raise UnsafeUrlError(
                host_for_people(checked.host), "a redirect would drop https:// for http://"
            )
        return checked

    def _check_host(self, host: str, shown: str) -> bool:
        """Raise when `host` is refused; return whether it is this computer."""
        bare = host.rstrip(".")
        if bare in METADATA_HOSTS:
            raise UnsafeUrlError(shown, "it is a cloud metadata service")
        address = ip_literal(bare)
        if address is None:
            if is_loopback_host(bare):
                if not self.allow_loopback:
                    raise UnsafeUrlError(shown, "it is this computer")
                return True
            return False
        candidates = _embedded(address)
        if any(candidate in METADATA_ADDRESSES for candidate in candidates):
            raise UnsafeUrlError(shown, "it is a cloud metadata service")
        for candidate in candidates:
            if candidate.is_loopback:
                if not self.allow_loopback:
                    raise UnsafeUrlError(shown, "it is this computer")
                continue
            problem = _range_problem(candidate)
            if problem:
                raise UnsafeUrlError(shown, problem)
        return any(a.is_loopback for a in candidates)


def url_problem(url: str, *, allow_loopback: bool = False) -> str | None:
    """Why `url` may not be fetched (a sentence naming its host), or None."""
    try:
        UrlPolicy(allow_loopback=allow_loopback).check(url)
    except UnsafeUrlError as exc:
        return exc.message
    return None


def ip_literal(host: str) -> IPAddress | None:
    """The address a host string stands for without any DNS lookup, in any spelling the OS
    resolver reads as a number (`127.1`, `0x7f.0.0.1`, `2130706433`, `[::1]`, `fe80::1%eth0`);
    None for a host name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if not host or not host.isascii() or not all(c.isalnum() or c == "." for c in host):
        return None
    try:
        packed = socket.inet_aton(host)  # a parser only (BSD/glibc inet_aton rules), no lookup
    except OSError:
        return None
    return ipaddress.IPv4Address(packed)


def host_for_people(host: str) -> str:
    """A host name (or any short server string) fit for a message: printable, short."""
    return clean_server_text(host, limit=_MAX_HOST_SHOWN) or "an unnamed host"


def _parse(url: str) -> httpx.URL:
    if not isinstance(url, str) or not url:
        raise UnsafeUrlError("an unnamed host", "the link is empty")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrlError("an unnamed host", f"the link is over {MAX_URL_LENGTH:,} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UnsafeUrlError(_rough_host(url), "the link contains spaces or control characters")
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise UnsafeUrlError(_rough_host(url), "the link isn't a valid URL") from None


def _host_of(url: httpx.URL) -> str:
    """The host exactly as the connection would use it (ASCII, IDNA-encoded, lower case)."""
    return url.raw_host.decode("ascii", "replace").lower()


def _rough_host(url: str) -> str:
    """Best-effort host of a URL too broken to parse, for the message only."""
    rest = url.split("://", 1)[-1]
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return host_for_people(authority.rsplit("@", 1)[-1])


def _embedded(address: IPAddress) -> list[IPAddress]:
    """The address plus any IPv4 address it carries (mapped, NAT64, 6to4, Teredo)."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address in _NAT64:
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.append(address.teredo[1])
    return found


def _range_problem(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "it is an unspecified address"
    if address.is_link_local:
        return "it is a link-local address"
    if address.is_multicast:
        return "it is a multicast address"
    if address.is_private or not address.is_global:
        return "it is a private or reserved network address"
    return None
