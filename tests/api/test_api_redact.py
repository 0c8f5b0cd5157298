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
