"""TLS as people's networks have it: the OS store decides, and a failure says what it is.

A loopback HTTPS server with a certificate of its own stands in for a company's TLS-inspecting
proxy: unknown to the machine, the connection is refused with a message naming the cause; once
its root is in the system store (SSL_CERT_FILE is where OpenSSL's store lives on Linux), the same
client trusts it. No traffic leaves the machine.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import ssl
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from runway_desktop.api import network
from runway_desktop.api.client import ApiClient
from runway_desktop.api.errors import InvalidRequestError, NetworkError
from tests.conftest import run

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the system store is a file only on Linux")

ME = {"user": {"email": "t@example.com"}, "team": {"name": "T", "credits": 5},
      "apiKey": {"name": "k"}}


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Inspecting Proxy Root")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "root.pem", folder / "root.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Me(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(ME).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def inspecting_proxy(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Me)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    network.tls_context.cache_clear()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
        network.tls_context.cache_clear()


def _me(base_url: str) -> object:
    async def main() -> object:
        async with ApiClient("afk_test", base_url) as client:
            return await client.me()

    return run(main())


def test_an_untrusted_certificate_is_named_as_such_and_not_retried(
        inspecting_proxy: tuple[str, Path]) -> None:
    base_url, _root = inspecting_proxy
    with pytest.raises(NetworkError) as failure:
        _me(base_url)
    assert "couldn't be verified" in failure.value.message
    assert "certificate store" in failure.value.message
    assert "127.0.0.1" in failure.value.message
    assert "internet connection" not in failure.value.message
    assert failure.value.retryable is False


def test_a_root_in_the_system_store_is_trusted(inspecting_proxy: tuple[str, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    base_url, root = inspecting_proxy
    monkeypatch.setenv("SSL_CERT_FILE", str(root))  # OpenSSL's system store, as IT installs it
    network.tls_context.cache_clear()
    account = _me(base_url)
    assert getattr(account, "credits", None) == 5


@pytest.mark.parametrize(("typed", "expected"), [
    ("", None), ("  ", None), ("proxy.corp:3128", "http://proxy.corp:3128"),
    ("https://proxy.corp:443", "https://proxy.corp:443"),
])
def test_proxy_addresses(typed: str, expected: str | None) -> None:
    assert network.normalize_proxy_url(typed) == expected


@pytest.mark.parametrize("typed", ["ftp://proxy:21", "http://:3128", "proxy.corp:port"])
def test_bad_proxy_addresses_say_what_to_type(typed: str) -> None:
    with pytest.raises(InvalidRequestError) as bad:
        network.normalize_proxy_url(typed)
    assert bad.value.field == "proxy"
