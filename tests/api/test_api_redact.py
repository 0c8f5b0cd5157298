"""The API key never survives redaction."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.api import redact_secrets

keys = st.from_regex(r"afk_[A-Za-z0-9_]{4,48}", fullmatch=True)
noise = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


@given(noise, keys, noise)
def test_keys_are_removed(before, key, after):
    redacted = redact_secrets(f"{before} {key} {after}")
    assert key not in redacted
    assert "afk_…redacted" in redacted
    assert not re.search(r"afk_\w{4,}", redacted)


@given(st.text(max_size=80))
def test_idempotent(text):
    once = redact_secrets(text)
    assert redact_secrets(once) == once


def test_examples():
    assert redact_secrets("key=afk_test ok") == "key=afk_…redacted ok"
    assert redact_secrets("afk_ab is too short") == "afk_ab is too short"
    assert redact_secrets("no secrets here") == "no secrets here"
    assert "s3cret" not in redact_secrets("{'x-api-key': 's3cret'}")
    assert "s3cret" not in redact_secrets("X-API-Key: s3cret")


# --- issue 11: the literal configured key, odd key shapes, header lines ----------------------


def test_the_literal_configured_key_is_redacted_whatever_its_shape() -> None:
    from runway_desktop.api.redact import remember_secret

    key = "Qx-7.live.Hd93-kk"  # no "afk_": no pattern would know it is a key
    assert key in redact_secrets(f"echo {key}")
    remember_secret(key)
    assert key not in redact_secrets(f"echo {key} twice {key}")
    assert redact_secrets(f"echo {key}") == "echo afk_…redacted"


def test_short_strings_are_not_remembered_as_secrets() -> None:
    from runway_desktop.api.redact import remember_secret

    remember_secret("the")
    remember_secret("")
    remember_secret(None)
    assert redact_secrets("the cat") == "the cat"


@given(st.from_regex(r"(afk|AFK|Afk)_[A-Za-z0-9_.\-]{3,40}[A-Za-z0-9_\-]", fullmatch=True))
def test_keys_with_dashes_dots_and_any_case_are_removed(key: str) -> None:
    redacted = redact_secrets(f"using {key}, then")
    assert key not in redacted
    assert redacted == "using afk_…redacted, then"


def test_key_shapes_seen_in_the_wild() -> None:
    for key in ("afk_live-9f8e.7d6c", "AFK_LIVE_9F8E7D6C", "afk_ab.cd-ef"):
        assert redact_secrets(f"key {key}.") == "key afk_…redacted."


def test_header_lines_carrying_a_key() -> None:
    lines = [
        "x-api-key: s3cret-value.1",
        "X-API-Key: s3cret-value.1",
        "api-key: s3cret-value.1",
        "API_KEY=s3cret-value.1",
        "apikey = 's3cret-value.1'",
        "Authorization: Bearer s3cret-value.1",
        "authorization: s3cret-value.1",
        "Proxy-Authorization: Basic s3cret-value.1",
        "{'x-api-key': 's3cret-value.1', 'accept': 'json'}",
        "headers={b'api-key': b's3cret-value.1'}",
    ]
    for line in lines:
        assert "s3cret" not in redact_secrets(line), line
    assert redact_secrets("Authorization: Bearer s3cret-value.1") == (
        "Authorization: Bearer …redacted"
    )
