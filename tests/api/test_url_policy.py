"""The video-link policy, tested as a pure function: nothing here opens a connection.

The whole module runs under the network guard, so a lookup or a connection anywhere would
fail the test instead of leaving the machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.api import ApiError
from runway_desktop.api.url_policy import (
    MAX_REDIRECTS,
    UnsafeUrlError,
    UrlPolicy,
    ip_literal,
    url_problem,
)
from tests.helpers.network_guard import guard

STRICT = UrlPolicy()
LOCAL = UrlPolicy(allow_loopback=True)


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    with guard() as hosts:
        yield
    assert hosts == []


ACCEPTED = [
    "https://cdn2.apiframe.ai/videos/b2c3d4e5.mp4",
    "https://cdn.apiframe.ai/results/x.mp4?X-Amz-Signature=abc&X-Amz-Expires=3600",
    "https://CDN.Apiframe.AI:8443/x.mp4",
    "https://8.8.8.8/x.mp4",  # a public address is allowed
    "https://[2606:4700::6810:84e5]/x.mp4",
    "https://xn--bcher-kva.example/x.mp4",
]

REFUSED = [
    # (url, host named in the message, words of the reason)
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "metadata"),
    ("https://169.254.169.254/x.mp4", "169.254.169.254", "metadata"),
    ("https://169.254.1.1/x.mp4", "169.254.1.1", "link-local"),
    ("https://[fe80::1]/x.mp4", "fe80::1", "link-local"),
    ("https://[fe80::1%25eth0]/x.mp4", "fe80::1%25eth0", "link-local"),
    ("https://10.0.0.1/x.mp4", "10.0.0.1", "private"),
    ("https://172.16.5.4/x.mp4", "172.16.5.4", "private"),
    ("https://192.168.1.1/x.mp4", "192.168.1.1", "private"),
    ("https://100.100.100.200/x.mp4", "100.100.100.200", "metadata"),
    ("https://100.64.0.1/x.mp4", "100.64.0.1", "private"),
    ("https://[fd00:ec2::254]/x.mp4", "fd00:ec2::254", "metadata"),
    ("https://[fc00::1]/x.mp4", "fc00::1", "private"),
    ("https://0.0.0.0/x.mp4", "0.0.0.0", "unspecified"),
    ("https://[::]/x.mp4", "::", "unspecified"),
    ("https://224.0.0.1/x.mp4", "224.0.0.1", "multicast"),
    ("https://[ff02::1]/x.mp4", "ff02::1", "multicast"),
    ("https://240.0.0.1/x.mp4", "240.0.0.1", "reserved"),
    ("https://127.0.0.1/x.mp4", "127.0.0.1", "this computer"),
    ("https://[::1]/x.mp4", "::1", "this computer"),
    ("https://localhost/x.mp4", "localhost", "this computer"),
    # the same addresses spelled the ways a resolver still reads as numbers
    ("https://127.1/x.mp4", "127.1", "this computer"),
    ("https://2130706433/x.mp4", "2130706433", "this computer"),
    ("https://0x7f000001/x.mp4", "0x7f000001", "this computer"),
    ("https://0251.0376.0251.0376/x.mp4", "0251.0376.0251.0376", "valid"),  # octal
    ("https://0xa9.0xfe.0xa9.0xfe/x.mp4", "0xa9.0xfe.0xa9.0xfe", "metadata"),
    ("https://[::ffff:169.254.169.254]/x.mp4", "::ffff:169.254.169.254", "metadata"),
    ("https://[64:ff9b::a9fe:a9fe]/x.mp4", "64:ff9b::a9fe:a9fe", "metadata"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal",
     "metadata"),
    # cleartext to the internet, other schemes, credentials, junk
    ("http://cdn2.apiframe.ai/x.mp4", "cdn2.apiframe.ai", "http://"),
    ("ftp://cdn2.apiframe.ai/x.mp4", "cdn2.apiframe.ai", "ftp"),
    ("file:///etc/passwd", "an unnamed host", "file"),
    ("javascript:alert(1)", "an unnamed host", "javascript"),
    ("data:video/mp4;base64,AAAA", "an unnamed host", "data"),
    ("//cdn2.apiframe.ai/x.mp4", "cdn2.apiframe.ai", "scheme-less"),
    ("https://user:pw@cdn2.apiframe.ai/x.mp4", "cdn2.apiframe.ai", "password"),
    ("https:///x.mp4", "an unnamed host", "no host"),
    ("https://cdn2.apiframe.ai/x\x1b[31m.mp4", "cdn2.apiframe.ai", "control"),
    ("https://cdn2.apiframe.ai/a b.mp4", "cdn2.apiframe.ai", "spaces"),
    ("", "an unnamed host", "empty"),
]  # fmt: skip


@pytest.mark.parametrize("url", ACCEPTED)
def test_accepted(url: str) -> None:
    assert STRICT.check(url) == httpx.URL(url)
    assert LOCAL.check(url) == httpx.URL(url)


@pytest.mark.parametrize(("url", "host", "reason"), REFUSED)
def test_refused_with_a_message_naming_the_host_only(url: str, host: str, reason: str) -> None:
    with pytest.raises(UnsafeUrlError) as exc:
        STRICT.check(url)
    error = exc.value
    assert isinstance(error, ApiError)
    assert error.retryable is False
    assert error.host == host
    assert f"points to {host}," in error.message
    assert reason in error.reason
    path = url.split(host, 1)[-1] if host != "an unnamed host" else ""
    if len(path) > 4:
        assert path not in error.message  # the (signed) path and query are never shown


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8123/videos/x.mp4", "http://localhost:8123/x.mp4", "http://[::1]:80/x",
     "https://127.0.0.1/x.mp4"],
)  # fmt: skip
def test_loopback_only_when_the_api_is_local(url: str) -> None:
    assert LOCAL.check(url)
    with pytest.raises(UnsafeUrlError, match="this computer"):
        STRICT.check(url)


@pytest.mark.parametrize("url", ["http://169.254.169.254/x", "https://10.0.0.1/x",
                                 "http://cdn2.apiframe.ai/x.mp4"])  # fmt: skip
def test_simulator_mode_allows_loopback_and_nothing_more(url: str) -> None:
    with pytest.raises(UnsafeUrlError):
        LOCAL.check(url)


@pytest.mark.parametrize(
    ("base_url", "allow"),
    [
        ("https://api.apiframe.ai", False),
        ("http://127.0.0.1:8000", True),
        ("http://localhost:9", True),
        ("http://[::1]:8000", True),
        ("https://api.example.com:443/v2", False),
        ("not a url", False),
    ],
)
def test_policy_from_the_base_url(base_url: str, allow: bool) -> None:
    assert UrlPolicy.for_base_url(base_url).allow_loopback is allow


def test_redirects_only_to_https_hosts_that_pass() -> None:
    here = httpx.URL("https://cdn2.apiframe.ai/videos/x.mp4")
    assert STRICT.check_redirect(here, "https://cdn3.apiframe.ai/y.mp4", 1).host == (
        "cdn3.apiframe.ai"
    )
    assert STRICT.check_redirect(here, "/other.mp4", 2) == httpx.URL(
        "https://cdn2.apiframe.ai/other.mp4"
    )
    for bad in ("http://cdn3.apiframe.ai/y.mp4", "https://169.254.169.254/", "file:///x",
                "https://10.1.2.3/y"):  # fmt: skip
        with pytest.raises(UnsafeUrlError):
            STRICT.check_redirect(here, bad, 1)


def test_no_downgrade_from_https_even_to_a_local_address() -> None:
    here = httpx.URL("https://127.0.0.1:8443/x.mp4")
    with pytest.raises(UnsafeUrlError, match="drop https"):
        LOCAL.check_redirect(here, "http://127.0.0.1:8080/x.mp4", 1)


def test_at_most_three_redirects() -> None:
    here = httpx.URL("https://cdn2.apiframe.ai/x.mp4")
    assert MAX_REDIRECTS == 3
    STRICT.check_redirect(here, "/y.mp4", 3)
    with pytest.raises(UnsafeUrlError, match="more than 3 times") as exc:
        STRICT.check_redirect(here, "/y.mp4", 4)
    assert exc.value.host == "cdn2.apiframe.ai"


def test_ip_literal_reads_numbers_without_a_lookup() -> None:
    assert str(ip_literal("127.1")) == "127.0.0.1"
    assert str(ip_literal("0x7f.1")) == "127.0.0.1"
    assert str(ip_literal("[::1]")) == "::1"
    assert ip_literal("cdn2.apiframe.ai") is None
    assert ip_literal("1e100.net") is None


def test_url_problem_is_a_sentence_or_none() -> None:
    assert url_problem("https://cdn2.apiframe.ai/x.mp4") is None
    problem = url_problem("http://169.254.169.254/x")
    assert problem is not None
    assert "169.254.169.254" in problem


@given(st.text(max_size=200))
def test_any_text_is_accepted_or_refused_with_a_typed_error(text: str) -> None:
    for policy in (STRICT, LOCAL):
        try:
            parsed = policy.check(text)
        except UnsafeUrlError as exc:
            error = exc
        else:
            assert parsed.scheme in ("https", "http")
            continue
        assert error.message
        assert len(error.host) <= 80


@given(st.ip_addresses())
def test_only_public_or_permitted_loopback_addresses_pass(address: object) -> None:
    import ipaddress

    ip = ipaddress.ip_address(address)  # type: ignore[arg-type]
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    try:
        STRICT.check(f"https://{host}/x.mp4")
    except UnsafeUrlError:
        return
    assert ip.is_global
    assert not ip.is_multicast
