"""Server strings are cleaned before anyone sees them: no escapes, no key, a sane length."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from runway_desktop.api.redact import remember_secret
from runway_desktop.api.server_text import MAX_SERVER_TEXT, clean_optional, clean_server_text

ODD_KEY = "zz-Live.Key-9f8e7d6c"  # no "afk_" prefix: only the literal-key net catches it


def test_terminal_sequences_are_removed_whole() -> None:
    text = "Provider error:\x1b[31m red\x1b[0m\x07 \x1b]0;new title\x07done\x1b]8;;http://x\x1b\\"
    assert clean_server_text(text) == "Provider error: red done"


def test_c1_controls_and_their_sequences_are_removed() -> None:
    assert clean_server_text("a\x9b31mb\x85c\x9d0;t\x9cd") == "ab cd"  # NEL: a line break


def test_normal_spaces_stay_and_line_breaks_become_spaces() -> None:
    assert clean_server_text("content  policy\tviolation\r\nretry\u2028later") == (
        "content policy violation retry later"
    )
    assert clean_server_text("  Rate limit exceeded ") == "Rate limit exceeded"


def test_bidi_overrides_and_zero_width_characters_are_removed() -> None:
    assert clean_server_text("gpj.\u202eexe\u200b ok\u2066x\u2069") == "gpj.exe okx"


def test_text_is_cut_to_a_sane_length() -> None:
    cleaned = clean_server_text("word " * 1000)
    assert len(cleaned) == MAX_SERVER_TEXT
    assert cleaned.endswith("…")
    assert len(clean_server_text("x" * 10_000_000)) == MAX_SERVER_TEXT  # bounded work too


def test_the_configured_key_is_redacted_literally() -> None:
    remember_secret(ODD_KEY)
    assert clean_server_text(f"bad key {ODD_KEY}!") == "bad key afk_…redacted!"
    # a control character inside the key can't smuggle it past the filter
    split = ODD_KEY[:6] + "\x07" + ODD_KEY[6:]
    assert ODD_KEY not in clean_server_text(f"echo {split}")


def test_a_key_is_redacted_before_cutting() -> None:
    remember_secret(ODD_KEY)
    cleaned = clean_server_text("x" * 490 + ODD_KEY)
    assert ODD_KEY[:8] not in cleaned


def test_clean_optional() -> None:
    assert clean_optional(None) is None
    assert clean_optional(42) is None
    assert clean_optional("\x1b[2J\x07") is None  # nothing left
    assert clean_optional("ok\x07") == "ok"


@given(st.text(max_size=2000), st.integers(min_value=1, max_value=600))
def test_any_text_becomes_one_printable_line(text: str, limit: int) -> None:
    remember_secret(ODD_KEY)
    cleaned = clean_server_text(text + ODD_KEY, limit=limit)
    assert len(cleaned) <= limit
    assert ODD_KEY not in cleaned
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in cleaned)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
